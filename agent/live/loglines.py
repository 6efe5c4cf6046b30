"""One INFO line per event, in journald-friendly form: a short phrase, then key=value pairs.

No line breaks (one journal record per event), times in UTC ISO 8601 (unambiguous in a
log that outlives time-zone changes), durations in words a person reads, secrets masked.
"""

from __future__ import annotations

import logging
from datetime import datetime

from agent.core.times import iso_dt
from agent.live.events import Event, Kind
from agent.live.text import one_line

log = logging.getLogger("slaproof.events")

PHRASES: dict[Kind, str] = {
    Kind.OPENED: "failed round: incident possible",
    Kind.BLIP: "recovered before an incident opened",
    Kind.CONFIRMED: "incident confirmed",
    Kind.STILL_DOWN: "still down",
    Kind.RECOVERED: "incident closed",
    Kind.LOCAL_OUTAGE: "local outage: every control target down (the agent's own network; not charged to providers)",
    Kind.LOCAL_RECOVERED: "local outage over",
    Kind.AGENT_GAP: "agent gap found at start: no measurements in this time (no data in reports)",
    Kind.BUDGET_REACHED: "traffic budget reached: bandwidth checks skipped",
    Kind.CERT_EXPIRY: "certificate expiring",
    Kind.SLA_TIER: "SLA credit tier close",
    Kind.CLAIM_DEADLINE: "claim deadline approaching for an unclaimed breach",
}
WARNING_KINDS = frozenset({Kind.LOCAL_OUTAGE, Kind.AGENT_GAP})


def duration_text(seconds: float) -> str:
    """'45s', '12m 5s', '3h 2m', '2d 4h': exact enough to read, short enough for a line."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def _value(v: str) -> str:
    v = one_line(v)
    return f'"{v}"' if (not v or any(c in v for c in ' "=')) else v


def line(event: Event) -> str:
    """The whole log message of one event."""
    pairs: list[tuple[str, str]] = [("event", event.kind.value)]
    if event.target is not None:
        pairs.append(("target", event.target))
    if event.incident_kind and event.kind not in (Kind.LOCAL_OUTAGE, Kind.LOCAL_RECOVERED):
        pairs.append(("kind", event.incident_kind))
    if event.since is not None:
        pairs.append(("since", _t(event.since)))
    if event.until is not None:
        pairs.append(("until", _t(event.until)))
    if event.duration_s is not None and event.kind is not Kind.OPENED:
        pairs.append(("duration", duration_text(event.duration_s)))
    if event.failed_rounds and event.kind in (Kind.OPENED, Kind.BLIP, Kind.CONFIRMED, Kind.STILL_DOWN, Kind.RECOVERED):
        pairs.append(("failed_rounds", str(event.failed_rounds)))
    pairs += sorted(event.figures.items())
    if event.errors and event.kind in (Kind.OPENED, Kind.CONFIRMED, Kind.STILL_DOWN):
        pairs.append(("errors", "; ".join(event.errors)))
    if event.evidence and event.kind in (Kind.STILL_DOWN, Kind.RECOVERED):
        pairs.append(("evidence", "; ".join(f"{e.kind} {e.about}: {e.summary}" for e in event.evidence)))
    return one_line(PHRASES[event.kind] + ": " + " ".join(f"{k}={_value(v)}" for k, v in pairs), 2000)


def _t(moment: datetime) -> str:
    return iso_dt(moment)[:-8] + "Z"  # to the second: '2026-11-28T19:00:03Z'


def log_event(event: Event) -> None:
    """The bus sink."""
    log.log(logging.WARNING if event.kind in WARNING_KINDS else logging.INFO, "%s", line(event))
