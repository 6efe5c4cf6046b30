"""Delivery that never blocks probing: a queue per destination, retries with back-off, a rate
limit, de-duplication per incident, and one alert-log row for every alert sent or given up on.

The bus sink (:meth:`AlertService.sink`) runs on the event loop and only queues. A worker
task per destination composes the message (in a thread: it may read a preset file) and
sends it (in a thread: apprise blocks), so a slow or failing receiver delays nothing but
its own later messages, which keep their order (a "recovered" never overtakes its
"confirmed").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from agent.config import Settings
from agent.core.times import to_us, utcnow
from agent.live.alerts.messages import Message, compose
from agent.live.alerts.routes import Route, SendOutcome
from agent.live.alerts.ticket import service_info
from agent.live.events import Event, Kind
from agent.live.text import one_line
from agent.store.alerts import AlertLog, AlertRow

log = logging.getLogger(__name__)

ALERT_KINDS = frozenset({Kind.CONFIRMED, Kind.STILL_DOWN, Kind.RECOVERED, Kind.LOCAL_OUTAGE, Kind.LOCAL_RECOVERED, Kind.SLA_TIER,
                         Kind.CLAIM_DEADLINE, Kind.CERT_EXPIRY, Kind.BUDGET_REACHED})
# A local outage's end goes where its start went.
ROUTE_EVENT = {Kind.LOCAL_RECOVERED: "local_outage"}
QUEUE_MAX = 1000  # per destination; beyond it an alert is dropped (and logged as such)
DEDUP_MAX = 10_000
HOUR_S = 3600.0
STOP_DRAIN_S = 10.0
SLOW_FACTOR = 4  # a send slower than timeout_s is waited for this many times longer before it counts as failed


@dataclass(frozen=True, slots=True)
class _Item:
    event: Event
    queued_us: int
    key: str


def dedup_key(event: Event) -> str:
    """One alert per incident and kind; a 'still down' once per reminder."""
    extra = f":{event.failed_rounds}" if event.kind is Kind.STILL_DOWN else ""
    return f"{event.kind.value}:{event.key}{extra}"


class AlertService:
    """A :class:`agent.services.Service`; its :meth:`sink` joins the event bus."""

    name = "alerts"

    def __init__(self, settings: Settings, routes: list[Route], alert_log: AlertLog | None, *,
                 wall: Callable[[], datetime] = utcnow, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.routes = routes
        self.alert_log = alert_log
        self.wall = wall
        self.monotonic = monotonic
        self.policy = settings.agent.alerting
        self.tz = settings.display_tz()
        self._queues: dict[int, asyncio.Queue[_Item]] = {}
        self._seen: OrderedDict[tuple[int, str], None] = OrderedDict()
        self._sent_at: dict[int, deque[float]] = {r.index: deque() for r in routes}
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._side: set[asyncio.Task[None]] = set()
        self.sent = 0
        self.failed = 0
        self.dropped = 0

    # -- the bus sink (event loop; returns at once) -----------------------------------
    def sink(self, event: Event) -> None:
        if event.kind not in ALERT_KINDS:
            return
        wanted = ROUTE_EVENT.get(event.kind, event.kind.value)
        key = dedup_key(event)
        now_us = to_us(self.wall())
        for route in self.routes:
            if wanted not in route.events or not self._first(route.index, key):
                continue
            q = self._queues.get(route.index)
            item = _Item(event, now_us, key)
            if q is None or self._stop.is_set():
                self._side_record(route, item, None, "dropped", 0, "the alert sender is not running")
                continue
            try:
                q.put_nowait(item)
            except asyncio.QueueFull:
                self._side_record(route, item, None, "dropped", 0, f"more than {QUEUE_MAX} alerts waiting for this destination")

    def _first(self, index: int, key: str) -> bool:
        k = (index, key)
        if k in self._seen:
            return False
        self._seen[k] = None
        if len(self._seen) > DEDUP_MAX:
            self._seen.popitem(last=False)
        return True

    @property
    def backlog(self) -> int:
        return sum(q.qsize() for q in self._queues.values())

    # -- Service -------------------------------------------------------------------
    async def start(self) -> None:
        self._stop.clear()
        loop = asyncio.get_running_loop()
        for route in self.routes:
            self._queues[route.index] = asyncio.Queue(QUEUE_MAX)
            self._tasks.append(loop.create_task(self._worker(route), name=f"alerts:{route.name}"))
        if self.routes:
            log.info("alerts go to %d destination(s): %s", len(self.routes), ", ".join(r.name for r in self.routes))

    async def stop(self) -> None:
        """Deliver what is queued (no more waiting for back-off), then give up on the rest, recording each."""
        self._stop.set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=STOP_DRAIN_S)
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for route in self.routes:
            q = self._queues.get(route.index)
            while q is not None and not q.empty():
                await asyncio.to_thread(self._record, route, q.get_nowait(), None, "failed", 0, "the agent stopped before delivery")
        if self._side:
            await asyncio.wait(list(self._side), timeout=STOP_DRAIN_S)
        self._tasks = []

    # -- one destination's worker ----------------------------------------------------
    async def _worker(self, route: Route) -> None:
        q = self._queues[route.index]
        while True:
            if self._stop.is_set() and q.empty():
                return
            try:
                item = await asyncio.wait_for(q.get(), 0.5) if self._stop.is_set() else await q.get()
            except TimeoutError:
                return
            try:
                await self._deliver(route, item)
            except asyncio.CancelledError:
                await asyncio.to_thread(self._record, route, item, None, "failed", 0, "the agent stopped during delivery")
                raise

    async def _deliver(self, route: Route, item: _Item) -> None:
        msg = await asyncio.to_thread(self._compose, route, item.event)
        await self._rate_limit(route)
        delay = self.policy.retry_first_s
        attempts = 0
        outcome = SendOutcome(False, "not attempted")
        while True:
            attempts += 1
            outcome = await self._attempt(route, msg)
            if outcome.ok or attempts > self.policy.retries or self._stop.is_set():
                break
            log.warning("alert %s to %s failed (attempt %d, next in %.0f s): %s", item.event.kind.value, route.name,
                        attempts, delay, outcome.error)
            if await self._wait(delay):
                break
            delay = min(delay * 2, self.policy.retry_max_s)
        self._sent_at[route.index].append(self.monotonic())
        status = "sent" if outcome.ok else "failed"
        if outcome.ok:
            self.sent += 1
            log.info("alert sent: event=%s target=%s to=%s attempts=%d", item.event.kind.value, item.event.target or "-",
                     route.name, attempts)
        else:
            self.failed += 1
            log.warning("alert given up: event=%s target=%s to=%s attempts=%d error=%s", item.event.kind.value,
                        item.event.target or "-", route.name, attempts, outcome.error)
        await asyncio.to_thread(self._record, route, item, msg, status, attempts, outcome.error)

    async def _attempt(self, route: Route, msg: Message) -> SendOutcome:
        """One send. A slow one is waited for (up to SLOW_FACTOR × timeout_s) rather than retried beside
        itself: a retry while the first attempt may still get through would deliver the alert twice."""
        send = asyncio.ensure_future(asyncio.to_thread(route.send, msg.title, msg.body))
        try:
            return await asyncio.wait_for(asyncio.shield(send), self.policy.timeout_s)
        except TimeoutError:
            log.warning("alert to %s: no answer within %.0f s; still waiting for that attempt", route.name, self.policy.timeout_s)
        try:
            return await asyncio.wait_for(send, SLOW_FACTOR * self.policy.timeout_s)
        except TimeoutError:
            return SendOutcome(False, f"no answer within {(1 + SLOW_FACTOR) * self.policy.timeout_s:.0f} s")

    async def _rate_limit(self, route: Route) -> None:
        sent = self._sent_at[route.index]
        while True:
            now = self.monotonic()
            while sent and now - sent[0] >= HOUR_S:
                sent.popleft()
            if len(sent) < route.cfg.max_per_hour or self._stop.is_set():
                return
            wait = HOUR_S - (now - sent[0])
            log.warning("alerts to %s: %d sent in the last hour (max_per_hour); the next waits %.0f s", route.name, len(sent), wait)
            if await self._wait(wait):
                return

    async def _wait(self, seconds: float) -> bool:
        """Sleep, or return True at once when stopping."""
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except TimeoutError:
            return False
        return True

    # -- threads ---------------------------------------------------------------------
    def _compose(self, route: Route, event: Event) -> Message:
        info = service_info(self.settings, event.target, event.since) if event.target else None
        return compose(event, info, route.language, self.tz)

    def _record(self, route: Route, item: _Item, msg: Message | None, status: str, attempts: int, error: str | None) -> None:
        if status == "dropped":
            self.dropped += 1
            log.warning("alert dropped: event=%s target=%s to=%s: %s", item.event.kind.value, item.event.target or "-", route.name, error)
        if self.alert_log is None:
            return
        if msg is None:
            try:
                msg = self._compose(route, item.event)
            except Exception as e:  # the row matters more than its text
                msg = Message(item.event.kind.value, one_line(f"message not composed: {e}"))
        row = AlertRow(to_us(item.event.at), item.queued_us, to_us(self.wall()), item.event.kind.value, item.event.target, item.key,
                       route.name, route.language, status, attempts, one_line(error) if error else None, msg.title, msg.body)
        try:
            self.alert_log.add(row)
        except SQLAlchemyError as e:
            log.error("alert log row not written (%s): %s %s to %s", one_line(str(e), 200), status, item.event.kind.value, route.name)

    def _side_record(self, route: Route, item: _Item, msg: Message | None, status: str, attempts: int, error: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._record(route, item, msg, status, attempts, error)
            return
        task = loop.create_task(asyncio.to_thread(self._record, route, item, msg, status, attempts, error))
        self._side.add(task)
        task.add_done_callback(self._side.discard)
