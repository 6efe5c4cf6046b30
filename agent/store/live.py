"""SQL for what is happening now: the newest run of an agent, the run before it, and each
check's tail (since when it has been failing), for `slaproof status` and the dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, select

from agent.store.database import Store
from agent.store.schema import agents, checks, measurements, runs, targets

AGENT_SIDE = ("skipped", "internal", "permission")


@dataclass(frozen=True, slots=True)
class RunRow:
    id: int
    agent_uuid: str
    started_us: int
    last_seen_us: int | None
    ended_us: int | None
    stop: str | None  # None running (or killed), clean, unclean
    hostname: str
    pid: int
    note: str | None


@dataclass(frozen=True, slots=True)
class CheckTail:
    """A check's newest row, and its current run of failures (counted ones: not the agent's own)."""

    target: str
    check_id: int
    kind: str
    settings_hash: str
    ts_us: int
    ok: bool
    rtt_ns: int | None
    error_class: str | None
    error: str | None
    failing_since_us: int | None  # the first counted failure after the last counted success
    failing_rows: int


def _run(r: object) -> RunRow:
    m = r._mapping  # type: ignore[attr-defined]  # a SQLAlchemy Row
    return RunRow(m["id"], m["uuid"], m["started_us"], m["last_seen_us"], m["ended_us"], m["stop"], m["hostname"], m["pid"], m["note"])


def latest_runs(store: Store) -> list[RunRow]:
    """The newest run of each agent in the database."""
    newest = select(runs.c.agent_id, func.max(runs.c.id).label("rid")).group_by(runs.c.agent_id).subquery()
    q = (select(runs, agents.c.uuid).join(newest, newest.c.rid == runs.c.id).join(agents, agents.c.id == runs.c.agent_id)
         .order_by(runs.c.id))
    with store.engine.connect() as conn:
        return [_run(r) for r in conn.execute(q)]


def previous_run(store: Store, agent_id: int, before_id: int) -> RunRow | None:
    q = (select(runs, agents.c.uuid).join(agents, agents.c.id == runs.c.agent_id)
         .where(runs.c.agent_id == agent_id, runs.c.id < before_id).order_by(runs.c.id.desc()).limit(1))
    with store.engine.connect() as conn:
        r = conn.execute(q).first()
        return _run(r) if r else None


def check_tails(store: Store, check_ids: Sequence[int] | None = None) -> list[CheckTail]:
    """Per check: its newest row, and since when its counted rows have been failing (one indexed probe each)."""
    m = measurements.c
    newest = select(m.check_id, func.max(m.id).label("mid")).group_by(m.check_id)
    if check_ids is not None:
        newest = newest.where(m.check_id.in_(list(check_ids)))
    sub = newest.subquery()
    q = (select(targets.c.name, checks.c.id, checks.c.kind, checks.c.settings_hash, m.ts_us, m.ok, m.rtt_ns, m.error_class, m.error)
         .join(sub, sub.c.mid == m.id).join(checks, checks.c.id == m.check_id).join(targets, targets.c.id == checks.c.target_id)
         .order_by(targets.c.name, checks.c.id))
    out = []
    with store.engine.connect() as conn:
        for name, cid, kind, sh, ts, ok, rtt, ec, err in conn.execute(q).all():
            since, n = None, 0
            if not ok and ec not in AGENT_SIDE:
                counted = and_(m.check_id == cid, m.error_class.is_(None) | m.error_class.not_in(AGENT_SIDE))
                last_ok = conn.execute(select(func.max(m.ts_us)).where(counted, m.ok.is_(True))).scalar()
                after = [counted, m.ok.is_(False)] + ([m.ts_us > last_ok] if last_ok is not None else [])
                since, n = conn.execute(select(func.min(m.ts_us), func.count()).where(*after)).one()
            out.append(CheckTail(name, int(cid), kind, sh, int(ts), bool(ok), rtt, ec, err, since, int(n or 0)))
    return out
