"""The events the agent reports while it runs, and the bus that hands them to their sinks.

An event is a plain value: what happened, when, to which target, and the figures a log
line, an alert or a metric needs. The bus calls every sink on the event loop; a sink must
return at once (the alert sender only queues).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

log = logging.getLogger(__name__)


class Kind(enum.StrEnum):
    """Event kinds; the alert ones are the names `[[agent.alerts]] events` lists."""

    OPENED = "incident_opened"  # the first failed round (not yet an incident: open_after decides)
    BLIP = "blip"  # failed rounds that recovered before the incident was confirmed
    CONFIRMED = "incident_confirmed"
    STILL_DOWN = "still_down"
    RECOVERED = "recovered"
    LOCAL_OUTAGE = "local_outage"  # every control target down: the agent's own network
    LOCAL_RECOVERED = "local_recovered"
    AGENT_GAP = "agent_gap"  # found at start: the agent was not running
    BUDGET_REACHED = "budget_reached"
    CERT_EXPIRY = "cert_expiry"
    SLA_TIER = "sla_tier"
    CLAIM_DEADLINE = "claim_deadline"
    # Checkpoint and timestamp problems are logged by agent/proof/service.py itself, one WARNING line each.


@dataclass(frozen=True, slots=True)
class Evidence:
    """What was captured for an incident, as a message quotes it."""

    kind: str  # traceroute | response
    taken_at: datetime
    about: str  # the target (or control target) it is about
    summary: str  # one line: "12 hops, last answer from 203.0.113.1 (hop 7)", "HTTP 503 Service Unavailable"


@dataclass(frozen=True, slots=True)
class Event:
    kind: Kind
    at: datetime  # when it happened (the round's start, or now)
    target: str | None = None
    incident_kind: str | None = None  # outage | partial
    since: datetime | None = None  # first failed round of the incident (or the gap's start)
    until: datetime | None = None  # recovery: the first good round; a gap: the restart
    failed_rounds: int = 0
    errors: tuple[str, ...] = ()  # "icmp timeout", "http http_status: HTTP 503"
    evidence: tuple[Evidence, ...] = ()
    key: str = ""  # de-duplication: one incident, one local outage, one month's tier, one certificate
    figures: dict[str, str] = field(default_factory=dict)  # kind-specific: budget, days left, tier, deadline

    @property
    def duration_s(self) -> float | None:
        """Down so far (or in all, once recovered)."""
        if self.since is None:
            return None
        return max(0.0, ((self.until or self.at) - self.since).total_seconds())


Sink = Callable[[Event], None]


class Bus:
    """Hands each event to every sink; one failing sink never stops the others or the round."""

    def __init__(self) -> None:
        self.sinks: list[Sink] = []

    def emit(self, event: Event) -> None:
        for sink in self.sinks:
            try:
                sink(event)
            except Exception:  # a bug in a sink must not stop probing; say where
                log.exception("event sink %r failed on %s", sink, event.kind.value)
