"""Traffic budget for bandwidth checks: never let the agent eat the user's quota.

A rented machine often has a monthly transfer allowance; a bandwidth check
moves up to its byte cap each time. Before each check the scheduler asks
:meth:`TrafficBudget.allow` with the check's worst case (its byte cap, see
``probes.bandwidth.planned_bytes``); after it, :meth:`TrafficBudget.record`
adds what it really moved. At start the store's bandwidth rows are fed to
:meth:`TrafficBudget.seed`, so a restart does not reset the count.

Budgets exist per target and for the whole agent, each per day and per
month (calendar days/months in the configured time zone, UTC by default).
A check is allowed only if, for every budget that applies, what is used plus
the worst case stays within the limit. A refused check is stored as a
``skipped`` result (:func:`skipped_result`), not as a failure of the target.

Pure: no clock of its own, every method takes the time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from agent.core.result import SKIPPED, ProbeResult

MB = 1_000_000  # budgets are configured in MB (10^6 bytes), like provider quotas


@dataclass(frozen=True, slots=True)
class BudgetLimits:
    """Bytes allowed per calendar day and per calendar month; None = no limit."""

    day_bytes: int | None = None
    month_bytes: int | None = None

    @classmethod
    def from_mb(cls, day_mb: float | None = None, month_mb: float | None = None) -> BudgetLimits:
        return cls(
            day_bytes=None if day_mb is None else int(day_mb * MB),
            month_bytes=None if month_mb is None else int(month_mb * MB),
        )

    def __post_init__(self) -> None:
        for v in (self.day_bytes, self.month_bytes):
            if v is not None and v < 0:
                raise ValueError("budget limits must be ≥ 0")


AGENT = "*agent*"  # the key of the agent-wide totals


def _mb(n: int) -> str:
    return f"{n / MB:,.1f} MB"


def _aware(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError("budget times must be timezone-aware")
    return t


class TrafficBudget:
    """Bytes used per (target, day) and (target, month), and agent-wide."""

    def __init__(
        self,
        per_target: Mapping[str, BudgetLimits] | None = None,
        agent: BudgetLimits | None = None,
        *,
        tz: tzinfo = UTC,
    ) -> None:
        self._limits = dict(per_target or {})
        self._agent = agent or BudgetLimits()
        self._tz = tz
        self._day: defaultdict[tuple[str, date], int] = defaultdict(int)
        self._month: defaultdict[tuple[str, tuple[int, int]], int] = defaultdict(int)

    # -- periods -------------------------------------------------------------
    def _day_key(self, t: datetime) -> date:
        return _aware(t).astimezone(self._tz).date()

    def _month_key(self, t: datetime) -> tuple[int, int]:
        d = self._day_key(t)
        return d.year, d.month

    def _next_day(self, t: datetime) -> datetime:
        d = self._day_key(t) + timedelta(days=1)
        return datetime(d.year, d.month, d.day, tzinfo=self._tz)

    def _next_month(self, t: datetime) -> datetime:
        y, m = self._month_key(t)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return datetime(y, m, 1, tzinfo=self._tz)

    # -- bookkeeping -----------------------------------------------------------
    def record(self, target: str, bytes_used: int, at: datetime) -> None:
        """Add traffic a check really moved (its ``bytes_total``), at its start time."""
        if bytes_used < 0:
            raise ValueError("bytes_used must be ≥ 0")
        if target == AGENT:
            raise ValueError(f"{AGENT!r} is reserved")
        day, month = self._day_key(at), self._month_key(at)
        for key in (target, AGENT):
            self._day[(key, day)] += bytes_used
            self._month[(key, month)] += bytes_used

    def seed(self, history: Iterable[tuple[str, datetime, int]]) -> None:
        """Load past usage, e.g. the stored bandwidth rows' (target, started_at, bytes_total)."""
        for target, at, n in history:
            self.record(target, n, at)

    def used(self, target: str | None, now: datetime) -> tuple[int, int]:
        """(bytes today, bytes this month) for a target, or for the agent when None."""
        key = AGENT if target is None else target
        return self._day[(key, self._day_key(now))], self._month[(key, self._month_key(now))]

    # -- the decision ----------------------------------------------------------
    def allow(self, target: str, planned_bytes: int, now: datetime) -> tuple[bool, str | None]:
        """Whether a check that may move ``planned_bytes`` fits every budget; else why not."""
        if planned_bytes < 0:
            raise ValueError("planned_bytes must be ≥ 0")
        tz_name = getattr(self._tz, "key", None) or str(self._tz)
        checks = (
            (f"target {target!r}", self._limits.get(target, BudgetLimits()), target),
            ("agent-wide", self._agent, AGENT),
        )
        for label, limits, key in checks:
            used_day, used_month = self.used(None if key == AGENT else key, now)
            for period, limit, used, resets in (
                ("daily", limits.day_bytes, used_day, self._next_day(now)),
                ("monthly", limits.month_bytes, used_month, self._next_month(now)),
            ):
                if limit is None or used + planned_bytes <= limit:
                    continue
                left = max(0, limit - used)
                return False, (
                    f"{label} {period} traffic budget: {_mb(used)} of {_mb(limit)} used, "
                    f"{_mb(left)} left, the check may move up to {_mb(planned_bytes)} "
                    f"(resets {resets:%Y-%m-%d %H:%M} {tz_name})"
                )
        return True, None


def skipped_result(kind: str, reason: str, now: datetime) -> ProbeResult:
    """The row stored for a check the budget refused: not a measurement, not a failure.

    ``ok`` is False because nothing was measured; ``error_class`` SKIPPED tells
    the analysis not to count it against the target.
    """
    return ProbeResult(kind=kind, started_at=_aware(now), ok=False,
                       figures={"skipped": True}, error_class=SKIPPED, error=reason)
