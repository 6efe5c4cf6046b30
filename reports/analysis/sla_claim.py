"""The claim deadline: the last day, in the SLA's zone, on which a credit claim is still in time.

Providers anchor it on the period's end, on the incident, or on the end of
the Nth billing cycle after the incident; a term not found gives no date.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from agent.core.times import from_us
from reports.analysis.sla_periods import add_months
from reports.analysis.sla_terms import SlaDefinition


def claim_deadline(d: SlaDefinition, incident_starts: list[int], p0: int, p1: int, zone: ZoneInfo) -> date | None:
    """The deadline for [p0, p1) whose counted outages started at ``incident_starts`` (µs)."""
    cl = d.claim
    if cl is None or cl.anchor == "unknown":
        return None
    one_day = timedelta(days=1)
    next_start = from_us(p1).astimezone(zone).date()  # the day after the period's last day
    if cl.anchor == "period_end":
        return add_months(next_start, cl.offset_months) - one_day + timedelta(days=cl.offset_days)
    if not incident_starts:
        return None
    if cl.anchor == "incident":
        first = from_us(max(min(incident_starts), p0)).astimezone(zone).date()
        return add_months(first, cl.offset_months) + timedelta(days=cl.offset_days)
    # cycles_after_incident: the end of the Nth billing cycle after the incident's cycle.
    return add_months(next_start, cl.cycles, d.period.anchor_day) - one_day + timedelta(days=cl.offset_days)
