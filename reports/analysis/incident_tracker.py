"""Runs of failed rounds becoming incidents: opening, closing, merging and blips.

One ``Tracker`` per incident kind (outage, partial, degraded) follows the rounds
of the streaming pass; a ``Building`` is an incident (or a run of failed rounds
that may become one) while it grows.  Kept apart from the pass so that the
open/close/merge rules read in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reports.analysis.incident_types import OBSERVED
from reports.analysis.severity import ErrorKey, Evidence


@dataclass(slots=True, eq=False)
class Building:
    """An incident (or a run of failed rounds that may become one) being built.

    ``errors`` is keyed by the round's tuple of error classes (one dict update
    per round); it is expanded to per-class counts when the incident is finished.
    Rounds are added to it in one place, ``see_round``.
    """

    first_ts: datetime
    last_good_before: datetime | None
    start_bound: str
    errors: dict[ErrorKey, int]
    first_row: int | None
    last_row: int | None
    last_ts: datetime = field(init=False)
    end: datetime | None = None
    first_good_after: datetime | None = None
    end_bound: str = OBSERVED
    rounds: int = 1  # failed rounds (while not opened: the length of the run)
    good_inside: int = 0
    opened: bool = False

    def __post_init__(self) -> None:
        self.last_ts = self.first_ts

    @classmethod
    def first_round(cls, ts: datetime, last_good_before: datetime | None, start_bound: str, evidence: Evidence) -> Building:
        """A run started by one failed round."""
        errs, first_row, last_row = evidence
        return cls(ts, last_good_before, start_bound, {errs: 1}, first_row, last_row if last_row is not None else first_row)

    def close(self, at: datetime, first_good_after: datetime | None, bound: str) -> None:
        """Observation of the failure ends at ``at``: a good round there, or no more data."""
        self.end = at
        self.first_good_after = first_good_after
        self.end_bound = bound


def _add_counts(into: dict[ErrorKey, int], src: dict[ErrorKey, int]) -> None:
    for k, v in src.items():
        into[k] = into.get(k, 0) + v


class Tracker:
    """Open/close/merge logic for one incident kind (outage, partial, degraded; local with need 1, no merging).

    A run of ``need`` failed rounds opens an incident, dated back to its first
    round.  A closed incident stays ``pending`` while the next run may still
    merge into it (less than ``merge_gap`` of observed rounds later); the short
    runs and good rounds in between are kept "tentatively" and absorbed if it does.
    Failed rounds reach a tracker through ``see_round``.
    """

    __slots__ = (
        "blip_rounds",
        "blips",
        "cur",
        "level",
        "merge_gap",
        "need",
        "out",
        "p0",
        "p1",
        "pending",
        "tent_blip_rounds",
        "tent_blips",
        "tent_errors",
        "tent_good",
        "tent_rounds",
    )

    def __init__(self, level: int, need: int, merge_gap: timedelta, p0: datetime, p1: datetime) -> None:
        self.level = level  # a round of at least this severity is a failed round here
        self.need = need
        self.merge_gap = merge_gap
        self.p0 = p0
        self.p1 = p1
        self.cur: Building | None = None  # the current run of failed rounds (opened or not)
        self.pending: Building | None = None  # closed, but may still merge with the next one
        self._reset_tentative()
        self.blips = 0
        self.blip_rounds = 0
        self.out: list[Building] = []

    def _reset_tentative(self) -> None:
        # Short runs and good rounds after a pending incident: absorbed if it merges.
        self.tent_rounds = 0
        self.tent_errors: dict[ErrorKey, int] = {}
        self.tent_blips = 0
        self.tent_blip_rounds = 0
        self.tent_good = 0

    @property
    def idle(self) -> bool:
        return self.cur is None and self.pending is None

    def _in_period(self, b: Building) -> bool:
        return self.p0 <= b.first_ts < self.p1

    def _blip(self, b: Building) -> None:
        if self._in_period(b):
            self.blips += 1
            self.blip_rounds += b.rounds

    def _finalize_pending(self) -> None:
        p = self.pending
        assert p is not None
        self.out.append(p)
        self.blips += self.tent_blips
        self.blip_rounds += self.tent_blip_rounds
        self.pending = None
        self._reset_tentative()

    def _merge_expired(self, ts: datetime) -> bool:
        """True when the pending incident is too far behind ``ts`` to merge any more."""
        p = self.pending
        return p is not None and ts - p.end >= self.merge_gap  # type: ignore[operator]  # a pending incident has an end

    def start_run(self, ts: datetime, seg_prev: datetime | None, seg_reason: str, evidence: Evidence) -> Building:
        """A failed round after good ones; ``seg_prev`` is the last observed round before it (None after ``seg_reason``)."""
        if self._merge_expired(ts):
            self._finalize_pending()
        if seg_prev is None:
            b = Building.first_round(ts, None, seg_reason, evidence)
        else:
            b = Building.first_round(ts, seg_prev, OBSERVED, evidence)
        self.cur = b
        return b

    def open_run(self, b: Building) -> None:
        """The run is ``need`` rounds long: a new incident, or the continuation of the pending one."""
        p = self.pending
        if p is None:
            b.opened = True
            return
        # Merge: the pending incident absorbs the short runs and good rounds in between, and this run.
        p.rounds += self.tent_rounds + b.rounds
        p.good_inside += self.tent_good
        _add_counts(p.errors, self.tent_errors)
        _add_counts(p.errors, b.errors)
        p.last_ts = b.last_ts
        if b.last_row is not None:
            p.last_row = b.last_row
        if p.first_row is None:
            p.first_row = b.first_row
        p.end = None
        p.first_good_after = None
        p.opened = True
        self.cur = p
        self.pending = None
        self._reset_tentative()

    def good(self, ts: datetime) -> None:
        """A round at ``ts`` that is not a failed round for this kind."""
        b = self.cur
        if b is not None:
            self.cur = None
            if b.opened:
                b.close(ts, ts, OBSERVED)
                self.pending = b
                self._reset_tentative()
                self.tent_good = 1
                return
            self._short_run_ended(b)
        if self.pending is not None:
            if self._merge_expired(ts):
                self._finalize_pending()
            else:
                self.tent_good += 1

    def _short_run_ended(self, b: Building) -> None:
        """A run too short to open an incident: a blip, unless a pending incident may still absorb it."""
        if self.pending is None:
            self._blip(b)
            return
        self.tent_rounds += b.rounds
        _add_counts(self.tent_errors, b.errors)
        if self._in_period(b):
            self.tent_blips += 1
            self.tent_blip_rounds += b.rounds

    def brk(self, at: datetime, reason: str) -> None:
        """Observation stops at ``at`` (no data or local outage): close everything."""
        b = self.cur
        if self.pending is not None:
            self._finalize_pending()
        if b is not None:
            self.cur = None
            if b.opened:
                b.close(at, None, reason)
                self.out.append(b)
            else:
                self._blip(b)


def see_round(
    trackers: Sequence[Tracker],
    sev: int,
    ts: datetime,
    seg_prev: datetime | None,
    seg_reason: str,
    evidence: Evidence,
) -> None:
    """One round of severity ``sev``: a failed round for each tracker whose level it reaches, good for the others.

    The one place a failed round is added to a run (``evidence``: its error
    classes and first and last evidence row ids).  It loops over the trackers
    itself because it runs for every failed round of a long outage.
    """
    errs, r0, r1 = evidence
    for t in trackers:
        if sev < t.level:
            t.good(ts)
            continue
        b = t.cur
        if b is None:
            b = t.start_run(ts, seg_prev, seg_reason, evidence)
        else:
            b.last_ts = ts
            b.rounds += 1
            errors = b.errors
            errors[errs] = errors.get(errs, 0) + 1
            if b.first_row is None:
                b.first_row = r0
            if r1 is not None:
                b.last_row = r1
        if not b.opened and b.rounds >= t.need:
            t.open_run(b)
