"""The alert log in the report model (reports/render/model.py re-exports it): when the user was told.

Claim rules often run from the moment the customer knew or opened a ticket (OVHcloud counts downtime
from the ticket; many terms have short claim windows), so the report lists every alert the agent sent,
failed to send or dropped about the period, read from the alert log (agent/store/alerts.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

AlertStatus = Literal["sent", "failed", "dropped"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertEntry:
    """One alert about an event in the period, as the alert log holds it (the message text stays in the log)."""

    event_at: datetime  # when the event happened (an incident confirmed, recovered …)
    done_at: datetime  # when it was delivered, or given up on
    target: str | None  # None: an event of the agent itself
    kind: str  # the event (agent/live/events.Kind): incident_confirmed, recovered, local_outage …
    destination: str  # the destination's masked name (no secret)
    status: AlertStatus
    attempts: int
    error: str | None  # why it failed, one line, masked
