"""The daemon: its grid, one round called directly, evidence on incidents, and a real outage."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.config import load_config
from agent.daemon import Daemon, first_run_after, grid_time, phase_of, tick_phase
from agent.store import Store
from agent.store.verify import verify_chain
from tests.support.netns import requires_netns, test_host
from tests.support.servers import Reply, closed_port, http_server, tcp_listener

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="raw ICMP sockets need root or CAP_NET_RAW")


class FixedClock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


def test_phases_spread_and_grid_is_stable() -> None:
    phases = sorted(phase_of(f"target-{i}", 10.0) for i in range(1000))
    assert all(0 <= p < 10 for p in phases)
    # spread: no tenth of the interval holds more than twice its share
    counts = [sum(1 for p in phases if k <= p < k + 1) for k in range(10)]
    assert max(counts) < 200 and min(counts) > 50
    now = datetime(2026, 11, 23, 9, 0, 0, 400_000, tzinfo=UTC)
    p = phase_of("vps", 30.0)
    first = first_run_after(now, 30.0, p)
    assert now < first <= now + timedelta(seconds=30)
    assert grid_time(first + timedelta(milliseconds=40), 30.0, p) == first
    assert grid_time(first + timedelta(seconds=30, milliseconds=-5), 30.0, p) == first + timedelta(seconds=30)


def test_targets_share_ticks_of_a_hundredth_of_the_interval() -> None:
    names = [f"target-{i}" for i in range(1000)]
    for interval in (10.0, 30.0, 1.0):
        tick = interval / 100
        for n in names:
            p, t = phase_of(n, interval), tick_phase(n, interval)
            assert t <= p < t + tick + 1e-9 and abs(t / tick - round(t / tick)) < 1e-6
    groups = {tick_phase(n, 10.0) for n in names}
    assert 90 <= len(groups) <= 100  # ten scheduler wake-ups a second for 1,000 targets every 10 s, not a hundred


def test_a_tick_starts_its_rounds_together_and_a_busy_target_skips_alone(config_file: Any) -> None:
    """One job for a tick: every target's round starts; one whose previous round still runs is
    skipped and counted as overlapped, without holding back the others."""
    with tcp_listener() as tcp:
        names = ["a", "b", "c"]
        cfg = config_file([{"name": n, "address": "127.0.0.1", "checks": [{"kind": "tcp", "port": tcp.port}]} for n in names])
        sched = datetime(2026, 11, 23, 9, 0, 10, tzinfo=UTC)
        d = _daemon(cfg, FixedClock(sched + timedelta(milliseconds=3)))
        seen: list[tuple[str, datetime]] = []

        class Watch:
            def observe(self, target: Any, scheduled: datetime, results: Any) -> None:
                seen.append((target.name, scheduled))

        d.observers.append(Watch())

        async def go() -> None:
            d.writer.start()
            busy = asyncio.get_running_loop().create_future()  # b's previous round, still running
            d._running["b"] = busy  # type: ignore[assignment]  # a stand-in for its task
            await d._tick_job(tuple(names), 30.0, 10.0)
            await asyncio.wait(list(d._rounds), timeout=30)
            busy.cancel()

        asyncio.run(go())
        d.writer.close()
    assert sorted(seen) == [("a", sched), ("c", sched)]
    assert d.stats.overlapped == 1 and d.stats.rounds == 2 and list(d._running) == ["b"] and not d._rounds  # only the stand-in left


def _daemon(cfg: Path, clock: Any) -> Daemon:
    settings, _ = load_config(cfg)
    store = Store.open(settings.database_url())
    return Daemon(settings, store, clock=clock)


@ROOT_ONLY
@pytest.mark.root
def test_one_round_stores_every_check_with_its_lag(config_file: Any) -> None:
    with tcp_listener() as tcp, http_server() as web:
        web.routes["/bad"] = Reply(status=503, headers={"Retry-After": "60"}, body=b"<h1>upstream down</h1>")
        cfg = config_file([{"name": "vps", "address": "127.0.0.1", "checks": [
            {"kind": "icmp", "count": 2, "spacing_s": 0.01},
            {"kind": "tcp", "port": tcp.port},
            {"kind": "http", "url": web.url("/bad")},
        ]}])
        sched = datetime(2026, 11, 23, 9, 0, 10, tzinfo=UTC)
        d = _daemon(cfg, FixedClock(sched + timedelta(milliseconds=250)))

        async def go() -> list[Any]:
            d.writer.start()
            from probes.icmp import Pinger

            d.pinger = Pinger()
            try:
                return await d.run_round("vps", sched)
            finally:
                await d.pinger.close()

        results = asyncio.run(go())
        d.writer.close()
    assert [r.ok for r in results] == [True, True, False]
    rows = list(d.store.iter_rows([c.id for c in d.refs["vps"].checks], 0, 2**62))
    assert len(rows) == 3
    assert {r["lag_us"] for r in rows} == {250_000}
    http = next(r for r in rows if r["kind"] == "http")
    assert http["status"] == 503 and http["error_class"] == "http_status"
    assert "upstream down" in http["detail"]  # the failing response body is kept as evidence
    assert verify_chain(d.store, d.agent_uuid)[0]


@ROOT_ONLY
@pytest.mark.root
def test_incident_opening_takes_traceroutes(config_file: Any) -> None:
    port = closed_port()
    cfg = config_file([
        {"name": "svc", "address": "127.0.0.4", "checks": [{"kind": "tcp", "port": port, "timeout_s": 1.0}]},
        {"name": "ctl", "address": "127.0.0.5", "control": True, "checks": [{"kind": "icmp", "count": 1}]},
    ], open_after=2)
    t0 = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)
    clock = FixedClock(t0)
    d = _daemon(cfg, clock)

    async def go() -> None:
        d.writer.start()
        await d.run_round("svc", t0)
        assert not d._tasks  # one failed round: no incident yet
        clock.t = t0 + timedelta(seconds=30)
        await d.run_round("svc", clock.t)
        await asyncio.wait(list(d._tasks), timeout=30)

    asyncio.run(go())
    d.writer.close()
    ev = d.store.evidence_between([d.refs["svc"].id], 0, 2**62)
    assert [e["kind"] for e in ev] == ["traceroute", "traceroute"]
    assert {e["about_target_id"] for e in ev} == {d.refs["svc"].id, d.refs["ctl"].id}
    assert all('"because"' in e["content"] and "refused" in e["content"] for e in ev)


@ROOT_ONLY
@requires_netns
@pytest.mark.root
def test_real_link_outage_is_recorded(config_file: Any) -> None:
    """A test host whose veth goes down for ~4 s: the agent records failed rounds, then recovery."""
    with test_host(20) as host:
        cfg = config_file([{"name": "ns-host", "address": host.peer_ip, "interval_s": 1,
                            "checks": [{"kind": "icmp", "count": 1, "timeout_s": 0.5}]}], batch_s=0.2)
        settings, _ = load_config(cfg)
        store = Store.open(settings.database_url())
        d = Daemon(settings, store)
        marks: dict[str, datetime] = {}
        oks: list[bool] = []
        healthy, failing, recovered = threading.Event(), threading.Event(), threading.Event()

        class Watch:  # the daemon's own round observer drives the outage: no sleeps
            def observe(self, target: Any, scheduled: datetime, results: Any) -> None:
                oks.append(all(r.ok for r in results))
                if len(oks) >= 3 and not failing.is_set():
                    healthy.set()
                if "down" in marks and sum(1 for ok in oks if not ok) >= 4:
                    failing.set()
                if "up" in marks and sum(1 for ok in oks[oks.index(False):] if ok) >= 3:
                    recovered.set()
                    d.stop_event.set()

        d.observers.append(Watch())

        def cut() -> None:
            if not healthy.wait(30):
                return
            marks["down"] = datetime.now(UTC)
            host.link_down()
            failing.wait(30)
            host.link_up()
            marks["up"] = datetime.now(UTC)

        t = threading.Thread(target=cut)
        t.start()
        try:
            asyncio.run(d.serve(duration_s=60))  # ends when the watch has seen the recovery
        finally:
            t.join()
            host.link_up()
        assert recovered.is_set()
    rows = list(store.iter_rows([c.id for c in d.refs["ns-host"].checks], 0, 2**62))
    oks = [r["ok"] for r in rows]
    assert len(rows) >= 9
    assert oks[0] and oks[-1]
    down_us = int((marks["down"] - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1e6)
    up_us = int((marks["up"] - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1e6)
    during = [r for r in rows if down_us + 200_000 < r["ts_us"] < up_us - 1_000_000]
    assert len(during) >= 2 and not any(r["ok"] for r in during)
    assert all(r["ok"] for r in rows if r["ts_us"] < down_us - 100_000)
    run = store.all_runs()[-1]
    assert run["stop"] == "clean"
    assert verify_chain(store, d.agent_uuid)[0]

    # The same rows turned into the report's summary: one outage, whose stated bounds hold
    # the real time the link was down.
    out = cfg.parent / "report"
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    frm = (epoch + timedelta(microseconds=rows[0]["ts_us"])).strftime("%Y-%m-%dT%H:%M:%SZ")
    to = (epoch + timedelta(microseconds=rows[-1]["ts_us"] + 2_000_000)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = subprocess.run([sys.executable, "-m", "agent.cli", "report", "-c", str(cfg), "--from", frm, "--to", to,
                        "--format", "json", "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    (tgt,) = json.loads((out / "summary.json").read_text())["targets"]
    real_s = (marks["up"] - marks["down"]).total_seconds()
    (inc,) = [i for i in tgt["incidents"] if i["kind"] == "outage"]
    assert inc["duration_min_s"] <= real_s + 0.05 and real_s <= inc["duration_max_s"] + 0.05, (inc, real_s)
    assert 2.0 <= inc["duration_s"] <= 6.0
    assert tgt["downtime_s"] == pytest.approx(inc["duration_s"], abs=0.01)
    # The period's edges (whole seconds around the first and last rounds) are "no data".
    assert tgt["availability_pct"] < 100.0 and 75.0 < tgt["coverage_pct"] < 100.0
