"""Speaks before money is lost: counted downtime close to the next SLA credit tier this period,
and a breach whose claim deadline is near.

The SLA is evaluated by the report's own code (reports/build/summary.sla_result) over the
period so far, in a worker thread, only when downtime can have grown (an incident confirmed
or still down, for a target with an ``sla`` section), again when the margin would be used up
if the incident went on, and once a day for the claim deadlines of the period before.
The agent cannot know whether a claim was sent: it warns once per breached period.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from agent.config import Settings, Target
from agent.core.times import to_us
from agent.live.events import Bus, Event, Kind
from agent.live.loglines import duration_text
from agent.store import Store

log = logging.getLogger(__name__)

DAY_S = 86400.0
CLAIM_FIRST_S = 60.0
CLAIM_PAUSE_S = 1.0


@dataclass(frozen=True, slots=True)
class Limit:
    name: str  # "SLA target 99.9 %", "credit tier below 99.0 % (25 %)"
    down_s: float  # counted downtime at which it is crossed


def limits(uptime_target_pct: Decimal | None, tiers: list[tuple[Decimal, Decimal]], eligible_s: float) -> list[Limit]:
    """Where counted downtime crosses the SLA target and each credit tier (``tiers``: (lt %, credit %)), lowest first."""
    out = []
    if uptime_target_pct is not None and uptime_target_pct < 100:
        out.append(Limit(f"SLA target {uptime_target_pct} %", eligible_s * float(1 - uptime_target_pct / 100)))
    for lt, credit in tiers:
        out.append(Limit(f"credit tier below {lt} % ({credit} % credit)", eligible_s * float(1 - lt / 100)))
    return sorted(out, key=lambda lim: lim.down_s)


def next_limit(counted_s: float, lims: list[Limit]) -> Limit | None:
    return next((lim for lim in lims if lim.down_s > counted_s), None)


def eligible_s(res: Any, now: datetime) -> float:
    """The period's length the provider divides by, assuming the rest of the period is measured."""
    future = max(0.0, (res.period_end - max(now, res.period_start)).total_seconds())
    no_data_past = max(0.0, res.excluded.get("no_data", 0.0) - future)
    return float(res.period_s) - float(res.excluded.get("local", 0.0)) - float(no_data_past)


def coverage_can_reach(res: Any, now: datetime, min_pct: float) -> bool:
    """Can the period still reach the SLA's minimum coverage if the rest of it is measured?"""
    future = max(0.0, (res.period_end - max(now, res.period_start)).total_seconds())
    return bool(res.period_s > 0 and 100.0 * (float(res.known_s) + future) / float(res.period_s) >= min_pct)


class SlaWatch:
    """A Service and a bus sink."""

    name = "sla watch"

    def __init__(self, settings: Settings, store: Store, bus: Bus, wall: Callable[[], datetime]) -> None:
        self.settings = settings
        self.store = store
        self.bus = bus
        self.wall = wall
        self.policy = settings.agent.alerting
        self.targets = {t.name: t for t in settings.targets if t.sla and not t.control}
        self._said: set[str] = set()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._running: set[str] = set()
        self._one = asyncio.Semaphore(1)

    # -- bus sink (event loop) ------------------------------------------------------
    def sink(self, event: Event) -> None:
        if event.target not in self.targets:
            return
        if event.kind in (Kind.CONFIRMED, Kind.STILL_DOWN):
            self._spawn(self._tier_check(event.target))
        elif event.kind is Kind.RECOVERED:
            timer = self._timers.pop(event.target, None)
            if timer is not None:
                timer.cancel()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _tier_check(self, name: str) -> None:
        if name in self._running:
            return
        self._running.add(name)
        try:
            async with self._one:  # one evaluation at a time, even when many targets fail together
                found = await asyncio.to_thread(self._standing, self.targets[name])
        except Exception as e:  # the SLA figures are a courtesy here; the report computes them again
            log.warning("SLA standing of %s not computed: %s", name, e)
            return
        finally:
            self._running.discard(name)
        if found is None:
            return
        res, lim, counted = found
        left = lim.down_s - counted
        key = f"sla:{name}:{to_us(res.period_start)}:{lim.name}"
        if left <= self.policy.sla_margin_min * 60:
            if key not in self._said:
                self._said.add(key)
                tz = self.settings.display_tz()
                self.bus.emit(Event(Kind.SLA_TIER, self.wall(), name, key=key, figures={
                    "tier": lim.name, "counted": duration_text(counted), "limit": duration_text(lim.down_s),
                    "left": duration_text(max(0.0, left)), "period_start": f"{res.period_start.astimezone(tz):%Y-%m-%d %H:%M}",
                    "period_end": f"{res.period_end.astimezone(tz):%Y-%m-%d %H:%M}"}))
            return
        # If the incident goes on, the margin is reached in (left - margin): look again then.
        old = self._timers.pop(name, None)
        if old is not None:
            old.cancel()
        delay = left - self.policy.sla_margin_min * 60
        self._timers[name] = asyncio.get_running_loop().call_later(delay, lambda: self._spawn(self._tier_check(name)))

    def _standing(self, t: Target) -> tuple[Any, Limit, float] | None:
        from reports.analysis.sla import period_bounds
        from reports.build.summary import sla_result
        from reports.presets import resolve

        d = resolve(dict(t.sla or {}))
        now = self.wall()
        from zoneinfo import ZoneInfo

        p0, p1 = period_bounds(d, now.astimezone(ZoneInfo(d.period.timezone)).strftime("%Y-%m"))
        res = sla_result(self.settings, self.store, t, p0, p1, now)
        if not coverage_can_reach(res, now, float(d.no_data.min_coverage_pct)):
            return None  # the period's verdict will be "not enough data": no tier to warn of
        tiers = [(tier.lt, tier.credit_pct) for tier in d.credit.tiers] if d.credit.mode == "tiered" else []
        lim = next_limit(res.counted_downtime_s, limits(d.uptime_target_pct, tiers, eligible_s(res, now)))
        return (res, lim, float(res.counted_downtime_s)) if lim is not None else None

    # -- claim deadlines, once a day ---------------------------------------------------
    async def _claims(self) -> None:
        await asyncio.sleep(CLAIM_FIRST_S)  # not in the start-up burst
        while True:
            for t in list(self.targets.values()):
                await asyncio.sleep(CLAIM_PAUSE_S)  # one target at a time, spread out: the GIL is shared with the probes
                try:
                    ev = await asyncio.to_thread(self._claim_event, t)
                except Exception as e:
                    log.warning("claim deadline of %s not computed: %s", t.name, e)
                    continue
                if ev is not None and ev.key not in self._said:
                    self._said.add(ev.key)
                    self.bus.emit(ev)
            await asyncio.sleep(DAY_S)

    def _claim_event(self, t: Target) -> Event | None:
        from zoneinfo import ZoneInfo

        from reports.analysis.sla import period_bounds
        from reports.analysis.sla_result import Verdict
        from reports.build.summary import sla_result
        from reports.presets import resolve

        d = resolve(dict(t.sla or {}))
        now = self.wall()
        zone = ZoneInfo(d.period.timezone)
        this0, _ = period_bounds(d, now.astimezone(zone).strftime("%Y-%m"))
        p0, p1 = period_bounds(d, (this0 - timedelta(days=1)).astimezone(zone).strftime("%Y-%m"))
        res = sla_result(self.settings, self.store, t, p0, p1, now)
        if res.verdict != Verdict.BREACHED or res.claim_deadline is None or res.claim_deadline_passed:
            return None
        days_left = (res.claim_deadline - now.astimezone(zone).date()).days
        if days_left > self.policy.claim_days:
            return None
        tz = self.settings.display_tz()
        claim = d.claim
        return Event(Kind.CLAIM_DEADLINE, now, t.name, key=f"claim:{t.name}:{to_us(p0)}", figures={
            "deadline": res.claim_deadline.isoformat(), "provider": d.provider, "channel": claim.channel if claim else "",
            "detail": f"counted downtime {duration_text(res.counted_downtime_s)}",
            "period_start": f"{p0.astimezone(tz):%Y-%m-%d}", "period_end": f"{(p1 - timedelta(seconds=1)).astimezone(tz):%Y-%m-%d}"})

    # -- Service ---------------------------------------------------------------------
    async def start(self) -> None:
        if self.targets:
            self._spawn(self._claims())

    async def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
