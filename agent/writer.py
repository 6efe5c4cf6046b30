"""The one writer: results queue up here and are committed in batches, off the probe path.

A probe never waits for the disk. Each batch is one transaction that takes the
agent's row lock, reads the chain head, hashes the rows onto it and inserts
them, so a concurrent ``slaproof import`` cannot fork the chain. A failed
commit is logged and retried with back-off; rows stay queued, never dropped.
If the database is still unwritable at shutdown, pending rows are spooled to a
JSON-lines file in the state directory and filed on the next start.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from agent.core.result import ProbeResult
from agent.store import CheckRef, Store, chain
from agent.store.rows import result_to_row

log = logging.getLogger(__name__)

SPOOL_GLOB = "spool-*.jsonl"


@dataclass
class WriterStats:
    rows_written: int = 0
    batches: int = 0
    failures: int = 0
    spooled: int = 0
    last_error: str | None = None


@dataclass
class _Batch:
    rows: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    heartbeat: tuple[int, int] | None = None
    seqs: int = 0


class Writer:
    """Owns all writes of one agent. ``submit*`` are thread-safe and never block on I/O."""

    def __init__(
        self,
        store: Store,
        agent_uuid: str,
        agent_id: int,
        *,
        batch_s: float = 1.0,
        max_batch: int = 5000,
        spool_dir: Path | None = None,
        retry_max_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.agent_uuid = agent_uuid
        self.agent_id = agent_id
        self.batch_s = batch_s
        self.max_batch = max_batch
        self.spool_dir = spool_dir
        self.retry_max_s = retry_max_s
        self.clock = clock
        self.stats = WriterStats()
        self._q: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._submitted = 0
        self._committed = 0
        self._cv = threading.Condition()
        self._stop = threading.Event()
        self._give_up_at: float | None = None
        self._thread: threading.Thread | None = None
        self._genesis = chain.genesis(agent_uuid)

    # -- producer side ---------------------------------------------------------
    def _put(self, kind: str, item: Any) -> None:
        with self._cv:
            self._submitted += 1
        self._q.put((kind, item))

    def submit(self, ref: CheckRef, result: ProbeResult, lag_us: int | None = None) -> None:
        self._put("row", {**result_to_row(result, target=ref.target, settings_hash=ref.settings_hash, lag_us=lag_us), "check_id": ref.id})

    def submit_row(self, row: dict[str, Any]) -> None:
        """A ready row dict (with check_id, target, kind, settings_hash)."""
        self._put("row", row)

    def submit_evidence(self, item: dict[str, Any]) -> None:
        self._put("evidence", item)

    def heartbeat(self, run_id: int, now_us: int) -> None:
        self._put("heartbeat", (run_id, now_us))

    @property
    def pending(self) -> int:
        with self._cv:
            return self._submitted - self._committed

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> Writer:
        self._thread = threading.Thread(target=self._loop, name="slaproof-writer", daemon=True)
        self._thread.start()
        return self

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything submitted so far is committed."""
        deadline = time.monotonic() + timeout
        with self._cv:
            target = self._submitted
            while self._committed < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(left)
        return True

    def close(self, timeout: float = 30.0) -> int:
        """Flush, stop the thread; spool what could not be written. Returns rows spooled."""
        self._give_up_at = time.monotonic() + timeout
        self._stop.set()
        self._q.put(("wake", None))
        if self._thread:
            self._thread.join(timeout + 5)
        return self.stats.spooled

    # -- the thread ------------------------------------------------------------
    def _collect(self) -> _Batch | None:
        b = _Batch()
        try:
            kind, item = self._q.get(timeout=0.2)
        except queue.Empty:
            return None
        self._add(b, kind, item)
        deadline = self.clock() + self.batch_s
        while len(b.rows) < self.max_batch:
            left = deadline - self.clock()
            if self._stop.is_set():
                left = 0
            try:
                kind, item = self._q.get(timeout=left) if left > 0 else self._q.get_nowait()
            except queue.Empty:
                break
            self._add(b, kind, item)
        return b

    @staticmethod
    def _add(b: _Batch, kind: str, item: Any) -> None:
        if kind == "wake":
            return
        b.seqs += 1
        if kind == "row":
            b.rows.append(item)
        elif kind == "evidence":
            b.evidence.append(item)
        elif kind == "heartbeat":
            b.heartbeat = item

    def _loop(self) -> None:
        carry: _Batch | None = None
        while True:
            batch = carry or self._collect()
            carry = None
            if batch is None:
                if self._stop.is_set() and self._q.empty():
                    return
                continue
            if batch.seqs == 0:
                continue
            delay = 0.5
            while True:
                try:
                    self._commit(batch)
                    break
                except (SQLAlchemyError, OSError) as e:
                    self.stats.failures += 1
                    self.stats.last_error = str(e).splitlines()[0][:300]
                    log.warning("database write failed (%d rows waiting, will retry in %.1fs): %s",
                                len(batch.rows) + self._q.qsize(), delay, self.stats.last_error)
                    if self._stop.is_set() and self._give_up_at is not None and time.monotonic() > self._give_up_at:
                        self._spool(batch)
                        self._drain_to_spool()
                        return
                    self._stop.wait(delay) if not self._stop.is_set() else time.sleep(min(delay, 1.0))
                    delay = min(delay * 2, self.retry_max_s)
            with self._cv:
                self._committed += batch.seqs
                self._cv.notify_all()

    def _commit(self, b: _Batch) -> None:
        with self.store.engine.begin() as conn:
            self.store.append_chained(conn, self.agent_id, self._genesis, b.rows)
            self.store.insert_evidence(conn, b.evidence)
            if b.heartbeat:
                self.store.heartbeat(conn, *b.heartbeat)
        self.stats.rows_written += len(b.rows)
        self.stats.batches += 1

    # -- spool -----------------------------------------------------------------
    def _spool_path(self) -> Path | None:
        if not self.spool_dir:
            return None
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        return self.spool_dir / f"spool-{time.time_ns()}.jsonl"

    def _spool(self, b: _Batch) -> None:
        path = self._spool_path()
        lost = len(b.rows)
        if path is None:
            log.error("database unwritable at shutdown and no spool directory: %d rows could not be saved", lost)
            return
        with path.open("a", encoding="utf-8") as f:
            for r in b.rows:
                f.write(json.dumps({"type": "row", **r}, ensure_ascii=False) + "\n")
            for e in b.evidence:
                f.write(json.dumps({"type": "evidence", **e}, ensure_ascii=False) + "\n")
        self.stats.spooled += lost
        log.error("database unwritable at shutdown: %d rows spooled to %s; they are filed on next start", lost, path)

    def _drain_to_spool(self) -> None:
        rest = _Batch()
        while True:
            try:
                kind, item = self._q.get_nowait()
            except queue.Empty:
                break
            self._add(rest, kind, item)
        if rest.rows or rest.evidence:
            self._spool(rest)


def recover_spool(spool_dir: Path, writer: Writer) -> int:
    """File rows spooled by an earlier run (then delete the spool file). Returns rows queued."""
    n = 0
    for path in sorted(spool_dir.glob(SPOOL_GLOB)):
        items: Sequence[dict[str, Any]] = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for item in items:
            kind = item.pop("type", "row")
            if kind == "row":
                writer.submit_row(item)
                n += 1
            else:
                writer.submit_evidence(item)
        if not writer.flush(60):
            log.error("spool %s queued but not yet committed; keeping the file", path)
            continue
        path.rename(path.with_suffix(".filed"))
        log.info("filed %d spooled rows from %s", len(items), path)
    return n
