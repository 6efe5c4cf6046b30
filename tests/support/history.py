"""Synthetic measurement history written through the real store and writer.

``pattern`` strings give one character per round: ``u`` up, ``D`` every check
down, ``P`` partial (ICMP answers, HTTP 503), ``S`` slow (RTT 400 ms), ``.`` no
round (agent gap). Runs are recorded around the rounds, so gaps are explained.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from agent import identity
from agent.core.result import ProbeResult
from agent.core.times import to_us
from agent.store import Store
from agent.writer import Writer


def icmp(ts: datetime, ok: bool, rtt: float = 20.0) -> ProbeResult:
    if ok:
        return ProbeResult("icmp", ts, True, rtt, {"sent": 3, "received": 3, "rtt_min_ms": rtt - 1, "rtt_max_ms": rtt + 1, "rtt_stddev_ms": 0.8})
    return ProbeResult("icmp", ts, False, None, {"sent": 3, "received": 0}, "timeout", "no reply within 1.0 s")


def http(ts: datetime, ok: bool, status: int = 200) -> ProbeResult:
    if ok:
        return ProbeResult("http", ts, True, 80.0, {"status": 200})
    return ProbeResult("http", ts, False, 81.0, {"status": status, "headers": {"server": "<b>nginx</b>"}, "body_head": "<h1>503 Service Unavailable</h1>"},
                       "http_status", f"HTTP {status}, expected 200-399")


def write_history(store: Store, state_dir: Path, targets: dict[str, tuple[str, float]], start: datetime, *,
                  runs: Sequence[tuple[int, int]] | None = None, kinds: Sequence[str] = ("icmp", "http")) -> str:
    """targets: name → (pattern, interval_s). Each target has an icmp and an http check.

    runs: (first round index, last round index) per agent run; default one run over everything.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    agent_uuid = identity.load_or_create(state_dir)
    aid = store.ensure_agent(agent_uuid, to_us(start))
    settings = {"icmp": {"kind": "icmp"}, "http": {"kind": "http", "url": "http://127.0.0.1/"}}
    specs = [{"name": n, "address": "127.0.0.1", "checks": [settings[k] for k in kinds]} for n in targets]
    refs = store.sync_targets(aid, specs, to_us(start))
    w = Writer(store, agent_uuid, aid, batch_s=0.05).start()
    longest = 0
    for name, (pattern, interval) in targets.items():
        refs_by_kind = dict(zip(kinds, refs[name].checks))
        longest = max(longest, int(len(pattern) * interval))
        for i, ch in enumerate(pattern):
            if ch == ".":
                continue
            ts = start + timedelta(seconds=i * interval)
            if "icmp" in refs_by_kind:
                w.submit(refs_by_kind["icmp"], icmp(ts, ch != "D", 400.0 if ch == "S" else 20.0), 0)
            if "http" in refs_by_kind:
                w.submit(refs_by_kind["http"], http(ts, ch in "uS", 503), 0)
    w.close()
    for a, b in runs or [(0, longest)]:
        rid = store.start_run(aid, to_us(start + timedelta(seconds=a)), version="test", pid=1, config_hash=None)
        store.end_run(rid, to_us(start + timedelta(seconds=b)), clean=True)
    return agent_uuid
