"""Control targets: when the agent's own network was down, and the "local" outages that follow.

The agent's own outage is not the provider's.  A control target is one the
provider does not run; when every control target was down at once, the fault is
near the agent.  ``control_down_intervals`` finds those stretches;
``LocalWindows`` tells the incident pass which rounds fall in them (it
tracks the LOCAL incidents they make like any other kind).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain

from reports.analysis.coverage import MAX_TIME, MIN_TIME
from reports.analysis.incident_types import IncidentPolicy
from reports.analysis.model import Round
from reports.analysis.severity import DOWN, MISSING, RoundClassifier

Stretch = tuple[datetime, datetime]
_NEVER = (MAX_TIME, MAX_TIME)


@dataclass(slots=True)
class _ControlDown:
    """One control target's down stretches, built round by round (memory: O(stretches))."""

    last_ts: datetime = MIN_TIME
    start: datetime | None = None  # the open stretch, if any
    end: datetime | None = None
    closed: list[Stretch] = field(default_factory=list)

    def down(self, ts: datetime, interval: timedelta) -> None:
        """A DOWN round at ``ts`` stands for ``[ts, ts + interval)``."""
        if self.start is not None and self.end is not None and ts <= self.end:
            self.end = max(self.end, ts + interval)
            return
        self.close()
        self.start, self.end = ts, ts + interval

    def close(self) -> None:
        if self.start is not None and self.end is not None:
            self.closed.append((self.start, self.end))
        self.start = self.end = None


def _flat(control_rounds: Iterable[Iterable[Round]] | Iterable[Round]) -> Iterable[Round]:
    """One iterable per control target, or one flat iterable of all their rounds, as one flat stream."""
    it = iter(control_rounds)
    first = next(it, None)
    if first is None:
        return ()
    if isinstance(first, Round):
        return chain((first,), it)  # type: ignore[arg-type]  # a flat stream: every item is a Round
    return chain.from_iterable(chain((first,), it))  # type: ignore[arg-type]  # one iterable per control


def control_down_intervals(
    control_rounds: Iterable[Iterable[Round]] | Iterable[Round],
    policy: IncidentPolicy,
) -> list[Stretch]:
    """Stretches ``[a, b)`` during which every control target was down.

    Accepts one iterable per control target, or one flat iterable of the
    rounds of all controls (grouped by ``Round.target``; each target's rounds
    sorted by ts).  A control's DOWN round (every non-skipped check failed)
    stands for ``[ts, ts + interval)``; the result is the intersection over
    the controls that sent any round.  Memory: O(down stretches).
    """
    interval = timedelta(seconds=policy.interval_s)
    classify = RoundClassifier().severity  # only DOWN matters here: thresholds would change nothing
    state: dict[str, _ControlDown] = {}
    name: str | None = None
    st = _ControlDown()
    for r in _flat(control_rounds):
        if r.target != name:  # rounds come grouped by target: look it up when it changes
            name = r.target
            st = state.setdefault(name, _ControlDown())
        ts = r.ts
        if ts < st.last_ts:
            raise ValueError(f"control rounds of {r.target!r} are not sorted by ts")
        st.last_ts = r.until or ts
        sev = classify(r.checks)
        if sev == DOWN:
            st.down(ts, interval)
        elif sev != MISSING and st.start is not None:  # nothing measured: neither down nor up; ends nothing
            st.close()
    per_target = []
    for st in state.values():
        st.close()
        per_target.append(st.closed)
    if not per_target:
        return []
    result = per_target[0]
    for other in per_target[1:]:
        result = _intersect(result, other)
    return result


def _intersect(xs: Sequence[Stretch], ys: Sequence[Stretch]) -> list[Stretch]:
    out = []
    i = j = 0
    while i < len(xs) and j < len(ys):
        a, b = max(xs[i][0], ys[j][0]), min(xs[i][1], ys[j][1])
        if a < b:
            out.append((a, b))
        if xs[i][1] < ys[j][1]:
            i += 1
        else:
            j += 1
    return out


class LocalWindows:
    """A cursor telling which rounds lie where the agent's own network was down.

    A round at ``ts`` is local when ``[ts, ts + interval)`` overlaps a control-down
    stretch widened by ``tolerance`` on both sides: each stretch becomes an open
    window ``(a − interval − tolerance, b + tolerance)`` for ts.  Rounds must be
    asked in time order.
    """

    __slots__ = ("_hi", "_i", "_wins", "next_start")

    def __init__(self, control_down: Sequence[Stretch], interval: timedelta, tolerance: timedelta) -> None:
        self._wins = self._merged(sorted((a - interval - tolerance, b + tolerance) for a, b in control_down if a < b))
        self._i = 0
        self.next_start, self._hi = self._wins[0] if self._wins else _NEVER  # no round before next_start is local

    @staticmethod
    def _merged(wins: Sequence[Stretch]) -> list[Stretch]:
        merged: list[Stretch] = []
        for a, b in wins:
            if merged and a < merged[-1][1]:
                if b > merged[-1][1]:
                    merged[-1] = (merged[-1][0], b)
            else:
                merged.append((a, b))
        return merged

    def covers(self, ts: datetime) -> bool:
        if not self.next_start < ts:
            return False
        while self._hi <= ts:
            self._i += 1
            self.next_start, self._hi = self._wins[self._i] if self._i < len(self._wins) else _NEVER
        return self.next_start < ts < self._hi
