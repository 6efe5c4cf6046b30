"""The streaming pass over one target's rounds: each round read once, in time order.

Memory is proportional to the incidents and no-data stretches, never to the
rounds.  Most rounds are UP while nothing is going on; ``feed`` handles those in
a few comparisons (the hot path of a report over months of rounds) and hands
everything else to named steps: coverage (no data), a round that failed or was
slow (``_eventful``), local (the agent's own network) or the provider's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from reports.analysis.control import LocalWindows, Stretch
from reports.analysis.coverage import ZERO, Coverage
from reports.analysis.incident_tracker import Building, Tracker, see_round
from reports.analysis.incident_types import LOCAL, NO_DATA, IncidentPolicy
from reports.analysis.model import AgentRun, Round, State
from reports.analysis.severity import DOWN, MISSING, NO_EVIDENCE, PARTIAL, SLOW, UP, Evidence, RoundClassifier


class IncidentPass:
    """State of the pass: the trackers, the coverage cursor, local outages and round counts.

    ``seg_prev`` is the last observed provider round since a break (None after
    one; ``seg_reason`` says which), ``local_prev`` the last observed round since
    no data: they bound the incidents that start next.  While nothing is going
    on (not busy) both equal the previous round's time, and ``feed`` keeps that
    in a local variable only, storing it when it leaves the hot path.
    """

    __slots__ = (
        "classifier",
        "coverage",
        "degraded",
        "down",
        "local",
        "local_prev",
        "locals",
        "p0",
        "p1",
        "partial",
        "rounds",
        "rounds_failed",
        "rounds_local",
        "rounds_skipped",
        "seg_prev",
        "seg_reason",
        "trackers",
        "windows",
    )

    def __init__(
        self,
        policy: IncidentPolicy,
        p0: datetime,
        p1: datetime,
        runs: Sequence[AgentRun] | None,
        control_down: Sequence[Stretch],
    ) -> None:
        interval = timedelta(seconds=policy.interval_s)
        merge_gap = timedelta(seconds=policy.merge_gap)
        self.p0, self.p1 = p0, p1
        self.classifier = RoundClassifier.of(policy)
        self.coverage = Coverage(runs, interval, timedelta(seconds=policy.interval_s * policy.gap_factor))
        self.windows = LocalWindows(control_down, interval, timedelta(seconds=policy.local_tolerance_s))
        # Local outages: opened by one local round, never merged (ended by any other round or by no data).
        self.local = Tracker(SLOW, 1, ZERO, p0, p1)
        self.locals = (self.local,)
        self.degraded = Tracker(SLOW, policy.degraded_rounds, merge_gap, p0, p1)
        self.partial = Tracker(PARTIAL, policy.open_after, merge_gap, p0, p1)
        self.down = Tracker(DOWN, policy.open_after, merge_gap, p0, p1)
        self.trackers = (self.degraded, self.partial, self.down)
        self.seg_prev: datetime | None = None
        self.seg_reason = NO_DATA
        self.local_prev: datetime | None = None
        self.rounds = self.rounds_failed = self.rounds_local = self.rounds_skipped = 0

    def feed(self, rounds: Iterable[Round]) -> None:
        """Read every round, then close what is open where the data stops."""
        classify = self.classifier.severity
        p0, p1 = self.p0, self.p1
        cov = self.coverage
        tol = cov.tol
        down_at = cov.down_start
        prev: datetime | None = None  # the last observed round (its last, for a compressed run)
        busy = False  # an incident, a run of failed rounds or a local outage is open
        n_rounds = n_skipped = 0
        for r in rounds:
            ts = r.ts
            sev = classify(r.checks)
            inp = p0 <= ts < p1
            if sev == MISSING:
                if inp:
                    n_skipped += 1
                continue  # nothing measured: the round counts as missing
            if inp:
                n_rounds += r.count
            if prev is None or down_at <= ts or not ZERO <= ts - prev <= tol:
                if not busy:
                    self._leave_hot_path(prev)
                    busy = True  # the rest of this round goes through the eventful step
                self._cover(ts, prev)
                down_at = cov.down_start
            last = r.until or ts  # a compressed run of up rounds ends at its last round
            if sev == UP and not busy:
                prev = last
                continue
            if not busy:
                self._leave_hot_path(prev)
            busy = self._eventful(r, sev, last, inp)
            prev = last
        self.rounds += n_rounds
        self.rounds_skipped += n_skipped
        self._end(prev)

    def _leave_hot_path(self, prev: datetime | None) -> None:
        self.seg_prev = self.local_prev = prev

    def _cover(self, ts: datetime, prev: datetime | None) -> None:
        """Coverage between the previous round and this one: a no-data stretch stops everything."""
        gap = self.coverage.gap_before(ts, prev)
        if gap is not None:
            self._stop(gap, NO_DATA)
            self.seg_prev = self.local_prev = None
            self.seg_reason = NO_DATA

    def _stop(self, at: datetime, reason: str) -> None:
        for t in self.trackers:
            t.brk(at, reason)
        self.local.brk(at, reason)

    def _end(self, prev: datetime | None) -> None:
        at = self.coverage.end(prev)
        if at is not None:
            self._stop(at, NO_DATA)

    def _eventful(self, r: Round, sev: int, last: datetime, inp: bool) -> bool:
        """A round that is not UP, or any round while something is open; returns "still busy"."""
        ts = r.ts
        if sev == UP:
            evidence = NO_EVIDENCE
        else:
            evidence = self.classifier.evidence(r.checks, sev >= PARTIAL)
            if self.windows.next_start < ts and self.windows.covers(ts):
                self._local_round(ts, sev, inp, evidence)
                self.local_prev = last
                return True
        local = self.local
        if local.cur is not None or local.pending is not None:
            local.good(ts)
        if sev >= PARTIAL and inp:
            self.rounds_failed += 1
        see_round(self.trackers, sev, ts, self.seg_prev, self.seg_reason, evidence)
        self.seg_prev = ts
        if last is not ts and sev == UP:  # a run while an incident may still merge: its last round counts too
            for t in self.trackers:
                t.good(last)
            self.seg_prev = last
        self.local_prev = last
        widest = self.degraded  # fails on every round the others fail on: usually busy when any is
        return widest.cur is not None or not (widest.idle and self.partial.idle and self.down.idle and self.local.idle)

    def _local_round(self, ts: datetime, sev: int, inp: bool, evidence: Evidence) -> None:
        """A failed or slow round while every control target was down: the agent's own network."""
        if inp:
            self.rounds_local += 1
        for t in self.trackers:
            t.brk(ts, LOCAL)
        self.seg_prev = None
        self.seg_reason = LOCAL
        see_round(self.locals, sev, ts, self.local_prev, NO_DATA, evidence)

    def built(self) -> dict[State, list[Building]]:
        """The incidents found, by kind (in the order the report paints and lists them)."""
        return {
            State.DOWN: self.down.out,
            State.PARTIAL: self.partial.out,
            State.DEGRADED: self.degraded.out,
            State.LOCAL: self.local.out,
        }
