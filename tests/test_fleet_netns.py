"""Three agents in three network namespaces and a target in a fourth, all on one bridge.

Cutting one agent's own link gives an outage seen from that vantage only; cutting the target's link
gives an outage confirmed by all three, with the right bounds; the SLA verdict counts only the
confirmed one. The agents run the real daemon inside their namespaces (`slaproof run`), cannot
reach the central PostgreSQL from there (store first, forward later), and their rows are forwarded
afterwards with `slaproof forward --once`; the report runs on the central database.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.config import load_config
from agent.store import Store
from reports.build.summary import analyse, build_report
from tests.conftest import make_config
from tests.support.bridge import switched_hosts
from tests.support.netns import requires_netns
from tests.support.wait import wait_until

EXE = [sys.executable, "-m", "agent.cli"]
PORT = 8080
CUT_S = 6.0  # each outage; rounds every second, two failed rounds open an incident
SETTLE_S = 5.0


def _rows(db: Path) -> int:
    import sqlite3

    if not db.exists():
        return 0
    with sqlite3.connect(db) as c:
        try:
            n = int(c.execute("SELECT count(*) FROM measurements").fetchone()[0])
        except sqlite3.OperationalError:
            n = 0
    c.close()
    return n


@requires_netns
@pytest.mark.root
def test_path_cut_is_one_vantage_target_cut_is_confirmed(tmp_path: Path, pg_url: str) -> None:
    with switched_hosts(4) as (a, b, c, target):
        target.popen([sys.executable, "-c", "import socket,time\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                      f"s.bind(('0.0.0.0',{PORT}));s.listen(512)\nwhile True:\n c,_=s.accept();c.close()"])
        configs = {}
        for name, host in (("a", a), ("b", b), ("c", c)):
            d = tmp_path / name
            d.mkdir()
            configs[name] = make_config(d / "config.toml", [{"name": "vps", "address": target.ip, "interval_s": 1,
                                                             "checks": [{"kind": "tcp", "port": PORT, "timeout_s": 0.4}]}],
                                        state_dir=str(d / "state"), database_url=f"sqlite:///{d / 'local.db'}", vantage=f"office-{name}",
                                        heartbeat_s=2, batch_s=0.2, checkpoints={"enabled": False}, evidence_on_incident=False,
                                        upstream={"database_url": pg_url, "retry_max_s": 5})
            host.popen([*EXE, "run", "-c", str(configs[name])], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for name in configs:
            wait_until(lambda n=name: _rows(tmp_path / n / "local.db") >= 3, f"agent {name} measuring", 60, 0.1)
        t0 = datetime.now(UTC)
        time.sleep(SETTLE_S)  # the outages are the test's subject: each lasts a fixed time on the wall clock
        path_cut = datetime.now(UTC)
        a.cut()
        time.sleep(CUT_S)
        a.mend()
        path_mended = datetime.now(UTC)
        time.sleep(SETTLE_S)
        target_cut = datetime.now(UTC)
        target.cut()
        time.sleep(CUT_S)
        target.mend()
        target_mended = datetime.now(UTC)
        time.sleep(SETTLE_S)
        for h in (a, b, c):
            for p in h.procs:
                p.send_signal(signal.SIGTERM)
            for p in h.procs:
                assert p.wait(30) == 0
        t1 = datetime.now(UTC)
    for name, cfg in configs.items():  # the agents' rows reach the central database now
        done = subprocess.run([*EXE, "forward", "-c", str(cfg), "--once"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (name, done.stderr)
    report_cfg = make_config(tmp_path / "central.toml", [{"name": "vps", "address": "10.77.0.13", "interval_s": 1,
                                                           "checks": [{"kind": "tcp", "port": PORT, "timeout_s": 0.4}],
                                                           "sla": {"preset": "generic-99.9"}}],
                             state_dir=str(tmp_path / "central-state"), database_url=pg_url,
                             merge_gap_s=2)  # the two outages are seconds apart: not one incident
    settings, _ = load_config(report_cfg)
    central = Store.open(pg_url)
    try:
        start = t0.replace(microsecond=0)
        end = (t1 + timedelta(seconds=2)).replace(microsecond=0)
        an = analyse(settings, central, start, end)
        vps = build_report(settings, central, an, lang="en", now=end + timedelta(days=40), with_series=False).report.targets[0]
    finally:
        central.close()
    sec = vps.vantages
    assert sec is not None and sec.quorum == 2 and [v.name for v in sec.vantages] == ["office-a", "office-b", "office-c"]
    single = [i for i in sec.incidents if not i.confirmed]
    confirmed = [i for i in sec.incidents if i.confirmed]
    assert len(single) == 1 and single[0].vantages == ("office-a",), sec.incidents
    assert path_cut - timedelta(seconds=1.5) <= single[0].start <= path_mended <= single[0].end + timedelta(seconds=1.5)
    assert len(confirmed) == 1 and confirmed[0].vantages == ("office-a", "office-b", "office-c"), sec.incidents
    conf = confirmed[0]
    assert target_cut - timedelta(seconds=1.5) <= conf.start <= target_cut + timedelta(seconds=1.5)
    assert target_mended - timedelta(seconds=1.5) <= conf.end <= target_mended + timedelta(seconds=1.5)
    assert all(target_cut - timedelta(seconds=1.5) <= s.start and s.end <= target_mended + timedelta(seconds=1.5) for s in conf.sights)
    assert vps.sla is not None and vps.sla.measured_downtime_s == pytest.approx(conf.agreed_s)  # the path cut is not charged
