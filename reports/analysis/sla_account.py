"""Downtime accounting: spans → outages → the provider's counted downtime.

Order (docs/sla.md explains each step): runs of down states → minus
maintenance → minus pieces below the minimum duration → clipped to the
period → counting windows. An outage is judged whole for the minimum
duration even when it crosses the period edge, so spans may reach past it.

A window found down is counted for its part in the time that can be charged
(:func:`chargeable_gaps`): never for time the target was not observed (no
data, unless the definition counts no data as down) nor for the agent's own
network outages. So counted downtime never exceeds the time with data, and
the uptime's numerator and denominator stand on the same time base.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from agent.core.times import US_PER_S, from_us, to_us
from reports.analysis.model import Span, State
from reports.analysis.sla_intervals import Interval, clip, overlap, overlap_sorted, per_bucket, subtract
from reports.analysis.sla_periods import maintenance_windows
from reports.analysis.sla_result import Outage
from reports.analysis.sla_terms import Counting, SlaDefinition

Piece = tuple[int, int, State]
NoDataRule = str  # "excluded" | "up" | "down" (NoData.rule)


@dataclass(frozen=True)
class Tiling:
    """The timeline as µs pieces tiling [lo, hi) ⊇ the period, with its maintenance and time per state."""

    p0: int
    p1: int
    pieces: list[Piece]
    maintenance: list[Interval]
    states: dict[State, int]  # µs per state inside the period


@dataclass
class Account:
    """Downtime accounting under one NO_DATA rule."""

    outages: list[Outage] = field(default_factory=list)
    qualifying: list[Interval] = field(default_factory=list)  # clipped to the period
    qualifying_whole: list[int] = field(default_factory=list)  # per counted outage, µs, unclipped
    qualifying_starts: list[int] = field(default_factory=list)
    counted_us: int = 0
    counted_windows: int = 0
    maintenance_us: int = 0
    below_min_us: int = 0
    unchargeable_us: int = 0  # time in down windows not counted: no data (unless counted down) or local


def tile(definition: SlaDefinition, spans: Iterable[Span], p0: int, p1: int) -> Tiling:
    """Spans as a gap-free timeline over the period (and past it where spans reach)."""
    pieces, lo, hi = _pieces(spans, p0, p1)
    return Tiling(p0, p1, pieces, maintenance_windows(definition, lo, hi), _state_us(pieces, p0, p1))


def _pieces(spans: Iterable[Span], lo: int, hi: int) -> tuple[list[Piece], int, int]:
    """Sorted spans as µs pieces; gaps (and the parts of the period no span covers) are NO_DATA."""
    raw = sorted(((to_us(s.start), to_us(s.end), State(s.state)) for s in spans), key=lambda t: (t[0], t[1]))
    _check_tiling(raw)
    if raw:
        lo, hi = min(lo, raw[0][0]), max(hi, raw[-1][1])
    out: list[Piece] = []
    cur = lo
    for s, e, st in raw:
        if s > cur:
            out.append((cur, s, State.NO_DATA))
        if e > s:
            out.append((s, e, st))
        cur = max(cur, e)
    if cur < hi:
        out.append((cur, hi, State.NO_DATA))
    return out, lo, hi


def _check_tiling(raw: list[Piece]) -> None:
    for a, b in zip(raw, raw[1:]):
        if b[0] < a[1]:
            raise ValueError(f"spans overlap at {from_us(b[0]).isoformat()}: spans must tile time without overlap")
    for s, e, _ in raw:
        if e < s:
            raise ValueError(f"span ends before it starts at {from_us(s).isoformat()}")


def _state_us(pieces: list[Piece], p0: int, p1: int) -> dict[State, int]:
    out = dict.fromkeys(State, 0)
    for s, e, st in pieces:
        iv = clip((s, e), p0, p1)
        if iv:
            out[st] += iv[1] - iv[0]
    return out


def account(definition: SlaDefinition, tiling: Tiling, rule: NoDataRule) -> Account:
    """Outages, qualifying downtime and counted windows, with NO_DATA counted as ``rule`` says."""
    c = definition.counting
    acc = Account()
    for run in _down_runs(tiling.pieces, {State(s) for s in c.down_states}, rule):
        _judge_run(acc, run, c, tiling)
    _count_windows(acc, c, tiling, rule)
    return acc


def base_gaps(tiling: Tiling, rule: NoDataRule) -> list[Interval]:
    """Time inside the period that is not in the uptime's base: LOCAL, and NO_DATA when excluded."""
    left_out = {State.LOCAL} | ({State.NO_DATA} if rule == "excluded" else set())
    return _gaps(tiling, left_out)


def chargeable_gaps(tiling: Tiling, rule: NoDataRule) -> list[Interval]:
    """Time inside the period that can never be counted down: LOCAL, and NO_DATA unless counted down."""
    left_out = {State.LOCAL} | ({State.NO_DATA} if rule != "down" else set())
    return _gaps(tiling, left_out)


def _gaps(tiling: Tiling, states: set[State]) -> list[Interval]:
    out: list[Interval] = []
    for s, e, st in tiling.pieces:
        iv = clip((s, e), tiling.p0, tiling.p1) if st in states else None
        if iv is None:
            continue
        if out and out[-1][1] == iv[0]:
            out[-1] = (out[-1][0], iv[1])
        else:
            out.append(iv)
    return out


def _down_runs(pieces: list[Piece], down_states: set[State], rule: NoDataRule) -> list[Interval]:
    """Consecutive down pieces joined into runs (LOCAL and, unless counted down, NO_DATA break them)."""
    runs: list[Interval] = []
    for s, e, st in pieces:
        if not (st in down_states or (st is State.NO_DATA and rule == "down")):
            continue
        if runs and runs[-1][1] == s:
            runs[-1] = (runs[-1][0], e)
        else:
            runs.append((s, e))
    return runs


def _judge_run(acc: Account, run: Interval, c: Counting, tiling: Tiling) -> None:
    """One outage: maintenance cut out, pieces below the minimum set aside, the rest qualifies."""
    p0, p1 = tiling.p0, tiling.p1
    in_period = clip(run, p0, p1)
    if in_period is None:
        return
    maint_us = overlap(in_period, tiling.maintenance)
    acc.maintenance_us += maint_us
    min_us = c.min_outage_s * US_PER_S
    counted_here = whole = 0
    short_all = True
    for piece in subtract(run, tiling.maintenance):
        length = piece[1] - piece[0]
        clipped = clip(piece, p0, p1)
        short = length <= min_us if c.min_outage_strict else length < min_us
        if short:
            acc.below_min_us += clipped[1] - clipped[0] if clipped else 0
            continue
        short_all = False
        whole += length
        if clipped:
            acc.qualifying.append(clipped)
            counted_here += clipped[1] - clipped[0]
    if counted_here:
        acc.qualifying_whole.append(whole)
        acc.qualifying_starts.append(run[0])
    acc.outages.append(
        Outage(
            start=from_us(run[0]),
            end=from_us(run[1]),
            duration_s=(run[1] - run[0]) / US_PER_S,
            in_period_s=(in_period[1] - in_period[0]) / US_PER_S,
            counted_s=counted_here / US_PER_S,
            maintenance_s=maint_us / US_PER_S,
            below_minimum=short_all and maint_us < in_period[1] - in_period[0],
        )
    )


def _count_windows(acc: Account, c: Counting, tiling: Tiling, rule: NoDataRule) -> None:
    """Windows aligned to the period start; a window is down per ``window_down_when``, judged on its
    part in the uptime's base, and counted for its chargeable part (see the module docstring).

    A window wholly inside one qualifying interval lies wholly in both (qualifying time is never
    LOCAL, and NO_DATA only when counted down), so it counts whole without a look at the gaps.
    """
    p0, p1 = tiling.p0, tiling.p1
    size = c.window_s * US_PER_S
    partial, full_n, full_us = per_bucket(acc.qualifying, p0, size, p1)
    acc.counted_windows, acc.counted_us = full_n, full_us
    if not partial:
        return
    outside_base = base_gaps(tiling, rule)
    not_chargeable = chargeable_gaps(tiling, rule)
    for k, down in partial.items():
        w = (p0 + k * size, min(p0 + (k + 1) * size, p1))
        wlen = w[1] - w[0]
        if _window_down(c.window_down_when, down, wlen - overlap_sorted(w, outside_base)):
            gap = overlap_sorted(w, not_chargeable)
            acc.counted_windows += 1
            acc.counted_us += wlen - gap
            acc.unchargeable_us += gap


def _window_down(when: str, down: int, base: int) -> bool:
    """Whether a window with ``down`` µs of qualifying downtime in ``base`` µs of the uptime's base is down."""
    if down <= 0:
        return False
    if when == "any":
        return True
    if when == "all":
        return down >= base
    return when == "majority" and 2 * down > base
