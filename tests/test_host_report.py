"""The report's host section: analysis rules, and a two-week history end to end (summary.json, SLA host
terms, PDF and HTML in both languages)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent import identity
from agent.core.result import ProbeResult
from agent.core.times import to_us
from agent.store import Store
from agent.writer import Writer
from probes.host import reading_result
from probes.host_model import ClockPart, CpuPart, DiskPart, FsyncPart, HostAnswer, MemoryPart, Reading, SpeedPart, ThroughputPart
from reports.analysis import host as A
from tests.support.history import icmp
from tests.support.report_fixture import validate_summary

START = datetime(2026, 3, 1, tzinfo=UTC)
H = timedelta(hours=1)
WORKLOAD = "zlib6-256k-720383a885a53e68"
MIB = 1 << 20


def _s(ts: datetime, speed: float | None = 200.0, *, others: float = 0.1, workload: str = WORKLOAD, ok: bool = True) -> A.HostSample:
    return A.HostSample(ts, ok, None if ok else "timeout", units_per_s=speed, workload=workload, others_cores=others, vcpus_usable=2)


def test_baseline_is_the_first_weeks_uncontended_median_of_one_workload() -> None:
    rows = [_s(START + i * H, 100.0 + i % 3) for i in range(20)]
    rows.insert(3, _s(START + 3 * H, 10.0, others=1.5))  # contended: left out
    rows.insert(5, _s(START + 5 * H, 10.0, workload="other"))  # another workload: left out
    rows.insert(0, _s(START - H, None, ok=False))  # a failed poll before the first reading
    rows.append(_s(START + timedelta(days=7, seconds=1), 500.0))  # after the first week
    base = A.baseline(rows)
    assert (base.workload, base.units_per_s, base.readings) == (WORKLOAD, 101.0, 20)
    assert base.start == START and base.end == START + timedelta(days=7)
    assert A.baseline(rows[:A.BASELINE_MIN_READINGS]).units_per_s is None  # too few readings: no baseline
    assert A.speed_pct(_s(START, 50.5), base) == pytest.approx(50.0)
    assert A.speed_pct(_s(START, 50.5, others=1.2), base) is None
    assert A.speed_pct(_s(START, 50.5, workload="other"), base) is None


def test_contended_means_less_than_0_9_core_left() -> None:
    assert not A.HostSample(START, True, vcpus_usable=2, others_cores=1.05).contended
    assert A.HostSample(START, True, vcpus_usable=2, others_cores=1.15).contended
    assert A.HostSample(START, True, vcpus_usable=1, others_cores=0.2).contended
    assert not A.HostSample(START, True).contended


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=200))
def test_stats_are_nearest_rank_values_of_the_input(values: list[float]) -> None:
    s = A.stats(values)
    assert s.count == len(values) and s.min == min(values) and s.max == max(values)
    for p in (s.p5, s.p50, s.p95):
        assert p in values
    assert s.min <= s.p5 <= s.p50 <= s.p95 <= s.max  # type: ignore[operator]  # all set when count > 0


# -- a two-week history, end to end --------------------------------------------------------------
def _reading(seq: int, at: datetime, *, steal: float, speed: float, others: float = 0.1, write: float | None = None) -> Reading:
    disk = DiskPart(path="/var/tmp", fs_type="ext4", free_bytes=10**10, bytes_written=81920,
                    fsync=FsyncPart(samples=20, p50_ms=1.0, p99_ms=5.0, max_ms=5.0),
                    throughput=None if write is None else ThroughputPart(bytes=63 * MIB, write_mb_s=write, read_mb_s=2 * write, direct=True))
    return Reading(
        seq=seq, taken_at_us=to_us(at), took_s=0.7, cpu_s=0.6, clock=ClockPart(synced=True, maxerror_us=1000, esterror_us=10),
        cpu=CpuPart(interval_s=3600, steal_pct=steal, iowait_pct=0.5, busy_pct=10.0, idle_pct=100 - steal - 10.5,
                    vcpus_online=2, vcpus_usable=2),
        speed=SpeedPart(workload=WORKLOAD, units_per_s=speed, peak_units_per_s=210.0, unit_ms_p50=5.0, units=90, window_s=0.5,
                        thread_cpu_s=0.6, others_cores=others, throttled_periods=None),
        memory=MemoryPart(total_bytes=1950 * MIB, available_bytes=1500 * MIB, host_total_bytes=1950 * MIB,
                          host_available_bytes=1500 * MIB, swap_total_bytes=0, swap_used_bytes=0),
        disk=disk,
    )


def _result(r: Reading) -> ProbeResult:
    answer = HostAnswer(instance="i1", now_us=r.taken_at_us, every_s=3600, started_us=to_us(START), readings=[r])
    return reading_result(r, answer, r.taken_at_us, 0, 2000)


def _history(store: Store, state: Path, host_url: str) -> None:
    """Two weeks: readings every hour; days 8–10 slow (steal 20 %, half speed); three contended readings;
    five failed polls; ICMP up all along every 10 minutes."""
    agent_uuid = identity.load_or_create(state)
    aid = store.ensure_agent(agent_uuid, to_us(START))
    refs = store.sync_targets(aid, [{"name": "vps", "address": "127.0.0.1",
                                     "checks": [{"kind": "icmp"}, {"kind": "host", "url": host_url}]}], to_us(START))
    ping, host = refs["vps"].checks
    w = Writer(store, agent_uuid, aid, batch_s=0.05).start()
    for i in range(14 * 24 * 6):
        w.submit(ping, icmp(START + i * timedelta(minutes=10), True), 0)
    for i in range(14 * 24):
        at = START + i * H + timedelta(minutes=5)
        bad = timedelta(days=7) <= at - START < timedelta(days=10)
        contended = i in (11 * 24 + 3, 11 * 24 + 4, 11 * 24 + 5)
        r = _reading(i + 1, at, steal=20.0 if bad else 1.0, speed=60.0 if contended else (100.0 if bad else 200.0),
                     others=1.6 if contended else 0.1, write=120.0 if i % 12 == 0 else None)
        w.submit(host, _result(r), None)
    for k in range(5):
        w.submit(host, ProbeResult("host", START + timedelta(days=12, minutes=k), False, error_class="timeout",
                                   error="no complete answer within 10 s"), None)
    w.close()
    rid = store.start_run(aid, to_us(START), version="test", pid=1, config_hash=None)
    store.end_run(rid, to_us(START + timedelta(days=14)), clean=True)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from tests.conftest import make_config

    d = tmp_path_factory.mktemp("host-report")
    url = "http://127.0.0.1:1"
    sla = {"preset": "generic-99.9", "performance": [
        {"metric": "steal_pct", "statistic": "mean", "comparator": "le", "threshold": 5},
        {"metric": "cpu_speed_pct", "statistic": "share", "comparator": "ge", "threshold": 80, "share_min_pct": 95},
        {"metric": "disk_fsync_p99_ms", "statistic": "p95", "comparator": "le", "threshold": 50},
    ]}
    cfg = make_config(d / "c.toml", [{
        "name": "vps", "address": "127.0.0.1", "interval_s": 600, "sla": sla,
        "plan": {"vcpus": 2, "cpu": "dedicated", "memory_mb": 2048, "disk_type": "nvme", "disk_mb_s": 200},
        "checks": [{"kind": "icmp"}, {"kind": "host", "url": url}]}])
    store = Store.open(f"sqlite:///{d / 'state' / 'slaproof.db'}")
    _history(store, d / "state", url)
    store.close()
    out: dict[str, Any] = {}
    for lang in ("en", "zh"):
        folder = d / f"out-{lang}"
        r = subprocess.run([sys.executable, "-m", "agent.cli", "report", "-c", str(cfg), "--from", "2026-03-08", "--to", "2026-03-14",
                            "--lang", lang, "--out", str(folder)], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        out[lang] = folder
    out["summary"] = json.loads((out["en"] / "summary.json").read_text())
    return out


def test_host_section_figures(bundle: dict[str, Any]) -> None:
    t = bundle["summary"]["targets"][0]
    validate_summary(bundle["summary"])
    h = t["host"]
    assert h["readings"] == 7 * 24 and h["polls_failed"] == 5 and h["poll_errors"] == {"timeout": 5}
    # A failed poll is not an outage: ICMP was up, so is the target.
    assert t["availability_pct"] == 100.0 and t["incidents"] == []
    assert h["steal_pct"]["count"] == 168 and h["steal_pct"]["max"] == 20.0
    assert h["steal_pct"]["mean"] == pytest.approx((72 * 20 + 96 * 1) / 168)
    sp = h["cpu_speed"]
    assert sp["baseline_units_per_s"] == 200.0 and sp["baseline_readings"] == 168 and sp["contended"] == 3
    assert sp["baseline_from"] == "2026-03-01T00:05:00.000000Z"
    assert sp["pct_of_baseline"]["count"] == 165 and sp["pct_of_baseline"]["min"] == 50.0 and sp["pct_of_baseline"]["max"] == 100.0
    assert h["disk"]["fsync_p99_ms"]["p95"] == 5.0 and h["disk"]["write_mb_s"]["count"] == 14
    assert h["disk"]["write_below_plan"] == 14 and h["disk"]["direct"] is True
    assert h["memory"]["plan_bytes"] == 2048 * MIB and h["memory"]["total_pct_of_plan_min"] == pytest.approx(100 * 1950 / 2048)
    assert h["plan"]["cpu"] == "dedicated" and h["vcpus_online_min"] == h["vcpus_online_max"] == 2
    assert [d["day"] for d in h["days"]][:2] == ["2026-03-08", "2026-03-09"] and len(h["days"]) == 7
    assert h["days"][0]["steal_mean_pct"] == 20.0 and h["days"][0]["speed_pct_min"] == 50.0


def test_sla_host_terms_are_evaluated_like_the_network_terms(bundle: dict[str, Any]) -> None:
    t = bundle["summary"]["targets"][0]
    terms = {x["metric"]: x for x in t["sla"]["terms"]}
    assert terms["steal_pct"]["met"] is False and terms["steal_pct"]["measured"] == pytest.approx(1536 / 168)
    assert terms["cpu_speed_pct"]["met"] is False and terms["cpu_speed_pct"]["samples"] == 165
    assert terms["cpu_speed_pct"]["measured"] == pytest.approx(100 * 93 / 165)
    assert terms["disk_fsync_p99_ms"]["met"] is True
    assert [x["metric"] for x in t["host"]["terms"]] == ["steal_pct", "cpu_speed_pct", "disk_fsync_p99_ms"]


def test_host_section_is_printed_in_both_languages(bundle: dict[str, Any]) -> None:
    en = (bundle["en"] / "report.html").read_text(encoding="utf-8")
    zh = (bundle["zh"] / "report.html").read_text(encoding="utf-8")
    assert "Inside the machine: CPU, disk and memory" in en and "CPU steal (% of CPU time)" in en
    assert "200.0 units/s" in en and "3 CPU speed readings were taken while" in en
    assert "机器内部：CPU、磁盘与内存" in zh and "CPU 窃取（占 CPU 时间 %）" in zh and "Inside the machine" not in zh
    assert "CPU 窃取，统计时段平均值：不超过 5 %：实测 9.14，违约" in zh  # the term in words, no stored key
    assert "steal_pct" not in zh.split("</main>")[0].split('id="terms"')[0]
    for lang in ("en", "zh"):
        assert (bundle[lang] / "report.pdf").stat().st_size > 10_000
    methods = bundle["summary"]["methods"]
    assert "Host readings come from inside the rented machine" in methods["text_en"]
    assert "主机读数来自所租机器内部" in methods["text_zh"]
