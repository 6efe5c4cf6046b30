"""Traffic budget: never allows past a limit; days and months roll over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.budget import MB, BudgetLimits, TrafficBudget, skipped_result
from agent.core.result import SKIPPED

UTC = UTC
T0 = datetime(2026, 1, 30, 12, 0, tzinfo=UTC)


def test_denial_names_the_budget_and_what_is_left() -> None:
    b = TrafficBudget({"vps": BudgetLimits.from_mb(day_mb=250)})
    assert b.allow("vps", 100 * MB, T0) == (True, None)
    b.record("vps", 100 * MB, T0)
    b.record("vps", 100 * MB, T0 + timedelta(hours=1))
    ok, why = b.allow("vps", 100 * MB, T0 + timedelta(hours=2))
    assert not ok
    assert why is not None
    assert "target 'vps' daily" in why
    assert "200.0 MB of 250.0 MB used, 50.0 MB left" in why
    assert "resets 2026-01-31 00:00 UTC" in why
    # Another target has no limit of its own.
    assert b.allow("other", 10**12, T0)[0]


def test_agent_wide_budget_counts_every_target() -> None:
    b = TrafficBudget({}, BudgetLimits.from_mb(month_mb=300))
    b.record("a", 150 * MB, T0)
    b.record("b", 100 * MB, T0)
    ok, why = b.allow("c", 100 * MB, T0)
    assert not ok and why is not None and "agent-wide monthly" in why and "50.0 MB left" in why
    assert b.allow("c", 50 * MB, T0) == (True, None)
    assert b.used(None, T0) == (250 * MB, 250 * MB)
    assert b.used("a", T0) == (150 * MB, 150 * MB)


def test_day_and_month_roll_over() -> None:
    b = TrafficBudget({"vps": BudgetLimits.from_mb(day_mb=100, month_mb=250)})
    b.record("vps", 100 * MB, T0)
    assert not b.allow("vps", 1, T0.replace(hour=23, minute=59))[0]
    next_day = datetime(2026, 1, 31, 0, 0, tzinfo=UTC)
    assert b.allow("vps", 100 * MB, next_day) == (True, None)
    b.record("vps", 100 * MB, next_day)
    # Day budget fine on Feb 1? The month budget had 50 MB left in January…
    assert not b.allow("vps", 100 * MB, datetime(2026, 1, 31, 23, 0, tzinfo=UTC))[0]
    # …and a new month starts from zero.
    feb = datetime(2026, 2, 1, 0, 0, tzinfo=UTC)
    assert b.used("vps", feb) == (0, 0)
    assert b.allow("vps", 100 * MB, feb) == (True, None)


def test_periods_follow_the_given_time_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    b = TrafficBudget({"vps": BudgetLimits.from_mb(day_mb=100)}, tz=berlin)
    # 23:30 UTC on Jan 30 is already 00:30 on Jan 31 in Berlin (UTC+1 in winter).
    b.record("vps", 100 * MB, datetime(2026, 1, 30, 23, 30, tzinfo=UTC))
    assert b.allow("vps", 1, datetime(2026, 1, 30, 22, 30, tzinfo=UTC))[0]  # 23:30 Jan 30 Berlin
    ok, why = b.allow("vps", 1, datetime(2026, 1, 31, 12, 0, tzinfo=UTC))
    assert not ok and why is not None and "Europe/Berlin" in why and "resets 2026-02-01 00:00" in why


def test_seed_from_history_and_bad_input() -> None:
    b = TrafficBudget({"vps": BudgetLimits.from_mb(month_mb=10)})
    b.seed([("vps", T0 - timedelta(days=1), 6 * MB), ("vps", T0 - timedelta(days=40), 9 * MB)])
    assert b.used("vps", T0) == (0, 6 * MB)
    assert not b.allow("vps", 5 * MB, T0)[0]
    with pytest.raises(ValueError):
        b.allow("vps", 1, datetime(2026, 1, 1))  # naive
    with pytest.raises(ValueError):
        b.record("vps", -1, T0)


def test_skipped_result_is_not_a_measurement() -> None:
    r = skipped_result("bandwidth", "agent-wide daily traffic budget: …", T0)
    assert (r.kind, r.ok, r.error_class, r.started_at) == ("bandwidth", False, SKIPPED, T0)
    assert r.error == "agent-wide daily traffic budget: …"


limits_st = st.one_of(st.none(), st.integers(0, 5_000))
event_st = st.tuples(
    st.sampled_from(["a", "b", "c"]),
    st.integers(0, 2_000),  # planned bytes
    st.floats(0.0, 1.0),  # fraction of the plan really used
    st.integers(0, 40 * 3600),  # seconds since the previous attempt
)


@settings(max_examples=200, deadline=None)
@given(
    target_day=limits_st,
    target_month=limits_st,
    agent_day=limits_st,
    agent_month=limits_st,
    events=st.lists(event_st, max_size=60),
)
def test_never_allows_past_any_budget(target_day, target_month, agent_day, agent_month, events) -> None:
    lim = BudgetLimits(target_day, target_month)
    agent = BudgetLimits(agent_day, agent_month)
    b = TrafficBudget({"a": lim, "b": lim}, agent)
    now = datetime(2026, 1, 28, 0, 0, tzinfo=UTC)
    spent_day: dict[tuple[str, object], int] = {}
    spent_month: dict[tuple[str, object], int] = {}
    def caps(key: str) -> BudgetLimits:
        if key == "*":
            return agent
        return lim if key in ("a", "b") else BudgetLimits()

    for target, planned, frac, gap in events:
        now += timedelta(seconds=gap)
        d, m = now.date(), (now.year, now.month)
        fits = all(
            (c.day_bytes is None or spent_day.get((k, d), 0) + planned <= c.day_bytes)
            and (c.month_bytes is None or spent_month.get((k, m), 0) + planned <= c.month_bytes)
            for k in (target, "*")
            for c in [caps(k)]
        )
        ok, why = b.allow(target, planned, now)
        assert ok == fits, why  # exact: neither too strict nor too lax
        assert ok == (why is None)
        if not ok:
            continue
        used = int(planned * frac)  # a check moves at most its cap
        b.record(target, used, now)
        for key in (target, "*"):
            spent_day[(key, d)] = spent_day.get((key, d), 0) + used
            spent_month[(key, m)] = spent_month.get((key, m), 0) + used
            c = caps(key)
            assert c.day_bytes is None or spent_day[(key, d)] <= c.day_bytes
            assert c.month_bytes is None or spent_month[(key, m)] <= c.month_bytes
        assert b.used(target, now) == (spent_day[(target, d)], spent_month[(target, m)])
