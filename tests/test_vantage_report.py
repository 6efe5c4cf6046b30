"""A report over a database holding several agents' rows for one target (a fleet).

Three agents write the same target into one SQLite file through the real store and writer. One
agent's path fails alone (seen from one vantage only), then all three see the target down (a
confirmed outage): the report model lists both with each vantage's own bounds, the SLA counts
only the confirmed one, and summary.json reads back into the model unchanged. A single agent's
report has no vantage section at all (its summary.json stays byte-identical: test_golden_summary).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.store import Store
from reports.build.summary import analyse, build_report
from reports.render.model import Report
from reports.render.model_json import report_from_json, report_to_json
from tests.support.history import write_history
from tests.support.report_fixture import validate_summary
from tests.test_report_truths import _settings

START = datetime(2026, 5, 1, tzinfo=UTC)
N = 240  # four hours of minutes


def _pattern(*downs: tuple[int, int]) -> str:
    p = ["u"] * N
    for a, b in downs:
        p[a:b] = ["D"] * (b - a)
    return "".join(p)


def _fleet_report(tmp: Path, patterns: dict[str, str], sla: dict[str, object] | None = None, quorum: int | None = None) -> Report:
    settings = _settings(tmp, sla)
    if quorum is not None:
        settings = settings.model_copy(update={"agent": settings.agent.model_copy(update={"quorum": quorum})})
    store = Store.open(settings.database_url())
    try:
        for agent, vps in patterns.items():
            write_history(store, tmp / agent, {"vps": (vps, 60), "ctl": ("u" * N, 60)}, START)
        an = analyse(settings, store, START, START + timedelta(minutes=N))
        return build_report(settings, store, an, lang="en", now=START + timedelta(days=40)).report
    finally:
        store.close()


def _at(minute: int) -> datetime:
    return START + timedelta(minutes=minute)


def test_path_problem_is_apart_and_the_outage_is_confirmed(tmp_path: Path) -> None:
    patterns = {"a": _pattern((30, 45), (120, 150)), "b": _pattern((120, 150)), "c": _pattern((121, 150))}
    report = _fleet_report(tmp_path, patterns, {"preset": "generic-99.9"})
    vps = next(t for t in report.targets if t.name == "vps")
    sec = vps.vantages
    assert sec is not None and sec.quorum == 2 and sec.quorum_rule == "majority"
    assert len(sec.vantages) == 3 and len(sec.with_data) == 3
    single, confirmed = sec.incidents
    assert not single.confirmed and len(single.vantages) == 1 and (single.start, single.end) == (_at(30), _at(45))
    assert confirmed.confirmed and len(confirmed.vantages) == 3
    assert (confirmed.start, confirmed.end) == (_at(120), _at(150))
    assert (confirmed.earliest, confirmed.latest) == (_at(120), _at(150))
    assert sorted((s.start, s.end) for s in confirmed.sights) == [(_at(120), _at(150))] * 2 + [(_at(121), _at(150))]
    assert sec.confirmed_s == 30 * 60 and confirmed.agreed_s == 30 * 60
    assert vps.sla is not None and vps.sla.measured_downtime_s == 30 * 60  # the path problem is not charged
    data = report_to_json(report)
    validate_summary(data)
    assert report_to_json(report_from_json(data)) == data
    assert not any("vantages" in t for t in data["targets"] if t["name"] == "ctl")


def test_one_agent_has_no_vantage_section(tmp_path: Path) -> None:
    report = _fleet_report(tmp_path, {"a": _pattern((30, 45))})
    assert all(t.vantages is None for t in report.targets)
    assert all("vantages" not in t for t in report_to_json(report)["targets"])


def test_the_report_shows_each_vantage_and_the_rule_in_both_languages(tmp_path: Path) -> None:
    from reports.render.blocks import Chart, Group, Para, Table
    from reports.render.charts import make_charts
    from reports.render.content import build_document
    from reports.render.i18n import label
    from reports.render.vector import to_svg

    patterns = {"a": _pattern((30, 45), (120, 150)), "b": _pattern((120, 150)), "c": _pattern((121, 150))}
    settings = _settings(tmp_path)
    store = Store.open(settings.database_url())
    try:
        for agent, vps in patterns.items():
            write_history(store, tmp_path / agent, {"vps": (vps, 60), "ctl": ("u" * N, 60)}, START)
        an = analyse(settings, store, START, START + timedelta(minutes=N))
        built = build_report(settings, store, an, lang="en", now=START + timedelta(days=40))
    finally:
        store.close()
    strip = built.series["vps"].vantage_spans
    assert {row for row, *_ in strip} == {v.name for v in built.report.targets[0].vantages.vantages} | {"quorum"}  # type: ignore[union-attr]
    charts = make_charts(built.report, built.series, "en")
    strip_svg = to_svg(charts["vps"]["vantages"])
    assert "quorum" not in strip_svg and "confirmed" in strip_svg and "vantages" not in charts["ctl"]
    for lang, sentence, single in (("en", "at least 2 of them (a majority of the 3 that had data)", "seen from one vantage point only"),
                                   ("zh", "只有当至少 2 个观测点（有数据的 3 个观测点中的多数）", "仅一个观测点看到")):
        doc = build_document(built.report, make_charts(built.report, built.series, lang), lang)
        blocks = [x for b in doc.blocks for x in (b.blocks if isinstance(b, Group) else [b])]
        paras = [b.text for b in blocks if isinstance(b, Para)]
        assert any(sentence in p for p in paras), lang
        cells = [c for b in blocks if isinstance(b, Table) for row in b.rows for c in row]
        assert single in cells and "T1-V2" in cells
        assert any(isinstance(b, Chart) and b.caption == label("chart.vantages", lang) for b in blocks)


def test_vantage_analyses_in_worker_processes_read_the_same(tmp_path: Path) -> None:
    """Six agent views (two targets × three agents) run in forked workers: the same reading as in one process."""
    from agent.config import load_config
    from tests.conftest import make_config

    icmp = [{"kind": "icmp"}]
    settings, _ = load_config(make_config(tmp_path / "c.toml", [
        {"name": "vps", "address": "127.0.0.1", "interval_s": 60, "checks": icmp},
        {"name": "web", "address": "127.0.0.3", "interval_s": 60, "checks": icmp},
        {"name": "ctl", "address": "127.0.0.2", "control": True, "interval_s": 60, "checks": icmp}]))
    store = Store.open(settings.database_url())
    try:
        for agent, (down_a, down_b) in {"a": ((30, 45), (120, 150)), "b": ((120, 150), (0, 0)), "c": ((121, 150), (10, 12))}.items():
            write_history(store, tmp_path / agent, {"vps": (_pattern(down_a, down_b), 60), "web": (_pattern(down_b), 60),
                                                    "ctl": (_pattern(down_b), 60)}, START, kinds=("icmp",))
        one = analyse(settings, store, START, START + timedelta(minutes=N), workers=1).fleet
        two = analyse(settings, store, START, START + timedelta(minutes=N), workers=2).fleet
    finally:
        store.close()
    assert set(one) == {"vps", "web"}  # control targets are each agent's own: never read across vantages
    assert {k: v.period for k, v in one.items()} == {k: v.period for k, v in two.items()}
    assert {k: v.per_vantage for k, v in one.items()} == {k: v.per_vantage for k, v in two.items()}
    assert one["vps"].period.confirmed_s > 0


def test_a_quorum_set_in_the_config(tmp_path: Path) -> None:
    """[agent] quorum: all three must agree (the outage from 121 min on), or one is enough (the path cut counts)."""
    from reports.render.content_vantage import rule_sentence

    patterns = {"a": _pattern((30, 45), (120, 150)), "b": _pattern((120, 150)), "c": _pattern((121, 150))}
    every = _fleet_report(tmp_path / "all", patterns, {"preset": "generic-99.9"}, quorum=3).targets[0]
    assert every.vantages is not None and (every.vantages.quorum, every.vantages.quorum_rule) == (3, "fixed")
    (conf,) = [i for i in every.vantages.incidents if i.confirmed]
    assert (conf.start, conf.end, conf.earliest) == (_at(121), _at(150), _at(120))
    assert every.sla is not None and every.sla.measured_downtime_s == 29 * 60
    assert "at least 3 of them, each with its own network up" in rule_sentence(every.vantages, "en")
    assert "至少 3 个观测点在各自网络正常的情况下" in rule_sentence(every.vantages, "zh")
    one = _fleet_report(tmp_path / "one", patterns, quorum=1).targets[0]
    assert one.vantages is not None and [i.confirmed for i in one.vantages.incidents] == [True, True]
