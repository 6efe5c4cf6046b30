"""The host check in the agent: the responder's readings stored as rows, and every way a poll fails.

Real parts: the responder with a sampler on loopback, test HTTP servers that
answer garbage, stall or trickle, a real SQLite store and the daemon's round
called directly with an injected clock. A failed poll is one row saying why;
the agent goes on.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.config import ConfigError, load_config
from agent.core import result as R
from agent.core.times import to_us
from agent.daemon import Daemon
from agent.serve.host import HostOptions, HostSampler
from agent.serve.responder import make_server
from agent.store import Store
from agent.store.verify import verify_chain
from probes.host import STALE, HostProbeSettings, parse_answer, poll_host
from tests.support.servers import Reply, closed_port, http_server

TOKEN = "probe-test-token-abcdef123456"
FAST = HostOptions(every_s=60, speed_window_s=0.05, speed_warmup_s=0.01)
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


@contextmanager
def responder(options: HostOptions = FAST, wall: Clock | None = None) -> Iterator[tuple[str, HostSampler]]:
    sampler = HostSampler(options, wall_us=(lambda: to_us(wall())) if wall else (lambda: to_us(datetime.now(UTC))))
    with make_server("127.0.0.1:0", token=TOKEN, host=sampler, bandwidth=False) as srv:
        yield srv.url, sampler


def _daemon(config_file: Any, url: str, clock: Clock, **check: Any) -> Daemon:
    cfg = config_file([{"name": "vps", "address": "127.0.0.1",
                        "checks": [{"kind": "tcp", "port": 9}, {"kind": "host", "url": url, "token": TOKEN, **check}]}])
    settings, _ = load_config(cfg)
    d = Daemon(settings, Store.open(settings.database_url()), clock=clock)
    d.writer.start()
    return d


def _poll(d: Daemon) -> list[R.ProbeResult]:
    async def go() -> list[R.ProbeResult]:
        return await d.run_round("vps", d.clock(), own="host")

    return asyncio.run(go())


def _host_rows(d: Daemon) -> list[dict[str, Any]]:
    ids = [c["id"] for c in d.store.check_rows(["vps"]) if c["kind"] == "host"]
    return list(d.store.iter_rows(ids, 0, 2**62))


def test_readings_become_rows_once_each_across_a_restart(config_file: Any) -> None:
    host_clock = Clock(T0 + timedelta(seconds=7))  # the host's clock runs 7 s ahead of the agent's
    agent_clock = Clock(T0)
    with responder(wall=host_clock) as (url, sampler):
        first = sampler.take_reading()
        host_clock.t += timedelta(seconds=60)
        sampler.take_reading()
        agent_clock.t = T0 + timedelta(seconds=90)  # the answer leaves the host at its +97 s
        host_clock.t = T0 + timedelta(seconds=97)
        d = _daemon(config_file, url, agent_clock)
        got = _poll(d)
        assert [r.kind for r in got] == ["host", "host"]  # the tcp check is not part of a host poll
        assert all(r.ok and r.error is None for r in got)
        # Timed on the agent's clock: its receipt less each reading's age by the host's clock.
        assert [r.started_at for r in got] == [T0 + timedelta(seconds=0), T0 + timedelta(seconds=60)]
        assert got[0].figures["host_taken_at"].startswith("2026-03-02T12:00:07")
        assert got[0].figures["host_offset_ms"] == pytest.approx(7000, abs=1)
        assert got[0].figures["reading"]["seq"] == first.seq == 1
        assert _poll(d) == []  # nothing new: no row
        sampler.take_reading()
        assert [r.figures["reading"]["seq"] for r in _poll(d)] == [3]
        d.writer.close()

        # A restart starts from the newest stored reading, not from the responder's whole memory.
        sampler.take_reading()
        d2 = _daemon(config_file, url, agent_clock)
        assert [r.figures["reading"]["seq"] for r in _poll(d2)] == [4]
        d2.writer.close()
    rows = _host_rows(d2)
    assert [json.loads(r["detail"])["reading"]["seq"] for r in rows] == [1, 2, 3, 4]
    assert all(r["lag_us"] is None for r in rows)
    assert verify_chain(d2.store, d2.agent_uuid)[0]
    assert TOKEN.encode() not in Path(d2.settings.database_url().removeprefix("sqlite:///")).read_bytes()


def test_a_new_responder_instance_sends_what_it_has(config_file: Any) -> None:
    clock = Clock(T0)
    with responder() as (url, sampler):
        sampler.take_reading()
        d = _daemon(config_file, url, clock)
        assert len(_poll(d)) == 1
        d.writer.close()
    with responder() as (url2, sampler2):  # restarted (on another port here): its seq counts from 1 again
        sampler2.take_reading()
        d2 = _daemon(config_file, url2, clock)
        got = _poll(d2)
        d2.writer.close()
    assert [r.figures["reading"]["seq"] for r in got] == [1] and got[0].figures["instance"] == sampler2.instance


class _Trickle:
    """Answers 200 with headers at once, then one byte of body every 0.1 s: never late per read, late in all."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.sock.settimeout(5)
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
            for _ in range(100):
                if self.stop.wait(0.1):
                    return
                try:
                    conn.sendall(b" ")
                except OSError:
                    return

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(5)


@pytest.mark.parametrize("case", ["not_json", "wrong_schema", "nan", "unauthorised", "server_error", "stall", "too_large"])
def test_a_bad_answer_is_one_failed_row_and_the_agent_goes_on(case: str) -> None:
    replies = {
        "not_json": Reply(body=b"<html>hello</html>"),
        "wrong_schema": Reply(body=json.dumps({"schema": "slaproof.host/1", "instance": "x", "now_us": 1, "every_s": 60,
                                               "started_us": 1, "readings": [{"seq": 0, "extra": TOKEN}]}).encode()),
        "nan": Reply(body=b'{"schema": "slaproof.host/1", "instance": "x", "now_us": 1, "every_s": NaN, "started_us": 1}'),
        "unauthorised": Reply(status=401, body=b'{"error": "token required"}'),
        "server_error": Reply(status=500, body=b"oops"),
        "stall": Reply(mode="stall"),
        "too_large": Reply(mode="big", big_bytes=64 << 20),
    }
    expect = {"not_json": R.PROTOCOL, "wrong_schema": R.PROTOCOL, "nan": R.PROTOCOL, "unauthorised": R.HTTP_STATUS,
              "server_error": R.HTTP_STATUS, "stall": R.TIMEOUT, "too_large": R.PROTOCOL}
    with http_server() as srv:
        srv.routes["/host"] = replies[case]
        poll = asyncio.run(poll_host(HostProbeSettings(srv.url("/"), TOKEN, timeout_s=1.0), "abc:3"))
    assert len(poll.results) == 1 and poll.since == "abc:3"  # the cursor stays: nothing was stored
    r = poll.results[0]
    assert not r.ok and r.error_class == expect[case], r
    assert TOKEN not in (r.error or "") and "NaN" not in (r.error or "")
    if case == "wrong_schema":
        assert (r.error or "").startswith("malformed answer: readings.0.seq: ") and "more)" in (r.error or "")
    if case == "unauthorised":
        assert r.figures["status"] == 401 and "refused the token" in (r.error or "")


def test_trickled_answer_meets_the_total_deadline_and_refused_port() -> None:
    t = _Trickle()
    try:
        poll = asyncio.run(poll_host(HostProbeSettings(f"http://127.0.0.1:{t.port}", TOKEN, timeout_s=0.5), None))
    finally:
        t.close()
    assert poll.results[0].error_class == R.TIMEOUT and "0.5 s" in (poll.results[0].error or "")
    refused = asyncio.run(poll_host(HostProbeSettings(f"http://127.0.0.1:{closed_port()}", TOKEN), None))
    assert refused.results[0].error_class == R.REFUSED


def test_wrong_token_against_the_real_responder_then_the_right_one(config_file: Any) -> None:
    clock = Clock(T0)
    with responder() as (url, sampler):
        sampler.take_reading()
        bad = asyncio.run(poll_host(HostProbeSettings(url, "not-the-token"), None))
        assert bad.results[0].error_class == R.HTTP_STATUS and bad.results[0].figures["status"] == 401
        d = _daemon(config_file, url, clock)
        assert [r.ok for r in _poll(d)] == [True]
        d.writer.close()


def test_responder_that_stopped_taking_readings_is_stale() -> None:
    now = 10_000_000_000
    answer = {"schema": "slaproof.host/1", "instance": "x", "now_us": now, "every_s": 60.0, "started_us": now - 10**9,
              "last_taken_at_us": now - 400_000_000}
    poll = parse_answer(json.dumps(answer).encode(), "x:5", T0, T0)
    assert poll.results[0].error_class == STALE and "no new reading" in (poll.results[0].error or "")
    fresh = parse_answer(json.dumps({**answer, "last_taken_at_us": now - 50_000_000}).encode(), "x:5", T0, T0)
    assert fresh.results == [] and fresh.since == "x:5"


def test_part_errors_travel_with_the_reading(tmp_path: Path) -> None:
    f = tmp_path / "not-a-dir"
    f.write_text("x")
    with responder(HostOptions(every_s=60, speed_window_s=0.05, speed_warmup_s=0.01, scratch=f)) as (url, sampler):
        reading = sampler.take_reading()
        assert reading.disk is not None and reading.disk.errors == ["scratch: Not a directory (ENOTDIR)"]
        poll = asyncio.run(poll_host(HostProbeSettings(url, TOKEN), None))
    r = poll.results[0]
    assert r.ok and r.error == "disk scratch: Not a directory (ENOTDIR)"


def test_host_check_config() -> None:
    from agent.config import HostCheck, Plan

    assert HostCheck(url="http://vps:8088").interval_s == 600
    for bad in ({"url": "ftp://x"}, {"url": "http://u:p@vps:1"}, {"url": "http://vps:1/?token=x"}, {"url": "http://v", "interval_s": 5}):
        with pytest.raises(ValueError):
            HostCheck(**bad)
    assert Plan(vcpus=2, cpu="dedicated", memory_mb=4096, disk_type="nvme").vcpus == 2


def test_bad_plan_is_refused_with_its_key(config_file: Any) -> None:
    cfg = config_file([{"name": "vps", "address": "127.0.0.1", "plan": {"vcpus": 0, "cpu": "turbo"},
                        "checks": [{"kind": "host", "url": "http://127.0.0.1:1"}]}])
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    assert "targets[0] (name 'vps').plan.vcpus" in str(e.value) and "plan.cpu" in str(e.value)


@pytest.mark.parametrize(("args", "message"), [
    (["--host-scratch", "/nonexistent/slaproof"], "--host-scratch /nonexistent/slaproof: No such file or directory"),
    (["--host-every", "0"], "--host-every: must be at least 0.2"),
    (["--host-disk-budget-mb", "-1"], "--host-disk-budget-mb: must be between 0 and 100000"),
])
def test_serve_host_bad_option_is_one_line_exit_2(args: list[str], message: str) -> None:
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "agent.cli", "serve", "--host", "--listen", "127.0.0.1:0", *args],
                       capture_output=True, text=True, timeout=60, env={"SLAPROOF_RESPONDER_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"})
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr and TOKEN not in r.stderr
