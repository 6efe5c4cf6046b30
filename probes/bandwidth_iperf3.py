"""iperf3 runner: the reference tool, run as a client against the user's server.

``iperf3 -c HOST -p PORT -J -t T -O OMIT -P STREAMS -i INTERVAL [-R]``: upload
is the client sending, ``-R`` makes the server send (download). The warm-up
is iperf3's own ``-O`` (omitted intervals), the samples are its non-omitted
intervals and the headline is ``end.sum_received.bits_per_second``, so the
figures mean the same as the HTTP runner's. iperf3 cannot stop at a byte
count and a time at once; this runner uses the time (``max_seconds``).

iperf3's own error text (e.g. "the server is busy running a test") is passed
through in the result's ``error``.
"""

from __future__ import annotations

import asyncio
import json
import math
import shutil
from typing import Any

from agent.core.result import DNS, INTERNAL, PROTOCOL, REFUSED, TIMEOUT, UNREACHABLE
from probes.bandwidth_model import (
    BUSY,
    MISSING_TOOL,
    BandwidthError,
    BandwidthSettings,
    Measurement,
)

SLACK_S = 10.0  # on top of the test time: connect, parameter exchange, results exchange

_ERROR_CLASSES = (
    ("parameter error", INTERNAL),  # our command line is wrong: a bug on our side
    ("busy", BUSY),
    ("connection refused", REFUSED),
    ("no route to host", UNREACHABLE),
    ("network is unreachable", UNREACHABLE),
    ("timed out", TIMEOUT),
    ("timeout", TIMEOUT),
    ("name or service not known", DNS),
    ("temporary failure in name resolution", DNS),
    ("unable to resolve", DNS),
)


def classify_iperf3_error(text: str) -> str:
    """Error class for iperf3's ``error`` string."""
    low = text.lower()
    for needle, cls in _ERROR_CLASSES:
        if needle in low:
            return cls
    return PROTOCOL


def iperf3_argv(settings: BandwidthSettings, direction: str, exe: str) -> list[str]:
    """The command line; test time is ``max_seconds`` minus the warm-up (at least 1 s)."""
    omit = math.ceil(settings.warmup_s)
    t = max(1, round(settings.max_seconds - omit))
    argv = [exe, "-c", str(settings.host), "-p", str(settings.port), "-J",
            "-t", str(t), "-O", str(omit), "-P", str(settings.streams),
            "-i", f"{max(0.1, settings.sample_interval_s):g}",
            "--connect-timeout", str(int(settings.timeout_s * 1000))]
    if direction == "download":
        # The receive timeout is only valid when this end receives.
        argv += ["-R", "--rcv-timeout", str(int(max(1.0, settings.timeout_s) * 1000))]
    return argv


def parse_iperf3(data: dict[str, Any], direction: str, version: str) -> Measurement:
    """iperf3 JSON (``-J``) → Measurement; raises BandwidthError if it reports an error."""
    tool = f"iperf3 {version}".strip()
    intervals = data.get("intervals") or []
    samples, omitted_bytes, omitted_s = [], 0, 0.0
    for iv in intervals:
        s = iv.get("sum") or {}
        if s.get("omitted"):
            omitted_bytes += int(s.get("bytes", 0))
            omitted_s += float(s.get("seconds", 0.0))
        elif s.get("seconds", 0) > 0:
            samples.append(float(s["bits_per_second"]) / 1e6)
    end = data.get("end") or {}
    recv, sent = end.get("sum_received") or {}, end.get("sum_sent") or {}
    m = Measurement(direction=direction, tool=tool, samples=samples)
    if recv:
        m.mbps_mean = float(recv["bits_per_second"]) / 1e6
        m.bytes_measured = int(recv.get("bytes", 0))
        m.measured_s = float(recv.get("seconds", 0.0))
        moved = max(int(sent.get("bytes", 0)), m.bytes_measured)
        m.bytes_total = omitted_bytes + moved
        m.warmup_s = omitted_s
        m.duration_s = omitted_s + m.measured_s
        m.stopped_by = "time"
    if data.get("error"):
        raise BandwidthError(classify_iperf3_error(data["error"]), f"iperf3: {data['error']}", m)
    if not recv:
        raise BandwidthError(PROTOCOL, "iperf3 output has no end.sum_received", m)
    return m


async def iperf3_version(exe: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        exe, "--version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    out, _ = await asyncio.wait_for(proc.communicate(), 5)
    first = out.decode(errors="replace").split("\n", 1)[0]  # "iperf 3.12 (cJSON 1.7.15)"
    parts = first.split()
    return parts[1] if len(parts) > 1 else first


async def run_iperf3(settings: BandwidthSettings, direction: str) -> Measurement:
    exe = shutil.which(settings.iperf3_path)
    if exe is None:
        raise BandwidthError(MISSING_TOOL, f"{settings.iperf3_path} not found: "
                             "install it (apt install iperf3) or use an http mode")
    version = await iperf3_version(exe)
    argv = iperf3_argv(settings, direction, exe)
    limit = settings.max_seconds + settings.timeout_s + SLACK_S
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), limit)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise BandwidthError(TIMEOUT, f"iperf3 did not finish within {limit:.0f} s") from None
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = out.decode(errors="replace").strip()
    try:
        data = json.loads(text) if text else {}
    except json.JSONDecodeError:
        data = {}
    if not data:
        msg = err.decode(errors="replace").strip().removeprefix("iperf3: ")
        msg = msg or f"iperf3 exited {proc.returncode} without output"
        raise BandwidthError(classify_iperf3_error(msg) if proc.returncode else INTERNAL, f"iperf3: {msg}")
    return parse_iperf3(data, direction, version)
