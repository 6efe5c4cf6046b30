"""SQL for what is happening now: the newest run of an agent, the run before it, and each
check's tail (since when it has been failing), for `slaproof status` and the dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, func, select

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
    """Per check: its newest row, and since when its counted rows have been failing.

    One index seek per check (newest first on (check, time)), not a scan of the table: a
    thousand checks cost a few milliseconds each call."""
    m = measurements.c
    q = (select(checks.c.id, targets.c.name, checks.c.kind, checks.c.settings_hash)
         .join(targets, targets.c.id == checks.c.target_id).order_by(targets.c.name, checks.c.id))
    if check_ids is not None:
        q = q.where(checks.c.id.in_(list(check_ids)))
    newest = (select(m.ts_us, m.ok, m.rtt_ns, m.error_class, m.error).where(m.check_id == bindparam("cid"))
              .order_by(m.ts_us.desc()).limit(1))
    counted = and_(m.check_id == bindparam("cid"), m.error_class.is_(None) | m.error_class.not_in(AGENT_SIDE))
    last_ok = select(func.max(m.ts_us)).where(counted, m.ok.is_(True))
    out = []
    with store.engine.connect() as conn:
        for cid, name, kind, sh in conn.execute(q).all():
            row = conn.execute(newest, {"cid": cid}).first()
            if row is None:
                continue
            ts, ok, rtt, ec, err = row
            since, n = None, 0
            if not ok and ec not in AGENT_SIDE:
                good = conn.execute(last_ok, {"cid": cid}).scalar()
                failing = select(func.min(m.ts_us), func.count()).where(counted, m.ok.is_(False),
                                                                         m.ts_us > (good if good is not None else -1))
                since, n = conn.execute(failing, {"cid": cid}).one()
            out.append(CheckTail(name, int(cid), kind, sh, int(ts), bool(ok), rtt, ec, err, since, int(n or 0)))
    return out


def open_read_only(url: str) -> Store:
    """The database opened so that nothing can be written through it: SQLite ``mode=ro`` and
    ``query_only``; PostgreSQL read-only transactions. No migration is run (the agent runs them)."""
    from pathlib import Path
    from sqlite3 import connect

    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

    from agent.core.errors import StoreError
    from agent.store.database import safe_url

    shown = safe_url(url)
    try:
        u = make_url(url)
    except ArgumentError:
        raise StoreError(f"database_url {url!r} is not a database URL") from None
    if u.drivername.startswith("sqlite"):
        path = Path(u.database or "").expanduser()
        if not u.database or u.database == ":memory:" or not path.exists():
            raise StoreError(f"no database at {shown}: run the agent first (slaproof run), or check agent.database_url")
        uri = f"file:{path.resolve()}?mode=ro"
        engine = create_engine("sqlite://", creator=lambda: connect(uri, uri=True, check_same_thread=False, timeout=10))

        def pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA query_only=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        event.listen(engine, "connect", pragmas)
    else:
        if u.drivername == "postgresql":
            u = u.set(drivername="postgresql+psycopg")
        engine = create_engine(u, pool_pre_ping=True,
                               connect_args={"connect_timeout": 10, "options": "-c default_transaction_read_only=on"})
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except (OperationalError, DBAPIError) as e:
        engine.dispose()
        raise StoreError(f"cannot open the database {shown} read-only: {str(getattr(e, 'orig', e)).strip().splitlines()[0]}") from None
    store = Store(engine)
    # Worker processes a report starts (analysis passes, the CSV writer) reopen the database by URL and only read.
    store.raw_url = url
    return store
