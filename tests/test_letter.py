"""Complaint letter: only what the report holds, a subject that matches the body, no internal keys,
"interim" while the period is not over; both languages.

The letter is drafted from the report model (reports.render.model), so each case builds the model a
report would hold: the SLA section is the evaluation's own JSON read into the model, the incidents
are the model's incident entries.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.analysis import sla_fields
from reports.analysis.model import Span, State
from reports.analysis.sla import SlaResult, evaluate, period_bounds
from reports.presets import resolve
from reports.render.letter import draft_letter
from reports.render.model import (
    CheckFigures,
    EndBounds,
    ImportedRows,
    ImportedSource,
    IncidentEntry,
    LatencyFigures,
    Report,
    SlaSection,
    StartBounds,
    TargetReport,
)
from reports.render.model_json import encode, sla_section
from reports.render.sla_format import TERM_LABELS, fmt_hms, fmt_truncated, term_label
from tests.support.report_fixture import build_sample

TODAY = date(2025, 2, 5)
ATTACH = [("report-2025-01.pdf", "3f" * 32), ("measurements.csv", "a1b2" * 16)]
CUSTOMER = {"name": "Li Wei", "account_id": "A-7731", "email": "li@example.org"}
SERVICE = {"name": "shop-web", "service_id": "i-0abc123"}
OUTAGES = [(datetime(2025, 1, 10, 18, 2, tzinfo=UTC), 47 * 60), (datetime(2025, 1, 21, 3, 30, tzinfo=UTC), 5 * 3600 + 13)]


def _entry(n: int, kind: str, start: datetime, secs: float, *, slack: float = 60.0) -> IncidentEntry:
    end = start + timedelta(seconds=secs)
    return IncidentEntry(
        id=f"T1-{n}", kind=kind, state="down" if kind == "outage" else kind, start=start, end=end,  # type: ignore[arg-type]  # a literal
        duration_s=secs, duration_min_s=secs - slack, duration_max_s=secs + slack, counted_s=secs,
        start_bounds=StartBounds(last_good_before=start - timedelta(seconds=slack), first_failed=start),
        end_bounds=EndBounds(last_failed=end - timedelta(seconds=slack), first_good_after=end),
        start_bound="observed", end_bound="observed", rounds_failed=int(secs // 60), rounds_good_inside=0,
        error_classes={"timeout": int(secs // 60)}, first_row_id=None, last_row_id=None, clipped_start=False,
        clipped_end=False, evidence=())


def _result(preset: str, events: list[tuple[datetime, int, State]], *, now: datetime = datetime(2025, 2, 5, tzinfo=UTC),
            **overrides: Any) -> SlaResult:
    d = resolve({"preset": preset, "period": {"timezone": "Asia/Shanghai"}, **overrides})
    p0, p1 = period_bounds(d, "2025-01")
    spans, cur = [], p0 - timedelta(days=1)
    for start, secs, state in events:
        end = start + timedelta(seconds=secs)
        spans += [Span(cur, start, State.UP), Span(start, end, state)]
        cur = end
    spans.append(Span(cur, p1 + timedelta(days=1), State.UP))
    return evaluate(d, spans, period_start=p0, period_end=p1, now=now, monthly_fee=Decimal("35.50"), currency="USD",
                    target="shop-web")


def _report(r: SlaResult, incidents: list[IncidentEntry], *, checks: tuple[CheckFigures, ...] = (),
            imported: ImportedRows | None = None, interim: bool = False) -> Report:
    """A report holding one target with this SLA result and these incidents."""
    sample, _ = build_sample()
    sla = sla_section(r.to_json())
    t = TargetReport(
        name="shop-web", address="203.0.113.7", provider="Example Cloud", control=False, interval_s=60,
        availability_pct=100.0 * (1 - r.measured_downtime_s / r.known_s), downtime_s=r.measured_downtime_s,
        coverage_pct=sla.coverage_pct, local_s=r.local_s, no_data_s=r.no_data_s, partial_s=0.0, degraded_s=0.0,
        latency_ms=LatencyFigures(p50=0.047, p95=0.05, p99=0.06, mean=0.048, min=0.04, max=0.07, count=10),
        latency_source="icmp", loss_pct=0.0, rows=1000, incidents=tuple(incidents), blips=0, rounds=1000,
        rounds_failed=0, checks=checks, imported=imported, sla=sla)
    return replace(sample, targets=(t,), period=replace(sample.period, start=r.period_start, end=r.period_end,
                                                          timezone=r.timezone, interim=interim))


def _letter(report: Report, lang: str = "en", **kw: Any) -> str:
    args: dict[str, Any] = {"customer": CUSTOMER, "service": SERVICE, "attachments": ATTACH, "lang": lang, "today": TODAY}
    return draft_letter(report, "shop-web", **{**args, **kw})


def _breached() -> tuple[SlaResult, list[IncidentEntry]]:
    r = _result("gce-single-instance", [(s, secs, State.DOWN) for s, secs in OUTAGES])
    return r, [_entry(i + 1, "outage", s, secs) for i, (s, secs) in enumerate(OUTAGES)]


def _dur_numbers(seconds: float) -> set[str]:
    h, rem = divmod(round(seconds), 3600)
    m, s = divmod(rem, 60)
    return {str(h), str(m), str(s)}


def _allowed(report: Report, reply_days: int) -> set[str]:
    """Numbers the letter may contain: those its inputs hold, plus their display forms."""
    t = report.targets[0]
    zone = t.sla.timezone if t.sla else "UTC"
    blob = json.dumps([encode(t), CUSTOMER, SERVICE, ATTACH, TODAY.isoformat(),
                       (TODAY + timedelta(days=reply_days)).isoformat()])
    extra: set[str] = set()
    from zoneinfo import ZoneInfo

    for inc in t.incidents:
        for moment in (inc.start, inc.end):
            blob += " " + moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S") + " " + moment.strftime("%Y-%m-%d %H:%M:%S")
        for v in (inc.duration_s, inc.duration_min_s, inc.duration_max_s or 0):
            extra |= _dur_numbers(v)
    assert t.sla is not None
    for v in (t.sla.measured_downtime_s, t.sla.counted_downtime_s, t.sla.no_data_s, t.sla.local_s,
              *t.sla.excluded.values(), *(c.downtime_s for c in t.checks)):
        extra |= _dur_numbers(v)
    blob += " " + (t.sla.period_end.astimezone(ZoneInfo(zone)) - timedelta(days=1)).date().isoformat()
    tokens = set(re.findall(r"\d+(?:\.\d+)?", blob))
    tokens |= {x.split(".")[0] for x in tokens if re.fullmatch(r"\d+\.0+", x)}  # 20833.0 prints as 20833
    return extra | tokens


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?", text.replace("SHA-256", ""))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_letter_holds_only_the_reports_figures(lang: str) -> None:
    r, incidents = _breached()
    assert r.verdict == "breached"  # 47 min + 5 h 13 s ≫ 0.1 % of January
    report = _report(r, incidents)
    text = _letter(report, lang)
    allowed = _allowed(report, 14)
    for n in _numbers(text):
        # A percentage may be shown cut (99.2891 for 99.289157): a prefix of a figure the report holds.
        ok = n in allowed or any(a.startswith(n) and "." in n for a in allowed)
        assert ok, f"{n!r} in the letter comes from nothing the report holds"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_letter_lists_incidents_hashes_and_deadline(lang: str) -> None:
    r, incidents = _breached()
    text = _letter(_report(r, incidents), lang, reply_days=10)
    # 18:02 UTC is 02:02 the next day in Shanghai: both appear.
    assert "2025-01-11 02:02:00" in text and "2025-01-10 18:02:00" in text
    assert "2025-01-21 11:30:00" in text and "2025-01-21 03:30:00" in text
    for name, digest in ATTACH:
        assert name in text and digest in text
    assert "2025-02-15" in text  # today + 10 days
    assert "A-7731" in text and "i-0abc123" in text
    assert "https://cloud.google.com/compute/sla" in text
    assert r.to_json()["credit_amount"] == "3.55" and "3.55" in text  # 10 % of 35.50
    if lang == "zh":
        assert text.startswith("主题：SLA 赔偿申请：shop-web（i-0abc123）")
        assert "[合同编号]" in text  # not configured: placeholder, not a guess
    else:
        assert text.startswith("Subject: SLA credit request: shop-web (i-0abc123), 2025-01-01 to 2025-01-31 below the committed 99.9 %")
        assert "[contract no.]" in text and "[phone]" in text
        assert "duration 47 min (2820 s) (given the measurement interval, between 46 min (2760 s) and 48 min (2880 s))" in text


def test_letter_uses_the_providers_subject_words() -> None:
    """AWS asks for "SLA Credit Request" in the subject line: a breach's letter puts it there."""
    r = _result("aws-ec2-instance", [(OUTAGES[1][0], 5 * 3600 + 13, State.DOWN)])
    assert r.verdict == "breached"
    text = _letter(_report(r, [_entry(1, "outage", OUTAGES[1][0], 5 * 3600 + 13)]))
    assert text.startswith("Subject: SLA Credit Request: shop-web (i-0abc123)")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_subject_matches_a_body_without_incidents(lang: str) -> None:
    """No incident and the SLA met: the subject claims no outage and the body asks for no credit
    (the letter once said "outages of …" above "recorded no individual incident")."""
    r = _result("aws-ec2-instance", [])
    assert r.verdict == "met"
    text = _letter(_report(r, []), lang, customer={}, service={}, attachments=[])
    subject = text.splitlines()[0]
    if lang == "zh":
        assert "未记录到事件" in subject and "中断" not in subject and "投诉" not in subject
        assert "未测得中断" in text and "赔偿" not in text.split("## 三、诉求")[1]
    else:
        assert subject == "Subject: Service record: [service] ([service id]), 2025-01-01 to 2025-01-31: no incident recorded"
        assert "outage" not in subject.lower() and "complaint" not in subject.lower()
        assert "No downtime was measured." in text and "0 s (0 s)" not in text
        assert "service credit" not in text and "[account id]" in text and "[none attached]" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_internal_keys(lang: str) -> None:
    """Terms named in words, never by path; no field name of the model; performance[0].rtt_ms never."""
    r = _result("generic-99.9", [(s, secs, State.DOWN) for s, secs in OUTAGES])
    assert any(p.startswith("performance[") for p in r.unconfirmed)
    text = _letter(_report(r, [_entry(i + 1, "outage", s, secs) for i, (s, secs) in enumerate(OUTAGES)]), lang)
    keys = {f.name for f in fields(SlaSection)} | {f.name for f in fields(TargetReport)}
    keys |= {p for p, _ in sla_fields._FIELDS} | set(r.unconfirmed)
    body = re.sub(r"https?://\S+|\S+@\S+", "", text)
    for key in keys:
        if "_" in key or "." in key or "[" in key:
            assert key not in body, key
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", body), re.findall(r"\b[a-z]+_[a-z_]+\b", body)
    assert term_label("performance[0].rtt_ms", lang) in text
    assert term_label("counting.window_down_when", lang) in text


def test_every_term_a_report_can_list_has_words() -> None:
    assert {p for p, _ in sla_fields._FIELDS} <= set(TERM_LABELS)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_unfinished_period_is_interim(lang: str) -> None:
    _, incidents = _breached()
    r = _result("gce-single-instance", [(s, secs, State.DOWN) for s, secs in OUTAGES], now=datetime(2025, 1, 25, tzinfo=UTC))
    assert not r.period_complete
    text = _letter(_report(r, incidents, interim=True), lang)
    subject = text.splitlines()[0]
    if lang == "zh":
        assert "临时" in subject and "截至目前" in text and "临时值" in text
    else:
        assert "(interim: the period is not over)" in subject
        assert "availability in this period so far was" in text and "these figures are interim" in text
    done = _letter(_report(*_breached()), lang)
    assert "interim" not in done and "临时" not in done


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_web_service_down_while_ping_answered_is_said(lang: str) -> None:
    """The target was partial (HTTP refused, ping answered): the letter names the web service's own downtime."""
    start = datetime(2025, 1, 12, 4, 0, tzinfo=UTC)
    r = _result("generic-99.9", [(start, 3600, State.PARTIAL)])
    checks = (CheckFigures(kind="http", availability_pct=99.865591, downtime_s=3600.0, coverage_pct=100.0, outages=1,
                           rounds=44640, rounds_failed=60, counts_toward_sla=True),
              CheckFigures(kind="icmp", availability_pct=100.0, downtime_s=0.0, coverage_pct=100.0, outages=0,
                           rounds=44640, rounds_failed=0, counts_toward_sla=True))
    text = _letter(_report(r, [_entry(1, "partial", start, 3600)], checks=checks), lang)
    if lang == "zh":
        assert "网站服务（HTTP）单独失败共 1 小时（3600 秒）" in text and "部分中断" in text.splitlines()[0]
    else:
        assert "The web service (HTTP) on its own failed for 1 h (3600 s) in total" in text
        assert text.splitlines()[0].startswith("Subject: Formal complaint: 1 partial outage of shop-web")
        assert "99.865 %" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_data_and_local_time_are_said_apart(lang: str) -> None:
    r = _result("gce-single-instance", [(datetime(2025, 1, 5, tzinfo=UTC), 3 * 3600, State.NO_DATA),
                                        (datetime(2025, 1, 6, tzinfo=UTC), 40 * 60, State.LOCAL)])
    text = _letter(_report(r, []), lang)
    if lang == "zh":
        assert "3 小时（10800 秒）无监测数据" in text and "40 分（2400 秒）为本方自身网络故障" in text
    else:
        assert "3 h (10800 s) has no measurements" in text and "for 40 min (2400 s) my own network was down" in text
        assert "3 h 40 min" not in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_imported_rows_are_named(lang: str) -> None:
    r, incidents = _breached()
    src = ImportedSource(file="smokeping.jsonl", sha256="ab" * 32, tool="smokeping 2.8.2", kinds=("icmp",), rows=44640,
                         first=r.period_start, last=r.period_end - timedelta(minutes=1))
    imported = ImportedRows(rows=44640, share_pct=0.0078, first=src.first, last=src.last, sources=(src,))
    text = _letter(_report(r, incidents, imported=imported), lang)
    assert "smokeping.jsonl" in text and "smokeping 2.8.2" in text
    assert "0.007 %" in text  # never "0 %"


def test_worked_example_letter_gives_the_true_uptime() -> None:
    """The AWS case (tests/test_sla_invariants.py): the letter once told the provider 0 %."""
    from tests.test_sla_invariants import _worked_example

    r = _worked_example()
    report = _report(r, [])
    text = _letter(report, today=date(2026, 3, 1))
    assert "availability in this period so far was" not in text
    assert "availability in this period was 11.1988 % (3 min (180 s) of counted downtime)" in text
    assert " 0 %" not in text


def test_letter_refuses_unknown_language_and_a_target_without_sla() -> None:
    r, incidents = _breached()
    with pytest.raises(ValueError, match="lang"):
        _letter(_report(r, incidents), "fr")
    with pytest.raises(ValueError, match="no SLA evaluation"):
        draft_letter(_report(r, incidents), "nope", customer={}, service={}, attachments=[], today=TODAY)


@given(st.floats(min_value=0, max_value=100, allow_nan=False))
def test_shared_percentage_format_never_rounds_up(v: float) -> None:
    text = fmt_truncated(v)
    assert len(text.partition(".")[2]) >= 4  # more only for a value that would otherwise print as 0
    assert Decimal(text) <= Decimal(repr(v))  # cut, never above
    assert (Decimal(text) == 0) == (v == 0)


@pytest.mark.parametrize(("seconds", "en", "zh"), [
    (0, "0 s", "0 秒"), (0.4, "0.4 s", "0.4 秒"), (59.5, "1 min", "1 分"), (3600, "1 h", "1 小时"),
    (3605, "1 h 5 s", "1 小时 5 秒"), (3725, "1 h 2 min 5 s", "1 小时 2 分 5 秒"), (90061, "25 h 1 min 1 s", "25 小时 1 分 1 秒"),
])
def test_shared_duration_format(seconds: float, en: str, zh: str) -> None:
    assert fmt_hms(seconds, "en") == en and fmt_hms(seconds, "zh") == zh
