"""The report's alert list from the alert log (agent/store/alerts.py): when the user was told."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from agent.core.times import from_us
from agent.store import Store
from agent.store.alerts import AlertLog
from reports.render.model_alerts import AlertEntry, AlertStatus

ALERTS_READ = 10_000  # a month of a flapping fleet stays bounded; the log itself keeps every row


def alerts_in(store: Store, start_us: int, end_us: int, names: Sequence[str]) -> tuple[AlertEntry, ...] | None:
    """Alerts about the chosen targets' events (and the agent's own) in [start, end); None when the log has none."""
    wanted = set(names)
    rows = [r for r in AlertLog(store).between(start_us, end_us, limit=ALERTS_READ) if r.target is None or r.target in wanted]
    if not rows:
        return None
    return tuple(AlertEntry(event_at=from_us(r.event_us), done_at=from_us(r.done_us), target=r.target, kind=r.kind,
                            destination=r.destination, status=cast(AlertStatus, r.status), attempts=r.attempts, error=r.error)
                 for r in rows)
