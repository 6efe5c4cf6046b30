"""Bandwidth checks in the agent: config → probe settings, and the traffic budget around them.

The probe (``probes.bandwidth``) knows nothing of budgets or the store; the
budget (``agent.budget``) is pure bookkeeping. This module joins them: before
a check it asks the budget with the check's worst case, after it records what
really moved, and a refused check becomes a stored ``skipped`` row with the
reason, so a gap in bandwidth evidence is explained, never silent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, tzinfo
from typing import Any

from agent.budget import BudgetLimits, TrafficBudget, skipped_result
from agent.config import BandwidthCheck, Settings, Target
from agent.core.result import ProbeResult, utcnow
from agent.core.times import from_us
from probes.bandwidth import KIND, BandwidthSettings, bandwidth_checks, planned_bytes


def settings_of(check: BandwidthCheck) -> BandwidthSettings:
    """The probe's settings from the config's check (same field names)."""
    fields = BandwidthSettings.__dataclass_fields__
    return BandwidthSettings(**{k: v for k, v in check.model_dump().items() if k in fields and v is not None})


DEFAULT_RMEM_MAX = 6 * 1024 * 1024  # Linux's default tcp_rmem maximum


def tcp_rmem_max(path: str = "/proc/sys/net/ipv4/tcp_rmem") -> int:
    try:
        with open(path) as f:
            return int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        return DEFAULT_RMEM_MAX


def worst_case_bytes(s: BandwidthSettings) -> int:
    """What one check may put on the wire: its byte cap plus what the cap cannot stop.

    A download stops counting at ``max_bytes``, but each stream may already have
    a receive window of data on the wire (at most ``tcp_rmem`` max) and one read
    past the cap; an upload may hand one chunk past it. The budget reserves
    that, so it is never exceeded; it records what the probe really counted.
    """
    if s.mode == "http_download":
        return planned_bytes(s) + s.streams * (tcp_rmem_max() + 64 * 1024)
    if s.mode == "http_upload":
        from probes.bandwidth_http import UPLOAD_CHUNKS

        return planned_bytes(s) + s.streams * UPLOAD_CHUNKS[-1]
    return planned_bytes(s)  # iperf3: max_bytes is the user's declared worst case per direction


def make_budget(settings: Settings) -> TrafficBudget:
    """Limits from ``[agent.budget]`` and each target's ``budget``, counted in the display zone."""
    per_target = {t.name: BudgetLimits.from_mb(t.budget.day_mb, t.budget.month_mb) for t in settings.targets}
    agent = BudgetLimits.from_mb(settings.agent.budget.day_mb, settings.agent.budget.month_mb)
    return TrafficBudget(per_target, agent, tz=settings.display_tz())


def seed_since(now: datetime, tz: tzinfo) -> datetime:
    """Start of the current calendar month in ``tz``, less a day: all the history a budget needs."""
    local = now.astimezone(tz)
    return datetime(local.year, local.month, 1, tzinfo=tz) - timedelta(days=1)


def seed_rows(rows: Iterable[tuple[str, int, int]]) -> Iterable[tuple[str, datetime, int]]:
    """The store's (target, ts_us, bytes) as the budget's (target, time, bytes)."""
    for name, ts_us, n in rows:
        yield name, from_us(ts_us), n


async def run_bandwidth(
    target: Target,
    check: BandwidthCheck,
    *,
    budget: TrafficBudget | None = None,
    clock: Callable[[], datetime] = utcnow,
    client: Any = None,
) -> list[ProbeResult]:
    """One bandwidth check: one result per direction, or one ``skipped`` result over budget."""
    s = settings_of(check)
    now = clock()
    if budget is not None:
        allowed, why = budget.allow(target.name, worst_case_bytes(s), now)
        if not allowed:
            return [skipped_result(KIND, why or "over traffic budget", now)]
    results = await bandwidth_checks(s, wall=clock, client=client)
    if budget is not None:
        for r in results:
            budget.record(target.name, int(r.figures.get("bytes_total") or 0), r.started_at)
    return results


__all__ = ["make_budget", "run_bandwidth", "seed_rows", "seed_since", "settings_of", "worst_case_bytes"]
