"""An agent with real rows, signed checkpoints and (optionally) a loopback TSA, for the proof tests.

Rows are synthetic probe results filed through the real Writer and chain; the
wall clock is injected (:class:`Wall`) so checkpoints and rows interleave in
time and a clock step can be made on demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from agent.config import Settings, load_config
from agent.core.result import ProbeResult
from agent.daemon import Daemon
from agent.proof.service import ProofService
from agent.store import Store, chain
from tests.conftest import make_config

T0 = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
TARGETS = [{"name": "vps", "address": "127.0.0.1", "checks": [{"kind": "tcp", "port": 9}]},
           {"name": "other", "address": "127.0.0.2", "checks": [{"kind": "tcp", "port": 9}]}]


class Wall:
    def __init__(self, t: datetime = T0) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


@dataclass
class ProofAgent:
    cfg: Path
    settings: Settings
    store: Store
    daemon: Daemon
    wall: Wall

    @property
    def proof(self) -> ProofService:
        svc = self.daemon.services[0]
        assert isinstance(svc, ProofService)
        return svc

    def rows(self, n: int, *, every_s: float = 10.0) -> None:
        """n rounds of both targets (one row each), then wait for the commit."""
        for i in range(n):
            for name in ("vps", "other"):
                ref = self.daemon.refs[name].checks[0]
                ok = (i % 7) != 3
                self.daemon.writer.submit(ref, ProbeResult("tcp", self.wall(), ok, 1.25 + i % 5 if ok else None, {},
                                                           None if ok else "timeout", None if ok else "no answer in 5 s"), lag_us=i)
            self.wall.advance(every_s)
        assert self.daemon.writer.flush(30)

    def checkpoint(self) -> None:
        assert self.proof.checkpoint_now()

    def close(self) -> None:
        self.daemon.writer.close()


def make_agent(folder: Path, **agent: Any) -> ProofAgent:
    folder.mkdir(parents=True, exist_ok=True)
    cfg = make_config(folder / "config.toml", TARGETS, **agent)
    settings, _ = load_config(cfg)
    store = Store.open(settings.database_url())
    wall = Wall()
    d = Daemon(settings, store, clock=wall)
    d.writer.start()
    return ProofAgent(cfg, settings, store, d, wall)


def measurement_ids(store: Store) -> list[int]:
    with store.engine.connect() as c:
        return [int(r[0]) for r in c.execute(text("SELECT id FROM measurements ORDER BY id"))]


COLUMNS = ("ts_us", "check_id", "ok", "lag_us", "rtt_ns", "sent", "received", "status", "error_class", "error", "detail", "hash")


def swap_rows(store: Store, a: int, b: int) -> None:
    """Exchange the whole content of two rows (their ids stay): the chain order of two results is reversed."""
    with store.engine.begin() as c:
        ra = c.execute(text(f"SELECT {', '.join(COLUMNS)} FROM measurements WHERE id = :i"), {"i": a}).mappings().one()
        rb = c.execute(text(f"SELECT {', '.join(COLUMNS)} FROM measurements WHERE id = :i"), {"i": b}).mappings().one()
        sets = ", ".join(f"{k} = :{k}" for k in COLUMNS)
        c.execute(text(f"UPDATE measurements SET {sets} WHERE id = :id"), {**dict(rb), "id": a})
        c.execute(text(f"UPDATE measurements SET {sets} WHERE id = :id"), {**dict(ra), "id": b})


def rewrite_chain(store: Store, agent_uuid: str) -> None:
    """What a forger with database access does after editing a row: recompute every hash from the start."""
    prev = chain.genesis(agent_uuid)
    updates = []
    for row in store.iter_chain(agent_uuid):
        prev = chain.link(prev, row)
        updates.append({"h": prev, "i": row["id"]})
    with store.engine.begin() as c:
        c.execute(text("UPDATE measurements SET hash = :h WHERE id = :i"), updates)
