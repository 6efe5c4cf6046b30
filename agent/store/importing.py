"""`slaproof import` into the store: the file checked whole, then its new rows chained and
inserted in one transaction (all of it or none of it).

Rows already present are skipped and counted, never stored twice: a row is present when an
imported row of the same target, check kind and time, measured by the same tool (``--tool``;
"unknown" without it), is stored, whether it came from this file (imported twice) or from another
(an overlapping export of the same tool). Rows measured by this agent never make an imported one
present: they are another source. Presence is read a chunk at a time, one query per (target,
kind) of the chunk over the chunk's time range (the covering index on check and time), so a
re-import costs what an import does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from agent.core.errors import UsageError
from agent.core.times import to_us, utcnow
from agent.store import chain
from agent.store.database import Store
from agent.store.exchange import UNKNOWN_TOOL, read_records
from agent.store.schema import checks, measurements, targets

CHUNK = 5_000  # rows checked for presence, chained and inserted together

Row = dict[str, Any]


@dataclass(frozen=True)
class ImportOutcome:
    new: int  # rows stored
    present: int  # rows skipped: already stored (same target, check kind, time and tool)


def _tool_of(settings: dict[str, Any]) -> str:
    return str(settings.get("tool") or UNKNOWN_TOOL)


def same_tool_checks(conn: Connection, agent_id: int, target: str, kind: str, tool: str) -> list[int]:
    """The imported check rows of this agent's (target, kind) whose rows the tool measured (check
    rows imported before sources were kept count as tool "unknown")."""
    q = (select(checks.c.id, checks.c.settings).join(targets, targets.c.id == checks.c.target_id)
         .where(targets.c.agent_id == agent_id, targets.c.name == target, checks.c.kind == kind))
    out = []
    for cid, text in conn.execute(q):
        settings = json.loads(text)
        if settings.get("imported") and _tool_of(settings) == tool:
            out.append(int(cid))
    return out


@dataclass
class _Key:
    """One (target, kind) of the file: the check its new rows go to (made with its first new row)
    and the checks holding rows of the same tool."""

    same_tool: list[int]
    check_id: int | None = None
    settings_hash: str = ""


@dataclass
class _Job:
    store: Store
    conn: Connection
    agent_id: int
    addresses: dict[str, str]
    source: dict[str, str]
    now_us: int
    keys: dict[tuple[str, str], _Key] = field(default_factory=dict)

    def key(self, target: str, kind: str) -> _Key:
        k = self.keys.get((target, kind))
        if k is None:
            k = self.keys[(target, kind)] = _Key(same_tool_checks(self.conn, self.agent_id, target, kind, _tool_of(self.source)))
        return k

    def present(self, k: _Key, rows: list[Row]) -> set[int]:
        """Times of this key's rows (same tool) already stored within the rows' time range: one query."""
        if not k.same_tool:
            return set()
        m = measurements.c
        lo, hi = min(r["ts_us"] for r in rows), max(r["ts_us"] for r in rows)
        q = select(m.ts_us).where(m.check_id.in_(k.same_tool), m.ts_us >= lo, m.ts_us <= hi)
        return {int(t) for (t,) in self.conn.execute(q)}

    def fresh(self, rows: list[Row]) -> tuple[list[Row], int]:
        """The chunk's rows not yet stored, in file order, ready to chain; and how many were present
        (a time repeated within the file counts as present from its second line on)."""
        by_key: dict[tuple[str, str], list[Row]] = {}
        for r in rows:
            by_key.setdefault((r["target"], r["kind"]), []).append(r)
        have = {key: self.present(self.key(*key), group) for key, group in by_key.items()}
        out: list[Row] = []
        for r in rows:
            key = (r["target"], r["kind"])
            seen = have[key]
            if r["ts_us"] in seen:
                continue
            seen.add(r["ts_us"])
            k = self.keys[key]
            if k.check_id is None:
                ref = self.store.import_check(self.agent_id, key[0], key[1], self.addresses[key[0]], self.now_us, self.source,
                                              conn=self.conn)
                k.check_id, k.settings_hash = ref.id, ref.settings_hash
                if ref.id not in k.same_tool:
                    k.same_tool.append(ref.id)
            out.append({**r, "check_id": k.check_id, "settings_hash": k.settings_hash})
        return out, len(rows) - len(out)


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    buf: list[Row] = []
    for r in rows:
        buf.append(r)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


@dataclass(frozen=True)
class CheckedFile:
    """A file whose every line passed the rules (pass 1), judged at one instant: import_file takes
    only this, so nothing (not even the database) is touched for a file that would be refused."""

    path: Path
    names: frozenset[str]
    at: datetime
    records: int

    def clock(self) -> datetime:
        return self.at  # one instant for the whole file: both passes judge alike

    def rows(self) -> Iterator[Row]:
        return read_records(self.path, set(self.names), self.clock)


def check_file(path: Path, names: Iterable[str], now: Callable[[], datetime] = utcnow) -> CheckedFile:
    """Pass 1: every line checked (UsageError naming the first bad one), nothing written. ``now``:
    the clock a future-dated row is judged by."""
    checked = CheckedFile(path, frozenset(names), now(), 0)
    records = sum(1 for _ in checked.rows())
    if not records:
        raise UsageError(f"{path}: no records")
    return CheckedFile(checked.path, checked.names, checked.at, records)


def import_file(store: Store, checked: CheckedFile, *, agent_uuid: str, addresses: dict[str, str], source: dict[str, str],
                chunk: int = CHUNK) -> ImportOutcome:
    """Pass 2: chain and insert the file's new rows in one transaction (the file is read again and
    its rules applied again: changed since pass 1, it is refused whole). ``addresses``: the config's
    target name → address; ``source``: exchange.source_of."""
    now_us = to_us(checked.at)
    agent_id = store.ensure_agent(agent_uuid, now_us)
    new = present = 0
    genesis = chain.genesis(agent_uuid)
    with store.engine.begin() as conn:
        job = _Job(store, conn, agent_id, addresses, source, now_us)
        for rows in _chunks(checked.rows(), chunk):
            fresh, skipped = job.fresh(rows)
            present += skipped
            if fresh:
                new += store.append_chained(conn, agent_id, genesis, fresh, chunk=len(fresh))
    return ImportOutcome(new, present)
