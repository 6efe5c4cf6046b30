"""SLA performance terms measured on stored rows: which rows are samples, and what they give.

A known history through the real store: slow rounds, an outage, a local outage
(the control target down too) and bandwidth tests, one failed and one skipped.
The expected figures are worked out by hand below.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.config import load_config
from agent.core.result import ProbeResult
from agent.store import Store
from agent.writer import Writer
from reports.build.summary import sla_result
from tests.conftest import make_config
from tests.support.history import write_history

START = datetime(2026, 11, 1, tzinfo=UTC)
BW = {"kind": "bandwidth", "url": "http://127.0.0.1:1/download"}


def bw(ts: datetime, mbps: float | None, ok: bool = True, ec: str | None = None) -> ProbeResult:
    return ProbeResult("bandwidth", ts, ok, None, {"mbps_mean": mbps, "bytes_total": 1000, "direction": "download"}, ec,
                       None if ok else "failed")


@pytest.fixture()
def result(tmp_path: Path) -> dict[str, Any]:
    sla = {"uptime_target_pct": 99.0, "performance": [
        {"metric": "rtt_ms", "statistic": "mean", "comparator": "le", "threshold": 50},
        {"metric": "loss_pct", "statistic": "mean", "comparator": "le", "threshold": 1},
        {"metric": "jitter_ms", "statistic": "share", "comparator": "le", "threshold": 10, "share_min_pct": 99},
        {"metric": "bandwidth_mbps", "statistic": "share", "comparator": "ge", "threshold": 80, "share_min_pct": 75},
    ]}
    cfg = make_config(tmp_path / "c.toml", [
        {"name": "vps", "address": "127.0.0.1", "interval_s": 60, "sla": sla, "checks": [{"kind": "icmp"}, BW]},
        {"name": "ctl", "address": "127.0.0.2", "interval_s": 60, "control": True, "checks": [{"kind": "icmp"}]},
    ])
    settings, _ = load_config(cfg)
    store = Store.open(settings.database_url())
    p, c = ["u"] * 120, ["u"] * 120
    p[20:30] = ["S"] * 10  # answered in 400 ms
    p[50:55] = ["D"] * 5  # the provider's outage: 100 % loss
    p[80:85] = ["D"] * 5
    c[80:85] = ["D"] * 5  # the control down too: local, not samples
    uuid_ = write_history(store, settings.state_dir(), {"vps": ("".join(p), 60), "ctl": ("".join(c), 60)}, START,
                          kinds=("icmp",))
    aid = store.ensure_agent(uuid_, 0)
    refs = store.sync_targets(aid, [{"name": "vps", "address": "127.0.0.1", "checks": [{"kind": "icmp"}, BW]}], 0)
    w = Writer(store, uuid_, aid, batch_s=0.05).start()
    bref = refs["vps"].checks[1]
    for i, r in enumerate([bw(START, 90.0), bw(START, 95.0), bw(START, 40.0), bw(START, 100.0),
                           bw(START, None, ok=False, ec="timeout"), bw(START, None, ok=False, ec="skipped")]):
        w.submit(bref, ProbeResult(r.kind, START + timedelta(minutes=10 * i + 1), r.ok, None, r.figures, r.error_class, r.error), None)
    w.close()
    out = sla_result(settings, store, settings.target("vps"), START, START + timedelta(hours=2), START + timedelta(days=1))
    return {t["metric"]: t for t in out.to_json()["terms"]}


def test_latency_and_jitter_are_successful_rounds_outside_local_time(result: dict[str, Any]) -> None:
    rtt = result["rtt_ms"]
    # 120 rounds − 5 outage − 5 local = 110 answered: 100 at 20 ms, 10 at 400 ms.
    assert rtt["samples"] == 110
    assert rtt["measured"] == pytest.approx((100 * 20 + 10 * 400) / 110)
    assert rtt["met"] is False  # 54.5 ms > 50 ms
    jit = result["jitter_ms"]  # three requests a round: the stored standard deviation, 0.8 ms
    assert jit["samples"] == 110 and jit["measured"] == pytest.approx(100.0) and jit["met"] is True


def test_loss_counts_the_outage_but_not_the_local_stretch(result: dict[str, Any]) -> None:
    loss = result["loss_pct"]
    assert loss["samples"] == 115
    assert loss["measured"] == pytest.approx(5 * 100 / 115)
    assert loss["met"] is False


def test_bandwidth_share_uses_successful_tests_only(result: dict[str, Any]) -> None:
    b = result["bandwidth_mbps"]
    assert b["samples"] == 4  # the failed and the budget-skipped tests are not samples
    assert b["measured"] == pytest.approx(75.0) and b["met"] is True


def test_single_request_rounds_give_jitter_as_consecutive_rtt_difference(tmp_path: Path) -> None:
    from agent import identity
    from reports.build.rounds import target_checks
    from reports.build.samples import perf_samples

    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    uuid_ = identity.load_or_create(tmp_path / "state")
    aid = store.ensure_agent(uuid_, 0)
    refs = store.sync_targets(aid, [{"name": "v", "address": "127.0.0.1", "checks": [{"kind": "icmp", "count": 1}]}], 0)
    w = Writer(store, uuid_, aid, batch_s=0.05).start()
    for i, rtt in enumerate([10.0, 12.0, 11.0, None, 15.0, 14.5]):
        ts = START + timedelta(seconds=10 * i)
        fig = {"sent": 1, "received": 0 if rtt is None else 1}
        if rtt is not None:
            fig.update(rtt_min_ms=rtt, rtt_max_ms=rtt, rtt_stddev_ms=0.0)
        w.submit(refs["v"].checks[0], ProbeResult("icmp", ts, rtt is not None, rtt, fig, None if rtt else "timeout"), 0)
    w.close()
    tc = target_checks(store, ["v"])["v"]
    got = [(s.metric, round(s.value, 6)) for s in perf_samples(store, tc, 0, 2**62, [], {"jitter_ms", "loss_pct"})]
    # A failed round breaks the sequence: 15.0 has no predecessor.
    assert [v for m, v in got if m == "jitter_ms"] == [2.0, 1.0, 0.5]
    assert [v for m, v in got if m == "loss_pct"] == [0.0, 0.0, 0.0, 100.0, 0.0, 0.0]


def test_report_holds_the_bandwidth_tests(tmp_path: Path) -> None:
    import json
    import shutil
    import subprocess

    from reports.build.bundle import write_bundle

    sla = {"uptime_target_pct": 99, "performance": [
        {"metric": "bandwidth_mbps", "statistic": "mean", "comparator": "ge", "threshold": 80}]}
    cfg = make_config(tmp_path / "c.toml", [
        {"name": "vps", "address": "127.0.0.1", "interval_s": 60, "sla": sla, "checks": [{"kind": "icmp"}, BW]},
        {"name": "ctl", "address": "127.0.0.2", "interval_s": 60, "control": True, "checks": [{"kind": "icmp"}]}])
    settings, _ = load_config(cfg)
    store = Store.open(settings.database_url())
    # Minutes 60-69: the control target is down too, so that stretch is the agent's own network.
    p = "u" * 60 + "D" * 10 + "u" * 50
    uuid_ = write_history(store, settings.state_dir(), {"vps": (p, 60), "ctl": (p, 60)}, START, kinds=("icmp",))
    aid = store.ensure_agent(uuid_, 0)
    refs = store.sync_targets(aid, [{"name": "vps", "address": "127.0.0.1", "checks": [{"kind": "icmp"}, BW]}], 0)
    w = Writer(store, uuid_, aid, batch_s=0.05).start()
    tests = [bw(START, 90.0), bw(START, 95.0), bw(START, 40.0), bw(START, 100.0),
             bw(START, None, ok=False, ec="timeout"), bw(START, None, ok=False, ec="skipped"),
             bw(START, 10.0),  # minute 61: in the local stretch, not counted
             bw(START, None, ok=False, ec="internal")]  # the agent's own fault
    for i, r in enumerate(tests):
        w.submit(refs["vps"].checks[1], ProbeResult(r.kind, START + timedelta(minutes=10 * i + 1), r.ok, None, r.figures,
                                                    r.error_class, r.error), None)
    w.close()
    out = tmp_path / "out"
    write_bundle(settings, store, START, START + timedelta(hours=2), None, ["json", "html", "pdf"], "en", out,
                 now=START + timedelta(days=1))
    t = next(x for x in json.loads((out / "summary.json").read_text())["targets"] if x["name"] == "vps")
    b = t["bandwidth"]
    assert (b["tests"], b["ok"], b["failed"], b["skipped"], b["local"], b["agent_side"]) == (8, 4, 1, 1, 1, 1)
    assert [x["counted_as"] for x in b["listed"]][-2:] == ["local", "agent_side"]
    d = b["by_direction"]["download"]
    assert d["count"] == 4 and d["mean_mbps"] == pytest.approx(81.25)
    assert (d["min_mbps"], d["p10_mbps"], d["p50_mbps"], d["p90_mbps"], d["max_mbps"]) == (40.0, 40.0, 90.0, 100.0, 100.0)
    assert len(b["listed"]) == 8 and b["listed_all"] is True
    assert t["availability_pct"] == 100.0  # a failed bandwidth test is not an outage
    (term,) = t["sla"]["terms"]  # the local test (10 Mbit/s) is not a sample: 81.25 ≥ 80
    assert term["samples"] == 4 and term["measured"] == pytest.approx(81.25) and term["met"] is True
    html = (out / "report.html").read_text()
    assert "Bandwidth tests" in html and "81.2" in html and "Failed tests" in html
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True, check=True).stdout
        assert "Bandwidth tests" in text and "81.2" in text
    write_bundle(settings, store, START, START + timedelta(hours=2), None, ["html"], "zh", tmp_path / "zh",
                 now=START + timedelta(days=1))
    assert "带宽测试" in (tmp_path / "zh" / "report.html").read_text()
