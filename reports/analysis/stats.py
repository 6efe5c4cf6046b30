"""Streaming latency and loss statistics with bounded memory.

    lat = LatencyStats()
    for rtt in rtts_in_time_order:       # or lat.add_bucket(lower_ms, count) from SQL
        lat.add(rtt)
    lat.summary().to_json()  # count, min, max, mean, stddev, jitter, p50, p95, p99

Percentiles use the nearest-rank definition: the p-th percentile of n values
is the value at 1-based rank ceil(p/100 × n) in ascending order (p = 0 gives
the minimum).  It is always one of the measured values, never interpolated.

Up to ``exact_limit`` values (default 4096) are kept and percentiles are
exact.  Beyond that, or as soon as a bucket is added, values are counted in a
fixed-resolution histogram:

    below 1 ms          1 µs buckets
    1 ms to 10 ms      10 µs buckets
    10 ms to 1 s      100 µs buckets (0.1 ms)
    1 s and above       1 ms buckets

and a percentile is the midpoint of the bucket holding the nearest-rank value,
clamped to the exact minimum and maximum (rank 1 and rank n give the exact
minimum and maximum): it differs from the exact value by at
most half the resolution at that value (0.5 µs, 5 µs, 50 µs, 0.5 ms).  count,
min, max, mean and stddev stay exact in both modes (up to float rounding).
Memory: at most one counter per occupied bucket (under 12,000 below 1 s).

``add_bucket(lower_ms, count)`` takes pre-aggregated data (e.g. SQL ``GROUP BY``
on a rounded RTT): each of the ``count`` values is taken to equal
``lower_ms``; jitter cannot be derived from buckets.

Jitter is the mean absolute difference of consecutive RTTs passed to ``add``
(RFC 3550's |D(i-1, i)| averaged plainly, without its 1/16 smoothing);
``break_sequence()`` stops the next value being paired with the previous one
(e.g. across a gap).  The standard deviation (population) is reported too.

Loss: ``LossStats`` sums packets sent and received; loss % = (sent −
received) / sent × 100, so rounds with more packets weigh more.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

DEFAULT_EXACT_LIMIT = 4096
PERCENTILES = (50.0, 95.0, 99.0)


def resolution_us(value_ms: float) -> int:
    """The histogram resolution (µs) at ``value_ms``."""
    v = value_ms * 1000.0
    if v < 1_000.0:
        return 1
    if v < 10_000.0:
        return 10
    if v < 1_000_000.0:
        return 100
    return 1000


def bucket_us(value_ms: float) -> int:
    """The lower bound (µs, integer) of the bucket holding ``value_ms``."""
    v = value_ms * 1000.0
    res = 1 if v < 1_000.0 else 10 if v < 10_000.0 else 100 if v < 1_000_000.0 else 1000
    return int(v // res) * res


def nearest_rank(sorted_values: list[float], p: float) -> float:
    """The nearest-rank p-th percentile of ascending ``sorted_values`` (non-empty)."""
    n = len(sorted_values)
    if p <= 0:
        return sorted_values[0]
    rank = math.ceil(p / 100.0 * n - 1e-9)
    return sorted_values[min(max(rank, 1), n) - 1]


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """The figures the report prints for a latency series (ms)."""

    count: int
    min: float | None
    max: float | None
    mean: float | None
    stddev: float | None
    jitter: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    exact: bool  # False: percentiles from the histogram (see module docstring)

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
            "stddev": self.stddev,
            "jitter": self.jitter,
            "p50": self.p50,
            "p95": self.p95,
            "p99": self.p99,
            "exact": self.exact,
        }


class LatencyStats:
    """Streaming RTT statistics (ms); see the module docstring for definitions."""

    __slots__ = (
        "_hist",
        "_jit_n",
        "_jit_sum",
        "_m2",
        "_prev",
        "_sorted",
        "_sum",
        "_values",
        "_wmean",
        "count",
        "exact_limit",
        "max",
        "min",
    )

    def __init__(self, exact_limit: int = DEFAULT_EXACT_LIMIT) -> None:
        self.exact_limit = exact_limit
        self._values: list[float] | None = []  # None once in histogram mode
        self._sorted = True
        self._hist: dict[int, int] = {}
        self.count = 0
        self._sum = 0.0
        self._wmean = 0.0  # Welford running mean and sum of squared deviations,
        self._m2 = 0.0  # so the stddev does not cancel catastrophically
        self.min: float | None = None
        self.max: float | None = None
        self._prev: float | None = None
        self._jit_sum = 0.0
        self._jit_n = 0

    @property
    def exact(self) -> bool:
        return self._values is not None

    def add(self, rtt_ms: float) -> None:
        """One measured RTT, in time order (for jitter)."""
        v = float(rtt_ms)
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"RTT must be a finite non-negative number, got {rtt_ms!r}")
        prev = self._prev
        if prev is not None:
            self._jit_sum += abs(v - prev)
            self._jit_n += 1
        self._prev = v
        self._account(v, 1)
        values = self._values
        if values is not None:
            if len(values) < self.exact_limit:
                if values and v < values[-1]:
                    self._sorted = False
                values.append(v)
                return
            self._to_histogram()
        b = bucket_us(v)
        self._hist[b] = self._hist.get(b, 0) + 1

    def add_many(self, rtts_ms: Iterable[float]) -> None:
        for v in rtts_ms:
            self.add(v)

    def add_bucket(self, bucket_lower_ms: float, count: int) -> None:
        """``count`` values equal to ``bucket_lower_ms`` (pre-aggregated data)."""
        v = float(bucket_lower_ms)
        if count < 0 or int(count) != count:
            raise ValueError(f"bucket count must be a non-negative integer, got {count!r}")
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"bucket bound must be a finite non-negative number, got {bucket_lower_ms!r}")
        if count == 0:
            return
        self._account(v, int(count))
        if self._values is not None:
            self._to_histogram()
        b = bucket_us(v)
        self._hist[b] = self._hist.get(b, 0) + int(count)

    def break_sequence(self) -> None:
        """The next ``add`` starts a new sequence for jitter (e.g. after a gap)."""
        self._prev = None

    def merge(self, other: LatencyStats) -> None:
        """Fold ``other`` in (jitter pairs are kept; no pair spans the two)."""
        if other.count == 0:
            return
        if self._values is not None and other._values is not None and len(self._values) + len(
            other._values
        ) <= self.exact_limit:
            self._values.extend(other._values)
            self._sorted = False
        else:
            if self._values is not None:
                self._to_histogram()
            if other._values is not None:
                for v in other._values:
                    b = bucket_us(v)
                    self._hist[b] = self._hist.get(b, 0) + 1
            else:
                for b, c in other._hist.items():
                    self._hist[b] = self._hist.get(b, 0) + c
        self._combine(other.count, other._wmean, other._m2)
        self.count += other.count
        self._sum += other._sum
        assert other.min is not None and other.max is not None
        self.min = other.min if self.min is None else min(self.min, other.min)
        self.max = other.max if self.max is None else max(self.max, other.max)
        self._jit_sum += other._jit_sum
        self._jit_n += other._jit_n

    def _combine(self, n: int, mean: float, m2: float) -> None:
        # Chan et al.'s parallel update; call before self.count changes.
        total = self.count + n
        delta = mean - self._wmean
        self._wmean += delta * n / total
        self._m2 += m2 + delta * delta * self.count * n / total

    def _account(self, v: float, n: int) -> None:
        self._combine(n, v, 0.0)
        self.count += n
        self._sum += v * n
        if self.min is None or v < self.min:
            self.min = v
        if self.max is None or v > self.max:
            self.max = v

    def _to_histogram(self) -> None:
        values = self._values
        if values is None:
            return
        hist = self._hist
        for v in values:
            b = bucket_us(v)
            hist[b] = hist.get(b, 0) + 1
        self._values = None

    @property
    def mean(self) -> float | None:
        return self._sum / self.count if self.count else None

    @property
    def stddev(self) -> float | None:
        if not self.count:
            return None
        return math.sqrt(max(0.0, self._m2 / self.count))

    @property
    def jitter(self) -> float | None:
        return self._jit_sum / self._jit_n if self._jit_n else None

    def percentile(self, p: float) -> float | None:
        """Nearest-rank p-th percentile (0 ≤ p ≤ 100); None when empty."""
        if not 0 <= p <= 100:
            raise ValueError("percentile must be within [0, 100]")
        if not self.count:
            return None
        values = self._values
        if values is not None:
            if not self._sorted:
                values.sort()
                self._sorted = True
            return nearest_rank(values, p)
        assert self.min is not None and self.max is not None
        if p <= 0:
            return self.min
        rank = min(max(math.ceil(p / 100.0 * self.count - 1e-9), 1), self.count)
        if rank == 1:
            return self.min  # the smallest and largest values are known exactly
        if rank == self.count:
            return self.max
        seen = 0
        for b in sorted(self._hist):
            seen += self._hist[b]
            if seen >= rank:
                mid = (b + resolution_us(b / 1000.0) / 2.0) / 1000.0
                return min(max(mid, self.min), self.max)
        return self.max  # not reached: counts add up to self.count

    def summary(self) -> LatencySummary:
        p50, p95, p99 = (self.percentile(p) for p in PERCENTILES)
        return LatencySummary(
            count=self.count,
            min=self.min,
            max=self.max,
            mean=self.mean,
            stddev=self.stddev,
            jitter=self.jitter,
            p50=p50,
            p95=p95,
            p99=p99,
            exact=self.exact,
        )


class LossStats:
    """Packet loss from sums of sent and received probes."""

    __slots__ = ("received", "sent")

    def __init__(self) -> None:
        self.sent = 0
        self.received = 0

    def add(self, sent: int, received: int) -> None:
        if sent < 0 or received < 0 or received > sent:
            raise ValueError(f"need 0 <= received <= sent, got sent={sent}, received={received}")
        self.sent += sent
        self.received += received

    def merge(self, other: LossStats) -> None:
        self.sent += other.sent
        self.received += other.received

    @property
    def lost(self) -> int:
        return self.sent - self.received

    @property
    def loss_pct(self) -> float | None:
        """(sent − received) / sent × 100; None when nothing was sent."""
        if not self.sent:
            return None
        return 100.0 * (self.sent - self.received) / self.sent

    def to_json(self) -> dict[str, Any]:
        return {"sent": self.sent, "received": self.received, "lost": self.lost, "loss_pct": self.loss_pct}
