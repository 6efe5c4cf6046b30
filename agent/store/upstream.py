"""Store-and-forward SQL, both ends: what an agent has not yet sent, and the central database's ingest.

The agent's own store stays the evidence of record; the forwarder (agent/forwarder.py) reads rows
after the central cursor from it and hands them to :func:`ingest` on the central database (a
slaproof database like any other, so reports and ``verify`` run on it unchanged).

Ingest, in one transaction per batch:

* The agent is known by its UUID and its name (``agent.vantage``, else its host name). Another
  name under a known UUID, or a known name under another UUID, is refused and recorded
  (``upstream_refusals``), naming both: two machines sharing an identity would interleave two
  chains into one.
* The cursor (``upstream_agents.last_seq``, the agent's local row id of the last row taken, and
  ``last_hash``) is locked. A row at or below it was taken before and is skipped: a batch sent
  twice lands once (the natural key is (agent, local row id)).
* Every other row must link: SHA-256(previous hash || canonical content) recomputed here must
  equal the hash the agent stored. The first row that does not is refused and recorded with its
  content; the rows before it are kept, nothing after it is taken, and the forwarder is told.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, false, func, select, text, update

from agent.core.errors import StoreError
from agent.store import chain
from agent.store.database import MEASUREMENT_COLUMNS, Store
from agent.store.partitions import ensure_months
from agent.store.schema import agents, checks, measurements, runs, targets, upstream_agents, upstream_refusals

RUN_COLUMNS = ("started_us", "ended_us", "last_seen_us", "stop", "version", "hostname", "pid", "config_hash", "note")
ROW_COLUMNS = ("seq", "check", *MEASUREMENT_COLUMNS)  # a forwarded row: its local id, its local check id, its values
INSERT_COLUMNS = MEASUREMENT_COLUMNS
COPY_SQL = f"COPY measurements ({', '.join(INSERT_COLUMNS)}) FROM STDIN"


@dataclass(frozen=True, slots=True)
class CheckDef:
    """A check as the agent stores it: enough to register it centrally and to relink its rows."""

    id: int  # the agent's local check id
    target: str
    address: str
    provider: str | None
    control: bool
    kind: str
    settings: str
    settings_hash: str


@dataclass(frozen=True, slots=True)
class Batch:
    """Rows an agent sends at once, in local id order, with what they refer to."""

    agent_uuid: str
    name: str
    created_us: int
    head_seq: int  # the agent's newest local row id (the central side shows the backlog from it)
    sent_us: int  # the agent's wall clock when it sent the batch
    clock_synced: bool | None
    checks: tuple[CheckDef, ...]
    runs: tuple[dict[str, Any], ...]
    rows: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class IngestResult:
    taken: int
    duplicates: int
    last_seq: int
    refused_seq: int | None = None
    reason: str | None = None


class AgentConflictError(StoreError):
    """Two agents claim one identity or one name; recorded and refused."""


@dataclass(frozen=True, slots=True)
class FleetAgent:
    """One forwarding agent as the central database knows it (``slaproof status --fleet``)."""

    uuid: str
    name: str
    last_seq: int
    head_seq: int
    rows_received: int
    first_contact_us: int
    last_contact_us: int
    clock_offset_us: int | None
    clock_synced: bool | None
    refusals: int = 0
    backlog: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "backlog", max(0, self.head_seq - self.last_seq))


# -- the agent's side ------------------------------------------------------------------------------
def agent_check_ids(store: Store, agent_id: int) -> list[int]:
    q = select(checks.c.id).join(targets, targets.c.id == checks.c.target_id).where(targets.c.agent_id == agent_id)
    with store.engine.connect() as conn:
        return [int(r.id) for r in conn.execute(q)]


def pending(store: Store, check_ids: Sequence[int], after_seq: int, limit: int) -> list[dict[str, Any]]:
    """The agent's rows after ``after_seq``, in local id order (the chain's order), at most ``limit``."""
    if not check_ids:
        return []
    m = measurements.c
    q = (select(m.id.label("seq"), m.check_id.label("check"), *[m[c] for c in MEASUREMENT_COLUMNS])
         .where(m.id > after_seq, m.check_id.in_(list(check_ids))).order_by(m.id).limit(limit))
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def pending_count(store: Store, check_ids: Sequence[int], after_seq: int) -> tuple[int, int | None]:
    """(rows after ``after_seq``, time of the oldest of them in µs or None)."""
    if not check_ids:
        return 0, None
    m = measurements.c
    q = select(func.count(), func.min(m.ts_us)).where(m.id > after_seq, m.check_id.in_(list(check_ids)))
    with store.engine.connect() as conn:
        n, oldest = conn.execute(q).one()
        return int(n), None if oldest is None else int(oldest)


def check_defs(store: Store, ids: Sequence[int]) -> list[CheckDef]:
    q = (select(checks.c.id, targets.c.name, targets.c.address, targets.c.provider, targets.c.control, checks.c.kind,
                checks.c.settings, checks.c.settings_hash)
         .join(targets, targets.c.id == checks.c.target_id).where(checks.c.id.in_(list(ids))))
    with store.engine.connect() as conn:
        return [CheckDef(int(r.id), r.name, r.address, r.provider, bool(r.control), r.kind, r.settings, r.settings_hash)
                for r in conn.execute(q)]


LATEST_RUNS = 2  # always sent: the run going on and the one before (its clean or unclean end arrives with the next contact)


def recent_runs(store: Store, agent_id: int, since_us: int | None) -> list[dict[str, Any]]:
    """The agent's runs seen since ``since_us`` (what a batch's rows fall in) and its latest runs."""
    r = runs.c
    latest = select(r.id).where(r.agent_id == agent_id).order_by(r.started_us.desc()).limit(LATEST_RUNS).scalar_subquery()
    seen = func.coalesce(r.last_seen_us, r.ended_us, r.started_us) >= since_us if since_us is not None else false()
    q = (select(*[r[c] for c in RUN_COLUMNS]).where(r.agent_id == agent_id, (r.id.in_(latest)) | seen)
         .order_by(r.started_us))
    with store.engine.connect() as conn:
        return [dict(x) for x in conn.execute(q).mappings()]


# -- the central side ------------------------------------------------------------------------------
def cursor(central: Store, agent_uuid: str) -> int:
    """The agent's local id of the last row the central database took (0: none yet)."""
    q = (select(upstream_agents.c.last_seq).join(agents, agents.c.id == upstream_agents.c.agent_id)
         .where(agents.c.uuid == agent_uuid))
    with central.engine.connect() as conn:
        v = conn.execute(q).scalar()
        return int(v) if v is not None else 0


def _refusal(batch: Batch, seq: int | None, reason: str, row: Mapping[str, Any] | None, now_us: int) -> Any:
    """The insert recording a refusal, with the refused row as sent (hashes in hex)."""
    content = None if row is None else json.dumps({k: (v.hex() if isinstance(v, bytes) else v) for k, v in row.items()})
    return upstream_refusals.insert().values(agent_uuid=batch.agent_uuid, name=batch.name, seq=seq, received_us=now_us,
                                             reason=reason, row=content)


def _conflict(conn: Connection, batch: Batch) -> str | None:
    """Why this batch's agent clashes with another one, or None."""
    ua, a = upstream_agents.c, agents.c
    mine = conn.execute(select(ua.name).join(agents, a.id == ua.agent_id).where(a.uuid == batch.agent_uuid)).scalar()
    if mine is not None and mine != batch.name:
        return (f"agent id {batch.agent_uuid} is already forwarded by the agent named {mine!r}; an agent named "
                f"{batch.name!r} sends rows under the same id. Two machines share one identity (a copied state "
                "directory?): give one of them a new one (stop it, remove agent_id from its state directory, start it)")
    other = conn.execute(select(a.uuid).join(upstream_agents, a.id == ua.agent_id)
                         .where(ua.name == batch.name, a.uuid != batch.agent_uuid)).scalar()
    if other is not None:
        return (f"the name {batch.name!r} is already used by agent {other}; agent {batch.agent_uuid} sends rows under the "
                "same name. Set a distinct [agent] vantage on one of them")
    return None


def _agent_row(conn: Connection, batch: Batch, now_us: int) -> tuple[int, int, bytes]:
    """(central agent id, last seq, last hash), the cursor row locked until commit."""
    aid = conn.execute(select(agents.c.id).where(agents.c.uuid == batch.agent_uuid)).scalar()
    if aid is None:
        res = conn.execute(agents.insert().values(uuid=batch.agent_uuid, created_us=batch.created_us, hostname=batch.name))
        aid = int(res.inserted_primary_key[0])  # type: ignore[index]  # one key: agents.id
    ua = upstream_agents.c
    cur = conn.execute(select(ua.last_seq, ua.last_hash).where(ua.agent_id == aid).with_for_update()).first()
    if cur is None:
        conn.execute(upstream_agents.insert().values(agent_id=aid, name=batch.name, last_seq=0, last_hash=None, head_seq=0,
                                                     rows_received=0, first_contact_us=now_us, last_contact_us=now_us))
        return int(aid), 0, chain.genesis(batch.agent_uuid)
    return int(aid), int(cur.last_seq), bytes(cur.last_hash) if cur.last_hash is not None else chain.genesis(batch.agent_uuid)


def _central_checks(conn: Connection, agent_id: int, defs: Sequence[CheckDef], now_us: int) -> dict[int, int]:
    """Local check id → central check id, registering targets and checks not seen before (in bulk: a new
    agent brings all its targets in its first batch)."""
    t, c = targets.c, checks.c

    def target_ids() -> dict[str, int]:
        return {r.name: int(r.id) for r in conn.execute(select(t.id, t.name).where(t.agent_id == agent_id))}

    def check_ids() -> dict[tuple[str, str, str], int]:
        return {(r.name, r.kind, r.settings_hash): int(r.id) for r in conn.execute(
            select(c.id, c.kind, c.settings_hash, t.name).join(targets, t.id == c.target_id).where(t.agent_id == agent_id))}

    tids, known = target_ids(), check_ids()
    new_t = {d.target: d for d in defs if d.target not in tids}
    if new_t:
        conn.execute(targets.insert(), [{"agent_id": agent_id, "name": d.target, "address": d.address, "provider": d.provider,
                                         "control": d.control, "created_us": now_us} for d in new_t.values()])
        tids = target_ids()
    new_c = {(d.target, d.kind, d.settings_hash): d for d in defs if (d.target, d.kind, d.settings_hash) not in known}
    if new_c:
        conn.execute(checks.insert(), [{"target_id": tids[d.target], "kind": d.kind, "settings": d.settings,
                                        "settings_hash": d.settings_hash, "created_us": now_us} for d in new_c.values()])
        known = check_ids()
    return {d.id: known[(d.target, d.kind, d.settings_hash)] for d in defs}


def _insert(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """The linked rows: COPY on PostgreSQL (several times cheaper for the server than INSERTs), else one executemany."""
    if conn.dialect.name != "postgresql":
        conn.execute(measurements.insert(), list(rows))
        return
    dbapi = conn.connection.dbapi_connection  # the transaction's own connection: the COPY is part of it
    assert dbapi is not None
    with dbapi.cursor() as cur, cur.copy(COPY_SQL) as cp:  # type: ignore[attr-defined]  # psycopg 3 cursors copy
        for r in rows:
            cp.write_row(tuple(r[k] for k in INSERT_COLUMNS))


def _merge_runs(conn: Connection, agent_id: int, sent: Sequence[Mapping[str, Any]]) -> None:
    """Runs by their start: new ones added, known ones brought up to date (they only grow)."""
    if not sent:
        return
    r = runs.c
    have = {int(x.started_us): int(x.id) for x in conn.execute(
        select(r.id, r.started_us).where(r.agent_id == agent_id, r.started_us.in_([s["started_us"] for s in sent])))}
    for s in sent:
        if s["started_us"] in have:
            conn.execute(update(runs).where(r.id == have[s["started_us"]])
                         .values(ended_us=s["ended_us"], last_seen_us=s["last_seen_us"], stop=s["stop"], note=s["note"]))
        else:
            conn.execute(runs.insert().values(agent_id=agent_id, **{k: s[k] for k in RUN_COLUMNS}))


def _link(batch: Batch, defs: Mapping[int, CheckDef], central_ids: Mapping[int, int], last_seq: int, prev: bytes,
          ) -> tuple[list[dict[str, Any]], int, int, bytes, tuple[dict[str, Any], str] | None]:
    """Rows that link onto the cursor, in order: (rows to insert, duplicates, last seq, last hash, refusal)."""
    out: list[dict[str, Any]] = []
    dups = 0
    for row in batch.rows:
        seq = int(row["seq"])
        if seq <= last_seq:
            dups += 1
            continue
        d = defs.get(row["check"])
        if d is None:
            return out, dups, last_seq, prev, (row, f"row {seq} refers to check {row['check']}, which the batch does not describe")
        h = chain.link(prev, {**row, "target": d.target, "kind": d.kind, "settings_hash": d.settings_hash})
        if h != bytes(row["hash"]):
            return out, dups, last_seq, prev, (row, f"row {seq} does not link onto the agent's chain after row {last_seq} "
                                                    "(altered, forged, or a row before it is missing)")
        out.append({**{k: row[k] for k in MEASUREMENT_COLUMNS}, "check_id": central_ids[d.id], "hash": h, "ok": bool(row["ok"]),
                    "imported": bool(row["imported"])})
        last_seq, prev = seq, h
    return out, dups, last_seq, prev, None


def _server_now_us(conn: Connection, fallback_us: int) -> int:
    """The central database server's clock (PostgreSQL), the reference every agent's clock is compared with."""
    if conn.dialect.name != "postgresql":
        return fallback_us
    return int(conn.execute(text("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint")).scalar_one())


def ingest(central: Store, batch: Batch, now_us: int) -> IngestResult:
    """Take a batch in one transaction (module doc). Raises AgentConflictError after recording it.
    ``now_us`` stands for the central clock where the server has none to give (SQLite)."""
    if batch.rows:  # a month's partition made before its first row arrives (PostgreSQL; agent/store/partitions.py)
        ts = [int(r["ts_us"]) for r in batch.rows]
        ensure_months(central, min(ts), max(ts))
    with central.engine.begin() as conn:
        now_us = _server_now_us(conn, now_us)
        why = _conflict(conn, batch)
        if why is None:
            aid, last_seq, prev = _agent_row(conn, batch, now_us)
            defs = {d.id: d for d in batch.checks}
            rows, dups, new_seq, new_hash, refused = _link(batch, defs, _central_checks(conn, aid, batch.checks, now_us), last_seq, prev)
            _merge_runs(conn, aid, batch.runs)
            if rows:
                _insert(conn, rows)
            ua = upstream_agents.c
            conn.execute(update(upstream_agents).where(ua.agent_id == aid).values(
                last_seq=new_seq, last_hash=new_hash, head_seq=batch.head_seq, rows_received=ua.rows_received + len(rows),
                last_contact_us=now_us, clock_offset_us=now_us - batch.sent_us, clock_synced=batch.clock_synced))
            if refused is not None:
                row, reason = refused
                conn.execute(_refusal(batch, int(row["seq"]), reason, row, now_us))
                return IngestResult(len(rows), dups, new_seq, int(row["seq"]), reason)
            return IngestResult(len(rows), dups, new_seq)
    with central.engine.begin() as conn:  # recorded apart: the batch's own transaction was not to take anything
        conn.execute(_refusal(batch, None, why, None, now_us))
    raise AgentConflictError(why)


def fleet_agents(central: Store) -> list[FleetAgent]:
    ua, a, rf = upstream_agents.c, agents.c, upstream_refusals.c
    refused = dict(tuple(r) for r in _rows(central, select(rf.agent_uuid, func.count()).group_by(rf.agent_uuid)))
    q = (select(a.uuid, ua.name, ua.last_seq, ua.head_seq, ua.rows_received, ua.first_contact_us, ua.last_contact_us,
                ua.clock_offset_us, ua.clock_synced).join(agents, a.id == ua.agent_id).order_by(ua.name))
    return [FleetAgent(r.uuid, r.name, int(r.last_seq), int(r.head_seq), int(r.rows_received), int(r.first_contact_us),
                       int(r.last_contact_us), r.clock_offset_us, r.clock_synced, int(refused.get(r.uuid, 0)))
            for r in _rows(central, q)]


def refusals(central: Store, limit: int = 20) -> list[dict[str, Any]]:
    rf = upstream_refusals.c
    q = select(rf.agent_uuid, rf.name, rf.seq, rf.received_us, rf.reason).order_by(rf.id.desc()).limit(limit)
    return [dict(r._mapping) for r in _rows(central, q)]


def _rows(store: Store, q: Any) -> list[Any]:
    with store.engine.connect() as conn:
        return list(conn.execute(q))
