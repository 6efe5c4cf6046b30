"""Performance terms (latency, loss, jitter, bandwidth) checked over a stream of samples.

Memory stays bounded whatever the sample count: per term, running sums, a
log-bucket histogram for p95 (relative error below 0.1 %), and per-window
aggregates (as many as windows in the period: 8,928 five-minute windows in a
31-day month).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from agent.core.times import US_PER_S, from_us, to_us
from reports.analysis.sla_terms import PerformanceTerm

BIN_RATIO = 1.001  # p95 histogram bins: a value v lands in bin floor(log(v)/log(1.001))
_LOG_RATIO = math.log(BIN_RATIO)
MAX_LISTED_WINDOWS = 200


@dataclass(frozen=True, slots=True)
class PerfSample:
    """One measured value; the caller feeds them in time order from the store."""

    ts: datetime
    metric: str  # rtt_ms | loss_pct | jitter_ms | bandwidth_mbps, or a host metric (reports/analysis/host.py)
    value: float


def _meets(value: float, comparator: str, threshold: float) -> bool:
    if comparator == "le":
        return value <= threshold
    if comparator == "lt":
        return value < threshold
    if comparator == "ge":
        return value >= threshold
    return value > threshold


@dataclass
class _Acc:
    term: PerformanceTerm
    n: int = 0
    total: float = 0.0
    meeting: int = 0
    zeros: int = 0
    bins: dict[int, int] = field(default_factory=dict)
    windows: dict[int, list[float]] = field(default_factory=dict)  # k -> [count, sum]

    def __post_init__(self) -> None:
        # Hoisted out of the per-sample path: a month of 10 s samples is ~270k calls per metric.
        self._thr = float(self.term.threshold)
        self._size = self.term.window_s * US_PER_S

    def add(self, us: int, value: float, p0: int) -> None:
        self.n += 1
        self.total += value
        if _meets(value, self.term.comparator, self._thr):
            self.meeting += 1
        if value <= 0:
            self.zeros += 1
        else:
            b = math.floor(math.log(value) / _LOG_RATIO)
            self.bins[b] = self.bins.get(b, 0) + 1
        w = self.windows.setdefault((us - p0) // self._size, [0, 0.0])
        w[0] += 1
        w[1] += value

    def p95(self) -> tuple[float, float]:
        """Bounds [lo, hi] of the nearest-rank 95th percentile."""
        rank = math.ceil(0.95 * self.n)
        seen = self.zeros
        if seen >= rank:
            return 0.0, 0.0
        for b in sorted(self.bins):
            seen += self.bins[b]
            if seen >= rank:
                return BIN_RATIO**b, BIN_RATIO ** (b + 1)
        raise AssertionError("rank beyond sample count")


@dataclass(frozen=True)
class PerfOutcome:
    term: PerformanceTerm
    samples: int
    measured: float | None
    measured_range: tuple[float, float] | None  # p95 histogram bounds
    met: bool | None  # None: no samples, or p95 too close to the threshold to call
    breaching_windows: list[dict[str, Any]]
    breaching_window_count: int

    def to_json(self, zone: ZoneInfo) -> dict[str, Any]:
        t = self.term
        return {
            "metric": t.metric,
            "statistic": t.statistic,
            "comparator": t.comparator,
            "threshold": float(t.threshold),
            "share_min_pct": None if t.share_min_pct is None else float(t.share_min_pct),
            "measured": self.measured,
            "measured_range": list(self.measured_range) if self.measured_range else None,
            "met": self.met,
            "samples": self.samples,
            "window_s": t.window_s,
            "breaching_window_count": self.breaching_window_count,
            "breaching_windows": [
                {**w, "start": w["start"].astimezone(zone).isoformat(), "end": w["end"].astimezone(zone).isoformat()}
                for w in self.breaching_windows
            ],
            "remedy": t.remedy,
            "confidence": t.confidence.value,
        }


def evaluate_performance(
    terms: Sequence[PerformanceTerm], samples: Iterable[PerfSample], *, p0: int, p1: int
) -> list[PerfOutcome]:
    """One pass over the samples for all terms; samples outside [p0, p1) are ignored."""
    if not terms:
        return []
    accs = [_Acc(t) for t in terms]
    by_metric: dict[str, list[_Acc]] = {}
    for a in accs:
        by_metric.setdefault(a.term.metric, []).append(a)
    for s in samples:
        targets = by_metric.get(s.metric)
        if not targets or s.value is None or math.isnan(s.value):
            continue
        us = to_us(s.ts)
        if not p0 <= us < p1:
            continue
        for a in targets:
            a.add(us, float(s.value), p0)
    return [_outcome(a, p0, p1) for a in accs]


def _outcome(a: _Acc, p0: int, p1: int) -> PerfOutcome:
    t = a.term
    thr = float(t.threshold)
    size = t.window_s * US_PER_S
    breaching = []
    for k in sorted(a.windows):
        count, total = a.windows[k]
        mean = total / count
        if not _meets(mean, t.comparator, thr):
            breaching.append(
                {
                    "start": from_us(p0 + k * size),
                    "end": from_us(min(p0 + (k + 1) * size, p1)),
                    "mean": mean,
                    "samples": int(count),
                }
            )
    measured: float | None = None
    rng: tuple[float, float] | None = None
    met: bool | None = None
    if a.n:
        if t.statistic == "mean":
            measured = a.total / a.n
            met = _meets(measured, t.comparator, thr)
        elif t.statistic == "share":
            measured = 100.0 * a.meeting / a.n
            met = measured >= float(t.share_min_pct or 0)
        elif t.statistic == "window_mean":
            measured = float(len(breaching))  # windows whose mean breaches the bound
            met = not breaching
        else:  # p95
            lo, hi = a.p95()
            rng, measured = (lo, hi), (lo + hi) / 2
            lo_ok, hi_ok = _meets(lo, t.comparator, thr), _meets(hi, t.comparator, thr)
            met = lo_ok if lo_ok == hi_ok else None
    return PerfOutcome(
        term=t,
        samples=a.n,
        measured=measured,
        measured_range=rng,
        met=met,
        breaching_windows=breaching[:MAX_LISTED_WINDOWS],
        breaching_window_count=len(breaching),
    )
