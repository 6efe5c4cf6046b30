"""A generated month with a known truth, written through the real store and writer.

October 2026 in Asia/Shanghai at 60-s rounds: a rented VPS (ICMP + HTTP, Google's single-instance
SLA), a web service (HTTP only) and two control targets. What happened, to the round:

* three outages of the VPS (47 min; 30 min with one answered round inside; 2 h 12 min), each with
  a traceroute to the VPS and to a control target taken when it opened, and a failing HTTP answer;
* a one-round blip; a 60-min stretch in which the web service answered 503 while ping answered;
* a 5-hour slowdown (RTT 400 ms against a 150 ms threshold); a 40-min local outage (both control
  targets down too); a 3-hour agent gap; an outage of the web service (connection refused).

Used by the page-1, identifier, Chinese and browser tests (tests/test_report_pages.py) and by
scripts/report_images.py, which draws the pictures in docs/img/.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent import identity
from agent.core.result import ProbeResult
from agent.core.times import to_us
from agent.store import Store
from agent.writer import Writer

START = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)  # 2026-10-01 00:00 Asia/Shanghai
DAYS = 31
END = START + timedelta(days=DAYS)
NOW = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
INTERVAL_S = 60
DAY = 86400 // INTERVAL_S
AGENT_ID = "5c1d7e2a-8b3f-4a6e-9d0c-7f2e1b4a6c93"
VPS, WEB, CTL_A, CTL_B = "vps-hk", "web-shop", "ctl-dns-a", "ctl-dns-b"


def at(day: int, hour: int, minute: int = 0) -> int:
    """The round index of a local (Asia/Shanghai) time, ``day`` 0 being 2026-10-01."""
    return day * DAY + (hour * 3600 + minute * 60) // INTERVAL_S


@dataclass(frozen=True)
class Truth:
    """Round index ranges [a, b) of what was written (the test checks the report against them)."""

    outages: tuple[tuple[int, int], ...] = ((at(2, 10), at(2, 10, 47)), (at(8, 14), at(8, 14, 30)), (at(20, 3), at(20, 5, 12)))
    answered_inside: int = at(8, 14, 15)
    blip: int = at(4, 15, 30)
    web_down_ping_up: tuple[int, int] = (at(13, 9), at(13, 10))
    slow: tuple[int, int] = (at(16, 1), at(16, 6))
    local: tuple[int, int] = (at(11, 20), at(11, 20, 40))
    gap: tuple[int, int] = (at(24, 12), at(24, 15))
    web_outage: tuple[int, int] = (at(20, 3, 5), at(20, 3, 30))


TRUTH = Truth()


def config(path: Path, *, lang_zone: str = "Asia/Shanghai") -> Path:
    from tests.conftest import make_config

    return make_config(path, [
        {"name": VPS, "address": "127.0.0.1", "provider": "Google Cloud", "interval_s": INTERVAL_S,
         "sla": {"preset": "gce-single-instance"}, "monthly_fee": 20.0, "currency": "USD",
         "service_name": "Compute Engine e2-small", "service_id": "instance-7731942",
         "thresholds": {"rtt_ms_max": 150.0, "sustain_s": 300.0},
         "checks": [{"kind": "icmp"}, {"kind": "http", "url": "http://127.0.0.1/health"}]},
        {"name": WEB, "address": "127.0.0.3", "provider": "Example Hosting", "interval_s": INTERVAL_S,
         "sla": {"preset": "generic-99.9"}, "monthly_fee": 8.0, "currency": "EUR",
         "checks": [{"kind": "http", "url": "http://127.0.0.3/"}]},
        {"name": CTL_A, "address": "127.0.0.2", "control": True, "interval_s": INTERVAL_S, "checks": [{"kind": "icmp"}]},
        {"name": CTL_B, "address": "127.0.0.4", "control": True, "interval_s": INTERVAL_S, "checks": [{"kind": "icmp"}]},
    ], timezone=lang_zone, vantage="Shanghai office, wired", network="AS4812 China Telecom",
        customer={"name": "Example Trading Ltd", "account_id": "acct-20417", "email": "ops@example.com"})


def _icmp(ts: datetime, ok: bool, rtt: float, lost: int = 0) -> ProbeResult:
    if not ok:
        return ProbeResult("icmp", ts, False, None, {"sent": 3, "received": 0}, "timeout", "no reply within 1.0 s")
    return ProbeResult("icmp", ts, True, rtt, {"sent": 3, "received": 3 - lost, "rtt_min_ms": rtt * 0.97,
                                               "rtt_max_ms": rtt * 1.04, "rtt_stddev_ms": rtt * 0.02})


def _http(ts: datetime, state: str, rtt: float) -> ProbeResult:
    if state == "up":
        return ProbeResult("http", ts, True, rtt, {"status": 200})
    if state == "503":
        return ProbeResult("http", ts, False, rtt, {"status": 503, "headers": {"server": "nginx/1.24.0", "retry-after": "120",
                                                                                 "content-type": "text/html"},
                                                    "body_head": "<html><h1>503 Service Temporarily Unavailable</h1></html>"},
                           "http_status", "HTTP 503, expected 200-399")
    return ProbeResult("http", ts, False, None, {}, "refused" if state == "refused" else "timeout",
                       "connection refused" if state == "refused" else "no response within 10 s")


def _rtt(rng: random.Random, i: int, base: float) -> float:
    hour = (i % DAY) * INTERVAL_S / 3600
    evening = 1.0 + 0.35 * max(0.0, math.sin((hour - 14) / 24 * 2 * math.pi)) ** 2
    spike = rng.expovariate(1 / (base * 0.06)) if rng.random() < 0.2 else 0.0
    return round(base * evening + rng.gauss(0, base * 0.03) + spike, 3)


def _states(n: int) -> dict[str, list[str]]:
    """Per target, one state per round: u up, D down, P web down while ping answers, S slow, . no round."""
    t = TRUTH
    vps, web, ctl = ["u"] * n, ["u"] * n, ["u"] * n
    for a, b in t.outages:
        vps[a:b] = ["D"] * (b - a)
    vps[t.answered_inside] = "u"
    vps[t.blip] = "D"
    vps[t.web_down_ping_up[0]:t.web_down_ping_up[1]] = ["P"] * (t.web_down_ping_up[1] - t.web_down_ping_up[0])
    vps[t.slow[0]:t.slow[1]] = ["S"] * (t.slow[1] - t.slow[0])
    for seq in (vps, ctl):
        seq[t.local[0]:t.local[1]] = ["D"] * (t.local[1] - t.local[0])
    web[t.web_outage[0]:t.web_outage[1]] = ["R"] * (t.web_outage[1] - t.web_outage[0])
    for seq in (vps, web, ctl):
        seq[t.gap[0]:t.gap[1]] = ["."] * (t.gap[1] - t.gap[0])
    return {VPS: vps, WEB: web, CTL_A: ctl, CTL_B: list(ctl)}


def _hops(dest: str, reached: bool, rng: random.Random) -> list[dict[str, Any]]:
    path = ["192.168.1.1", "10.48.0.1", "202.97.33.18", "202.97.94.125", "218.189.5.42", "10.23.0.1"]
    hops = [{"ttl": i + 1, "address": a, "rtts_ms": [round(1.2 + i * 6.1 + rng.random(), 2)] * 3, "sent": 3}
            for i, a in enumerate(path)]
    if reached:
        hops.append({"ttl": len(path) + 1, "address": dest, "rtts_ms": [38.4, 38.9, 38.2], "sent": 3})
    else:
        hops += [{"ttl": len(path) + k + 1, "address": None, "rtts_ms": [], "sent": 3} for k in range(3)]
    return hops


def _traceroutes(store: Store, refs: dict[str, Any], rng: random.Random) -> None:
    """What the agent stores when a VPS incident opens: a traceroute to it and to a control target."""
    items = []
    for a, _ in TRUTH.outages:
        ts = START + timedelta(seconds=(a + 1) * INTERVAL_S + 4)
        for about, address, reached in ((VPS, "127.0.0.1", False), (CTL_A, "127.0.0.2", True)):
            content = {"ok": reached, "figures": {"target": address, "protocol": "udp", "destination": address,
                                                  "hops": _hops(address, reached, rng), "reached": reached},
                       "error_class": None if reached else "timeout", "error": None if reached else "destination not reached",
                       "kind": "traceroute", "to": about, "address": address,
                       "because": [{"kind": "icmp", "error_class": "timeout", "error": "no reply within 1.0 s"}]}
            body = json.dumps(content, sort_keys=True)
            items.append({"ts_us": to_us(ts), "target_id": refs[VPS].id, "about_target_id": refs[about].id,
                          "kind": "traceroute", "measurement_id": None, "content": body,
                          "sha256": hashlib.sha256(body.encode()).hexdigest()})
    with store.engine.begin() as conn:
        store.insert_evidence(conn, items)


def write_month(store: Store, state_dir: Path) -> None:
    """Write the month's rows, runs and evidence (deterministic: seeded)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / identity.FILENAME).write_text(AGENT_ID + "\n")
    aid = store.ensure_agent(AGENT_ID, to_us(START))
    kinds = {VPS: ("icmp", "http"), WEB: ("http",), CTL_A: ("icmp",), CTL_B: ("icmp",)}
    urls = {VPS: "http://127.0.0.1/health", WEB: "http://127.0.0.3/"}
    specs = [{"name": n, "address": "127.0.0.1", "control": n in (CTL_A, CTL_B),
              "checks": [{"kind": "icmp"} if k == "icmp" else {"kind": "http", "url": urls[n]} for k in ks]}
             for n, ks in kinds.items()]
    refs = store.sync_targets(aid, specs, to_us(START))
    rng = random.Random(20261001)
    n = DAYS * DAY
    states = _states(n)
    base = {VPS: 38.0, WEB: 0.0, CTL_A: 12.0, CTL_B: 15.0}
    w = Writer(store, AGENT_ID, aid, batch_s=0.05, max_queued_rows=400_000).start()  # the whole month may queue
    for i in range(n):
        for name, seq in states.items():
            s = seq[i]
            if s == ".":
                continue
            ts = START + timedelta(seconds=i * INTERVAL_S, microseconds=rng.randrange(2000, 9000))
            by_kind = dict(zip(kinds[name], refs[name].checks))
            if "icmp" in by_kind:
                rtt = 400.0 + rng.gauss(0, 12) if s == "S" else _rtt(rng, i, base[name])
                lost = 1 if s != "D" and rng.random() < 0.01 else 0
                w.submit(by_kind["icmp"], _icmp(ts, s != "D", rtt, lost), 0)
            if "http" in by_kind:
                state = {"u": "up", "S": "up", "P": "503", "D": "timeout", "R": "refused"}[s]
                w.submit(by_kind["http"], _http(ts, state, 95.0 + rng.random() * 20), 0)
    outcome = w.close()
    assert outcome.filed_all and not outcome.lost_rows, outcome.reason()  # the month is whole, or the tests mean nothing
    _traceroutes(store, refs, rng)
    gap_a, gap_b = (x * INTERVAL_S for x in TRUTH.gap)
    for a, b in ((0, gap_a), (gap_b, n * INTERVAL_S)):
        rid = store.start_run(aid, to_us(START + timedelta(seconds=a)), version="test", pid=1, config_hash=None)
        store.end_run(rid, to_us(START + timedelta(seconds=b)), clean=True)


def build_month(work: Path) -> Path:
    """The config file of a month written under ``work`` (database in work/state)."""
    cfg = config(work / "config.toml")
    store = Store.open(f"sqlite:///{work / 'state' / 'slaproof.db'}")
    try:
        write_month(store, work / "state")
    finally:
        store.close()
    return cfg
