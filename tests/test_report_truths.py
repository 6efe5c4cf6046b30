"""What the report model says, built from real SQLite stores: each check's own truth, one coverage,
no-data and local time apart, interim periods, imported rows named with their source.

Each test writes a small history through the real store and writer (tests/support/history.py) and
reads the model that every document renders (reports.build.summary), so what is asserted here is
what the PDF, the HTML, summary.json and the letter are given.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.config import Settings, load_config
from agent.store import Store
from reports.analysis.sla_terms import SlaConfigError
from reports.build.summary import analyse, build_report
from reports.render.model import Report, TargetReport
from tests.conftest import make_config
from tests.support.history import write_history

START = datetime(2026, 5, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def _settings(tmp: Path, sla: dict[str, Any] | None = None, kinds: tuple[str, ...] = ("icmp", "http")) -> Settings:
    checks = {"icmp": {"kind": "icmp"}, "http": {"kind": "http", "url": "http://127.0.0.1/"}}
    vps: dict[str, Any] = {"name": "vps", "address": "127.0.0.1", "interval_s": 60, "checks": [checks[k] for k in kinds]}
    if sla is not None:
        vps["sla"] = sla
    ctl = {"name": "ctl", "address": "127.0.0.2", "control": True, "interval_s": 60, "checks": [checks["icmp"]]}
    tmp.mkdir(parents=True, exist_ok=True)
    settings, _ = load_config(make_config(tmp / "c.toml", [vps, ctl]))
    return settings


def _report(tmp: Path, patterns: dict[str, str], sla: dict[str, Any] | None = None, *,
            now: datetime | None = None, end: datetime | None = None) -> Report:
    settings = _settings(tmp, sla)
    store = Store.open(settings.database_url())
    try:
        write_history(store, tmp / "state", {n: (p, 60) for n, p in patterns.items()}, START)
        an = analyse(settings, store, START, end or START + DAY)
        return build_report(settings, store, an, lang="en", now=now or START + 40 * DAY, with_series=False).report
    finally:
        store.close()


def _target(report: Report, name: str = "vps") -> TargetReport:
    return next(t for t in report.targets if t.name == name)


N = 1440  # one day of minutes


def _day(*stretches: tuple[int, int, str]) -> str:
    p = ["u"] * N
    for a, b, ch in stretches:
        p[a:b] = [ch] * (b - a)
    return "".join(p)


def test_web_service_down_while_ping_answers_is_the_http_checks_downtime(tmp_path: Path) -> None:
    """HTTP refused for 60 min while ping answered: the target is partial with 100 % availability;
    its HTTP check alone was down 60 min. An SLA counting every check counts none of it; one
    counting the HTTP check counts all of it."""
    patterns = {"vps": _day((600, 660, "P")), "ctl": _day()}
    t = _target(_report(tmp_path / "all", patterns, {"preset": "generic-99.9"}))
    assert t.availability_pct == 100.0 and t.downtime_s == 0 and t.partial_s == 3600
    checks = {c.kind: c for c in t.checks}
    assert checks["http"].downtime_s == 3600 and checks["http"].outages == 1
    assert checks["http"].availability_pct == pytest.approx(100 * (86400 - 3600) / 86400)
    assert checks["icmp"].downtime_s == 0 and checks["icmp"].availability_pct == 100.0
    assert checks["http"].rounds_failed == 60 and checks["icmp"].rounds_failed == 0
    assert all(c.counts_toward_sla for c in t.checks)
    assert t.sla is not None and t.sla.checks == "all" and t.sla.counted_downtime_s == 0

    t = _target(_report(tmp_path / "http", patterns, {"preset": "generic-99.9", "counting": {"checks": ["http"]}}))
    assert t.sla is not None and t.sla.checks == ("http",)
    assert t.sla.measured_downtime_s == 3600 and t.sla.counted_downtime_s == 3600 and t.sla.verdict == "breached"
    assert {c.kind: c.counts_toward_sla for c in t.checks} == {"http": True, "icmp": False}
    assert t.availability_pct == 100.0  # the target's own figures do not change


def test_an_sla_counting_a_check_the_target_lacks_is_refused(tmp_path: Path) -> None:
    settings = _settings(tmp_path, {"preset": "generic-99.9", "counting": {"checks": ["tcp"]}})
    store = Store.open(settings.database_url())
    try:
        write_history(store, tmp_path / "state", {"vps": (_day(), 60), "ctl": (_day(), 60)}, START)
        with pytest.raises(SlaConfigError, match=r"targets\.vps\.sla\.counting\.checks: tcp is not a check of this target"):
            analyse(settings, store, START, START + DAY)
    finally:
        store.close()


def test_one_coverage_and_no_data_apart_from_local_time(tmp_path: Path) -> None:
    """3 h without data and 40 min of local outage: coverage leaves both out, in the target's figures
    and in the SLA section alike; the SLA's excluded downtime is the 40 min, never the 3 h."""
    patterns = {"vps": _day((100, 140, "D"), (600, 780, ".")), "ctl": _day((100, 140, "D"), (600, 780, "."))}
    t = _target(_report(tmp_path, patterns, {"preset": "gce-single-instance"}))
    assert t.no_data_s == 3 * 3600 and t.local_s == 40 * 60 and t.downtime_s == 0
    observed = 86400 - 3 * 3600 - 40 * 60
    assert t.coverage_pct == pytest.approx(100 * observed / 86400, abs=1e-6)
    assert t.sla is not None
    assert t.sla.coverage_pct == t.coverage_pct
    assert t.sla.known_s == observed and t.sla.no_data_s == 3 * 3600 and t.sla.local_s == 40 * 60
    assert t.sla.excluded_downtime_s == 40 * 60


def _import(cfg: Path, src: Path, *extra: str) -> None:
    p = subprocess.run([sys.executable, "-m", "agent.cli", "import", "-c", str(cfg), str(src), *extra],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr


def test_imported_rows_are_named_with_their_file_hash_and_tool(tmp_path: Path) -> None:
    """Half a day of ICMP rows imported from another tool, then half a day measured here: the model
    names the imported rows (count, share, period, file, SHA-256, tool) and the methods text says
    their method is unknown."""
    settings = _settings(tmp_path)
    src = tmp_path / "smokeping-vps.jsonl"
    src.write_text("".join(json.dumps({"ts": (START + timedelta(minutes=i)).isoformat(), "target": "vps", "check": "icmp",
                                       "ok": True, "rtt_ms": 30.0, "sent": 5, "received": 5}) + "\n" for i in range(720)))
    _import(tmp_path / "c.toml", src, "--tool", "smokeping 2.8.2")
    store = Store.open(settings.database_url())
    try:
        write_history(store, tmp_path / "state", {"vps": ("." * 720 + "u" * 720, 60), "ctl": ("u" * 1440, 60)}, START,
                      runs=[(720 * 60, 1440 * 60)])
        an = analyse(settings, store, START, START + DAY)
        report = build_report(settings, store, an, lang="en", now=START + 40 * DAY, with_series=False).report
    finally:
        store.close()
    t = _target(report)
    assert t.imported is not None and t.rows == 720 + 2 * 720
    assert t.imported.rows == 720 and t.imported.share_pct == pytest.approx(100 / 3)
    assert (t.imported.first, t.imported.last) == (START, START + timedelta(minutes=719))
    (source,) = t.imported.sources
    assert source.file == "smokeping-vps.jsonl" and source.tool == "smokeping 2.8.2" and source.kinds == ("icmp",)
    assert source.sha256 == hashlib.sha256(src.read_bytes()).hexdigest()
    assert _target(report, "ctl").imported is None
    assert t.coverage_pct == pytest.approx(100.0)  # imported rows are data: the first half is observed
    for text in (report.methods.text_en, report.methods.text_zh):
        assert "smokeping-vps.jsonl" in text and source.sha256 in text and "smokeping 2.8.2" in text
    assert "How they were measured is unknown" in report.methods.text_en
    assert "测量方法未知" in report.methods.text_zh
    assert "720 of the 5040 rows of this report (14.28 %)" in report.methods.text_en  # vps 2160 + ctl 2 × 1440; cut


def test_import_without_a_tool_says_unknown(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    src = tmp_path / "old.jsonl"
    src.write_text(json.dumps({"ts": START.isoformat(), "target": "vps", "check": "icmp", "ok": False}) + "\n")
    _import(tmp_path / "c.toml", src)
    store = Store.open(settings.database_url())
    try:
        (check,) = [c for c in store.check_rows(["vps"]) if json.loads(c["settings"]).get("imported")]
    finally:
        store.close()
    assert json.loads(check["settings"]) == {"kind": "icmp", "imported": True, "source_file": "old.jsonl",
                                             "source_sha256": hashlib.sha256(src.read_bytes()).hexdigest(), "tool": "unknown"}


def test_a_period_not_over_is_interim(tmp_path: Path) -> None:
    report = _report(tmp_path, {"vps": _day((600, 660, "D")), "ctl": _day()}, {"preset": "gce-single-instance"},
                     now=START + DAY / 2)
    assert report.period.interim is True
    t = _target(report)
    assert t.sla is not None and t.sla.period_complete is False
    assert "the period is not over yet: figures are interim" in t.sla.warnings
    done = _report(tmp_path / "later", {"vps": _day(), "ctl": _day()}, {"preset": "gce-single-instance"})
    assert done.period.interim is False
