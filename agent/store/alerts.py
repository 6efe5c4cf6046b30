"""SQL of the alert log: one row per alert delivered or given up on (docs/alerts.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from agent.store.database import Store, _new_id
from agent.store.schema import alert_log, targets

STATUSES = ("sent", "failed", "dropped")
CONFIRMED, RECOVERED = "incident_confirmed", "recovered"  # agent/live/events.Kind values (the store does not import live)
RESUME_SCAN = 5000  # newest alert rows read at start to find incidents still open


@dataclass(frozen=True, slots=True)
class AlertRow:
    event_us: int
    queued_us: int
    done_us: int
    kind: str
    target: str | None
    dedup_key: str
    destination: str
    language: str
    status: str  # sent | failed | dropped
    attempts: int
    error: str | None
    title: str
    body: str


class AlertLog:
    """Reads and writes of the alert log for one open store (thread-safe like the store)."""

    def __init__(self, store: Store, agent_id: int | None = None) -> None:
        self.store = store
        self.agent_id = agent_id

    def add(self, row: AlertRow) -> int:
        if row.status not in STATUSES:
            raise ValueError(f"alert status {row.status!r} is not one of {STATUSES}")
        if self.agent_id is None:
            raise ValueError("an alert log that writes needs the agent's id")
        with self.store.engine.begin() as conn:
            tid = None
            if row.target is not None:
                tid = conn.execute(select(targets.c.id).where(targets.c.agent_id == self.agent_id,
                                                              targets.c.name == row.target)).scalar()
            return _new_id(conn.execute(alert_log.insert().values(
                agent_id=self.agent_id, event_us=row.event_us, queued_us=row.queued_us, done_us=row.done_us, kind=row.kind,
                target_id=tid, dedup_key=row.dedup_key, destination=row.destination, language=row.language, status=row.status,
                attempts=row.attempts, error=row.error, title=row.title, body=row.body)))

    def between(self, start_us: int, end_us: int, target_names: Sequence[str] | None = None, *, limit: int = 10_000) -> list[AlertRow]:
        """Alerts about events in [start, end), oldest first (a report's 'when you were told')."""
        a = alert_log.c
        q = (select(a.event_us, a.queued_us, a.done_us, a.kind, targets.c.name.label("target"), a.dedup_key, a.destination, a.language, a.status,
                    a.attempts, a.error, a.title, a.body)
             .select_from(alert_log.outerjoin(targets, targets.c.id == a.target_id))
             .where(a.event_us >= start_us, a.event_us < end_us).order_by(a.event_us, a.id).limit(limit))
        if target_names is not None:
            q = q.where(targets.c.name.in_(list(target_names)))
        with self.store.engine.connect() as conn:
            return [AlertRow(**r._mapping) for r in conn.execute(q)]

    def open_incidents(self, *, scan: int = RESUME_SCAN) -> list[tuple[str, str, int]]:
        """(target, the incident's event key "<target>:<start µs>", event µs) of each incident this agent alerted as confirmed and never as
        recovered: what a restarted agent's tracker resumes, so the recovery is told under the same key."""
        if self.agent_id is None:
            return []
        a = alert_log.c
        q = (select(a.kind, targets.c.name, a.dedup_key, a.event_us)
             .select_from(alert_log.join(targets, targets.c.id == a.target_id))
             .where(a.agent_id == self.agent_id, a.kind.in_([CONFIRMED, RECOVERED]))
             .order_by(a.id.desc()).limit(scan))
        with self.store.engine.connect() as conn:
            rows = list(conn.execute(q))
        open_: dict[str, tuple[str, str, int]] = {}
        closed: set[str] = set()
        for kind, name, key, event_us in rows:  # newest first: a recovery closes every older row of its incident
            incident = key.removeprefix(f"{kind}:")  # the dispatcher's key is "<kind>:<the event's key>"
            if kind == RECOVERED:
                closed.add(incident)
            elif incident not in closed and incident not in open_:
                open_[incident] = (name, incident, int(event_us))
        return sorted(open_.values(), key=lambda r: r[2])
