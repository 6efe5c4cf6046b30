"""Incident detection over synthetic timelines with a known ground truth.

Interval 10 s throughout; ``at(i)`` is slot i.  Patterns: see tests/support/timelines.py.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.analysis.incidents import (
    LOCAL,
    LOSS_OVER,
    NO_DATA,
    OBSERVED,
    RTT_OVER,
    IncidentPolicy,
    TargetAnalysis,
    analyse_target,
    control_down_intervals,
)
from reports.analysis.model import Round, State
from tests.support.timelines import T0, at, iter_rounds, make_rounds, run

POLICY = IncidentPolicy(interval_s=10)


def analyse(
    pattern: str,
    policy: IncidentPolicy = POLICY,
    *,
    period: tuple[datetime, datetime] | None = None,
    **kwargs: Any,
) -> TargetAnalysis:
    n = len(pattern.replace(" ", ""))
    p0, p1 = period or (T0, at(n, policy.interval_s))
    return analyse_target(
        make_rounds("vps", T0, policy.interval_s, pattern), period_start=p0, period_end=p1, policy=policy, **kwargs
    )


def spans_of(a: TargetAnalysis, wide: bool = False) -> list[tuple[float, float, str]]:
    """Spans as (start slot, end slot, state) for readable assertions."""
    spans = a.spans_wide if wide else a.spans
    return [((s.start - T0).total_seconds() / 10, (s.end - T0).total_seconds() / 10, s.state.value) for s in spans]


# --- outages -----------------------------------------------------------------


def test_outage_of_known_length() -> None:
    a = analyse("uuu DDDD uuu")
    (inc,) = a.incidents
    assert inc.kind is State.DOWN and inc.kind_name == "outage"
    assert (inc.start, inc.end) == (at(3), at(7))
    assert inc.duration_s == 40.0
    assert inc.duration_min_s == 30.0  # last failed − first failed
    assert inc.duration_max_s == 50.0  # first good after − last good before
    assert (inc.last_good_before, inc.first_failed, inc.last_failed, inc.first_good_after) == (at(2), at(3), at(6), at(7))
    assert (inc.start_bound, inc.end_bound) == (OBSERVED, OBSERVED)
    assert inc.rounds_failed == 4
    assert inc.error_classes == {"timeout": 8}
    assert (inc.first_row_id, inc.last_row_id) == (7, 14)  # 2 checks per round, rows from 1
    assert not inc.clipped_start and not inc.clipped_end
    assert inc.counted_s == 40.0
    assert spans_of(a) == [(0, 3, "up"), (3, 7, "down"), (7, 10, "up")]
    assert a.downtime_s == 40.0 and a.up_s == 60.0
    assert a.availability_pct == 60.0
    assert a.coverage_pct == 100.0
    assert a.blips == 0
    assert (a.rounds, a.rounds_failed) == (10, 4)


def test_evidence_rows_start_at_the_first_row_seen() -> None:
    """Rounds without row ids (not stored rows) open an outage; its first evidence row is the first one
    seen later, as for the run that opens it, never None beside a last row (an inline copy of the
    round-adding code once left it None once the outage was open)."""
    rounds = make_rounds("vps", T0, 10, "u DDDDD u")
    bare = [Round(r.target, r.ts, tuple(replace(c, row_id=None) for c in r.checks)) for r in rounds[1:4]]
    a = analyse_target([rounds[0], *bare, *rounds[4:]], period_start=T0, period_end=at(7), policy=POLICY)
    (inc,) = a.incidents
    assert inc.rounds_failed == 5
    assert (inc.first_row_id, inc.last_row_id) == (9, 12)  # rounds 4 and 5 carry rows 9..12


def test_single_failed_round_is_a_blip_not_an_incident() -> None:
    a = analyse("uuu D uuu P uu")
    assert a.incidents == ()
    assert (a.blips, a.blip_rounds) == (2, 2)
    assert a.downtime_s == 0.0 and a.availability_pct == 100.0
    assert a.rounds_failed == 2
    assert spans_of(a) == [(0, 10, "up")]


def test_open_after_one_makes_a_single_round_an_incident() -> None:
    a = analyse("uuu D uuu", IncidentPolicy(interval_s=10, open_after=1))
    (inc,) = a.incidents
    assert (inc.start, inc.end, inc.duration_min_s, inc.duration_max_s) == (at(3), at(4), 0.0, 20.0)
    assert a.blips == 0


def test_open_after_three() -> None:
    a = analyse("u DD u DDD u", IncidentPolicy(interval_s=10, open_after=3, merge_gap_s=0))
    (inc,) = a.incidents
    assert (inc.start, inc.end) == (at(4), at(7))
    assert a.blips == 1


def test_flaps_within_the_merge_gap_make_one_outage() -> None:
    a = analyse("uu DD u DD uuuuuuuu")  # default merge gap: max(60 s, 2 intervals)
    (inc,) = a.incidents
    assert (inc.start, inc.end) == (at(2), at(7))
    assert inc.rounds_failed == 4 and inc.rounds_good_inside == 1
    assert inc.duration_min_s == 40.0 and inc.duration_max_s == 60.0
    assert a.downtime_s == 50.0  # the flap is inside the outage
    assert spans_of(a) == [(0, 2, "up"), (2, 7, "down"), (7, 15, "up")]


def test_blip_between_merged_incidents_is_absorbed() -> None:
    a = analyse("uu DD u D u DD uuuuuuu")
    (inc,) = a.incidents
    assert (inc.start, inc.end) == (at(2), at(9))
    assert (inc.rounds_failed, inc.rounds_good_inside) == (5, 2)
    assert a.blips == 0


def test_merge_gap_is_strict() -> None:
    # Six good rounds = 60 s between the first good round after and the next
    # first failed round: not "less than" 60 s, so two incidents.
    a = analyse("uu DD uuuuuu DD uu")
    assert [(i.start, i.end) for i in a.incidents] == [(at(2), at(4)), (at(10), at(12))]
    b = analyse("uu DD uuuuu DD uu")
    assert [(i.start, i.end) for i in b.incidents] == [(at(2), at(11))]
    c = analyse("uu DD u DD uu", IncidentPolicy(interval_s=10, merge_gap_s=0))
    assert len(c.incidents) == 2 and c.downtime_s == 40.0


def test_outage_at_the_first_round_has_no_lower_bound() -> None:
    a = analyse("DDD uu")
    (inc,) = a.incidents
    assert inc.start == T0 and inc.start_bound == NO_DATA
    assert inc.last_good_before is None and inc.duration_max_s is None
    assert inc.duration_min_s == 20.0 and inc.duration_s == 30.0
    assert not inc.clipped_start  # nothing was observed before the period either


# --- partial and degraded ----------------------------------------------------


def test_partial_icmp_answers_http_fails() -> None:
    a = analyse("uu PPP uu")
    (inc,) = a.incidents
    assert inc.kind is State.PARTIAL and inc.kind_name == "partial"
    assert (inc.start, inc.end) == (at(2), at(5))
    assert inc.error_classes == {"http_status": 3}
    assert a.partial_s == 30.0 and a.downtime_s == 0.0
    assert a.availability_pct == 100.0  # availability counts outages only


def test_outage_inside_partial_is_listed_both_ways_and_counted_once() -> None:
    a = analyse("uu PP DD PP uu")
    assert [(i.kind_name, i.start, i.end, i.counted_s) for i in a.incidents] == [
        ("partial", at(2), at(8), 40.0),
        ("outage", at(4), at(6), 20.0),
    ]
    assert spans_of(a) == [(0, 2, "up"), (2, 4, "partial"), (4, 6, "down"), (6, 8, "partial"), (8, 10, "up")]
    assert (a.partial_s, a.downtime_s) == (40.0, 20.0)


def test_an_outage_is_not_repeated_as_partial_or_degraded() -> None:
    a = analyse("uu DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD uu", IncidentPolicy(interval_s=10, rtt_ms_max=100))
    assert [i.kind for i in a.incidents] == [State.DOWN]


def test_alternating_partial_and_down_is_one_partial_incident() -> None:
    a = analyse("uu PDPDPD uu")
    assert [(i.kind_name, i.start, i.end) for i in a.incidents] == [("partial", at(2), at(8))]
    assert a.blips == 0 and a.rounds_failed == 6


DEGRADED = IncidentPolicy(interval_s=10, rtt_ms_max=150, loss_pct_max=20, degraded_sustain_s=30)


def test_degraded_needs_the_sustain_window() -> None:
    a = analyse("uu SSS uu", DEGRADED)
    (inc,) = a.incidents
    assert inc.kind is State.DEGRADED and (inc.start, inc.end) == (at(2), at(5))
    assert inc.error_classes == {RTT_OVER: 3}
    assert a.degraded_s == 30.0 and a.availability_pct == 100.0
    short = analyse("uu SS uu SS uu", DEGRADED)
    assert short.incidents == () and short.degraded_s == 0.0
    assert short.blips == 0  # slow rounds are not failures


def test_degraded_by_loss_and_by_kind_filter() -> None:
    a = analyse("uu OOOO uu", DEGRADED)
    (inc,) = a.incidents
    assert inc.error_classes == {LOSS_OVER: 4}
    only_http = IncidentPolicy(interval_s=10, rtt_ms_max=150, degraded_sustain_s=30, degraded_kinds=frozenset({"http"}))
    assert analyse("uu SSSS uu", only_http).incidents == ()  # the slow check is ICMP


def test_degraded_sustain_rounds_and_default_window() -> None:
    assert IncidentPolicy(interval_s=10).degraded_rounds == 30  # 300 s
    assert IncidentPolicy(interval_s=300).degraded_rounds == 2  # never below open_after
    policy = IncidentPolicy(interval_s=10, rtt_ms_max=150, degraded_sustain_rounds=5)
    assert analyse("u SSSS u", policy).incidents == ()
    assert len(analyse("u SSSSS u", policy).incidents) == 1


# --- skipped checks ----------------------------------------------------------


def test_skipped_checks_are_ignored() -> None:
    a = analyse("uu zzz uu kkk uu")  # z: ICMP fails, HTTP skipped; k: ICMP ok, HTTP skipped
    (inc,) = a.incidents
    assert inc.kind is State.DOWN and (inc.start, inc.end) == (at(2), at(5))
    assert inc.error_classes == {"timeout": 3}
    assert a.downtime_s == 30.0 and a.no_data_s == 0.0


def test_rounds_with_only_skipped_checks_are_missing() -> None:
    a = analyse("uu KKK uu")
    assert spans_of(a) == [(0, 2, "up"), (2, 5, "no_data"), (5, 7, "up")]
    assert a.rounds_skipped == 3 and a.rounds == 4
    assert a.coverage_pct == pytest.approx(400 / 7)
    assert a.availability_pct == 100.0


# --- local outages -----------------------------------------------------------


def controls(pattern: str, offsets: tuple[float, ...] = (0.0, 3.0)) -> list[list[Any]]:
    n = len(pattern.replace(" ", ""))
    return [
        make_rounds(f"control-{i}", T0 + timedelta(seconds=off), 10, pattern, offsets_s=None) if n else []
        for i, off in enumerate(offsets)
    ]


def test_local_outage_is_not_provider_downtime() -> None:
    windows = control_down_intervals(controls("uu DDDD uu"), POLICY)
    # control-0 down [20 s, 60 s), control-1 (3 s later) down [23 s, 63 s): all down [23 s, 60 s)
    assert windows == [(at(2.3), at(6))]
    a = analyse("uu DDDD uu", control_down=windows)
    (inc,) = a.incidents
    assert inc.kind is State.LOCAL and inc.kind_name == "local"
    assert (inc.start, inc.end, inc.rounds_failed) == (at(2), at(6), 4)
    assert a.downtime_s == 0.0 and a.local_s == 40.0
    assert a.availability_pct == 100.0
    assert a.observed_s == 40.0 and a.covered_s == 80.0
    assert a.rounds_local == 4 and a.rounds_failed == 0
    assert spans_of(a) == [(0, 2, "up"), (2, 6, "local"), (6, 8, "up")]


def test_one_control_down_is_not_local() -> None:
    ctl = controls("uu DDDD uu")
    ctl[1] = make_rounds("control-1", T0, 10, "uuuuuuuuuu")
    windows = control_down_intervals(ctl, POLICY)
    assert windows == []
    a = analyse("uu DDDD uu", control_down=windows)
    assert [i.kind for i in a.incidents] == [State.DOWN] and a.downtime_s == 40.0


def test_outage_outlasting_the_local_outage() -> None:
    windows = control_down_intervals(controls("uu DDDD uuuu", offsets=(0.0,)), POLICY)
    a = analyse("uu DDDDDDDD uu", control_down=windows)
    local, outage = a.incidents
    assert local.kind is State.LOCAL and (local.start, local.end) == (at(2), at(6))
    assert outage.kind is State.DOWN and (outage.start, outage.end) == (at(6), at(10))
    # What happened to the provider before 60 s is unknown: no lower start bound.
    assert outage.start_bound == LOCAL and outage.last_good_before is None
    assert outage.duration_max_s is None and outage.duration_min_s == 30.0
    assert (a.local_s, a.downtime_s) == (40.0, 40.0)
    assert a.availability_pct == 50.0  # 40 s down of 80 s observed (120 s less 40 s local)


def test_control_inputs_flat_or_nested_agree() -> None:
    nested = controls("u DD u DDD uu")
    flat = sorted((r for rs in nested for r in rs), key=lambda r: r.ts)
    assert control_down_intervals(nested, POLICY) == control_down_intervals(flat, POLICY)
    assert control_down_intervals([], POLICY) == []
    assert control_down_intervals(iter_rounds("c", T0, 10, "uDDu"), POLICY) == [(at(1), at(3))]


# --- no data -----------------------------------------------------------------


def test_missing_rounds_are_no_data() -> None:
    a = analyse("uuu ___ uuu")  # 40 s between rounds 2 and 6: more than 2 intervals
    assert spans_of(a) == [(0, 3, "up"), (3, 6, "no_data"), (6, 9, "up")]
    assert a.no_data_s == 30.0 and a.coverage_pct == pytest.approx(100 * 60 / 90)
    assert a.availability_pct == 100.0
    single = analyse("uuu _ uuu")  # one missed round: 20 s, within the tolerance
    assert single.no_data_s == 0.0


def test_agent_stop_and_restart() -> None:
    runs = [run(T0, at(9) + timedelta(seconds=3)), run(at(14) + timedelta(seconds=5))]
    a = analyse("u" * 10 + "_" * 5 + "u" * 10, runs=runs)
    assert a.no_data_s == 57.0  # [93 s, 150 s): the run ended 3 s after the last round
    assert a.coverage_pct == pytest.approx(100 * (250 - 57) / 250)
    assert spans_of(a) == [(0, 9.3, "up"), (9.3, 15, "no_data"), (15, 25, "up")]


def test_quick_restart_within_the_round_tolerance_is_still_no_data() -> None:
    runs = [run(T0, at(9) + timedelta(seconds=4)), run(at(10) + timedelta(seconds=1))]
    pattern = "u" * 10 + "_" + "u" * 9
    assert analyse(pattern).no_data_s == 0.0  # rounds alone: 20 s apart is no gap
    a = analyse(pattern, runs=runs)
    assert a.no_data_s == 16.0  # [94 s, 110 s): stopped, restarted, first round at 110 s


def test_unclean_run_ends_at_its_last_heartbeat() -> None:
    runs = [run(T0, clean=False, last_seen=at(4) + timedelta(seconds=5)), run(at(20))]
    a = analyse("u" * 5 + "_" * 15 + "u" * 10, runs=runs)
    assert spans_of(a) == [(0, 4.5, "up"), (4.5, 20, "no_data"), (20, 30, "up")]


def test_rounds_prove_the_agent_ran_past_a_stale_heartbeat() -> None:
    # last_seen lags behind rounds that were taken on schedule: keep them.
    runs = [run(T0, clean=False, last_seen=at(3)), run(at(20))]
    a = analyse("u" * 8 + "_" * 12 + "u" * 5, runs=runs)
    assert spans_of(a) == [(0, 8, "up"), (8, 20, "no_data"), (20, 25, "up")]


def test_no_data_interrupts_an_outage() -> None:
    a = analyse("uu DD ___ DD uu")
    first, second = a.incidents
    assert (first.start, first.end, first.end_bound, first.first_good_after) == (at(2), at(4), NO_DATA, None)
    assert first.duration_max_s is None and first.duration_min_s == 10.0
    assert (second.start, second.start_bound, second.last_good_before) == (at(7), NO_DATA, None)
    assert a.downtime_s == 40.0 and a.no_data_s == 30.0


def test_no_rounds_at_all() -> None:
    a = analyse_target([], period_start=T0, period_end=at(10), policy=POLICY)
    assert spans_of(a) == [(0, 10, "no_data")]
    assert a.availability_pct is None and a.coverage_pct == 0.0 and a.incidents == ()


def test_agent_never_ran_during_the_period() -> None:
    a = analyse("uuuu", runs=[])  # rounds exist, so they count for their own interval
    assert a.no_data_s == 0.0
    b = analyse("uu__uu", runs=[])
    assert b.no_data_s == 20.0


# --- period edges ------------------------------------------------------------


def test_incidents_crossing_the_period_edges_are_clipped() -> None:
    a = analyse("uu DDDD uuuuuu DDDD uu", period=(at(4), at(14)))
    first, second = a.incidents
    assert first.clipped_start and not first.clipped_end
    assert (first.start, first.end, first.duration_s) == (at(4), at(6), 20.0)
    assert first.first_failed == at(2)  # the raw evidence is kept
    assert first.duration_min_s == 10.0  # last failed (50 s) − period start
    assert first.duration_max_s == 20.0  # first good after − period start
    assert second.clipped_end and not second.clipped_start
    assert (second.start, second.end, second.duration_s) == (at(12), at(14), 20.0)
    assert second.duration_min_s == 20.0 and second.duration_max_s == 30.0
    assert a.period_s == 100.0 and a.downtime_s == 40.0
    assert a.rounds == 10


def test_spans_window_reaches_past_the_period_for_the_sla_engine() -> None:
    a = analyse("uu DDDD uuuuuu DDDD uu", period=(at(4), at(14)), spans_window=(T0, at(18)))
    assert spans_of(a)[0] == (4, 6, "down")
    assert spans_of(a, wide=True) == [(0, 2, "up"), (2, 6, "down"), (6, 12, "up"), (12, 16, "down"), (16, 18, "up")]
    assert a.downtime_s == 40.0  # figures stay those of the period
    with pytest.raises(ValueError, match="contain"):
        analyse("uuuu", period=(at(1), at(3)), spans_window=(at(2), at(4)))


def test_outside_incidents_and_blips_are_not_reported() -> None:
    # An outage and a blip before the period, a blip and an outage after it.
    a = analyse("DD u D u uuuu u D u DD", period=(at(4), at(9)))
    assert a.incidents == () and a.blips == 0 and a.downtime_s == 0.0


# --- output ------------------------------------------------------------------


def test_json_is_serialisable_with_utc_microsecond_times() -> None:
    a = analyse("uuu DDDD uuu", tz=ZoneInfo("Asia/Shanghai"), target="vps")
    doc = a.to_json()
    json.dumps(doc)
    inc = doc["incidents"][0]
    assert inc["id"] == "1" and inc["kind"] == "outage" and inc["state"] == "down"
    assert inc["start"] == "2026-11-02T00:00:30.000000Z"
    assert inc["end"] == "2026-11-02T00:01:10.000000Z"
    assert (inc["duration_s"], inc["duration_min_s"], inc["duration_max_s"]) == (40.0, 30.0, 50.0)
    assert inc["start_bounds"] == {"last_good_before": "2026-11-02T00:00:20.000000Z", "first_failed": "2026-11-02T00:00:30.000000Z"}
    for key in ("availability_pct", "downtime_s", "coverage_pct", "local_s", "no_data_s", "partial_s", "degraded_s", "blips", "daily", "spans"):
        assert key in doc
    assert doc["period"]["timezone"] == "Asia/Shanghai"
    assert doc["daily"][0]["date"] == "2026-11-02"


def test_rejects_unsorted_rounds_and_naive_times() -> None:
    rounds = make_rounds("vps", T0, 10, "uuu")
    with pytest.raises(ValueError, match="sorted"):
        analyse_target(list(reversed(rounds)), period_start=T0, period_end=at(3), policy=POLICY)
    with pytest.raises(ValueError):
        analyse_target(rounds, period_start=T0.replace(tzinfo=None), period_end=at(3), policy=POLICY)
    with pytest.raises(ValueError):
        IncidentPolicy(interval_s=0)


def test_reads_a_generator_once() -> None:
    a = analyse_target(iter_rounds("vps", T0, 10, "uu DDD uu"), period_start=T0, period_end=at(7), policy=POLICY)
    assert a.downtime_s == 30.0


# --- daily figures in display zones ------------------------------------------


def test_daily_buckets_in_shanghai() -> None:
    # 2 UTC days = 3 Shanghai dates (08:00 on the 2nd to 08:00 on the 4th).
    policy = IncidentPolicy(interval_s=3600)
    pattern = "u" * 20 + "DD" + "u" * 26  # outage 20:00–22:00 UTC = 04:00–06:00 on the 3rd in Shanghai
    a = analyse(pattern, policy, tz=ZoneInfo("Asia/Shanghai"))
    days = [(d.day, d.length_s, d.downtime_s) for d in a.daily]
    assert days == [
        (date(2026, 11, 2), 16 * 3600.0, 0.0),
        (date(2026, 11, 3), 24 * 3600.0, 7200.0),
        (date(2026, 11, 4), 8 * 3600.0, 0.0),
    ]
    assert a.daily[1].as_tuple() == (date(2026, 11, 3), pytest.approx(100 * 22 / 24), 100.0)


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 8), 23), (date(2026, 11, 1), 25)],  # US DST starts / ends
)
def test_daily_buckets_across_a_dst_change(day: date, hours: int) -> None:
    ny = ZoneInfo("America/New_York")
    p0 = datetime(day.year, day.month, day.day, tzinfo=ny).astimezone(UTC) - timedelta(days=1)
    p1 = p0 + timedelta(days=3, hours=hours - 24)
    n = int((p1 - p0).total_seconds() // 600)
    policy = IncidentPolicy(interval_s=600)
    a = analyse_target(make_rounds("vps", p0, 600, "u" * n), period_start=p0, period_end=p1, policy=policy, tz=ny)
    lengths = {d.day: d.length_s for d in a.daily}
    assert lengths[day] == hours * 3600.0
    assert sum(lengths.values()) == a.period_s
    assert all(d.coverage_pct == 100.0 and d.availability_pct == 100.0 for d in a.daily)


# --- properties ----------------------------------------------------------------

patterns = st.text(alphabet="uuuuDDPSOKkz_", min_size=1, max_size=120)
policies = st.builds(
    IncidentPolicy,
    interval_s=st.just(10.0),
    open_after=st.integers(1, 4),
    merge_gap_s=st.sampled_from([None, 0.0, 15.0, 100.0]),
    rtt_ms_max=st.sampled_from([None, 150.0]),
    loss_pct_max=st.sampled_from([None, 20.0]),
    degraded_sustain_s=st.sampled_from([10.0, 40.0]),
)


def check_invariants(a: TargetAnalysis) -> None:
    spans = a.spans
    assert spans[0].start == a.period_start and spans[-1].end == a.period_end
    for x, y in zip(spans, spans[1:]):
        assert x.end == y.start and x.state is not y.state
    assert all(s.start < s.end for s in spans)
    assert sum((s.end - s.start for s in spans), timedelta()) == a.period_end - a.period_start
    parts = a.up_s + a.downtime_s + a.partial_s + a.degraded_s + a.local_s + a.no_data_s
    assert parts == pytest.approx(a.period_s, abs=1e-6)
    assert a.downtime_s <= a.covered_s + 1e-9
    if a.observed_s > 0:
        assert a.availability_pct is not None and 0.0 <= a.availability_pct <= 100.0
    else:
        assert a.availability_pct is None
    assert 0.0 <= a.coverage_pct <= 100.0
    per_kind = {State.DOWN: a.downtime_s, State.PARTIAL: a.partial_s, State.DEGRADED: a.degraded_s, State.LOCAL: a.local_s}
    for kind, total in per_kind.items():
        assert sum(i.counted_s for i in a.incidents_of(kind)) == pytest.approx(total, abs=1e-6)
    for inc in a.incidents:
        assert a.period_start <= inc.start < inc.end <= a.period_end
        assert 0.0 <= inc.duration_min_s <= inc.duration_s
        if inc.duration_max_s is not None:
            assert inc.duration_s <= inc.duration_max_s
        assert inc.rounds_failed >= 1
    assert sum(d.length_s for d in a.daily) == pytest.approx(a.period_s)
    assert sum(d.downtime_s for d in a.daily) == pytest.approx(a.downtime_s)


@settings(max_examples=300, deadline=None)
@given(pattern=patterns, policy=policies, ctl=st.one_of(st.none(), patterns), edge=st.integers(0, 10))
def test_spans_tile_the_period_and_figures_add_up(
    pattern: str, policy: IncidentPolicy, ctl: str | None, edge: int
) -> None:
    n = len(pattern)
    windows = control_down_intervals(controls(ctl), policy) if ctl else []
    p0, p1 = at(min(edge, n - 1) / 2), at(n + edge / 3)
    a = analyse(pattern, policy, period=(p0, p1), control_down=windows, tz=ZoneInfo("America/New_York"))
    check_invariants(a)


@settings(max_examples=200, deadline=None)
@given(pattern=patterns, policy=policies, where=st.integers(0, 10_000), worse=st.sampled_from("DPz"))
def test_a_failed_round_never_raises_availability(
    pattern: str, policy: IncidentPolicy, where: int, worse: str
) -> None:
    ups = [i for i, ch in enumerate(pattern) if ch in "uk"]
    if not ups:
        return
    i = ups[where % len(ups)]
    before = analyse(pattern, policy)
    after = analyse(pattern[:i] + worse + pattern[i + 1 :], policy)
    check_invariants(after)
    assert after.downtime_s >= before.downtime_s
    if before.availability_pct is not None:
        assert after.availability_pct is not None
        assert after.availability_pct <= before.availability_pct + 1e-9


@settings(max_examples=100, deadline=None)
@given(pattern=patterns, stop=st.integers(0, 130), pause=st.integers(1, 60))
def test_runs_only_remove_coverage(pattern: str, stop: int, pause: int) -> None:
    runs = [run(T0, at(stop) + timedelta(seconds=3)), run(at(stop) + timedelta(seconds=3 + pause))]
    plain = analyse(pattern)
    with_runs = analyse(pattern, runs=runs)
    check_invariants(with_runs)
    assert with_runs.no_data_s >= plain.no_data_s
