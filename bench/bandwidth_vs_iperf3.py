"""The HTTP bandwidth probe against iperf3 on the same link, in one run.

For each rate (tbf on both directions of a veth into a namespace; needs root)
and for unshaped loopback: the responder and an ``iperf3 -s`` run as separate
processes on the far side; this process runs the probe (download, upload) and
then the probe's iperf3 mode (iperf3's own figures, ``-R`` for download), with
the same streams, warm-up and duration. Prints probe/iperf3 per direction and
the probe's CPU seconds per GB moved (this process only: the agent's cost).

    sudo .venv/bin/python bench/bandwidth_vs_iperf3.py [--rates 50,200,1000] [--seconds 6] [--repeat 1]

Goals: ratio 0.95–1.05 up to 1 Gbit/s; ≥ 2 Gbit/s on unshaped loopback.
Traffic stays on loopback and in the bench's own namespace (10.200.4.252/30).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.core.result import ProbeResult
from probes.bandwidth import BandwidthSettings, bandwidth_check

SUBNET = "10.200.4.252/30"
RESPONDER_PORT = 8088
IPERF_PORT = 5201


def _wait_port(host: str, port: int, run_in: list[str], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run([*run_in, "ss", "-Hltn", f"sport = :{port}"], capture_output=True,
                             text=True).stdout
        if out.strip():
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {host}:{port}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def far_side(ip: str, run_in: list[str], rport: int, iport: int) -> Iterator[tuple[str, str]]:
    """Responder + iperf3 server on ``ip`` (inside the namespace when run_in says so)."""
    code = f"from agent.serve.responder import serve; serve('{ip}:{rport}')"
    procs = [
        subprocess.Popen([*run_in, sys.executable, "-c", code], stderr=subprocess.DEVNULL),
        subprocess.Popen([*run_in, "iperf3", "-s", "-B", ip, "-p", str(iport)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    try:
        _wait_port(ip, rport, run_in)
        _wait_port(ip, iport, run_in)
        yield f"http://{ip}:{rport}", ip
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()


def _measure(settings: BandwidthSettings) -> tuple[ProbeResult, float]:
    cpu0 = time.process_time()
    r = asyncio.run(bandwidth_check(settings))
    return r, time.process_time() - cpu0


def compare(label: str, url: str, ip: str, iport: int, seconds: float, streams: int) -> list[str]:
    common = {"streams": streams, "warmup_s": 1.0, "max_seconds": seconds, "max_bytes": 50_000_000_000,
                  "timeout_s": 5.0}
    lines = []
    for direction in ("download", "upload"):
        if direction == "download":
            probe_s = BandwidthSettings(mode="http_download", url=f"{url}/download/1000000000", **common)
        else:
            probe_s = BandwidthSettings(mode="http_upload", url=f"{url}/upload", **common)
        probe, cpu = _measure(probe_s)
        iperf, _ = _measure(BandwidthSettings(mode="iperf3", host=ip, port=iport,
                                              direction=direction, **common))
        if not (probe.ok and iperf.ok):
            lines.append(f"{label:>10} {direction:>8}  probe {probe.error_class} {probe.error} | "
                         f"iperf3 {iperf.error_class} {iperf.error}")
            continue
        p, i = probe.figures["mbps_mean"], iperf.figures["mbps_mean"]
        gb = probe.figures["bytes_total"] / 1e9
        lines.append(
            f"{label:>10} {direction:>8} {p:10.1f} {i:10.1f} {p / i:7.3f} "
            f"{probe.figures['mbps_p10']:9.1f} {probe.figures['mbps_p90']:9.1f} "
            f"{cpu / gb if gb else float('nan'):9.2f} {cpu / probe.figures['duration_s']:6.2f}")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default="50,200,1000", help="tbf rates in Mbit/s, comma-separated")
    ap.add_argument("--seconds", type=float, default=6.0, help="time cap per transfer")
    ap.add_argument("--streams", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--no-loopback", action="store_true", help="skip unshaped loopback")
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(",") if r]

    header = (f"{'link':>10} {'dir':>8} {'probe':>10} {'iperf3':>10} {'ratio':>7} "
              f"{'p10':>9} {'p90':>9} {'cpu s/GB':>9} {'cores':>6}")
    print(f"streams={args.streams} warm-up=1 s, time cap={args.seconds} s, mean after warm-up (Mbit/s)")
    print(header)
    for _ in range(args.repeat):
        if rates:
            if os.geteuid() != 0:
                print("(shaped rates need root: skipped)")
            else:
                from tests.support.netns import test_host

                with test_host(subnet=SUBNET) as host:
                    run_in = ["ip", "netns", "exec", host.ns]
                    with far_side(host.peer_ip, run_in, RESPONDER_PORT, IPERF_PORT) as (url, ip):
                        for rate in rates:
                            host.shape(rate)
                            for line in compare(f"{rate:g} Mbit", url, ip, IPERF_PORT,
                                                args.seconds, args.streams):
                                print(line, flush=True)
        if not args.no_loopback:
            with ExitStack() as stack:
                iport = _free_port()
                url, ip = stack.enter_context(far_side("127.0.0.1", [], _free_port(), iport))
                for line in compare("loopback", url, ip, iport, args.seconds, args.streams):
                    print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
