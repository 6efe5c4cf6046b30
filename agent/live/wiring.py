"""Joins the live parts to a daemon through its extension points (agent/services.py):
the incident tracker and the metrics observer see every round; the alert sender, the
metrics server and the start-up gap check run as services; the log lines and the alert
sender listen on one event bus.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from agent.config import Settings, Target
from agent.core.result import ProbeResult
from agent.core.times import from_us, to_us
from agent.live.alerts.dispatcher import AlertService
from agent.live.events import Bus, Event, Evidence, Kind
from agent.live.loglines import log_event
from agent.live.tracker import IncidentTracker
from agent.services import HeartbeatHook, RoundObserver, Service
from agent.store import Store
from agent.store.live import previous_run
from agent.writer import Writer

log = logging.getLogger(__name__)


class DaemonParts(Protocol):
    """What the live parts need of a daemon (agent/daemon.py's Daemon has it)."""

    settings: Settings
    store: Store
    clock: Callable[[], datetime]
    agent_id: int
    run_id: int | None
    observers: list[RoundObserver]
    services: list[Service]
    heartbeat_hooks: list[HeartbeatHook]
    writer: Writer


@dataclass
class Live:
    bus: Bus
    tracker: IncidentTracker
    alerts: AlertService | None
    metrics: Any  # agent.live.metrics.MetricsService, when on

    def evidence_taken(self, target: Target, about: str, result: ProbeResult) -> None:
        """The daemon took a traceroute for ``target``'s incident: quote it in the next messages."""
        self.tracker.add_evidence(target.name, Evidence("traceroute", result.started_at, about, traceroute_summary(result)))


def attach(d: DaemonParts, on_confirm: Callable[[Target, Sequence[ProbeResult]], None]) -> Live:
    settings = d.settings
    policy = settings.agent.alerting
    bus = Bus()
    bus.sinks.append(log_event)
    tracker = IncidentTracker(bus, open_after=settings.agent.open_after, still_down_every_min=policy.still_down_every_min,
                              cert_days=policy.cert_days, on_confirm=on_confirm)
    d.observers.append(tracker)
    resume_open_incidents(d, tracker)
    alerts = None
    if settings.agent.alerts:
        from agent.live.alerts.routes import Route
        from agent.store.alerts import AlertLog

        routes = [Route(i, r) for i, r in enumerate(settings.agent.alerts)]
        alerts = AlertService(settings, routes, AlertLog(d.store, d.agent_id), wall=d.clock)
        bus.sinks.append(alerts.sink)
        d.services.append(alerts)
    metrics = None
    if settings.agent.metrics.enabled:
        from agent.live.metrics import MetricsService

        metrics = MetricsService(d, tracker, alerts_waiting=(lambda: alerts.backlog) if alerts is not None else None)
        d.observers.append(metrics)
        d.services.append(metrics)
    if any(t.sla and not t.control for t in settings.targets):
        from agent.live.slawatch import SlaWatch

        watch = SlaWatch(settings, d.store, bus, d.clock)
        bus.sinks.append(watch.sink)
        d.services.append(watch)
    d.services.append(GapCheck(d, bus))
    return Live(bus, tracker, alerts, metrics)


def resume_open_incidents(d: DaemonParts, tracker: IncidentTracker) -> None:
    """Incidents the alert log says were confirmed and not yet recovered (the agent stopped or was killed
    in between): the tracker carries them on. ``since`` is the incident's start from its key (target:µs)."""
    from agent.store.alerts import AlertLog

    names = {t.name for t in d.settings.targets if not t.control}
    now = d.clock()
    for name, key, event_us in AlertLog(d.store, d.agent_id).open_incidents():
        if name not in names:
            continue
        tail = key.rpartition(":")[2]
        since = from_us(int(tail)) if tail.isdigit() else from_us(event_us)
        tracker.resume(name, since, now)
        log.info("incident of %s open since %s carried over from the previous run (alerted, not yet recovered)",
                 name, since.isoformat())


class GapCheck:
    """At start: was the agent not running for a while? Say so once (those times are no data in reports)."""

    name = "gap check"

    def __init__(self, d: DaemonParts, bus: Bus) -> None:
        self.d = d
        self.bus = bus

    async def start(self) -> None:
        if self.d.run_id is None:
            return
        prev = previous_run(self.d.store, self.d.agent_id, self.d.run_id)
        if prev is None:
            return
        end_us = prev.ended_us or prev.last_seen_us or prev.started_us
        now = self.d.clock()
        gap_s = (to_us(now) - end_us) / 1e6
        if gap_s > max(self.d.settings.agent.heartbeat_s, self.d.settings.agent.interval_s):
            self.bus.emit(Event(Kind.AGENT_GAP, now, since=from_us(end_us), until=now, key=f"gap:{end_us}",
                                figures={"previous_stop": "clean" if prev.stop == "clean" else "killed or crashed (no clean stop)"}))

    async def stop(self) -> None:
        return None


def traceroute_summary(result: ProbeResult) -> str:
    """'reached 203.0.113.5 in 9 hops' / 'stopped after hop 7 (last answer 198.51.100.1)'."""
    hops = result.figures.get("hops") or []
    answered = [h for h in hops if isinstance(h, dict) and h.get("address")]
    last = answered[-1] if answered else None
    if result.figures.get("reached"):
        return f"reached {result.figures.get('destination') or ''} in {len(hops)} hops".replace("  ", " ")
    if last is not None:
        return f"no answer from the target; last answer from {last.get('address')} at hop {last.get('ttl')} of {len(hops)}"
    return result.error or "no hop answered"
