"""What a message needs to know about a target beyond the event: the service, the provider's claim rule."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from agent.config import Settings, Target
from agent.core.errors import ConfigError
from agent.core.times import to_us
from reports.analysis.sla_claim import claim_deadline
from reports.analysis.sla_periods import period_bounds
from reports.analysis.sla_terms import SlaDefinition
from reports.presets import resolve

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ClaimRule:
    provider: str
    product: str
    counts_from_ticket: bool  # the provider counts downtime only from the ticket: send it now
    channel: str
    subject: str
    evidence: tuple[str, ...]
    deadline: date | None  # for an incident that started at the event's time
    uptime_target_pct: str | None


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    target: str
    address: str
    provider: str | None
    service_name: str | None
    service_id: str | None
    account_id: str | None
    claim: ClaimRule | None


def definition_of(target: Target) -> SlaDefinition | None:
    if not target.sla:
        return None
    try:
        return resolve(dict(target.sla))
    except ConfigError as e:  # checked at load; a preset file changed since: say so, send the alert anyway
        log.warning("target %s: its sla section no longer resolves (%s); alerts go without the claim rule", target.name, e)
        return None


def claim_rule(d: SlaDefinition, since: datetime) -> ClaimRule:
    zone = ZoneInfo(d.period.timezone)
    month = since.astimezone(zone).strftime("%Y-%m")
    p0, p1 = period_bounds(d, month)
    deadline = claim_deadline(d, [to_us(since)], to_us(p0), to_us(p1), zone)
    c = d.claim
    return ClaimRule(d.provider, d.product, d.counting.starts_at == "ticket", c.channel if c else "", c.subject if c else "",
                     tuple(c.evidence) if c else (), deadline,
                     None if d.uptime_target_pct is None else f"{d.uptime_target_pct}")


def service_info(settings: Settings, name: str, since: datetime | None) -> ServiceInfo | None:
    try:
        t = settings.target(name)
    except KeyError:
        return None
    d = definition_of(t)
    claim = claim_rule(d, since) if d is not None and since is not None else None
    return ServiceInfo(t.name, t.address, t.provider or (d.provider if d else None), t.service_name, t.service_id,
                       settings.agent.customer.account_id, claim)
