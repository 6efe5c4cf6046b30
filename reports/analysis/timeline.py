"""Spans over a report period: painting intervals by precedence, totals, days.

The incident pass (reports/analysis/incidents.py) produces a few short interval lists
(no-data stretches, local stretches, incidents of each kind).  This module
turns them into the one thing the SLA engine and the charts consume: a list
of ``Span`` that tiles ``[period_start, period_end)`` exactly, contiguous,
without overlap, adjacent equal states merged.

Where intervals of different states overlap, the more cautious reading wins:
``NO_DATA`` > ``LOCAL`` > ``DOWN`` > ``PARTIAL`` > ``DEGRADED`` > ``UP``
(no data is never counted as anything else; time the agent's own network was
down is never charged to the provider).  Uncovered time is ``UP`` (the ground).

All datetimes are aware; output is normalised to UTC.  Durations are summed
as ``timedelta`` (exact to the microsecond) and converted to seconds last.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction

from reports.analysis.model import Span, State

UTC = UTC
ZERO = timedelta(0)

# Highest first.  UP is the ground and is not listed.
PRECEDENCE: tuple[State, ...] = (
    State.NO_DATA,
    State.LOCAL,
    State.DOWN,
    State.PARTIAL,
    State.DEGRADED,
)

Interval = tuple[datetime, datetime]


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds and a 'Z': '2026-11-03T02:00:00.000000Z'."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every time in a report must be aware (UTC)")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def paint(
    period_start: datetime,
    period_end: datetime,
    layers: Mapping[State, Iterable[Interval]],
    ground: State = State.UP,
) -> list[Span]:
    """Tile ``[period_start, period_end)`` with spans; overlaps resolved by PRECEDENCE.

    ``layers`` maps a state to half-open intervals (in any order, possibly
    overlapping each other, possibly reaching outside the period).
    """
    if period_end <= period_start:
        raise ValueError("period_end must be after period_start")
    p0 = period_start.astimezone(UTC)
    p1 = period_end.astimezone(UTC)
    rank = {state: i for i, state in enumerate(PRECEDENCE)}
    events: list[tuple[datetime, int, int]] = []
    for state, intervals in layers.items():
        if state is ground:
            continue
        r = rank[state]
        for a, b in intervals:
            a = max(a, p0)
            b = min(b, p1)
            if a < b:
                events.append((a.astimezone(UTC), r, 1))
                events.append((b.astimezone(UTC), r, -1))
    events.sort(key=lambda e: e[0])
    counts = [0] * len(PRECEDENCE)

    def current() -> State:
        for i, c in enumerate(counts):
            if c > 0:
                return PRECEDENCE[i]
        return ground

    spans: list[Span] = []
    cursor = p0
    i = 0
    n = len(events)
    while i < n:
        t = events[i][0]
        if t > cursor:
            _push(spans, cursor, t, current())
            cursor = t
        while i < n and events[i][0] == t:
            counts[events[i][1]] += events[i][2]
            i += 1
    if cursor < p1:
        _push(spans, cursor, p1, current())
    return spans


def _push(spans: list[Span], a: datetime, b: datetime, state: State) -> None:
    if spans and spans[-1].state is state and spans[-1].end == a:
        spans[-1] = Span(spans[-1].start, b, state)
    else:
        spans.append(Span(a, b, state))


def totals(spans: Iterable[Span]) -> dict[State, timedelta]:
    """Time per state (every state present as a key, zero if absent)."""
    out = dict.fromkeys(State, ZERO)
    for s in spans:
        out[s.state] += s.end - s.start
    return out


def overlap(spans: Sequence[Span], a: datetime, b: datetime, state: State) -> timedelta:
    """Time inside ``[a, b)`` that ``spans`` (sorted, tiling) put in ``state``."""
    total = ZERO
    lo, hi = 0, len(spans)
    while lo < hi:  # first span ending after a
        mid = (lo + hi) // 2
        if spans[mid].end <= a:
            lo = mid + 1
        else:
            hi = mid
    for s in spans[lo:]:
        if s.start >= b:
            break
        if s.state is state:
            x, y = max(s.start, a), min(s.end, b)
            if x < y:
                total += y - x
    return total


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One display-zone calendar day (clipped to the period).

    ``length_s`` is the real elapsed length (23 h or 25 h on DST change days).
    ``availability_pct`` is None when nothing was observed that day.
    """

    day: date
    start: datetime
    end: datetime
    availability_pct: float | None
    coverage_pct: float
    length_s: float
    observed_s: float
    downtime_s: float
    partial_s: float
    degraded_s: float
    local_s: float
    no_data_s: float

    def as_tuple(self) -> tuple[date, float | None, float]:
        """The (date, availability % or None, coverage %) triple charts take."""
        return (self.day, self.availability_pct, self.coverage_pct)

    def to_json(self) -> dict[str, object]:
        return {
            "date": self.day.isoformat(),
            "start": iso_utc(self.start),
            "end": iso_utc(self.end),
            "availability_pct": self.availability_pct,
            "coverage_pct": self.coverage_pct,
            "length_s": self.length_s,
            "observed_s": self.observed_s,
            "downtime_s": self.downtime_s,
            "partial_s": self.partial_s,
            "degraded_s": self.degraded_s,
            "local_s": self.local_s,
            "no_data_s": self.no_data_s,
        }


def day_bounds(period_start: datetime, period_end: datetime, tz: tzinfo) -> list[tuple[date, datetime, datetime]]:
    """Display-zone days overlapping the period: (date, start, end) in UTC, clipped."""
    out = []
    day = period_start.astimezone(tz).date()
    while True:
        d0 = _local_midnight(day, tz)
        d1 = _local_midnight(day + timedelta(days=1), tz)
        if d0 >= period_end:
            break
        a, b = max(d0, period_start.astimezone(UTC)), min(d1, period_end.astimezone(UTC))
        if a < b:
            out.append((day, a, b))
        day += timedelta(days=1)
    return out


def _local_midnight(day: date, tz: tzinfo) -> datetime:
    # Where midnight does not exist (a DST jump at 00:00), fold=0 resolves it to
    # the offset before the change; the next day uses the same rule, so days
    # still tile the time line without gaps or overlaps.
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def daily(spans: Sequence[Span], period_start: datetime, period_end: datetime, tz: tzinfo) -> list[DayFigures]:
    """Per-day figures from the spans (same definitions as the whole period)."""
    out = []
    for day, a, b in day_bounds(period_start, period_end, tz):
        per = {state: overlap(spans, a, b, state) for state in State}
        out.append(figures_for(day, a, b, per))
    return out


def figures_for(day: date, a: datetime, b: datetime, per: Mapping[State, timedelta]) -> DayFigures:
    length = b - a
    observed = length - per[State.NO_DATA] - per[State.LOCAL]
    return DayFigures(
        day=day,
        start=a,
        end=b,
        availability_pct=availability(observed, per[State.DOWN]),
        coverage_pct=coverage_pct(observed, length) if length > ZERO else 0.0,
        length_s=length.total_seconds(),
        observed_s=observed.total_seconds(),
        downtime_s=per[State.DOWN].total_seconds(),
        partial_s=per[State.PARTIAL].total_seconds(),
        degraded_s=per[State.DEGRADED].total_seconds(),
        local_s=per[State.LOCAL].total_seconds(),
        no_data_s=per[State.NO_DATA].total_seconds(),
    )


def pct_down(v: Fraction | None, places: int = 6) -> float | None:
    """A 0..1 ratio as a percentage truncated (never rounded up: 99.49999 must not print 99.5).

    A ratio above 0 keeps decimals to its first significant digit rather than become 0.0."""
    if v is None:
        return None
    scaled = math.floor(v * 100 * 10**places)
    while scaled == 0 and v > 0:
        places += 1
        scaled = math.floor(v * 100 * 10**places)
    return float(Decimal(scaled).scaleb(-places))


def observed_time(spans: Iterable[Span]) -> tuple[timedelta, timedelta]:
    """(observed time, length) of tiling spans: observed = neither NO_DATA nor LOCAL."""
    per = totals(spans)
    length = sum(per.values(), ZERO)
    return length - per[State.NO_DATA] - per[State.LOCAL], length


def coverage_pct(observed: timedelta, length: timedelta) -> float:
    """The one coverage of every document (docs/methods.md, "Coverage"): observed time / length × 100,
    truncated to 6 decimals. Observed time is the time the target's own state was seen: neither no
    data nor the agent's own network outage (local). The SLA section's coverage is this same figure."""
    us = timedelta(microseconds=1)
    ratio = Fraction(observed // us, length // us)
    return pct_down(ratio) or 0.0


def availability(observed: timedelta, down: timedelta) -> float | None:
    """(observed − down) / observed × 100, None when nothing was observed."""
    if observed <= ZERO:
        return None
    pct = 100.0 * ((observed - down) / observed)
    return min(100.0, max(0.0, pct))
