"""Figures gathered from the pass that feeds the incident analysis, so a report reads each row once.

Per target: the rows in the period, a 1 µs RTT histogram of the latency check kind (exact
percentiles), ICMP requests sent and answered, and for the SmokePing chart, per time bucket a
small logarithmic RTT histogram and the bucket's ICMP sent/answered. The chart state is fixed in
size whatever the period: buckets start one interval wide and double (neighbours merged) whenever
there are more than ``MAX_BUCKETS``, so a few minutes of data get fine buckets and a month gets
about 360–720; each bucket's histogram has at most a few hundred bins (32 per octave of µs, so a
percentile read from it is within 1.6 % of the true value: plot data only, never a printed figure).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.core.units import loss_pct

from reports.build.provenance import ImportedCounter
from reports.render.smokeping import SMOKE_QUANTILES, SmokeBucket

MAX_BUCKETS = 720  # the chart's buckets: doubled in width beyond this
SUB_BITS = 5  # 2**SUB_BITS bins per octave of RTT µs
_EXACT = 1 << (SUB_BITS + 1)  # below this many µs every µs is its own bin


def rtt_bin(us: int) -> int:
    """The log-histogram bin of an RTT in whole µs (32 bins per octave above 64 µs, each at most 1/32 of its lower bound wide)."""
    if us < _EXACT:
        return us
    e = us.bit_length()
    return _EXACT + (e - SUB_BITS - 2) * (1 << SUB_BITS) + ((us >> (e - SUB_BITS - 1)) - (1 << SUB_BITS))


def bin_bounds(b: int) -> tuple[float, float]:
    """[low, high) µs of a bin of :func:`rtt_bin`."""
    if b < _EXACT:
        return float(b), float(b + 1)
    j = b - _EXACT
    e = j // (1 << SUB_BITS) + SUB_BITS + 2
    m = j % (1 << SUB_BITS) + (1 << SUB_BITS)
    shift = e - SUB_BITS - 1
    return float(m << shift), float((m + 1) << shift)


def _bin_ms(b: int) -> float:
    lo, hi = bin_bounds(b)
    return (lo * hi) ** 0.5 / 1000.0 if lo > 0 else hi / 2000.0


def quantiles_of(hist: dict[int, int], n: int = SMOKE_QUANTILES) -> tuple[tuple[float, ...], float | None]:
    """``n`` nearest-rank quantiles (0 … 100 %) and the median, in ms, of a bucket's log histogram."""
    total = sum(hist.values())
    if not total:
        return (), None
    ranks = sorted((round((total - 1) * i / (n - 1)), i) for i in range(n))
    ranks.append(((total - 1) // 2, n))
    ranks.sort()
    out: list[float] = [0.0] * (n + 1)
    seen, k = 0, 0
    for b, c in sorted(hist.items()):
        seen += c
        while k < len(ranks) and ranks[k][0] < seen:
            out[ranks[k][1]] = _bin_ms(b)
            k += 1
    return tuple(out[:n]), out[n]


@dataclass
class Figures:
    rows: int
    hist_us: list[tuple[int, int]]  # (RTT µs, count), ascending
    sent: int
    received: int
    smoke: list[SmokeBucket]  # the chart's buckets that hold any latency sample or ICMP request, by time
    imported: dict[int, list[int]] = field(default_factory=dict)  # imported check id → [rows, first µs, last µs]


class Accumulator:
    """Called with each row of a target (a closure: this runs per row); ``figures()`` at the end."""

    def __init__(self, lat_ids: frozenset[int], icmp_ids: frozenset[int], p0_us: int, p1_us: int, bucket_us: int,
                 max_buckets: int = MAX_BUCKETS, imported: ImportedCounter | None = None, chart: bool = True) -> None:
        self.p0, self.p1, self.max_buckets = p0_us, p1_us, max_buckets
        self.size = [max(1, bucket_us)]
        self.counts = [0, 0, 0]  # rows, sent, received
        self.hist: dict[int, int] = {}
        self.buckets: dict[int, list[Any]] = {}  # bucket → [log histogram, samples, sent, received]
        self.imported = imported
        add = self._make(lat_ids, icmp_ids) if chart else self._make_plain(lat_ids, icmp_ids)
        self._add = imported.wrap(add) if imported is not None else add

    def __call__(self, row: tuple[Any, ...]) -> None:
        self._add(row)

    @property
    def add(self) -> Callable[[tuple[Any, ...]], None]:
        return self._add

    @property
    def rows(self) -> int:
        return self.counts[0]

    def _make(self, lat: frozenset[int], loss: frozenset[int]) -> Callable[[tuple[Any, ...]], None]:
        p0, p1, size = self.p0, self.p1, self.size
        counts, hist, buckets = self.counts, self.hist, self.buckets
        hist_get = hist.get
        exact, sub, top = _EXACT, SUB_BITS, 1 << SUB_BITS
        widen, most = self._widen, self.max_buckets
        cur: list[Any] = [None, None]  # the last bucket's key and state: rows come by time, so mostly the same

        def bucket(ts: int) -> list[Any]:
            key = (ts - p0) // size[0]
            if key == cur[0]:
                return cur[1]  # type: ignore[no-any-return]  # the cached bucket's state list
            b = buckets.get(key)
            if b is None:
                if len(buckets) >= most:
                    widen()
                    cur[0] = None
                    return bucket(ts)
                b = buckets[key] = [{}, 0, 0, 0]
            cur[0], cur[1] = key, b
            return b

        def add(row: tuple[Any, ...]) -> None:
            _, ts, _, cid, ok, rtt, sent, received = row[:8]
            if ts < p0 or ts >= p1:
                return
            counts[0] += 1
            timed = ok and rtt is not None and cid in lat
            lossy = sent and cid in loss
            if not (timed or lossy):
                return
            b = bucket(ts)
            if timed:
                us = rtt // 1000
                hist[us] = hist_get(us, 0) + 1
                if us < exact:
                    k = us
                else:
                    e = us.bit_length()
                    k = exact + (e - sub - 2) * top + ((us >> (e - sub - 1)) - top)
                h = b[0]
                h[k] = h.get(k, 0) + 1
                b[1] += 1
            if lossy:
                received = received or 0
                counts[1] += sent
                counts[2] += received
                b[2] += sent
                b[3] += received

        return add

    def _make_plain(self, lat: frozenset[int], loss: frozenset[int]) -> Callable[[tuple[Any, ...]], None]:
        """The figures without the chart's buckets (summary.json alone needs none)."""
        p0, p1, counts, hist = self.p0, self.p1, self.counts, self.hist
        hist_get = hist.get

        def add(row: tuple[Any, ...]) -> None:
            _, ts, _, cid, ok, rtt, sent, received = row[:8]
            if ts < p0 or ts >= p1:
                return
            counts[0] += 1
            if ok and rtt is not None and cid in lat:
                us = rtt // 1000
                hist[us] = hist_get(us, 0) + 1
            if sent and cid in loss:
                counts[1] += sent
                counts[2] += received or 0

        return add

    def _widen(self) -> None:
        """Double the bucket width, merging neighbours (keeps the state fixed in size)."""
        self.size[0] *= 2
        merged: dict[int, list[Any]] = {}
        for key, (h, n, s, r) in self.buckets.items():
            m = merged.get(key // 2)
            if m is None:
                merged[key // 2] = [dict(h), n, s, r]
                continue
            mh = m[0]
            for k, c in h.items():
                mh[k] = mh.get(k, 0) + c
            m[1] += n
            m[2] += s
            m[3] += r
        self.buckets.clear()
        self.buckets.update(merged)

    def smoke(self) -> list[SmokeBucket]:
        size = self.size[0]
        out = []
        for key, (h, n, sent, received) in sorted(self.buckets.items()):
            q, median = quantiles_of(h)
            start = self.p0 + key * size
            out.append(SmokeBucket(start, min(start + size, self.p1), q, median,
                                   loss_pct(sent, received), n))
        return out

    def figures(self) -> Figures:
        rows, sent, received = self.counts
        return Figures(rows, sorted(self.hist.items()), sent, received, self.smoke(),
                       self.imported.seen if self.imported is not None else {})
