"""Plain values the analysis works on; the store produces them, reports consume them.

Kept free of SQL and of I/O so that incident detection and SLA accounting are
pure functions that can be tested with synthetic timelines.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """One check's result inside a round (one stored measurement row)."""

    kind: str  # "icmp", "tcp", "http", "bandwidth", …
    ok: bool
    rtt_ms: float | None = None
    loss_pct: float | None = None
    status: int | None = None  # HTTP status, when there was one
    error_class: str | None = None
    row_id: int | None = None  # the measurement row, for evidence references


@dataclass(frozen=True, slots=True)
class Round:
    """One scheduled run of one target: every check it ran at that moment.

    ``ts`` is the scheduled time (UTC); rounds of one target are ``interval_s``
    apart when the agent is running.

    A run of ``count`` consecutive, unremarkable up rounds may arrive as one
    Round: ``checks`` describe the first, ``until`` is the last one's ts, and no
    two of them are further apart than the gap rule allows. Producers only
    compress rounds that cannot change any incident (see reports/build/summary.py);
    the analysis treats them exactly as the rounds they stand for.
    """

    target: str
    ts: datetime
    checks: tuple[CheckOutcome, ...]
    until: datetime | None = None
    count: int = 1


@dataclass(frozen=True, slots=True)
class AgentRun:
    """A period in which the agent was running (from the ``runs`` table)."""

    started_at: datetime
    ended_at: datetime | None  # None: still running, or killed (see last_seen)
    last_seen: datetime | None  # last heartbeat; bounds an unclean stop
    clean: bool | None  # True clean stop, False unclean, None still running


class State(str, enum.Enum):
    """What is known about a target over a stretch of time."""

    UP = "up"
    DOWN = "down"  # outage: every check failed
    PARTIAL = "partial"  # some checks failed
    DEGRADED = "degraded"  # answered, but past latency/loss thresholds
    LOCAL = "local"  # the agent's own network was down (control targets failed too)
    NO_DATA = "no_data"  # agent not running or rounds missing: neither up nor down


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open interval [start, end) in one state."""

    start: datetime
    end: datetime
    state: State

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()
