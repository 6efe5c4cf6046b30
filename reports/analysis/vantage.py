"""Outages seen from several vantage points: confirmed by a quorum, or seen from too few.

One target measured by several agents (vantage points) has one timeline per vantage, each
from :func:`reports.analysis.incidents.analyse_target` with that vantage's own runs and
control targets: its spans already say LOCAL where the vantage's own network was down and
NO_DATA where it was not measuring. This module reads those timelines side by side:

* A vantage is *down* at an instant when its span there is DOWN (an outage incident:
  every check failed, its control targets up). LOCAL, NO_DATA, PARTIAL, DEGRADED and UP
  are not down.
* ``quorum`` (default: a majority of the vantages that had data in the window, i.e.
  ``n // 2 + 1``) vantages down at the same instant *confirm* an outage there.
* A confirmed incident is a maximal stretch in which a quorum agreed; its ``start``/``end``
  are that stretch, ``earliest``/``latest`` the first and last sign of it from any vantage
  that saw it, and each vantage's own down stretch is listed (a ``Sight``).
* A down stretch of a vantage that meets no confirmed stretch is *unconfirmed* (seen from
  one vantage only, or from fewer than the quorum): a path or regional problem. Sights that
  overlap each other form one unconfirmed incident.
* The combined timeline (``FleetAnalysis.spans``, what the SLA counts by default) is DOWN
  exactly where a quorum agreed. Elsewhere it takes the best reading of the vantages that
  were measuring (UP > DEGRADED > PARTIAL: a problem seen from one place is not charged to the
  provider); where only unconfirmed-down vantages measured it is NO_DATA (unknown is never
  up); where none measured, LOCAL if one was cut off, else NO_DATA.

With one vantage and the default quorum (1), confirmed incidents are that vantage's own
outages and the combined timeline is its timeline: the single-agent reading is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from reports.analysis.model import Span, State

ZERO = timedelta(0)

# States in which a vantage was measuring the target with its own network up.
MEASURING = frozenset({State.UP, State.DOWN, State.PARTIAL, State.DEGRADED})
# Best reading first, for stretches no quorum confirmed.
_BEST_FIRST: tuple[State, ...] = (State.UP, State.DEGRADED, State.PARTIAL)

QUORUM_MAJORITY = "majority"  # the default rule: more than half of the vantages with data
QUORUM_FIXED = "fixed"  # a number set in the config


@dataclass(frozen=True, slots=True)
class VantageTimeline:
    """One vantage's spans for one target (from ``analyse_target``, in time order)."""

    vantage: str
    spans: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class Sight:
    """One vantage's own down stretch: its bounds of an incident."""

    vantage: str
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True, slots=True)
class FleetIncident:
    """An outage as the vantages saw it together.

    Confirmed: ``start``/``end`` bound the stretch a quorum agreed (``agreed_s`` of it had a
    quorum down; equal to end − start). Unconfirmed: they bound the sights, ``agreed_s`` is 0.
    """

    confirmed: bool
    start: datetime
    end: datetime
    earliest: datetime
    latest: datetime
    agreed_s: float
    sights: tuple[Sight, ...]

    @property
    def vantages(self) -> tuple[str, ...]:
        return tuple(sorted({s.vantage for s in self.sights}))


@dataclass(frozen=True, slots=True)
class VantageFigures:
    """One vantage's share of the window: what it measured and what it saw down."""

    vantage: str
    observed_s: float  # measuring, own network up
    down_s: float
    local_s: float
    no_data_s: float


@dataclass(frozen=True, slots=True)
class FleetAnalysis:
    """The vantages of one target read together over ``[start, end)``."""

    start: datetime
    end: datetime
    vantages: tuple[str, ...]
    with_data: tuple[str, ...]
    quorum: int
    quorum_rule: str
    incidents: tuple[FleetIncident, ...]
    spans: tuple[Span, ...]
    figures: tuple[VantageFigures, ...]

    @property
    def confirmed(self) -> tuple[FleetIncident, ...]:
        return tuple(i for i in self.incidents if i.confirmed)

    @property
    def unconfirmed(self) -> tuple[FleetIncident, ...]:
        return tuple(i for i in self.incidents if not i.confirmed)

    @property
    def confirmed_s(self) -> float:
        return sum(i.agreed_s for i in self.incidents)


def majority(n: int) -> int:
    """More than half of ``n`` (1 for 0 or 1 vantage)."""
    return max(1, n // 2 + 1)


def analyse_vantages(timelines: Sequence[VantageTimeline], start: datetime, end: datetime,
                     quorum: int | None = None) -> FleetAnalysis:
    """Classify every vantage's outages over ``[start, end)`` as confirmed or not (module doc).

    ``quorum`` None: a majority of the vantages that had data in the window. Pass the quorum
    of the report period when analysing a wider window, so both readings use one rule.
    """
    if end <= start:
        raise ValueError("the window must not be empty")
    if quorum is not None and quorum < 1:
        raise ValueError("quorum must be at least 1")
    tiled = {t.vantage: _tile(t.spans, start, end) for t in timelines}
    if len(tiled) != len(timelines):
        raise ValueError("each vantage may be given once")
    names = tuple(sorted(tiled))
    figures = tuple(_figures(v, tiled[v]) for v in names)
    with_data = tuple(f.vantage for f in figures if f.observed_s > 0)
    q = quorum if quorum is not None else majority(len(with_data))
    cuts = sorted({start, end} | {s.start for ss in tiled.values() for s in ss})
    cells = _cells(cuts, [tiled[v] for v in names])
    spans = _merge(Span(a, b, _combined(states, q)) for a, b, states in cells)
    agreed = [(s.start, s.end) for s in spans if s.state is State.DOWN]
    sights = sorted((Sight(v, s.start, s.end) for v in names for s in _runs(tiled[v], State.DOWN)),
                    key=lambda s: (s.start, s.end, s.vantage))
    incidents = _confirmed(agreed, sights) + _unconfirmed(agreed, sights)
    incidents.sort(key=lambda i: (i.start, not i.confirmed))
    return FleetAnalysis(start, end, names, with_data, q, QUORUM_MAJORITY if quorum is None else QUORUM_FIXED,
                         tuple(incidents), tuple(spans), figures)


def _tile(spans: Iterable[Span], start: datetime, end: datetime) -> list[Span]:
    """The spans clipped to the window, gaps filled with NO_DATA, equal neighbours merged."""
    out: list[Span] = []
    at = start
    for s in sorted(spans, key=lambda s: s.start):
        a, b = max(s.start, at), min(s.end, end)
        if b <= a:
            continue
        if a > at:
            out.append(Span(at, a, State.NO_DATA))
        out.append(Span(a, b, s.state))
        at = b
    if at < end:
        out.append(Span(at, end, State.NO_DATA))
    return _merge(out)


def _merge(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for s in spans:
        if out and out[-1].state is s.state and out[-1].end == s.start:
            out[-1] = Span(out[-1].start, s.end, s.state)
        else:
            out.append(s)
    return out


def _cells(cuts: Sequence[datetime], tilings: Sequence[Sequence[Span]]) -> list[tuple[datetime, datetime, tuple[State, ...]]]:
    """Each stretch between consecutive cuts with every vantage's state there."""
    idx = [0] * len(tilings)
    out = []
    for a, b in zip(cuts, cuts[1:]):
        states = []
        for k, tiling in enumerate(tilings):
            while tiling[idx[k]].end <= a:
                idx[k] += 1
            states.append(tiling[idx[k]].state)
        out.append((a, b, tuple(states)))
    return out


def _combined(states: Sequence[State], quorum: int) -> State:
    if sum(1 for s in states if s is State.DOWN) >= quorum:
        return State.DOWN
    for best in _BEST_FIRST:
        if best in states:
            return best
    if State.DOWN in states:
        return State.NO_DATA  # only vantages that saw it down, too few: unknown, not up
    return State.LOCAL if State.LOCAL in states else State.NO_DATA


def _runs(tiling: Sequence[Span], state: State) -> list[Span]:
    return [s for s in tiling if s.state is state]


def _overlaps(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> bool:
    return a0 < b1 and b0 < a1


def _confirmed(agreed: Sequence[tuple[datetime, datetime]], sights: Sequence[Sight]) -> list[FleetIncident]:
    out = []
    for a, b in agreed:
        seen = tuple(s for s in sights if _overlaps(s.start, s.end, a, b))
        out.append(FleetIncident(True, a, b, min(s.start for s in seen), max(s.end for s in seen),
                                 (b - a).total_seconds(), seen))
    return out


def _unconfirmed(agreed: Sequence[tuple[datetime, datetime]], sights: Sequence[Sight]) -> list[FleetIncident]:
    """Sights meeting no agreed stretch, grouped by overlap (``sights`` sorted by start)."""
    groups: list[list[Sight]] = []
    for s in sights:
        if any(_overlaps(s.start, s.end, a, b) for a, b in agreed):
            continue
        if groups and s.start < max(g.end for g in groups[-1]):
            groups[-1].append(s)
        else:
            groups.append([s])
    out = []
    for g in groups:
        a, b = min(s.start for s in g), max(s.end for s in g)
        out.append(FleetIncident(False, a, b, a, b, 0.0, tuple(g)))
    return out


def _figures(vantage: str, tiling: Sequence[Span]) -> VantageFigures:
    def total(states: frozenset[State]) -> float:
        return sum((s.end - s.start for s in tiling if s.state in states), ZERO).total_seconds()

    return VantageFigures(vantage, total(MEASURING), total(frozenset({State.DOWN})),
                          total(frozenset({State.LOCAL})), total(frozenset({State.NO_DATA})))
