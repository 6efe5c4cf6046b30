"""The store: the only module that speaks SQL.

SQLite by default (WAL, one writer thread: agent/writer.py), PostgreSQL through
the same tables and Alembic migrations. Offers what the daemon writes and the
aggregations the reports need, streaming: nothing here loads a whole period.
"""

from __future__ import annotations

import hashlib
import json
import logging
import socket
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, case, create_engine, event, func, select, text, update
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError, SQLAlchemyError

from agent.core.errors import ConfigError, StoreError
from agent.core.secrets import mask_text, mask_url
from agent.store import chain
from agent.store.rows import dumps
from agent.store.schema import agents, checks, evidence, measurements, runs, targets

log = logging.getLogger(__name__)

SUPPORTED_DRIVERS = ("sqlite", "postgresql")
HEAD_REVISION = "0005"  # the newest file in agent/store/migrations/versions (a test holds them equal)

MEASUREMENT_COLUMNS = (
    "ts_us", "check_id", "ok", "lag_us", "rtt_ns", "rtt_min_ns", "rtt_max_ns", "jitter_ns",
    "sent", "received", "status", "error_class", "error", "detail", "imported", "hash",
)


@dataclass(frozen=True, slots=True)
class CheckRef:
    """A check as stored: what the writer needs to file and chain a result."""

    id: int
    target: str
    kind: str
    settings_hash: str
    index: int  # position in the target's check list


@dataclass(frozen=True, slots=True)
class TargetRef:
    id: int
    name: str
    address: str
    control: bool
    checks: tuple[CheckRef, ...]


def safe_url(url: str) -> str:
    """The URL with any password hidden (the user name kept), for messages and logs."""
    try:
        return mask_url(make_url(url).render_as_string(hide_password=True), keep_user=True)
    except (ArgumentError, ValueError):
        return mask_url(url, keep_user=True)


def db_reason(e: BaseException) -> str:
    """The database's own first line of an error (no SQL, no parameters), secrets masked."""
    text = str(getattr(e, "orig", None) or e).strip()
    return mask_text(text.splitlines()[0][:300] if text else type(e).__name__)


def settings_hash(settings: dict[str, Any]) -> str:
    return hashlib.sha256(dumps(settings).encode()).hexdigest()[:16]


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: each commit is fsynced, so the writer deletes a journal segment only once its rows
    # would survive a power cut or a disk error. One commit a second: the cost is one fsync a
    # second (docs/reliability.md).
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA mmap_size=0")
    cur.close()


def _new_id(result: Any) -> int:
    """The primary key of the row an INSERT just made."""
    key = result.inserted_primary_key
    assert key is not None, "INSERT did not return a primary key"
    return int(key[0])


class Store:
    """An open database. Thread-safe for reading; writing goes through one Writer."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.raw_url = engine.url.render_as_string(hide_password=False)  # for worker processes only; never printed
        self.url = safe_url(self.raw_url)
        self.is_sqlite = engine.dialect.name == "sqlite"

    # -- opening -------------------------------------------------------------
    @classmethod
    def open(cls, url: str, *, migrate: bool = True, create_folder: bool = True) -> Store:
        """Open (creating a SQLite file's folder unless ``create_folder`` is False) and bring the schema up to date."""
        shown = safe_url(url)
        try:
            u = make_url(url)
        except (ArgumentError, ValueError) as e:
            why = " (its port is not a number)" if isinstance(e, ValueError) else ""
            raise ConfigError(f"agent.database_url {shown} is not a database URL{why}; use e.g. "
                              "sqlite:////var/lib/slaproof/slaproof.db or postgresql+psycopg://host:5432/db") from None
        if u.drivername in ("postgresql", "postgres"):
            u = u.set(drivername="postgresql+psycopg")
        if not u.drivername.startswith(SUPPORTED_DRIVERS):
            raise ConfigError(f"agent.database_url {shown}: {u.drivername.split('+')[0]} is not supported; "
                              "use SQLite (sqlite:////path/slaproof.db) or PostgreSQL (postgresql+psycopg://host/db)")
        kwargs: dict[str, Any] = {}
        if u.drivername.startswith("sqlite"):
            if u.database and u.database != ":memory:":
                folder = Path(u.database).expanduser().resolve().parent
                if not create_folder and not folder.is_dir():
                    raise StoreError(f"no database at {shown}: its folder {folder} does not exist; "
                                     "check agent.database_url / agent.state_dir (nothing was created)")
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                except OSError as e:
                    raise StoreError(f"cannot create the database folder {folder}: {e.strerror}; set agent.state_dir or agent.database_url to a writable place") from None
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["connect_args"] = {"connect_timeout": 10}
        try:
            engine = create_engine(u, **kwargs)
        except (NoSuchModuleError, ArgumentError, ImportError, ValueError) as e:
            raise StoreError(f"agent.database_url {shown}: {mask_text(str(e))}") from None
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        store = cls(engine)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            if migrate:
                store.upgrade()
        except (OperationalError, DBAPIError) as e:
            engine.dispose()
            reason = mask_text(str(getattr(e, "orig", e)).strip().splitlines()[0]) if str(getattr(e, "orig", e)).strip() else type(e).__name__
            raise StoreError(
                f"cannot open the database {shown}: {reason}. "
                "Check agent.database_url in the config (host, port, user, password, database name) and that the server is running."
            ) from None
        return store

    def upgrade(self) -> None:
        """Run Alembic migrations to head (idempotent; a cheap check when already there)."""
        if self.schema_revision() == HEAD_REVISION:
            return
        from alembic import command
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def schema_revision(self) -> str | None:
        with self.engine.connect() as conn:
            try:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except SQLAlchemyError:
                return None

    def close(self) -> None:
        self.engine.dispose()

    # -- identity, targets, checks ---------------------------------------------
    def ensure_agent(self, agent_uuid: str, now_us: int, hostname: str | None = None) -> int:
        with self.engine.begin() as conn:
            row = conn.execute(select(agents.c.id).where(agents.c.uuid == agent_uuid)).first()
            if row:
                return int(row.id)
            res = conn.execute(agents.insert().values(uuid=agent_uuid, created_us=now_us, hostname=hostname or socket.gethostname()))
            return _new_id(res)

    def agent_uuids(self) -> list[str]:
        with self.engine.connect() as conn:
            return [r.uuid for r in conn.execute(select(agents.c.uuid).order_by(agents.c.id))]

    def agent_info(self, agent_uuid: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(agents).where(agents.c.uuid == agent_uuid)).mappings().first()
            return dict(r) if r else None

    def sync_targets(self, agent_id: int, specs: Sequence[dict[str, Any]], now_us: int) -> dict[str, TargetRef]:
        """Register targets and checks (new settings → new check row; old rows kept).

        ``specs``: dicts with name, address, provider, control, checks (list of
        settings dicts with ``kind``).
        """
        with self.engine.begin() as conn:
            return self.sync_targets_in(conn, agent_id, specs, now_us)

    @staticmethod
    def sync_targets_in(conn: Connection, agent_id: int, specs: Sequence[dict[str, Any]], now_us: int) -> dict[str, TargetRef]:
        """sync_targets inside the caller's transaction (import files a check row with its rows)."""
        out: dict[str, TargetRef] = {}
        for spec in specs:
            row = conn.execute(select(targets).where(targets.c.agent_id == agent_id, targets.c.name == spec["name"])).mappings().first()
            if row is None:
                tid = _new_id(conn.execute(targets.insert().values(
                    agent_id=agent_id, name=spec["name"], address=spec["address"], provider=spec.get("provider"),
                    control=bool(spec.get("control")), created_us=now_us)))
            else:
                tid = row["id"]
                if (row["address"], row["provider"], bool(row["control"])) != (spec["address"], spec.get("provider"), bool(spec.get("control"))):
                    conn.execute(targets.update().where(targets.c.id == tid).values(
                        address=spec["address"], provider=spec.get("provider"), control=bool(spec.get("control"))))
            refs = []
            for i, settings in enumerate(spec["checks"]):
                h = settings_hash(settings)
                c = conn.execute(select(checks.c.id).where(checks.c.target_id == tid, checks.c.kind == settings["kind"], checks.c.settings_hash == h)).first()
                cid = c.id if c else _new_id(conn.execute(checks.insert().values(
                    target_id=tid, kind=settings["kind"], settings=dumps(settings), settings_hash=h, created_us=now_us)))
                refs.append(CheckRef(int(cid), spec["name"], settings["kind"], h, i))
            out[spec["name"]] = TargetRef(int(tid), spec["name"], spec["address"], bool(spec.get("control")), tuple(refs))
        return out

    def import_check(self, agent_id: int, target_name: str, kind: str, address: str, now_us: int,
                     source: dict[str, str] | None = None, conn: Connection | None = None) -> CheckRef:
        """The check row that imported history of (target, kind) is filed under; ``source`` (file
        name, SHA-256, tool: exchange.source_of) is kept in its settings, one check row per source.
        With ``conn``: inside the caller's transaction."""
        settings: dict[str, Any] = {"kind": kind, "imported": True, **(source or {})}
        spec = [{"name": target_name, "address": address, "checks": [settings]}]
        refs = self.sync_targets(agent_id, spec, now_us) if conn is None else self.sync_targets_in(conn, agent_id, spec, now_us)
        return refs[target_name].checks[0]

    def target_rows(self, agent_uuid: str | None = None) -> list[dict[str, Any]]:
        q = select(targets.c.id, targets.c.name, targets.c.address, targets.c.provider, targets.c.control).order_by(targets.c.id)
        if agent_uuid:
            q = q.join(agents, agents.c.id == targets.c.agent_id).where(agents.c.uuid == agent_uuid)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def check_rows(self, target_names: Sequence[str] | None = None) -> list[dict[str, Any]]:
        q = (select(checks.c.id, checks.c.kind, checks.c.settings, checks.c.settings_hash, targets.c.name.label("target"), targets.c.control)
             .join(targets, targets.c.id == checks.c.target_id).order_by(checks.c.id))
        if target_names:
            q = q.where(targets.c.name.in_(list(target_names)))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    # -- runs ------------------------------------------------------------------
    def close_stale_runs(self, agent_id: int) -> int:
        """Runs left open by a crash or kill -9 are marked unclean, ended at their last heartbeat."""
        with self.engine.begin() as conn:
            res = conn.execute(runs.update().where(runs.c.agent_id == agent_id, runs.c.stop.is_(None))
                               .values(stop="unclean", ended_us=func.coalesce(runs.c.last_seen_us, runs.c.started_us)))
            return int(res.rowcount or 0)

    def start_run(self, agent_id: int, now_us: int, *, version: str, pid: int, config_hash: str | None) -> int:
        with self.engine.begin() as conn:
            res = conn.execute(runs.insert().values(agent_id=agent_id, started_us=now_us, last_seen_us=now_us,
                                                    version=version, hostname=socket.gethostname(), pid=pid, config_hash=config_hash))
            return _new_id(res)

    def heartbeat(self, conn: Connection, run_id: int, now_us: int) -> None:
        conn.execute(runs.update().where(runs.c.id == run_id).values(last_seen_us=now_us))

    def touch_run(self, conn: Connection, run_id: int, at_us: int) -> None:
        """The run was alive at ``at_us`` (a journal record): move its last-seen time forward, never back.

        A run already closed as unclean (its journal filed after the next start) has its end
        moved too, so its recorded span covers every row it took."""
        r = runs.c
        conn.execute(runs.update().where(r.id == run_id).values(
            last_seen_us=case((r.last_seen_us.is_(None) | (r.last_seen_us < at_us), at_us), else_=r.last_seen_us),
            ended_us=case(((r.stop == "unclean") & (r.ended_us < at_us), at_us), else_=r.ended_us)))

    def already_filed(self, conn: Connection, row: dict[str, Any] | None, item: dict[str, Any] | None) -> bool:
        """Is this journal row (else this evidence item) already stored? A journal segment is filed in one
        transaction, so its first row answers for all of it: replay after a crash files nothing twice."""
        m = measurements.c
        if row is not None:
            cols = [c for c in MEASUREMENT_COLUMNS if c not in ("ts_us", "check_id", "hash")]
            found = conn.execute(select(*[m[c] for c in cols]).where(m.check_id == row["check_id"], m.ts_us == row["ts_us"])).all()
            want = tuple(bool(row.get(c)) if c in ("ok", "imported") else row.get(c) for c in cols)
            return any(tuple(bool(v) if c in ("ok", "imported") else v for c, v in zip(cols, f)) == want for f in found)
        if item is not None:
            e = evidence.c
            return conn.execute(select(e.id).where(e.target_id == item["target_id"], e.ts_us == item["ts_us"],
                                                   e.sha256 == item["sha256"]).limit(1)).first() is not None
        return False

    def end_run(self, run_id: int, now_us: int, *, clean: bool, note: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id).values(
                ended_us=now_us, last_seen_us=now_us, stop="clean" if clean else "unclean", note=note))

    def runs_between(self, start_us: int, end_us: int, agent_uuid: str | None = None) -> list[dict[str, Any]]:
        q = select(runs).where(runs.c.started_us < end_us,
                               func.coalesce(runs.c.ended_us, runs.c.last_seen_us, runs.c.started_us) >= start_us).order_by(runs.c.started_us)
        if agent_uuid:
            q = q.join(agents, agents.c.id == runs.c.agent_id).where(agents.c.uuid == agent_uuid)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def all_runs(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(runs).order_by(runs.c.id)).mappings()]

    # -- writing measurements (called from the writer thread only) ------------------
    def chain_head(self, agent_id: int) -> tuple[int | None, bytes | None]:
        """(row id, hash) of the agent's newest measurement, or (None, None)."""
        q = (select(measurements.c.id, measurements.c.hash)
             .where(measurements.c.check_id.in_(select(checks.c.id).join(targets, targets.c.id == checks.c.target_id)
                                                 .where(targets.c.agent_id == agent_id)))
             .order_by(measurements.c.id.desc()).limit(1))
        with self.engine.connect() as conn:
            r = conn.execute(q).first()
            return (int(r.id), bytes(r.hash)) if r else (None, None)

    def insert_measurements(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows (already hashed) inside the caller's transaction."""
        if rows:
            conn.execute(measurements.insert(), [{k: r[k] for k in MEASUREMENT_COLUMNS} for r in rows])

    def append_chained(self, conn: Connection, agent_id: int, genesis: bytes, rows: Iterable[dict[str, Any]], *, chunk: int = 5000) -> int:
        """Hash rows onto the agent's chain and insert them, inside the caller's transaction.

        The agent row is locked first (an UPDATE: SQLite's write lock, a row lock on
        PostgreSQL), so the head read next stays the head until commit.
        """
        conn.execute(update(agents).where(agents.c.id == agent_id).values(hostname=agents.c.hostname))
        head = conn.execute(
            select(measurements.c.hash)
            .where(measurements.c.check_id.in_(select(checks.c.id).join(targets, targets.c.id == checks.c.target_id)
                                               .where(targets.c.agent_id == agent_id)))
            .order_by(measurements.c.id.desc()).limit(1)).scalar()
        prev = bytes(head) if head is not None else genesis
        n = 0
        buf: list[dict[str, Any]] = []
        for r in rows:
            h = chain.link(prev, r)
            buf.append({**r, "hash": h})
            prev = h
            if len(buf) >= chunk:
                self.insert_measurements(conn, buf)
                n += len(buf)
                buf = []
        self.insert_measurements(conn, buf)
        return n + len(buf)

    def insert_evidence(self, conn: Connection, items: Sequence[dict[str, Any]]) -> None:
        if items:
            conn.execute(evidence.insert(), list(items))

    # -- reading ---------------------------------------------------------------
    def _rows_query(self, check_ids: Sequence[int], start_us: int, end_us: int):  # type: ignore[no-untyped-def]
        return (select(measurements.c.id, *[measurements.c[c] for c in MEASUREMENT_COLUMNS],
                       checks.c.kind, checks.c.settings_hash, targets.c.name.label("target"))
                .join(checks, checks.c.id == measurements.c.check_id)
                .join(targets, targets.c.id == checks.c.target_id)
                .where(measurements.c.check_id.in_(list(check_ids)), measurements.c.ts_us >= start_us, measurements.c.ts_us < end_us))

    def iter_rows(self, check_ids: Sequence[int], start_us: int, end_us: int, *, batch: int = 5000) -> Iterator[dict[str, Any]]:
        """Rows of the given checks in [start, end), by time, streamed in batches."""
        if not check_ids:
            return
        q = self._rows_query(check_ids, start_us, end_us).order_by(measurements.c.ts_us, measurements.c.id)
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(q)
            for r in result.mappings():
                yield dict(r)

    def _stream(self, q: Any, batch: int = 20000) -> Iterator[tuple[Any, ...]]:
        """Plain DBAPI tuples for a select, fetched in batches: several times faster than
        Row objects on the long scans reports make (a server-side cursor on PostgreSQL)."""
        compiled = q.compile(dialect=self.engine.dialect, compile_kwargs={"render_postcompile": True})
        if compiled.positional:
            params: Any = tuple(compiled.params[k] for k in compiled.positiontup)
        else:
            params = compiled.params
        with self.engine.connect() as conn:
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            cur = dbapi.cursor() if self.is_sqlite else dbapi.cursor(name="slaproof_stream")
            try:
                cur.execute(str(compiled), params)
                while True:
                    rows = cur.fetchmany(batch)
                    if not rows:
                        break
                    yield from rows
            finally:
                cur.close()

    def iter_round_rows(self, check_ids: Sequence[int], start_us: int, end_us: int) -> Iterator[tuple[Any, ...]]:
        """Lean tuples for incident analysis, by time:
        (id, ts_us, lag_us, check_id, ok, rtt_ns, sent, received, status, error_class)."""
        if not check_ids:
            return
        m = measurements.c
        q = (select(m.id, m.ts_us, m.lag_us, m.check_id, m.ok, m.rtt_ns, m.sent, m.received, m.status, m.error_class)
             .where(m.check_id.in_(list(check_ids)), m.ts_us >= start_us, m.ts_us < end_us)
             .order_by(m.ts_us))  # by time alone: the covering index gives this order for one check
        yield from self._stream(q)

    def iter_perf_rows(self, check_ids: Sequence[int], start_us: int, end_us: int) -> Iterator[tuple[Any, ...]]:
        """(ts_us, ok, rtt_ns, sent, received, jitter_ns, error_class) of some checks, by time:
        the samples an SLA's latency, loss and jitter terms are measured on."""
        if not check_ids:
            return
        m = measurements.c
        q = (select(m.ts_us, m.ok, m.rtt_ns, m.sent, m.received, m.jitter_ns, m.error_class)
             .where(m.check_id.in_(list(check_ids)), m.ts_us >= start_us, m.ts_us < end_us).order_by(m.ts_us))
        yield from self._stream(q)

    def iter_detail_rows(self, check_ids: Sequence[int], start_us: int, end_us: int) -> Iterator[tuple[Any, ...]]:
        """(ts_us, ok, error_class, detail) by time: for checks whose figures live in ``detail`` (bandwidth)."""
        if not check_ids:
            return
        m = measurements.c
        q = (select(m.ts_us, m.ok, m.error_class, m.detail)
             .where(m.check_id.in_(list(check_ids)), m.ts_us >= start_us, m.ts_us < end_us).order_by(m.ts_us))
        yield from self._stream(q)

    EXPORT_COLUMNS = ("id", "ts_us", "target", "kind", "ok", "rtt_ns", "sent", "received", "rtt_min_ns", "rtt_max_ns",
                      "jitter_ns", "status", "error_class", "error", "lag_us", "imported", "detail", "hash")

    def iter_export(self, check_ids: Sequence[int], start_us: int, end_us: int) -> Iterator[tuple[Any, ...]]:
        """Raw rows for CSV export, by time, as tuples in EXPORT_COLUMNS order."""
        if not check_ids:
            return
        m = measurements.c
        cols = [targets.c.name if c == "target" else checks.c.kind if c == "kind" else m[c] for c in self.EXPORT_COLUMNS]
        q = (select(*cols).join(checks, checks.c.id == m.check_id).join(targets, targets.c.id == checks.c.target_id)
             .where(m.check_id.in_(list(check_ids)), m.ts_us >= start_us, m.ts_us < end_us).order_by(m.ts_us, m.id))
        yield from self._stream(q)

    def iter_chain(self, agent_uuid: str, *, upto_id: int | None = None) -> Generator[dict[str, Any], None, None]:
        """Every measurement of an agent in chain (insertion) order, with its chain fields."""
        q = (select(measurements.c.id, *[measurements.c[c] for c in MEASUREMENT_COLUMNS],
                    checks.c.kind, checks.c.settings_hash, targets.c.name.label("target"))
             .join(checks, checks.c.id == measurements.c.check_id)
             .join(targets, targets.c.id == checks.c.target_id)
             .join(agents, agents.c.id == targets.c.agent_id)
             .where(agents.c.uuid == agent_uuid).order_by(measurements.c.id))
        if upto_id is not None:
            q = q.where(measurements.c.id <= upto_id)
        with self.engine.connect() as conn, closing(conn.execution_options(stream_results=True, yield_per=10000).execute(q)) as result:
            for r in result.mappings():
                yield dict(r)

    def chain_head_before(self, agent_uuid: str, end_us: int) -> tuple[int | None, str | None]:
        """The newest row of the agent written for a time before ``end_us``: the head a report cites.

        Walks rows newest first (``+ 0`` keeps the planner off the (check, time) index, which
        would read every row of the agent before ``end_us``): the cost is the rows written
        after the period, not all of them."""
        m = measurements.c
        with self.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(
                select(checks.c.id).join(targets, targets.c.id == checks.c.target_id)
                .join(agents, agents.c.id == targets.c.agent_id).where(agents.c.uuid == agent_uuid))]
            if not ids:
                return None, None
            r = conn.execute(select(m.id, m.hash).where((m.check_id + 0).in_(ids), (m.ts_us + 0) < end_us)
                             .order_by(m.id.desc()).limit(1)).first()
            return (int(r.id), bytes(r.hash).hex()) if r else (None, None)

    def row_hash(self, row_id: int) -> bytes | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(measurements.c.hash).where(measurements.c.id == row_id)).first()
            return bytes(r.hash) if r else None

    def has_rows(self, check_ids: Sequence[int], start_us: int, end_us: int) -> bool:
        if not check_ids:
            return False
        m = measurements.c
        with self.engine.connect() as conn:
            return conn.execute(select(m.id).where(m.check_id.in_(list(check_ids)), m.ts_us >= start_us, m.ts_us < end_us).limit(1)).first() is not None

    def count_rows(self, check_ids: Sequence[int], start_us: int, end_us: int) -> int:
        if not check_ids:
            return 0
        m = measurements.c
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(measurements)
                                    .where(m.check_id.in_(list(check_ids)), m.ts_us >= start_us, m.ts_us < end_us)).scalar() or 0)

    def latency_histogram(self, check_ids: Sequence[int], start_us: int, end_us: int, bucket_ns: int = 10_000) -> list[tuple[int, int]]:
        """(bucket index, count) of successful RTTs: percentiles without loading rows."""
        if not check_ids:
            return []
        m = measurements.c
        b = (m.rtt_ns // bucket_ns).label("b")
        q = (select(b, func.count()).where(m.check_id.in_(list(check_ids)), m.ts_us >= start_us, m.ts_us < end_us,
                                           m.ok.is_(True), m.rtt_ns.is_not(None)).group_by(b).order_by(b))
        with self.engine.connect() as conn:
            return [(int(r[0]), int(r[1])) for r in conn.execute(q)]

    def loss_totals(self, check_ids: Sequence[int], start_us: int, end_us: int) -> tuple[int, int]:
        """(sent, received) summed over the period: loss = 1 − received/sent."""
        if not check_ids:
            return (0, 0)
        m = measurements.c
        with self.engine.connect() as conn:
            r = conn.execute(select(func.coalesce(func.sum(m.sent), 0), func.coalesce(func.sum(m.received), 0))
                             .where(m.check_id.in_(list(check_ids)), m.ts_us >= start_us, m.ts_us < end_us, m.sent.is_not(None))).first()
            return (int(r[0]), int(r[1])) if r else (0, 0)

    def latency_series(self, check_ids: Sequence[int], start_us: int, end_us: int, bucket_us: int) -> list[tuple[int, float | None, float | None, int]]:
        """(bucket start µs, mean RTT ms, loss %, rows) per time bucket, for charts."""
        if not check_ids:
            return []
        m = measurements.c
        bucket = ((m.ts_us - start_us) // bucket_us).label("b")
        q = (select(bucket, func.avg(m.rtt_ns), func.sum(m.sent), func.sum(m.received), func.count())
             .where(m.check_id.in_(list(check_ids)), m.ts_us >= start_us, m.ts_us < end_us).group_by(bucket).order_by(bucket))
        out = []
        with self.engine.connect() as conn:
            for b, avg_rtt, sent, received, n in conn.execute(q):
                loss = 100.0 * (sent - received) / sent if sent else None
                out.append((start_us + int(b) * bucket_us, float(avg_rtt) / 1e6 if avg_rtt is not None else None, loss, int(n)))
        return out

    def evidence_between(self, target_ids: Sequence[int], start_us: int, end_us: int) -> list[dict[str, Any]]:
        e = evidence.c
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(evidence).where(e.target_id.in_(list(target_ids)), e.ts_us >= start_us, e.ts_us < end_us)
                                                  .order_by(e.ts_us)).mappings()]

    def first_failed_with_detail(self, check_ids: Sequence[int], start_us: int, end_us: int) -> dict[str, Any] | None:
        """The first failed row with a detail in [start, end) of some checks: e.g. the failing
        HTTP response (status, headers, first KiB of the body) an incident's report quotes."""
        if not check_ids:
            return None
        m = measurements.c
        q = (select(m.id, m.ts_us, m.status, m.error_class, m.error, m.detail, m.hash)
             .where(m.check_id.in_(list(check_ids)), m.ts_us >= start_us, m.ts_us < end_us, m.ok.is_(False), m.detail.is_not(None))
             .order_by(m.ts_us, m.id).limit(1))
        with self.engine.connect() as conn:
            r = conn.execute(q).mappings().first()
            return dict(r) if r else None

    def latest_per_check(self) -> list[dict[str, Any]]:
        """Each check's newest row (for `slaproof status`)."""
        m = measurements.c
        newest = select(m.check_id, func.max(m.id).label("mid")).group_by(m.check_id).subquery()
        q = (select(targets.c.name.label("target"), targets.c.control, checks.c.kind, checks.c.id.label("check_id"), checks.c.settings_hash,
                    m.ts_us, m.ok, m.rtt_ns, m.sent, m.received, m.status, m.error_class, m.error)
             .join(newest, newest.c.mid == m.id).join(checks, checks.c.id == m.check_id).join(targets, targets.c.id == checks.c.target_id)
             .order_by(targets.c.name, checks.c.id))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def bandwidth_usage(self, since_us: int) -> Iterator[tuple[str, int, int]]:
        """(target, ts_us, bytes) of stored bandwidth checks, to seed the traffic budget."""
        m = measurements.c
        q = (select(targets.c.name, m.ts_us, m.detail).join(checks, checks.c.id == m.check_id).join(targets, targets.c.id == checks.c.target_id)
             .where(checks.c.kind == "bandwidth", m.ts_us >= since_us, m.detail.is_not(None)))
        with self.engine.connect() as conn:
            for name, ts, detail in conn.execute(q):
                try:
                    used = int(json.loads(detail).get("bytes_total") or 0)
                except (ValueError, TypeError, AttributeError):
                    used = 0
                yield name, int(ts), used


def iter_verify(store: Store, agent_uuid: str, *, upto_id: int | None = None) -> Generator[tuple[int, dict[str, Any], bool], None, None]:
    """Walk an agent's chain; yields (count, row, ok) and stops after the first bad row."""
    prev = chain.genesis(agent_uuid)
    # closing(): stopping early must close the cursor now (a PostgreSQL server-side cursor), not at GC.
    with closing(store.iter_chain(agent_uuid, upto_id=upto_id)) as rows:
        for n, row in enumerate(rows, 1):
            expect = chain.link(prev, row)
            good = expect == bytes(row["hash"])
            yield n, row, good
            if not good:
                return
            prev = expect
