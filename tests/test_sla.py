"""SLA evaluation: worked examples computed by hand from each provider's terms, and properties.

Months used: January 2025 = 31 days = 44,640 min = 2,678,400 s;
April 2025 = 30 days = 43,200 min = 2,592,000 s (0.5 % of it = 216 min, 1 % = 432 min).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.analysis.model import Span, State
from reports.analysis.sla import PerfSample, Verdict, evaluate, month_period, period_bounds
from reports.analysis.sla_terms import SlaDefinition
from reports.presets import load_preset, resolve
from reports.render.sla_text import VERDICTS, format_text

UTC = UTC
NOW = datetime(2030, 1, 1, tzinfo=UTC)  # every test period is over


def timeline(start: datetime, end: datetime, events: list[tuple[datetime, datetime, State]]) -> list[Span]:
    """UP everywhere in [start, end) except the given (sorted, disjoint) events."""
    spans, cur = [], start
    for s, e, state in sorted(events, key=lambda t: t[0]):
        if s > cur:
            spans.append(Span(cur, s, State.UP))
        spans.append(Span(s, e, state))
        cur = e
    if cur < end:
        spans.append(Span(cur, end, State.UP))
    return spans


def run(d: SlaDefinition, month: str, events: list[tuple[datetime, datetime, State]], **kw):  # type: ignore[no-untyped-def]
    p0, p1 = period_bounds(d, month)
    pad = timedelta(days=1)
    return evaluate(d, timeline(p0 - pad, p1 + pad, events), period_start=p0, period_end=p1, now=kw.pop("now", NOW), **kw)


def down(y: int, mo: int, d: int, h: int, mi: int, s: int = 0, *, dur_s: int, tz: str = "UTC", state: State = State.DOWN):
    start = datetime(y, mo, d, h, mi, s, tzinfo=ZoneInfo(tz))
    return (start, start + timedelta(seconds=dur_s), state)


# --- month periods -----------------------------------------------------------------------------


def test_month_period_is_local_midnight_and_dst_safe() -> None:
    s, e = month_period("2025-03", "Europe/Berlin")
    assert s.isoformat() == "2025-03-01T00:00:00+01:00"
    assert e.isoformat() == "2025-04-01T00:00:00+02:00"
    # 31 days minus the hour lost at the spring change (30 March).
    assert (e.astimezone(UTC) - s.astimezone(UTC)).total_seconds() == 31 * 86400 - 3600
    s, e = month_period("2025-01", "Asia/Shanghai")
    assert s.astimezone(UTC) == datetime(2024, 12, 31, 16, tzinfo=UTC)


def test_billing_cycle_with_anchor_day() -> None:
    d = resolve({"preset": "azure-vm-single-premium-ssd", "period": {"anchor_day": 31}})
    s, e = period_bounds(d, "2025-02")
    # Anchor 31 clamps to the month's last day: 28 Feb → 31 Mar.
    assert (s.date(), e.date()) == (date(2025, 2, 28), date(2025, 3, 31))


# --- GCE: minimum one consecutive minute -------------------------------------------------------


def test_gce_50_s_not_counted_60_s_counted() -> None:
    d = load_preset("gce-single-instance")
    r = run(d, "2025-01", [down(2025, 1, 10, 10, 0, dur_s=50)])
    assert r.counted_downtime_s == 0 and r.excluded["below_minimum"] == 50
    assert r.uptime_provider == 1 and r.verdict == "met"
    r = run(d, "2025-01", [down(2025, 1, 10, 10, 0, dur_s=60)])
    # One whole minute: uptime = 1 - 60 / 2,678,400 = 44,639 / 44,640.
    assert r.counted_downtime_s == 60 and r.counted_windows == 1
    assert r.uptime_provider == Fraction(44639, 44640)
    assert r.verdict == "met"


def test_gce_breach_and_secondary_tier() -> None:
    d = load_preset("gce-single-instance")
    # 0.1 % of January = 44.64 min. 45 whole minutes → 44,595/44,640 = 99.899 % < 99.9 → tier 95–<99.9: 10 %.
    r = run(d, "2025-01", [down(2025, 1, 10, 10, 0, dur_s=45 * 60)], monthly_fee=Decimal("30"), currency="USD")
    assert r.verdict == "breached"
    assert r.credit is not None and r.credit.pct == 10 and r.credit.amount == Decimal("3.00")
    assert "credit.tiers" in r.unconfirmed  # ◐: only a secondary page
    # Claim: 30 days after the month closes → 31 Jan + 30 days = 2 March.
    assert r.claim_deadline == date(2025, 3, 2)


# --- month edge in a non-UTC zone --------------------------------------------------------------


def test_outage_crossing_month_boundary_in_shanghai() -> None:
    # Azure single VM, billing month in Asia/Shanghai (UTC+8). Outage 31 Jan 23:50 → 1 Feb 00:20 local
    # (= 31 Jan 15:50 → 16:20 UTC): 10 minutes fall in January, 20 in February.
    d = resolve({"preset": "azure-vm-single-premium-ssd", "period": {"timezone": "Asia/Shanghai"}})
    ev = [down(2025, 1, 31, 23, 50, dur_s=30 * 60, tz="Asia/Shanghai")]
    jan, feb = run(d, "2025-01", ev), run(d, "2025-02", ev)
    assert jan.counted_downtime_s == 600 and feb.counted_downtime_s == 1200
    # Had the month been cut at UTC midnight, January would hold all 30 minutes.
    assert jan.uptime_provider == 1 - Fraction(10, 44640)
    assert feb.uptime_provider == 1 - Fraction(20, 28 * 1440)
    assert "period.timezone" in jan.definition.overrides and "period.timezone" not in jan.unconfirmed


def test_minimum_duration_judges_the_whole_outage_across_the_edge() -> None:
    # GCE with a 90 s minimum (override): 31 Jan 23:59 → 1 Feb 00:01 is 120 s long, 60 s in each month.
    # Judged whole it passes (120 >= 90), so each month counts its one minute; clipped first it would not.
    d = resolve({"preset": "gce-single-instance", "counting": {"min_outage_s": 90}})
    ev = [down(2025, 1, 31, 23, 59, dur_s=120)]
    assert run(d, "2025-01", ev).counted_downtime_s == 60
    assert run(d, "2025-02", ev).counted_downtime_s == 60


# --- maintenance -------------------------------------------------------------------------------


def test_maintenance_overlapping_an_outage() -> None:
    # Maintenance 10:00–10:30, outage 10:20–10:50: 10 min excluded as maintenance, 20 min counted.
    d = resolve({"preset": "generic-99.9", "exclusions": {"maintenance": [
        {"start": datetime(2025, 4, 9, 10, 0, tzinfo=UTC), "end": datetime(2025, 4, 9, 10, 30, tzinfo=UTC)}]}})
    r = run(d, "2025-04", [down(2025, 4, 9, 10, 20, dur_s=30 * 60)])
    assert r.excluded["maintenance"] == 600
    assert r.counted_downtime_s == 1200
    assert r.measured_downtime_s == 1800
    assert r.uptime_provider == 1 - Fraction(20, 43200)


def test_weekly_maintenance_in_local_time() -> None:
    # generic-99.9: Sundays 03:00 UTC for 30 min. 6 April 2025 is a Sunday; outage 03:10–03:40:
    # 20 min inside maintenance, 10 min counted.
    d = load_preset("generic-99.9")
    r = run(d, "2025-04", [down(2025, 4, 6, 3, 10, dur_s=30 * 60)])
    assert r.excluded["maintenance"] == 1200 and r.counted_downtime_s == 600


# --- AWS ---------------------------------------------------------------------------------------


def test_aws_clock_hour_rule() -> None:
    d = load_preset("aws-ec2-instance")
    # 7 min within the 03:00 hour: more than 6 → that hour is free. January has 744 hours,
    # so a 744 USD fee is 1 USD per hour.
    r = run(d, "2025-01", [down(2025, 1, 10, 3, 10, dur_s=7 * 60)], monthly_fee=Decimal(744), currency="USD")
    assert r.clock_hours == [datetime(2025, 1, 10, 3, tzinfo=UTC)]
    assert r.clock_hour_amount == Decimal("1.00")
    assert r.verdict == "met"  # 7 min is far above 99.5 % monthly
    # 5 min + 5 min straddling 04:00: neither hour has more than 6 minutes.
    r = run(d, "2025-01", [down(2025, 1, 10, 3, 55, dur_s=10 * 60)])
    assert r.clock_hours == []
    # Exactly 6 minutes is not "more than 6".
    assert run(d, "2025-01", [down(2025, 1, 10, 3, 0, dur_s=360)]).clock_hours == []
    # A 3-hour outage 10:30–13:30: hours 10 (30 min), 11, 12 (60 min), 13 (30 min) all qualify.
    r = run(d, "2025-01", [down(2025, 1, 10, 10, 30, dur_s=3 * 3600)])
    assert [h.hour for h in r.clock_hours] == [10, 11, 12, 13]


@pytest.mark.parametrize(
    ("minutes", "verdict", "pct"),
    [
        (216, "met", None),  # exactly 99.5 %: not "less than 99.5"
        (217, "breached", 10),  # 99.4977 %
        (432, "breached", 10),  # exactly 99.0 %: "equal to or greater than 99.0" → 10 %
        (433, "breached", 30),  # 98.9977 %
        (2160, "breached", 30),  # exactly 95.0 %
        (2161, "breached", 100),
    ],
)
def test_aws_instance_tier_bounds_unrounded(minutes: int, verdict: str, pct: int | None) -> None:
    d = load_preset("aws-ec2-instance")
    r = run(d, "2025-04", [down(2025, 4, 9, 0, 0, dur_s=minutes * 60)])
    assert r.uptime_provider == Fraction(43200 - minutes, 43200)
    assert r.verdict == verdict
    assert (r.credit.pct if r.credit else None) == pct


def test_aws_tier_not_fooled_by_rounding() -> None:
    # Exact seconds: 13,393 s down in April → 99.49999…% — rounds to 99.50 but is below 99.5.
    d = resolve({"preset": "aws-ec2-instance", "counting": {"window_s": 1}})
    r = run(d, "2025-04", [down(2025, 4, 9, 0, 0, dur_s=12961)])
    assert round(float(r.uptime_provider) * 100, 2) == 99.5
    assert r.verdict == "breached" and r.credit and r.credit.pct == 10


def test_aws_region_minimum_credit() -> None:
    # Region 99.99 %: 5 min in April → 43,195/43,200 = 99.988 % → 10 %.
    d = load_preset("aws-ec2-region")
    ev = [down(2025, 4, 9, 0, 0, dur_s=300)]
    r = run(d, "2025-04", ev, monthly_fee=Decimal(10), currency="USD")
    # 10 % of 10 USD = 1.00 USD: not MORE than 1 USD → not issued.
    assert r.credit and r.credit.below_minimum and r.credit.amount == Decimal(0)
    r = run(d, "2025-04", ev, monthly_fee=Decimal(20), currency="USD")
    assert r.credit and not r.credit.below_minimum and r.credit.amount == Decimal("2.00")
    # Claim: end of the 2nd billing cycle after April → 30 June.
    assert r.claim_deadline == date(2025, 6, 30)


# --- Vultr's duration table ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "hours"),
    [
        (8 * 60 + 59, 12),
        (9 * 60, None),  # the provider's table has no row for 9–10 min
        (9 * 60 + 59, None),
        (10 * 60, 24),
        (59 * 60, 24),
        (59 * 60 + 59, 24),
        (60 * 60, 48),
        (119 * 60, 48),
        (120 * 60, 120),
        (239 * 60, 120),
        (240 * 60, 240),
        (419 * 60, 240),
        (420 * 60, 672),
    ],
)
def test_vultr_duration_table_edges(seconds: int, hours: int | None) -> None:
    d = load_preset("vultr-instance")
    r = run(d, "2025-04", [down(2025, 4, 9, 0, 0, dur_s=seconds)])
    assert r.verdict == "breached"  # 100 % target: any counted downtime breaches
    assert r.credit is not None
    assert r.credit.per_outage[0]["credit_hours"] == hours
    assert r.credit.service_hours == Decimal(hours or 0)
    assert r.claim_deadline is None  # ✘: not found


def test_vultr_hours_add_up_and_are_valued() -> None:
    # Two outages: 5 min (12 h) and 30 min (24 h) = 36 h. April = 720 h; fee 72 → 0.10/h → 3.60.
    d = load_preset("vultr-instance")
    ev = [down(2025, 4, 2, 0, 0, dur_s=300), down(2025, 4, 3, 0, 0, dur_s=1800)]
    r = run(d, "2025-04", ev, monthly_fee=Decimal(72), currency="USD")
    assert r.credit and r.credit.service_hours == 36 and r.credit.amount == Decimal("3.60")
    assert r.credit.pct == Fraction(36 * 100, 720)


# --- prorated credits, caps, minimum outage ------------------------------------------------------


def test_hetzner_prorated_and_capped() -> None:
    # Hourly rate 1 EUR, fee 5 EUR, 10 h down → 10 EUR, capped at 100 % of the fee = 5 EUR.
    d = resolve({"preset": "hetzner-cloud", "billing": {"hourly_rate": 1}})
    r = run(d, "2025-04", [down(2025, 4, 9, 0, 0, dur_s=10 * 3600)], monthly_fee=Decimal(5), currency="EUR")
    assert r.credit and r.credit.capped and r.credit.amount == Decimal("5.00")
    # 1 h down: 1 EUR, not capped. 1 h of 720 is 99.86 % < 99.9.
    r = run(d, "2025-04", [down(2025, 4, 9, 0, 0, dur_s=3600)], monthly_fee=Decimal(5), currency="EUR")
    assert r.credit and not r.credit.capped and r.credit.amount == Decimal("1.00")
    assert any("own measurements" in w for w in r.warnings)
    assert r.claim_deadline == date(2025, 5, 14)  # 14 days after 30 April (◐)


def test_tier_credit_cap() -> None:
    d = resolve({"uptime_target_pct": 99.9, "credit": {"mode": "tiered", "cap_pct": 50,
                 "tiers": [{"lt": 99.9, "credit_pct": 100}]}})
    r = run(d, "2025-04", [down(2025, 4, 9, 0, 0, dur_s=3600)], monthly_fee=Decimal(40), currency="EUR")
    assert r.credit and r.credit.capped and r.credit.pct == 50 and r.credit.amount == Decimal("20.00")


def test_digitalocean_legacy_five_minute_rule() -> None:
    d = load_preset("digitalocean-droplet-legacy")
    # Exactly 5 min does not "exceed 5 minutes".
    r = run(d, "2025-04", [down(2025, 4, 9, 0, 0, dur_s=300)])
    assert r.counted_downtime_s == 0 and r.excluded["below_minimum"] == 300
    # 10 min aligned to the 5-minute grid: two whole intervals.
    r = run(d, "2025-04", [down(2025, 4, 9, 0, 0, dur_s=600)])
    assert r.counted_downtime_s == 600 and r.counted_windows == 2
    # 8 min from 00:02 (to 00:10): only 00:05–00:10 is a whole interval.
    r = run(d, "2025-04", [down(2025, 4, 9, 0, 2, dur_s=480)])
    assert r.counted_downtime_s == 300


def test_window_rules_any_all_majority() -> None:
    # 90 s from 00:00:30 touches two minutes: 30 s of the first, 60 s of the second.
    ev = [down(2025, 4, 9, 0, 0, 30, dur_s=90)]
    counted = {}
    for rule in ("any", "all", "majority"):
        d = resolve({"uptime_target_pct": 99.9, "counting": {"window_s": 60, "window_down_when": rule}})
        counted[rule] = run(d, "2025-04", ev).counted_downtime_s
    assert counted == {"any": 120, "all": 60, "majority": 60}


# --- data coverage, local outages ----------------------------------------------------------------


def test_not_enough_data_and_proven_breach() -> None:
    d = load_preset("gce-single-instance")
    _p0, _p1 = period_bounds(d, "2025-04")
    # 4 days of no data (13.3 %) → coverage 86.7 % < 90 %. 30 min down, unknown time taken as up:
    # 1 - 30/43,200 = 99.93 % ≥ 99.9 → not proven. 60 min: 1 - 60/43,200 = 99.86 % < 99.9 → proven.
    gap = (datetime(2025, 4, 20, tzinfo=UTC), datetime(2025, 4, 24, tzinfo=UTC), State.NO_DATA)
    r = run(d, "2025-04", [down(2025, 4, 9, 0, 0, dur_s=1800), gap])
    assert r.coverage_pct < 90 and r.verdict == "not enough data" and r.credit is None
    r = run(d, "2025-04", [down(2025, 4, 9, 0, 0, dur_s=3600), gap])
    assert r.verdict == "breached" and "proven" in r.verdict_basis
    # Proven uptime counts the unknown time as up: 1 - 60/43,200.
    assert r.credit and r.credit.pct == 10


def test_local_outage_is_excluded() -> None:
    d = load_preset("gce-single-instance")
    r = run(d, "2025-04", [down(2025, 4, 9, 0, 0, dur_s=3600, state=State.LOCAL)])
    assert r.counted_downtime_s == 0 and r.excluded["local"] == 3600
    assert r.uptime_provider == 1 and r.verdict == "met"
    assert any("own network" in w for w in r.warnings)


def test_no_data_rules() -> None:
    gap = [down(2025, 4, 9, 0, 0, dur_s=600, state=State.NO_DATA)]
    for rule, counted in (("excluded", 0), ("up", 0), ("down", 600)):
        d = resolve({"preset": "gce-single-instance", "no_data": {"rule": rule}})
        r = run(d, "2025-04", gap)
        assert r.counted_downtime_s == counted, rule
    excluded = run(resolve({"preset": "gce-single-instance"}), "2025-04", gap)
    assert excluded.excluded["no_data"] == 600
    assert excluded.uptime_provider == 1  # 600 s removed from the period, nothing counted down


def test_partial_counts_only_when_configured() -> None:
    ev = [down(2025, 4, 9, 0, 0, dur_s=600, state=State.PARTIAL)]
    assert run(load_preset("gce-single-instance"), "2025-04", ev).counted_downtime_s == 0
    d = resolve({"preset": "gce-single-instance", "counting": {"down_states": ["down", "partial"]}})
    assert run(d, "2025-04", ev).counted_downtime_s == 600


def test_overlapping_spans_refused() -> None:
    t = datetime(2025, 4, 1, tzinfo=UTC)
    spans = [Span(t, t + timedelta(hours=2), State.UP), Span(t + timedelta(hours=1), t + timedelta(hours=3), State.DOWN)]
    with pytest.raises(ValueError, match="overlap"):
        evaluate(load_preset("generic-99.9"), spans, period_start=t, period_end=t + timedelta(days=1), now=NOW)


def test_claim_deadlines() -> None:
    ev = [down(2025, 1, 10, 0, 0, dur_s=3600)]
    assert run(load_preset("azure-vm-single-premium-ssd"), "2025-01", ev).claim_deadline == date(2025, 3, 31)
    assert run(load_preset("ovhcloud-public-cloud"), "2025-01", ev).claim_deadline == date(2025, 3, 11)  # 10 Jan + 60 d
    r = run(load_preset("aws-ec2-instance"), "2025-01", ev, now=datetime(2025, 4, 2, tzinfo=UTC))
    assert r.claim_deadline == date(2025, 3, 31) and r.claim_deadline_passed is True


# --- performance terms ---------------------------------------------------------------------------


def test_performance_terms_and_breaching_windows() -> None:
    d = load_preset("generic-99.9")
    p0, p1 = period_bounds(d, "2025-04")
    t0 = datetime(2025, 4, 1, tzinfo=UTC)
    samples = []
    for i in range(1000):  # one sample a minute
        ts = t0 + timedelta(minutes=i)
        rtt = 300.0 if 600 <= i < 610 else 100.0  # 10 minutes at 300 ms: two 5-minute windows
        samples += [PerfSample(ts, "rtt_ms", rtt), PerfSample(ts, "loss_pct", 0.0), PerfSample(ts, "jitter_ms", 12.0 if i % 50 == 0 else 1.0)]
    r = evaluate(d, [Span(p0, p1, State.UP)], period_start=p0, period_end=p1, samples=iter(samples), now=NOW)
    rtt, loss, jitter = r.performance
    # Mean rtt = (990 × 100 + 10 × 300) / 1000 = 102 ms ≤ 120 → met, but two 5-min windows breach.
    assert rtt.measured == pytest.approx(102.0) and rtt.met is True
    assert rtt.breaching_window_count == 2
    assert rtt.breaching_windows[0]["start"] == t0 + timedelta(minutes=600)
    assert loss.met is True
    # Jitter ≤ 10 ms in 980 of 1000 samples = 98 % < 99 % → not met.
    assert jitter.measured == pytest.approx(98.0) and jitter.met is False
    js = r.to_json()["terms"]
    assert [t["metric"] for t in js] == ["rtt_ms", "loss_pct", "jitter_ms"]
    assert {"metric", "threshold", "measured", "met"} <= set(js[0])


def test_p95_statistic() -> None:
    d = resolve({"performance": [{"metric": "rtt_ms", "statistic": "p95", "threshold": 50}]})
    t0, t1 = datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 5, 1, tzinfo=UTC)
    # Values 1..100: nearest-rank p95 = 95 → above 50 → not met.
    samples = (PerfSample(t0 + timedelta(minutes=i), "rtt_ms", float(i + 1)) for i in range(100))
    r = evaluate(d, [Span(t0, t1, State.UP)], period_start=t0, period_end=t1, samples=samples, now=NOW)
    (p95,) = r.performance
    lo, hi = p95.measured_range  # type: ignore[misc]
    assert lo <= 95 <= hi and hi / lo < 1.0011
    assert p95.met is False


# --- output --------------------------------------------------------------------------------------


def test_json_and_text_output() -> None:
    d = load_preset("aws-ec2-instance")
    r = run(d, "2025-04", [down(2025, 4, 9, 0, 0, dur_s=217 * 60)], monthly_fee=Decimal(50), currency="USD", target="web1")
    j = r.to_json()
    for key in ("target", "preset", "uptime_target_pct", "uptime_measured_pct", "counted_downtime_s",
                "excluded_downtime_s", "verdict", "credit_pct", "credit_amount", "claim_deadline", "terms"):
        assert key in j
    assert j["target"] == "web1" and j["verdict"] == "breached" and j["credit_amount"] == "5.00"
    # Truncated, never rounded up: 43,417... = 99.497685 %, printed 99.4976.
    assert j["uptime_provider_pct"] == 99.497685
    assert j["claim_deadline"] == "2025-06-30"
    text = format_text(r)
    assert "99.4976 %" in text and "BREACHED" in text and "UNCONFIRMED" in text
    zh = format_text(r, "zh")
    assert "未达标" in zh and "索赔截止日: 2025-06-30" in zh
    # The evaluation's own sentences are in Chinese too; every warning is still there.
    assert "覆盖率 100" in zh and "无数据规则：" in zh and "coverage 100" not in zh, zh
    notes = zh.split("说明:\n", 1)[1].splitlines()
    assert len(notes) == len(j["notes"]) + len(j["warnings"]) and all(n.startswith("  - ") for n in notes)


def test_verdicts_are_the_named_constants_in_json_and_text() -> None:
    """Renderers key on Verdict's values: each verdict the evaluation reaches is one, printed in both languages."""
    gce = load_preset("gce-single-instance")
    gap = (datetime(2025, 4, 20, tzinfo=UTC), datetime(2025, 4, 24, tzinfo=UTC), State.NO_DATA)
    cases = {
        Verdict.MET: run(gce, "2025-04", []),
        Verdict.BREACHED: run(gce, "2025-04", [down(2025, 4, 9, 0, 0, dur_s=3600)]),
        Verdict.NOT_ENOUGH_DATA: run(gce, "2025-04", [down(2025, 4, 9, 0, 0, dur_s=1800), gap]),
        Verdict.NO_UPTIME_TERM: run(resolve({}), "2025-04", []),
    }
    assert set(cases) == set(Verdict)
    for verdict, r in cases.items():
        assert r.verdict is verdict
        j = r.to_json()
        assert type(j["verdict"]) is str and j["verdict"] == verdict.value
        for lang in ("en", "zh"):
            assert f"{VERDICTS[lang][verdict]} (" in format_text(r, lang)
    assert [v.value for v in Verdict] == ["met", "breached", "not enough data", "no uptime term"]


# --- properties ----------------------------------------------------------------------------------

ZONES = ["UTC", "Asia/Shanghai", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]


@settings(max_examples=60, deadline=None)
@given(year=st.integers(2000, 2037), month=st.integers(1, 12), zone=st.sampled_from(ZONES))
def test_month_length_in_any_zone(year: int, month: int, zone: str) -> None:
    s, e = month_period(f"{year}-{month:02d}", zone)
    seconds = (e.astimezone(UTC) - s.astimezone(UTC)).total_seconds()
    days = ((e.date() - s.date()).days)
    assert seconds - days * 86400 in (0, 3600, -3600, 1800, -1800)  # Lord Howe shifts by 30 min


STATES = st.sampled_from([State.UP, State.UP, State.DOWN, State.PARTIAL, State.LOCAL, State.NO_DATA])


@st.composite
def timelines(draw):  # type: ignore[no-untyped-def]
    zone = draw(st.sampled_from(ZONES[:4]))
    p0, p1 = month_period("2025-03", zone)
    start = p0 - timedelta(seconds=draw(st.integers(0, 7200)))
    parts = draw(st.lists(st.tuples(st.integers(1, 20000), STATES), min_size=1, max_size=30))
    spans, cur = [], start
    for secs, state in parts:
        spans.append(Span(cur, cur + timedelta(seconds=secs), state))
        cur += timedelta(seconds=secs)
    spans.append(Span(cur, max(cur, p1) + timedelta(hours=1), State.UP))
    return zone, p0, p1, spans


def _definition(zone: str, rule: str, window: int, minimum: int, strict: bool) -> SlaDefinition:
    return resolve({"preset": "aws-ec2-instance", "period": {"timezone": zone}, "exclusions": {"weekly_maintenance": [
        {"weekday": "mon", "time": "01:00", "duration_min": 45, "timezone": zone}]},
        "counting": {"window_down_when": rule, "window_s": window, "min_outage_s": minimum, "min_outage_strict": strict}})


@settings(max_examples=80, deadline=None)
@given(tl=timelines(), rule=st.sampled_from(["any", "all", "majority"]), window=st.sampled_from([1, 60, 300]),
       minimum=st.sampled_from([0, 59, 60, 300]), strict=st.booleans())
def test_counted_never_exceeds_measured_less_exclusions(tl, rule, window, minimum, strict) -> None:  # type: ignore[no-untyped-def]
    zone, p0, p1, spans = tl
    r = evaluate(_definition(zone, rule, window, minimum, strict), spans, period_start=p0, period_end=p1, now=NOW)
    less = r.measured_downtime_s - r.excluded["maintenance"] - r.excluded["below_minimum"]
    # Exact seconds that qualify = measured downtime less maintenance and too-short outages.
    assert r.qualifying_downtime_s == pytest.approx(less, abs=1e-6)
    if rule == "all" or window == 1:
        assert r.counted_downtime_s <= less + 1e-6
    if rule == "majority":
        assert r.counted_downtime_s <= 2 * less + 1e-6
    assert 0 <= r.counted_downtime_s <= r.period_s


@settings(max_examples=60, deadline=None)
@given(tl=timelines(), flip=st.integers(0, 29), rule=st.sampled_from(["any", "all", "majority"]))
def test_more_downtime_never_lowers_the_credit(tl, flip, rule) -> None:  # type: ignore[no-untyped-def]
    zone, p0, p1, spans = tl
    spans = [Span(s.start, s.end, State.UP if s.state in (State.LOCAL, State.NO_DATA) else s.state) for s in spans]
    i = flip % len(spans)
    worse = spans[:i] + [Span(spans[i].start, spans[i].end, State.DOWN)] + spans[i + 1:]
    d = _definition(zone, rule, 60, 60, False)
    a = evaluate(d, spans, period_start=p0, period_end=p1, now=NOW, monthly_fee=Decimal(100), currency="USD")
    b = evaluate(d, worse, period_start=p0, period_end=p1, now=NOW, monthly_fee=Decimal(100), currency="USD")
    assert b.counted_downtime_s >= a.counted_downtime_s
    pa = a.credit.pct if a.credit else 0
    pb = b.credit.pct if b.credit else 0
    assert pb >= pa
    assert len(b.clock_hours) >= len(a.clock_hours)


@settings(max_examples=40, deadline=None)
@given(missing_h=st.integers(0, 30 * 24), zone=st.sampled_from(ZONES[:4]))
def test_not_enough_data_below_coverage(missing_h: int, zone: str) -> None:
    d = resolve({"preset": "gce-single-instance", "period": {"timezone": zone}})
    p0, p1 = month_period("2025-04", zone)
    cut = p0 + timedelta(hours=missing_h)
    spans = ([Span(p0, cut, State.NO_DATA)] if missing_h else []) + [Span(cut, p1, State.UP)]
    r = evaluate(d, spans, period_start=p0, period_end=p1, now=NOW)
    covered = Fraction(30 * 24 - missing_h, 30 * 24) * 100
    assert r.coverage_pct == covered
    assert r.verdict == ("not enough data" if covered < 90 else "met")
