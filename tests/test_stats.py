"""Streaming latency/loss statistics: exact mode, histogram mode within its stated resolution."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.analysis.stats import LatencyStats, LossStats, bucket_us, nearest_rank, resolution_us

# RTTs across every resolution band: sub-ms, 1–10 ms, 10 ms–1 s, seconds.
rtts = st.one_of(
    st.floats(0.0, 0.999, allow_nan=False),
    st.floats(1.0, 9.999, allow_nan=False),
    st.floats(10.0, 999.9, allow_nan=False),
    st.floats(1000.0, 30000.0, allow_nan=False),
)


def exact_percentile(values: list[float], p: float) -> float:
    """Nearest rank, written independently: smallest x with ≥ p % of values ≤ x."""
    s = sorted(values)
    n = len(s)
    if p == 0:
        return s[0]
    for i, x in enumerate(s):
        if (i + 1) * 100 >= p * n - 1e-9:
            return x
    return s[-1]


def tolerance_ms(value_ms: float) -> float:
    return resolution_us(value_ms) / 2000.0 + 1e-9


def test_nearest_rank_small_sample() -> None:
    s = LatencyStats()
    s.add_many([float(x) for x in range(10, 0, -1)])  # 10 … 1, unsorted on purpose
    assert s.exact
    assert s.percentile(50) == 5.0
    assert s.percentile(95) == 10.0
    assert s.percentile(99) == 10.0
    assert s.percentile(0) == 1.0
    assert s.percentile(10) == 1.0
    assert s.percentile(11) == 2.0
    summary = s.summary()
    assert (summary.count, summary.min, summary.max, summary.mean) == (10, 1.0, 10.0, 5.5)
    assert summary.p50 == 5.0


def test_empty_stats_are_none() -> None:
    s = LatencyStats()
    summary = s.summary()
    assert summary.count == 0
    assert summary.p50 is None and summary.mean is None and summary.jitter is None and summary.min is None


def test_resolution_bands() -> None:
    assert [resolution_us(v) for v in (0.5, 1.0, 9.99, 10.0, 999.0, 1000.0, 5000.0)] == [1, 10, 10, 100, 100, 1000, 1000]
    assert bucket_us(0.0123) == 12
    assert bucket_us(1.2345) == 1230
    assert bucket_us(123.456) == 123400
    assert bucket_us(1234.5678) == 1234000


def test_histogram_mode_known_values() -> None:
    s = LatencyStats(exact_limit=2)
    for v in (12.34, 12.36, 250.0, 250.04, 3000.7):
        s.add(v)
    assert not s.exact
    # ranks: p50 -> 3rd value 250.0, in bucket [250.0, 250.1) -> midpoint 250.05
    assert s.percentile(50) == pytest.approx(250.05)
    assert s.percentile(99) == 3000.7  # rank n: the exact maximum, not a bucket midpoint
    assert s.percentile(70) == pytest.approx(250.05)  # rank 4: 250.04 in the same bucket
    assert s.percentile(0) == 12.34
    assert s.max == 3000.7 and s.min == 12.34


@settings(max_examples=150, deadline=None)
@given(values=st.lists(rtts, min_size=1, max_size=300), limit=st.sampled_from([0, 5, 10_000]))
def test_percentiles_within_stated_resolution(values: list[float], limit: int) -> None:
    s = LatencyStats(exact_limit=limit)
    s.add_many(values)
    assert s.exact == (len(values) <= limit)
    for p in (0, 1, 25, 50, 90, 95, 99, 99.9, 100):
        want = exact_percentile(values, p)
        got = s.percentile(p)
        assert got is not None
        if s.exact:
            assert got == want
        else:
            assert abs(got - want) <= tolerance_ms(want), (p, got, want)
    assert s.count == len(values)
    assert s.min == min(values) and s.max == max(values)
    assert s.mean == pytest.approx(statistics.fmean(values), rel=1e-9, abs=1e-9)
    assert s.stddev == pytest.approx(statistics.pstdev(values), rel=1e-6, abs=1e-6)


@settings(max_examples=80, deadline=None)
@given(buckets=st.lists(st.tuples(rtts, st.integers(0, 50)), min_size=1, max_size=40))
def test_buckets_match_expanded_values(buckets: list[tuple[float, int]]) -> None:
    s = LatencyStats()
    expanded: list[float] = []
    for lower, count in buckets:
        s.add_bucket(lower, count)
        expanded.extend([lower] * count)
    if not expanded:
        assert s.count == 0 and s.percentile(50) is None
        return
    assert not s.exact
    assert s.count == len(expanded)
    assert s.jitter is None  # buckets carry no order
    for p in (50, 95, 99):
        want = exact_percentile(expanded, p)
        assert abs(s.percentile(p) - want) <= tolerance_ms(want)  # type: ignore[operator]
    assert s.mean == pytest.approx(statistics.fmean(expanded), rel=1e-9)


def test_jitter_is_mean_absolute_consecutive_difference() -> None:
    s = LatencyStats()
    s.add_many([10.0, 12.0, 11.0, 15.0])
    assert s.jitter == pytest.approx(7.0 / 3.0)
    s.break_sequence()
    s.add(100.0)  # not paired with 15.0
    assert s.jitter == pytest.approx(7.0 / 3.0)
    s.add(101.0)
    assert s.jitter == pytest.approx(8.0 / 4.0)


@settings(max_examples=60, deadline=None)
@given(a=st.lists(rtts, max_size=80), b=st.lists(rtts, max_size=80), limit=st.sampled_from([0, 50, 10_000]))
def test_merge_equals_one_stream(a: list[float], b: list[float], limit: int) -> None:
    x, y = LatencyStats(exact_limit=limit), LatencyStats(exact_limit=limit)
    x.add_many(a)
    y.add_many(b)
    x.merge(y)
    both = a + b
    assert x.count == len(both)
    if not both:
        return
    assert x.min == min(both) and x.max == max(both)
    for p in (50, 95, 99):
        want = exact_percentile(both, p)
        got = x.percentile(p)
        assert got is not None
        assert abs(got - want) <= tolerance_ms(want)
    pairs = max(len(a) - 1, 0) + max(len(b) - 1, 0)
    if pairs:
        want_jitter = (
            sum(abs(u - v) for u, v in zip(a, a[1:])) + sum(abs(u - v) for u, v in zip(b, b[1:]))
        ) / pairs
        assert x.jitter == pytest.approx(want_jitter, rel=1e-9, abs=1e-9)
    else:
        assert x.jitter is None


def test_exact_limit_switches_to_histogram_without_losing_values() -> None:
    s = LatencyStats(exact_limit=100)
    values = [0.5 + i * 0.25 for i in range(1000)]
    s.add_many(values)
    assert not s.exact and s.count == 1000
    want = nearest_rank(sorted(values), 95)
    assert abs(s.percentile(95) - want) <= tolerance_ms(want)  # type: ignore[operator]


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_rejects_impossible_rtts(bad: float) -> None:
    with pytest.raises(ValueError):
        LatencyStats().add(bad)
    with pytest.raises(ValueError):
        LatencyStats().add_bucket(bad, 3)


def test_loss_from_sums() -> None:
    loss = LossStats()
    assert loss.loss_pct is None
    loss.add(sent=10, received=10)
    loss.add(sent=30, received=20)
    assert loss.loss_pct == 25.0  # 10 of 40, not the mean of 0 % and 33 %
    other = LossStats()
    other.add(10, 0)
    loss.merge(other)
    assert (loss.sent, loss.received, loss.lost) == (50, 30, 20)
    assert loss.to_json()["loss_pct"] == 40.0
    with pytest.raises(ValueError):
        loss.add(sent=3, received=4)


def test_stddev_of_equal_values_is_zero() -> None:
    # A sum-of-squares formula cancels catastrophically here (3.8e-6 instead of 0).
    s = LatencyStats(exact_limit=0)
    s.add_many([323.91355923366444] * 3)
    s.add_bucket(323.91355923366444, 1000)
    assert s.stddev == 0.0
