"""Which time the rounds cover, and which is "no data": the gap rule and the agent's runs.

Unknown is never "up": time between rounds further apart than ``gap_factor ×
interval``, and time outside the agent's runs, is NO_DATA, except where rounds
show the agent was in fact measuring on schedule (a heartbeat can lag behind the
last round).  ``Coverage`` is a cursor the streaming pass moves forward round by
round; it keeps only the no-data stretches found so far.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from reports.analysis.model import AgentRun

ZERO = timedelta(0)
MIN_TIME = datetime.min.replace(tzinfo=UTC)
MAX_TIME = datetime.max.replace(tzinfo=UTC)
_NEVER = (MAX_TIME, MAX_TIME)


def _run_end(run: AgentRun) -> datetime:
    """Where a run's measuring is known to end."""
    start = run.started_at
    if run.clean is True:
        return run.ended_at or run.last_seen or start
    if run.clean is False:
        return run.last_seen or start  # an unclean stop is known only to its last heartbeat
    return run.ended_at or MAX_TIME  # still running


def agent_down_stretches(runs: Sequence[AgentRun] | None) -> list[tuple[datetime, datetime]]:
    """The complement of the agent's runs, as sorted [a, b) stretches (None: runs not known, nothing down)."""
    if runs is None:
        return []
    ivs = sorted((run.started_at, end) for run in runs if (end := _run_end(run)) > run.started_at)
    down = []
    cursor = MIN_TIME
    for s, e in ivs:
        if s > cursor:
            down.append((cursor, s))
        if e > cursor:
            cursor = e
    if cursor < MAX_TIME:
        down.append((cursor, MAX_TIME))
    return down


class Coverage:
    """A cursor over the rounds' times: finds the no-data stretches between them.

    ``down_start`` is the start of the next stretch in which the runs table says
    the agent was not running (MAX_TIME when there is none); the pass need only
    call ``gap_before`` for a round when that is reached, or when the round does
    not follow the previous one within ``tol`` (the gap rule).
    """

    __slots__ = ("_down_end", "_downs", "_i", "down_start", "interval", "nodata", "tol")

    def __init__(self, runs: Sequence[AgentRun] | None, interval: timedelta, tol: timedelta) -> None:
        self.interval = interval
        self.tol = tol  # rounds further apart than this leave a gap
        self._downs = agent_down_stretches(runs)
        self._i = 0
        self.down_start, self._down_end = self._downs[0] if self._downs else _NEVER
        self.nodata: list[tuple[datetime, datetime]] = []

    def _next_down(self) -> None:
        self._i += 1
        self.down_start, self._down_end = self._downs[self._i] if self._i < len(self._downs) else _NEVER

    def gap_before(self, ts: datetime, prev: datetime | None) -> datetime | None:
        """The start of a no-data stretch ending at the round at ``ts`` (recorded), or None.

        ``prev`` is the previous round's time (its last, for a compressed run), None for the first round.
        Raises ValueError if rounds are not sorted by ts.
        """
        if prev is None:
            cov_end, gap = MIN_TIME, False
        else:
            d = ts - prev
            if d < ZERO:
                raise ValueError(f"rounds not sorted by ts: {ts.isoformat()} after {prev.isoformat()}")
            gap = d > self.tol
            cov_end = prev + self.interval if gap else ts
        if self.down_start <= ts:  # the agent's run table says it stopped somewhere here
            cov_end = self._through_downs(ts, cov_end, gap)
        if cov_end < ts:
            self.nodata.append((cov_end, ts))
            return cov_end
        return None

    def _through_downs(self, ts: datetime, cov_end: datetime, gap: bool) -> datetime:
        """Move past the down stretches up to ``ts``; the covered time ends where one starts."""
        while self._down_end <= ts:
            if self.down_start < cov_end:
                cov_end = self.down_start
            self._next_down()
        if self.down_start <= ts:
            # This round lies in a "not running" stretch: the round proves otherwise.
            if gap and self.down_start < cov_end:
                cov_end = self.down_start
            self.down_start = ts + self.interval
            if self.down_start >= self._down_end:
                self._next_down()
        return cov_end

    def end(self, prev: datetime | None) -> datetime | None:
        """Where data stops after the last round at ``prev`` (recorded), or None when there were no rounds."""
        if prev is None:
            self.nodata = [(MIN_TIME, MAX_TIME)]
            return None
        cov_end = prev + self.interval
        if self.down_start < cov_end:
            cov_end = self.down_start
        self.nodata.append((cov_end, MAX_TIME))
        return cov_end
