"""SQL of the proof tables (key epochs, checkpoints, RFC 3161 tokens, clock state), and the
chain reads they need. Kept apart from database.py so the measurement store stays what it was."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from agent.store.database import MEASUREMENT_COLUMNS, Store, _new_id
from agent.store.schema import (
    agent_keys,
    agents,
    checkpoints,
    checks,
    clock_spans,
    clock_steps,
    measurements,
    targets,
    timestamps,
)


@dataclass(frozen=True, slots=True)
class KeyEpoch:
    epoch: int
    vkey: str
    fingerprint: str
    created_us: int
    reason: str
    announcement: str | None


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    id: int
    epoch: int
    ts_us: int
    size: int
    head_row_id: int | None
    note: str
    reason: str


@dataclass(frozen=True, slots=True)
class TokenRow:
    id: int
    checkpoint_id: int
    tsa_url: str
    authority: str
    gen_time_us: int
    received_us: int
    token: bytes


@dataclass(frozen=True, slots=True)
class ClockSpan:
    start_us: int
    end_us: int
    synced: bool | None
    maxerror_us: int | None
    esterror_us: int | None
    samples: int


@dataclass(frozen=True, slots=True)
class ClockStep:
    ts_us: int
    step_us: int


def _agent_checks(agent_id: int) -> Any:
    return select(checks.c.id).join(targets, targets.c.id == checks.c.target_id).where(targets.c.agent_id == agent_id)


class ProofRecords:
    """Reads and writes of the proof tables for one open store (thread-safe like the store)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

    # -- agents ----------------------------------------------------------------
    def agent_id(self, agent_uuid: str) -> int | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(agents.c.id).where(agents.c.uuid == agent_uuid)).first()
            return int(r.id) if r else None

    def agent_check_ids(self, agent_id: int) -> set[int]:
        with self.engine.connect() as conn:
            return {int(r[0]) for r in conn.execute(_agent_checks(agent_id))}

    # -- key epochs ------------------------------------------------------------
    def key_epochs(self, agent_id: int) -> list[KeyEpoch]:
        k = agent_keys.c
        with self.engine.connect() as conn:
            return [KeyEpoch(int(r.epoch), r.vkey, r.fingerprint, int(r.created_us), r.reason, r.announcement)
                    for r in conn.execute(select(agent_keys).where(k.agent_id == agent_id).order_by(k.epoch))]

    def add_key_epoch(self, agent_id: int, epoch: int, vkey: str, fingerprint: str, now_us: int, reason: str,
                      announcement: str | None) -> KeyEpoch:
        """A new epoch row; the unique (agent, epoch) constraint refuses a second writer of the same epoch."""
        with self.engine.begin() as conn:
            conn.execute(agent_keys.insert().values(agent_id=agent_id, epoch=epoch, vkey=vkey, fingerprint=fingerprint,
                                                    created_us=now_us, reason=reason, announcement=announcement))
        return KeyEpoch(epoch, vkey, fingerprint, now_us, reason, announcement)

    # -- the chain -------------------------------------------------------------
    def count_chain_rows(self, agent_id: int, after_id: int | None, upto_id: int) -> int:
        """Rows of the agent's chain with after_id < id <= upto_id (a primary-key range)."""
        m = measurements.c
        q = select(func.count()).select_from(measurements).where(m.check_id.in_(_agent_checks(agent_id)), m.id <= upto_id)
        if after_id is not None:
            q = q.where(m.id > after_id)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar() or 0)

    def iter_chain_range(self, agent_id: int, after_id: int | None, upto_id: int | None) -> Iterator[dict[str, Any]]:
        """The agent's rows with after_id < id <= upto_id in chain order, with their chain fields."""
        m = measurements.c
        q = (select(m.id, *[m[c] for c in MEASUREMENT_COLUMNS], checks.c.kind, checks.c.settings_hash, targets.c.name.label("target"))
             .join(checks, checks.c.id == m.check_id).join(targets, targets.c.id == checks.c.target_id)
             .where(targets.c.agent_id == agent_id).order_by(m.id))
        if after_id is not None:
            q = q.where(m.id > after_id)
        if upto_id is not None:
            q = q.where(m.id <= upto_id)
        with self.engine.connect() as conn, closing(conn.execution_options(stream_results=True, yield_per=10000).execute(q)) as res:
            for r in res.mappings():
                yield dict(r)

    def scope_ids(self, check_ids: Sequence[int], start_us: int, end_us: int) -> tuple[int, int] | None:
        """(first, last) row id of some checks' rows in [start, end): the rows a report covers."""
        if not check_ids:
            return None
        m = measurements.c
        with self.engine.connect() as conn:
            r = conn.execute(select(func.min(m.id), func.max(m.id))
                             .where(m.check_id.in_(list(check_ids)), m.ts_us >= start_us, m.ts_us < end_us)).first()
        return (int(r[0]), int(r[1])) if r is not None and r[0] is not None else None

    # -- checkpoints -----------------------------------------------------------
    def add_checkpoint(self, agent_id: int, epoch: int, ts_us: int, size: int, head_row_id: int | None, note: str, reason: str) -> int:
        with self.engine.begin() as conn:
            return _new_id(conn.execute(checkpoints.insert().values(
                agent_id=agent_id, epoch=epoch, ts_us=ts_us, size=size, head_row_id=head_row_id, note=note, reason=reason)))

    def checkpoints(self, agent_id: int) -> list[CheckpointRow]:
        c = checkpoints.c
        with self.engine.connect() as conn:
            return [CheckpointRow(int(r.id), int(r.epoch), int(r.ts_us), int(r.size), None if r.head_row_id is None else int(r.head_row_id),
                                  r.note, r.reason)
                    for r in conn.execute(select(checkpoints).where(c.agent_id == agent_id).order_by(c.size, c.id))]

    def last_checkpoint(self, agent_id: int) -> CheckpointRow | None:
        c = checkpoints.c
        with self.engine.connect() as conn:
            r = conn.execute(select(checkpoints).where(c.agent_id == agent_id).order_by(c.size.desc(), c.id.desc()).limit(1)).first()
        if r is None:
            return None
        return CheckpointRow(int(r.id), int(r.epoch), int(r.ts_us), int(r.size),
                             None if r.head_row_id is None else int(r.head_row_id), r.note, r.reason)

    # -- RFC 3161 tokens -------------------------------------------------------
    def add_timestamp(self, checkpoint_id: int, tsa_url: str, authority: str, gen_time_us: int, received_us: int, token: bytes) -> int:
        with self.engine.begin() as conn:
            return _new_id(conn.execute(timestamps.insert().values(
                checkpoint_id=checkpoint_id, tsa_url=tsa_url, authority=authority, gen_time_us=gen_time_us,
                received_us=received_us, token=token)))

    def timestamps(self, agent_id: int) -> list[TokenRow]:
        t = timestamps.c
        q = (select(timestamps).join(checkpoints, checkpoints.c.id == t.checkpoint_id)
             .where(checkpoints.c.agent_id == agent_id).order_by(checkpoints.c.size, t.id))
        with self.engine.connect() as conn:
            return [TokenRow(int(r.id), int(r.checkpoint_id), r.tsa_url, r.authority, int(r.gen_time_us), int(r.received_us), bytes(r.token))
                    for r in conn.execute(q)]

    def last_stamped_size(self, agent_id: int, tsa_url: str) -> int | None:
        """The largest checkpoint size this authority has stamped for the agent."""
        q = (select(func.max(checkpoints.c.size)).join(timestamps, timestamps.c.checkpoint_id == checkpoints.c.id)
             .where(checkpoints.c.agent_id == agent_id, timestamps.c.tsa_url == tsa_url))
        with self.engine.connect() as conn:
            v = conn.execute(q).scalar()
        return None if v is None else int(v)

    # -- clock -----------------------------------------------------------------
    def add_clock(self, agent_id: int, spans: Sequence[ClockSpan], steps: Sequence[ClockStep]) -> None:
        with self.engine.begin() as conn:
            if spans:
                conn.execute(clock_spans.insert(), [{"agent_id": agent_id, "start_us": s.start_us, "end_us": s.end_us, "synced": s.synced,
                                                     "maxerror_us": s.maxerror_us, "esterror_us": s.esterror_us, "samples": s.samples}
                                                    for s in spans])
            if steps:
                conn.execute(clock_steps.insert(), [{"agent_id": agent_id, "ts_us": s.ts_us, "step_us": s.step_us} for s in steps])

    def clock_between(self, agent_id: int, start_us: int, end_us: int) -> tuple[list[ClockSpan], list[ClockStep]]:
        s, st = clock_spans.c, clock_steps.c
        with self.engine.connect() as conn:
            spans = [ClockSpan(int(r.start_us), int(r.end_us), r.synced, r.maxerror_us, r.esterror_us, int(r.samples))
                     for r in conn.execute(select(clock_spans).where(s.agent_id == agent_id, s.end_us >= start_us, s.start_us < end_us)
                                           .order_by(s.start_us))]
            steps = [ClockStep(int(r.ts_us), int(r.step_us))
                     for r in conn.execute(select(clock_steps).where(st.agent_id == agent_id, st.ts_us >= start_us, st.ts_us < end_us)
                                           .order_by(st.ts_us))]
        return spans, steps
