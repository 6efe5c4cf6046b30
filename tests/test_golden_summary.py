"""summary.json of a fixed database is byte-identical to a golden copy.

Why: refactoring the store, the analysis or the report model must not change a
single figure. The database is built from a fixed history (fixed agent id, fixed
"now"); the only fields that depend on the machine (host name, version, the
clock's sync text) are set to fixed values before comparing. When a change is
*meant* to alter the summary, regenerate the golden copy with
``SLAPROOF_REGOLD=1 pytest tests/test_golden_summary.py`` and say why in the commit.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import make_config
from tests.support.history import write_history

GOLDEN = Path(__file__).parent / "golden" / "summary.json"
START = datetime(2026, 11, 2, 16, 0, tzinfo=UTC)  # 2026-11-03 00:00 Asia/Shanghai
NOW = datetime(2026, 11, 6, 8, 0, tzinfo=UTC)
AGENT_ID = "0b5e7e3a-1d2c-4c3b-9a8f-5e6d7c8b9a01"


def _normalise(summary: dict[str, Any]) -> dict[str, Any]:
    summary["agent"]["host"] = "HOST"
    summary["agent"]["version"] = "VERSION"
    summary["methods"]["clock"] = "CLOCK"
    return summary


def _build(tmp: Path) -> dict[str, Any]:
    from agent.config import load_config
    from agent.store import Store
    from reports.build.bundle import write_bundle

    state = tmp / "state"
    state.mkdir()
    (state / "agent-id").write_text(AGENT_ID + "\n")
    cfg = make_config(tmp / "c.toml", [
        {"name": "vps", "address": "127.0.0.1", "provider": "ExampleCloud", "interval_s": 60,
         "sla": {"preset": "gce-single-instance"}, "monthly_fee": 20.0, "currency": "USD", "service_id": "i-0abc",
         "thresholds": {"rtt_ms_max": 300.0, "sustain_s": 300.0},
         "checks": [{"kind": "icmp"}, {"kind": "http", "url": "http://127.0.0.1/"}]},
        {"name": "aws", "address": "127.0.0.3", "provider": "AWS", "interval_s": 60,
         "sla": {"preset": "aws-ec2-instance"}, "monthly_fee": 50.0, "currency": "USD",
         "checks": [{"kind": "icmp"}, {"kind": "http", "url": "http://127.0.0.3/"}]},
        {"name": "ctl", "address": "127.0.0.2", "control": True, "interval_s": 60,
         "checks": [{"kind": "icmp"}, {"kind": "http", "url": "http://127.0.0.1/"}]},
    ], timezone="Asia/Shanghai", vantage="golden bench", network="loopback")
    settings, _ = load_config(cfg)
    store = Store.open(settings.database_url())
    n = 2880
    p, a, c = ["u"] * n, ["u"] * n, ["u"] * n
    p[100:147] = ["D"] * 47          # an outage
    p[300:303] = ["D"]                # a blip (1 round)
    p[600:630] = ["P"] * 30           # partial: HTTP down, ICMP up
    p[700:720] = ["S"] * 20           # slow: degraded after the sustain window
    p[900:910] = ["D"] * 10           # local: the control target is down too
    c[900:910] = ["D"] * 10
    p[1200:1230] = ["D"] * 30         # an outage with one answered round inside
    p[1215] = "u"
    a[1500:1507] = ["D"] * 7          # 7 min in one clock hour (AWS rule)
    for pat in (p, a, c):
        pat[2000:2200] = ["."] * 200  # an agent gap
    write_history(store, state, {"vps": ("".join(p), 60), "aws": ("".join(a), 60), "ctl": ("".join(c), 60)}, START,
                  runs=[(0, 2000 * 60), (2200 * 60, n * 60)])
    out = tmp / "out"
    write_bundle(settings, store, START, START + timedelta(days=2), None, ["json"], "en", out, now=NOW)
    store.close()
    return _normalise(json.loads((out / "summary.json").read_text(encoding="utf-8")))


def test_summary_of_a_fixed_database_matches_the_golden_copy(tmp_path: Path) -> None:
    got = json.dumps(_build(tmp_path), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if os.environ.get("SLAPROOF_REGOLD") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(got, encoding="utf-8")
    want = GOLDEN.read_text(encoding="utf-8")
    assert got == want, "summary.json changed; if that is intended, regenerate (see the module docstring)"
