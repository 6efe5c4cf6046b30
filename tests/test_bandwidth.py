"""Bandwidth probe: arithmetic, failure modes on loopback, accuracy on shaped links.

The accuracy tests shape a namespace link with tbf at 20 and 100 Mbit/s and
compare the probe's mean with the shaped rate. TCP goodput on such a link is
~95.6 % of the tbf rate (40 bytes of headers per 1500-byte packet plus the
Ethernet header), well inside the 10 % allowed.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from agent.core.result import HTTP_STATUS, PROTOCOL, REFUSED, TIMEOUT
from agent.serve.responder import make_server
from probes.bandwidth import (
    MISSING_TOOL,
    BandwidthSettings,
    bandwidth_check,
    bandwidth_checks,
    percentile,
    planned_bytes,
    summarise_ticks,
)
from probes.bandwidth_iperf3 import classify_iperf3_error, iperf3_argv, parse_iperf3
from tests.support.netns import TestHost, requires_netns, test_host
from tests.support.wait import wait_until

# -- pure arithmetic -------------------------------------------------------------


def test_percentile_matches_linear_interpolation() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 90) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([10.0, 0.0, 20.0], 10) == pytest.approx(2.0)
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 90) == pytest.approx(4.6)


def test_summarise_discards_warmup_and_short_tail() -> None:
    # 0.25 s ticks; slow start for 1 s (1 MB/tick), then 2.5 MB/tick; a 0.05 s tail.
    ticks = [(0.0, 0)]
    b = 0
    for i in range(1, 9):
        b += 1_000_000 if i <= 4 else 2_500_000
        ticks.append((i * 0.25, b))
    ticks.append((2.05, b + 500_000))
    samples, measured, measured_s, warm, mean = summarise_ticks(
        ticks, warmup_s=1.0, warmup_bytes=None, sample_interval_s=0.25)
    assert warm == 1.0
    assert samples == pytest.approx([80.0] * 4)  # 2.5 MB per 0.25 s = 80 Mbit/s
    assert measured == 4 * 2_500_000 + 500_000
    assert measured_s == pytest.approx(1.05)
    assert mean == pytest.approx(measured * 8 / 1.05 / 1e6)


def test_summarise_by_bytes_and_when_the_cap_ends_inside_warmup() -> None:
    ticks = [(0.0, 0), (0.25, 100), (0.5, 300), (0.75, 600)]
    samples, measured, _, warm, _ = summarise_ticks(
        ticks, warmup_s=1.0, warmup_bytes=250, sample_interval_s=0.25)
    assert (warm, measured, len(samples)) == (0.5, 300, 1)
    # Time warm-up of 1 s never reached: nothing discarded, and the result says so.
    samples, measured, _, warm, mean = summarise_ticks(
        ticks, warmup_s=1.0, warmup_bytes=None, sample_interval_s=0.25)
    assert (warm, measured, len(samples)) == (0.0, 600, 3)
    assert mean == pytest.approx(600 * 8 / 0.75 / 1e6)


def test_upload_chunks_are_small_on_slow_links_and_large_on_fast_ones() -> None:
    from probes.bandwidth_http import upload_chunk_size

    assert upload_chunk_size(0.0, 0.25) == 16 * 1024  # nothing known yet: smallest
    assert upload_chunk_size(5e6 / 8, 0.25) == 16 * 1024  # 5 Mbit/s per stream
    assert upload_chunk_size(250e6 / 8, 0.25) == 256 * 1024  # 250 Mbit/s per stream
    assert upload_chunk_size(10e9 / 8, 0.25) == 1024 * 1024


def test_settings_validation_and_planned_bytes() -> None:
    with pytest.raises(ValueError):
        BandwidthSettings(mode="http_download")
    with pytest.raises(ValueError):
        BandwidthSettings(mode="iperf3")
    both = BandwidthSettings(mode="iperf3", host="h", direction="both", max_bytes=10)
    assert both.directions() == ("upload", "download")
    assert planned_bytes(both) == 20
    assert planned_bytes(BandwidthSettings(url="http://x/", max_bytes=7)) == 7


IPERF3_JSON = {
    "start": {},
    "intervals": [
        {"sum": {"seconds": 0.5, "bytes": 1_000_000, "bits_per_second": 16e6, "omitted": True}},
        {"sum": {"seconds": 0.5, "bytes": 1_000_000, "bits_per_second": 16e6, "omitted": True}},
        {"sum": {"seconds": 0.5, "bytes": 1_250_000, "bits_per_second": 20e6, "omitted": False}},
        {"sum": {"seconds": 0.5, "bytes": 1_125_000, "bits_per_second": 18e6, "omitted": False}},
    ],
    "end": {
        "sum_sent": {"seconds": 1.0, "bytes": 2_400_000, "bits_per_second": 19.2e6},
        "sum_received": {"seconds": 1.0, "bytes": 2_375_000, "bits_per_second": 19e6},
    },
}


def test_parse_iperf3_json() -> None:
    m = parse_iperf3(IPERF3_JSON, "download", "3.12")
    assert m.samples == [20.0, 18.0]
    assert m.mbps_mean == 19.0
    assert (m.bytes_measured, m.bytes_total) == (2_375_000, 2_000_000 + 2_400_000)
    assert (m.warmup_s, m.duration_s, m.tool) == (1.0, 2.0, "iperf3 3.12")


def test_iperf3_errors_and_argv() -> None:
    from probes.bandwidth import BUSY, BandwidthError

    with pytest.raises(BandwidthError) as e:
        parse_iperf3({"error": "the server is busy running a test. try again later"}, "upload", "3.12")
    assert e.value.error_class == BUSY and "busy running a test" in e.value.message
    assert classify_iperf3_error("unable to connect to server: Connection refused") == REFUSED
    s = BandwidthSettings(mode="iperf3", host="10.0.0.1", port=5299, streams=3,
                          warmup_s=1.0, max_seconds=6.0)
    up = iperf3_argv(s, "upload", "iperf3")
    assert up[:5] == ["iperf3", "-c", "10.0.0.1", "-p", "5299"]
    assert up[up.index("-t"):up.index("-t") + 2] == ["-t", "5"]
    assert up[up.index("-O"):up.index("-O") + 2] == ["-O", "1"]
    assert "-R" not in up and "-R" in iperf3_argv(s, "download", "iperf3")


def test_missing_iperf3_is_a_clear_error() -> None:
    s = BandwidthSettings(mode="iperf3", host="127.0.0.1", iperf3_path="/nonexistent/iperf3")
    r = asyncio.run(bandwidth_check(s))
    assert not r.ok and r.error_class == MISSING_TOOL and "apt install iperf3" in (r.error or "")


# -- loopback: real servers, failure modes ------------------------------------------


@contextmanager
def raw_server(handle: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """A one-thread-per-connection TCP server on 127.0.0.1; yields its base URL."""
    stop = threading.Event()
    ls = socket.create_server(("127.0.0.1", 0))
    ls.settimeout(0.1)
    conns: list[socket.socket] = []

    def loop() -> None:
        while not stop.is_set():
            try:
                c, _ = ls.accept()
            except TimeoutError:
                continue
            conns.append(c)
            threading.Thread(target=_guarded, args=(handle, c, stop), daemon=True).start()

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{ls.getsockname()[1]}"
    finally:
        stop.set()
        t.join(timeout=5)
        ls.close()
        for c in conns:
            c.close()


def _guarded(handle: Callable[[socket.socket, threading.Event], None], c: socket.socket,
             stop: threading.Event) -> None:
    try:
        handle(c, stop)
    except OSError:
        pass  # the client (or the test's cleanup) closed the socket: expected here


def _read_request(c: socket.socket) -> None:
    c.settimeout(10)
    buf = b""
    while b"\r\n\r\n" not in buf:
        part = c.recv(4096)
        if not part:
            return
        buf += part


def _stall_after_headers(c: socket.socket, stop: threading.Event) -> None:
    _read_request(c)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n" + b"x" * 1000)
    stop.wait(30)  # then nothing until the test ends; the client must give up first


def _close_early(c: socket.socket, stop: threading.Event) -> None:
    _read_request(c)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n" + b"x" * 200_000)
    c.close()


def _status_500(c: socket.socket, stop: threading.Event) -> None:
    _read_request(c)
    c.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")


def _run(s: BandwidthSettings) -> tuple[float, object]:
    t0 = time.monotonic()
    r = asyncio.run(bandwidth_check(s))
    return time.monotonic() - t0, r


def test_stalled_server_fails_with_timeout_not_a_hang() -> None:
    with raw_server(_stall_after_headers) as url:
        s = BandwidthSettings(url=url + "/f", streams=2, max_seconds=3.0, timeout_s=1.5, warmup_s=0.5)
        took, r = _run(s)
    assert not r.ok and r.error_class == TIMEOUT, r  # type: ignore[attr-defined]
    assert took < 3.0 + 2.0
    assert r.figures["bytes_total"] >= 1000  # type: ignore[attr-defined]  # what it got is kept


def test_stall_longer_than_the_time_cap_is_still_a_failure() -> None:
    with raw_server(_stall_after_headers) as url:
        s = BandwidthSettings(url=url + "/f", streams=1, max_seconds=1.5, timeout_s=30, warmup_s=0.5)
        took, r = _run(s)
    assert not r.ok and r.error_class == TIMEOUT, r  # type: ignore[attr-defined]
    assert took < 1.5 + 2.0


def test_early_close_is_a_protocol_failure() -> None:
    with raw_server(_close_early) as url:
        took, r = _run(BandwidthSettings(url=url + "/f", streams=2, max_seconds=3.0, timeout_s=2))
    assert not r.ok and r.error_class == PROTOCOL, r  # type: ignore[attr-defined]
    assert took < 3.0 + 2.0


def test_http_error_status_and_refused() -> None:
    with raw_server(_status_500) as url:
        _, r = _run(BandwidthSettings(url=url + "/f", max_seconds=2.0, timeout_s=2))
    assert not r.ok and r.error_class == HTTP_STATUS and "500" in r.error  # type: ignore[attr-defined]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connects are refused
        _, r = _run(BandwidthSettings(url=f"http://127.0.0.1:{port}/", max_seconds=2.0, timeout_s=2))
    assert not r.ok and r.error_class == REFUSED, r  # type: ignore[attr-defined]


def test_small_file_is_re_requested_until_the_byte_cap() -> None:
    with make_server("127.0.0.1:0") as srv:
        s = BandwidthSettings(url=srv.url + "/download/50000", streams=2, max_bytes=3_000_000,
                              max_seconds=10.0, warmup_s=0.0, sample_interval_s=0.05)
        r = asyncio.run(bandwidth_check(s))
    f = r.figures
    assert r.ok and f["stopped_by"] == "bytes", r
    assert 3_000_000 <= f["bytes_total"] < 3_000_000 + 2 * 64 * 1024
    assert f["direction"] == "download" and f["tool"].startswith("httpx ")


def test_upload_and_token_on_loopback() -> None:
    with make_server("127.0.0.1:0", token="tok") as srv:
        base = BandwidthSettings(mode="http_upload", url=srv.url + "/upload", streams=2,
                                 max_bytes=20_000_000, max_seconds=5.0, warmup_s=0.0)
        denied = asyncio.run(bandwidth_check(base))
        assert not denied.ok and denied.error_class == HTTP_STATUS and "401" in (denied.error or "")
        r = asyncio.run(bandwidth_check(
            BandwidthSettings(**{**_fields(base), "token": "tok"})))
    assert r.ok and r.figures["direction"] == "upload" and r.figures["bytes_total"] >= 20_000_000, r
    assert r.figures["mbps_mean"] > 0


def test_injected_client_is_used_and_left_open() -> None:
    with make_server("127.0.0.1:0") as srv:
        async def go() -> tuple[object, bool]:
            async with httpx.AsyncClient(trust_env=False) as client:
                r = await bandwidth_check(
                    BandwidthSettings(url=srv.url + "/download/1000000", streams=1,
                                      max_bytes=2_000_000, warmup_s=0.0), client=client)
                return r, client.is_closed
        r, closed = asyncio.run(go())
    assert r.ok and not closed  # type: ignore[attr-defined]


def _fields(s: BandwidthSettings) -> dict[str, object]:
    return {name: getattr(s, name) for name in s.__dataclass_fields__}


# -- shaped links in a namespace (root) -------------------------------------------

RESPONDER_PORT = 8088
IPERF_PORT = 5201


@contextmanager
def responder_in(host: TestHost, token: str | None = None) -> Iterator[str]:
    code = f"from agent.serve.responder import serve; serve('{host.peer_ip}:{RESPONDER_PORT}', token={token!r})"
    host.popen([sys.executable, "-c", code], stderr=subprocess.DEVNULL)
    host.wait_listening(RESPONDER_PORT, timeout=10)
    yield f"http://{host.peer_ip}:{RESPONDER_PORT}"


def _shaped_settings(**kw: object) -> BandwidthSettings:
    # 3.5 s measured after a 1 s warm-up: shorter windows let one TCP loss
    # episode on the busy 2-core test machine move the mean by several %.
    base: dict[str, object] = {"streams": 4, "warmup_s": 1.0, "max_seconds": 4.5,
                                   "max_bytes": 200_000_000, "timeout_s": 5.0}
    base.update(kw)
    return BandwidthSettings(**base)  # type: ignore[arg-type]


@requires_netns
@pytest.mark.root
@pytest.mark.parametrize("rate", [20, 100])
def test_http_probe_follows_the_shaped_rate(rate: int) -> None:
    with test_host(subnet="10.200.4.0/30") as host:
        host.shape(rate)
        with responder_in(host, token="t0k") as url:
            down = asyncio.run(bandwidth_check(_shaped_settings(
                url=f"{url}/download/1000000000", token="t0k")))
            up = asyncio.run(bandwidth_check(_shaped_settings(
                mode="http_upload", url=f"{url}/upload", token="t0k")))
            denied = asyncio.run(bandwidth_check(_shaped_settings(
                url=f"{url}/download/1000", max_seconds=1.0)))
    for r in (down, up):
        assert r.ok, r
        assert rate * 0.9 <= r.figures["mbps_mean"] <= rate * 1.1, r.figures
        assert r.figures["warmup_s"] >= 0.99 and len(r.figures["samples"]) >= 10
    assert not denied.ok and denied.error_class == HTTP_STATUS and "401" in (denied.error or "")


@requires_netns
@pytest.mark.root
@pytest.mark.skipif(shutil.which("iperf3") is None, reason="needs iperf3")
@pytest.mark.parametrize("rate", [20, 100])
def test_iperf3_mode_follows_the_shaped_rate(rate: int) -> None:
    with test_host(subnet="10.200.4.4/30") as host:
        host.shape(rate)
        s = _shaped_settings(mode="iperf3", host=host.peer_ip, port=IPERF_PORT, direction="both",
                             max_seconds=5.0)
        results = []
        for direction in s.directions():
            server = host.popen(["iperf3", "-s", "-1", "-B", host.peer_ip, "-p", str(IPERF_PORT)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            host.wait_listening(IPERF_PORT)
            one = BandwidthSettings(**{**_fields(s), "direction": direction})
            results += asyncio.run(bandwidth_checks(one))
            server.wait(timeout=10)
    assert [r.figures["direction"] for r in results] == ["upload", "download"]
    for r in results:
        assert r.ok, r
        assert rate * 0.9 <= r.figures["mbps_mean"] <= rate * 1.1, r.figures
        assert r.figures["tool"].startswith("iperf3 3.")
        assert r.figures["bytes_total"] > r.figures["bytes_measured"] > 0


@requires_netns
@pytest.mark.root
@pytest.mark.skipif(shutil.which("iperf3") is None, reason="needs iperf3")
def test_iperf3_server_busy_is_surfaced() -> None:
    with test_host(subnet="10.200.4.8/30") as host:
        host.shape(20)
        host.popen(["iperf3", "-s", "-B", host.peer_ip, "-p", str(IPERF_PORT)],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        host.wait_listening(IPERF_PORT)
        other = subprocess.Popen(["iperf3", "-c", host.peer_ip, "-p", str(IPERF_PORT), "-t", "3", "-J"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            def streams_up() -> bool:  # the other test's control and data connections
                est = host.run(["ss", "-Htn", "state", "established", f"sport = :{IPERF_PORT}"]).stdout
                return len(est.strip().splitlines()) >= 2

            wait_until(streams_up, "the other iperf3 test running", timeout_s=5.0, poll_s=0.05)
            r = asyncio.run(bandwidth_check(_shaped_settings(
                mode="iperf3", host=host.peer_ip, port=IPERF_PORT, max_seconds=2.0)))
        finally:
            theirs, _ = other.communicate(timeout=15)
    assert not r.ok and r.error_class == "busy", r
    assert "the server is busy running a test" in (r.error or "")
    assert json.loads(theirs)["end"]["sum_received"]["bytes"] > 0  # theirs went on
