"""Complaint letter: measured facts only, both languages, every incident and hash present."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.analysis.model import Span, State
from reports.analysis.sla import SlaResult, evaluate, period_bounds
from reports.presets import resolve
from reports.render.letter import draft_letter
from reports.render.sla_format import fmt_hms, fmt_truncated

UTC = UTC
TODAY = date(2025, 2, 5)
ATTACH = [("report-2025-01.pdf", "3f" * 32), ("measurements.csv", "a1b2" * 16)]
CUSTOMER = {"name": "Li Wei", "account_id": "A-7731", "email": "li@example.org"}
SERVICE = {"name": "shop-web", "service_id": "i-0abc123"}


def _case(preset: str, outages: list[tuple[datetime, int]]) -> tuple[SlaResult, list[dict]]:
    d = resolve({"preset": preset, "period": {"timezone": "Asia/Shanghai"}})
    p0, p1 = period_bounds(d, "2025-01")
    spans, cur, incidents = [], p0 - timedelta(days=1), []
    for start, secs in outages:
        end = start + timedelta(seconds=secs)
        spans += [Span(cur, start, State.UP), Span(start, end, State.DOWN)]
        cur = end
        incidents.append({"kind": "outage", "start": start.isoformat(), "end": end.isoformat(),
                          "duration_s": secs, "duration_min_s": secs - 60, "duration_max_s": secs + 60})
    spans.append(Span(cur, p1 + timedelta(days=1), State.UP))
    r = evaluate(d, spans, period_start=p0, period_end=p1, now=datetime(2025, 2, 5, tzinfo=UTC),
                 monthly_fee=Decimal("35.50"), currency="USD", target="shop-web")
    return r, incidents


OUTAGES = [(datetime(2025, 1, 10, 18, 2, tzinfo=UTC), 47 * 60), (datetime(2025, 1, 21, 3, 30, tzinfo=UTC), 5 * 3600 + 13)]


def _dur_numbers(seconds: float) -> set[str]:
    h, rem = divmod(round(seconds), 3600)
    m, s = divmod(rem, 60)
    return {str(h), str(m), str(s)}


def _allowed(r: SlaResult, incidents: list[dict], reply_days: int) -> tuple[set[str], str]:
    """Numbers the letter may contain: those in its inputs, plus their display forms."""
    zone = ZoneInfo(r.timezone)
    j = r.to_json()
    blob = json.dumps([j, incidents, CUSTOMER, SERVICE, ATTACH, TODAY.isoformat(),
                       (TODAY + timedelta(days=reply_days)).isoformat()])
    extra: set[str] = set()
    for inc in incidents:
        for key in ("start", "end"):
            t = datetime.fromisoformat(inc[key])
            blob += " " + t.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") + " " + t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        for key in ("duration_s", "duration_min_s", "duration_max_s"):
            extra |= _dur_numbers(inc[key])
    for key in ("measured_downtime_s", "counted_downtime_s"):
        extra |= _dur_numbers(j[key])
    for v in j["excluded"].values():
        extra |= _dur_numbers(v)
    last_day = (r.period_end.astimezone(zone) - timedelta(days=1)).date().isoformat()
    blob += " " + last_day
    tokens = set(re.findall(r"\d+(?:\.\d+)?", blob))
    tokens |= {t.split(".")[0] for t in tokens if re.fullmatch(r"\d+\.0+", t)}  # 20833.0 prints as 20833
    return extra | tokens, blob


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?", text.replace("SHA-256", ""))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_letter_holds_only_input_figures(lang: str) -> None:
    r, incidents = _case("gce-single-instance", OUTAGES)
    assert r.verdict == "breached"  # 47 min + 5 h 13 s ≫ 0.1 % of January
    text = draft_letter(r, incidents=incidents, customer=CUSTOMER, service=SERVICE, attachments=ATTACH,
                        lang=lang, today=TODAY)
    allowed, _blob = _allowed(r, incidents, 14)
    for n in _numbers(text):
        # A percentage may be shown truncated (99.2891 for 99.289157): a prefix of an input figure.
        ok = n in allowed or any(a.startswith(n) and "." in n for a in allowed)
        assert ok, f"{n!r} in the letter comes from no input"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_letter_lists_incidents_hashes_and_deadline(lang: str) -> None:
    r, incidents = _case("gce-single-instance", OUTAGES)
    text = draft_letter(r, incidents=incidents, customer=CUSTOMER, service=SERVICE, attachments=ATTACH,
                        lang=lang, today=TODAY, reply_days=10)
    # 18:02 UTC is 02:02 the next day in Shanghai: both appear.
    assert "2025-01-11 02:02:00" in text and "2025-01-10 18:02:00" in text
    assert "2025-01-21 11:30:00" in text and "2025-01-21 03:30:00" in text
    for name, digest in ATTACH:
        assert name in text and digest in text
    assert "2025-02-15" in text  # today + 10 days
    assert "A-7731" in text and "i-0abc123" in text
    assert "https://cloud.google.com/compute/sla" in text
    credit = r.to_json()["credit_amount"]
    assert credit and credit in text  # 10 % of 35.50 = 3.55
    assert credit == "3.55"
    if lang == "zh":
        assert text.startswith("主题：关于") and "正式投诉" in text
        assert "[合同编号]" in text  # not configured: placeholder, not a guess
    else:
        assert text.startswith("Subject: Formal complaint / SLA credit request")
        assert "[contract no.]" in text and "[phone]" in text


def test_letter_when_target_met_asks_no_credit() -> None:
    r, incidents = _case("aws-ec2-instance", [(datetime(2025, 1, 10, 18, 2, tzinfo=UTC), 120)])
    assert r.verdict == "met"
    text = draft_letter(r, incidents=incidents, customer={}, service={}, attachments=[], lang="en", today=TODAY)
    assert "service credit" not in text
    assert "explanation" in text and "[account id]" in text and "[none attached]" in text


def test_letter_refuses_unknown_language() -> None:
    r, incidents = _case("aws-ec2-instance", [])
    with pytest.raises(ValueError):
        draft_letter(r, incidents=incidents, customer={}, service={}, attachments=[], lang="fr", today=TODAY)


@given(st.floats(min_value=0, max_value=100, allow_nan=False))
def test_shared_percentage_format_never_rounds_up(v: float) -> None:
    text = fmt_truncated(v)
    assert len(text.partition(".")[2]) == 4
    assert Decimal(text) <= Decimal(f"{v:.6f}")  # truncated from six places, never above


@pytest.mark.parametrize(("seconds", "en", "zh"), [
    (0, "0 s", "0 秒"), (0.4, "0 s", "0 秒"), (59.5, "1 min", "1 分"), (3600, "1 h", "1 小时"),
    (3605, "1 h 5 s", "1 小时 5 秒"), (3725, "1 h 2 min 5 s", "1 小时 2 分 5 秒"), (90061, "25 h 1 min 1 s", "25 小时 1 分 1 秒"),
])
def test_shared_duration_format(seconds: float, en: str, zh: str) -> None:
    assert fmt_hms(seconds, "en") == en and fmt_hms(seconds, "zh") == zh
