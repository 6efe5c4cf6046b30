"""The one writer: every round goes to the journal at once, and into the database in batches.

``submit_round`` writes the round to the journal (agent/journal.py) with one
``write()`` and returns: from then on a ``kill -9`` cannot lose it. The writer
thread, once per ``batch_s``, seals the journal segment, files each sealed
segment in one transaction (agent row lock, chain head, hashes, insert, run's
last-seen time) and deletes it. Filing is idempotent: a segment whose first
row is already stored (a kill between commit and delete) is not filed again,
so replay never files a row twice and the chain never forks.

When no journal directory can be written (a full or read-only disk and no
spool directory elsewhere), rounds wait in memory, up to ``max_queued_rows``;
past that they are counted as lost, logged, and reported at stop. A failed
commit is retried with back-off; the rows stay in the journal meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from agent.core.result import ProbeResult
from agent.core.secrets import mask_text
from agent.core.times import to_us, utcnow
from agent.journal import Journal, Record, Segment, encode
from agent.store import CheckRef, Store, chain
from agent.store.rows import result_to_row

log = logging.getLogger(__name__)

DEFAULT_MAX_QUEUED_ROWS = 50_000  # ~100 MB of Python objects at worst; only used when no journal directory is writable
LOST_LOG_EVERY_S = 60.0
STOP_TRIES_WHEN_KEPT = 3  # a full disk must not flood the journal with one line per round


@dataclass
class WriterStats:
    rows_written: int = 0
    batches: int = 0
    failures: int = 0
    lost: int = 0  # rows that could be kept nowhere (no journal directory, database failing, queue full)
    replayed_segments: int = 0
    last_error: str | None = None


@dataclass
class WriterOutcome:
    """What stop left behind: the daemon records the run clean only when ``filed_all``."""

    filed_all: bool
    kept_rows: int = 0  # rows in journal files, filed at the next start
    kept_in: list[Path] = field(default_factory=list)
    lost_rows: int = 0
    last_error: str | None = None

    def reason(self) -> str | None:
        """One sentence for the run's note and the stop message; None when everything was filed."""
        parts = []
        if self.kept_rows:
            where = ", ".join(sorted({str(p) for p in self.kept_in}))
            parts.append(f"{self.kept_rows} rows not yet in the database are kept in {where} and are filed at the next start")
        if self.lost_rows:
            parts.append(f"{self.lost_rows} rows could not be kept (no journal directory was writable and the database failed)")
        if not parts and not self.filed_all:
            parts.append("the writer did not finish")
        if not parts:
            return None
        return "; ".join(parts) + (f"; last error: {self.last_error}" if self.last_error else "")


class Writer:
    """Owns all writes of one agent. ``submit*`` are thread-safe and never wait for the database."""

    def __init__(
        self,
        store: Store,
        agent_uuid: str,
        agent_id: int,
        *,
        batch_s: float = 1.0,
        journal_dirs: Sequence[Path] = (),
        max_queued_rows: int = DEFAULT_MAX_QUEUED_ROWS,
        retry_max_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.agent_uuid = agent_uuid
        self.agent_id = agent_id
        self.batch_s = batch_s
        self.max_queued_rows = max_queued_rows
        self.retry_max_s = retry_max_s
        self.clock = clock
        self.now = now
        self.run_id: int | None = None
        self.stats = WriterStats()
        self.journal = Journal(journal_dirs, now_us=lambda: to_us(self.now())) if journal_dirs else None
        self._genesis = chain.genesis(agent_uuid)
        self._lock = threading.Lock()  # the journal's open segment and the memory queue
        self._cv = threading.Condition()  # cycle counters, for flush()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._give_up_at: float | None = None
        self._thread: threading.Thread | None = None
        self._backlog: list[Segment] = []  # sealed, not yet filed (writer thread only)
        self._memory: list[Record] = []  # records no journal directory took
        self._unsafe: list[list[Record]] = []  # records of segments a disk error made unsafe, each filed as a unit
        self._memory_rows = 0
        self._submitted = 0
        self._filed = 0
        self._cycles_started = 0
        self._cycles_done = 0
        self._clean_cycle = 0  # the number of the last cycle that ended with nothing left to file
        self._lost_unlogged = 0
        self._lost_logged_at: float | None = None

    # -- producer side ---------------------------------------------------------
    def submit_round(self, rows: Sequence[dict[str, Any]], evidence: Sequence[dict[str, Any]] = ()) -> None:
        """A round's rows (each with check_id, target, kind, settings_hash): one journal write."""
        self._put(Record(self.run_id, to_us(self.now()), list(rows), list(evidence)))

    def submit(self, ref: CheckRef, result: ProbeResult, lag_us: int | None = None) -> None:
        """One result as a round of its own."""
        self.submit_round([{**result_to_row(result, target=ref.target, settings_hash=ref.settings_hash, lag_us=lag_us),
                            "check_id": ref.id}])

    def submit_evidence(self, item: dict[str, Any]) -> None:
        self._put(Record(self.run_id, to_us(self.now()), [], [item]))

    def heartbeat(self, run_id: int, now_us: int) -> None:
        self._put(Record(run_id, now_us))

    def _put(self, rec: Record) -> None:
        n = len(rec.rows)
        with self._lock:
            if self.journal is not None and self.journal.append(encode(rec), n) is not None:
                self._count_submitted()
                return
            if self._memory_rows + n > self.max_queued_rows:
                self._lose(n)
                return
            self._memory.append(rec)
            self._memory_rows += n
            self._count_submitted()

    def _count_submitted(self) -> None:
        with self._cv:
            self._submitted += 1

    def _lose(self, n: int) -> None:
        """Count rows that could be kept nowhere; say so, at most once a minute."""
        self.stats.lost += n
        self._lost_unlogged += n
        now = self.clock()
        if self._lost_logged_at is None or now - self._lost_logged_at >= LOST_LOG_EVERY_S:
            why = (self.journal.last_error if self.journal else None) or self.stats.last_error or "queue full"
            log.error("%d rows could not be kept (%d in all): no journal directory is writable (%s), the database is "
                      "failing, and %d rows already wait in memory; free space or set agent.spool_dirs",
                      self._lost_unlogged, self.stats.lost, why, self._memory_rows)
            self._lost_unlogged = 0
            self._lost_logged_at = now

    @property
    def pending(self) -> int:
        """Records submitted and not yet in the database."""
        with self._cv:
            return self._submitted - self._filed

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> Writer:
        """Lock the journal, take up segments left by earlier runs, start the thread."""
        if self.journal is not None:
            self.journal.lock()
            old = self.journal.discover()
            if old:
                log.info("%d journal file(s) left by an earlier run: filing them first", len(old))
            self._backlog = old
        self._thread = threading.Thread(target=self._loop, name="slaproof-writer", daemon=True)
        self._thread.start()
        return self

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything submitted so far (and any earlier run's journal) is in the database."""
        deadline = self.clock() + timeout
        with self._cv:
            after = self._cycles_started
            self._wake.set()
            while self._clean_cycle <= after:
                left = deadline - self.clock()
                if left <= 0 or (self._thread is None or not self._thread.is_alive()):
                    return False
                self._cv.wait(min(left, 0.5))
                self._wake.set()
        return True

    def close(self, timeout: float = 30.0) -> WriterOutcome:
        """File what can be filed within ``timeout``; what cannot stays in the journal (or is counted lost)."""
        self._give_up_at = self.clock() + timeout
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout + 10)
        with self._lock:
            memory, self._memory = self._memory, []
            for rec in memory:  # a last try to keep them on disk
                seg = self.journal.append(encode(rec), len(rec.rows)) if self.journal is not None else None
                if seg is None:
                    self.stats.lost += len(rec.rows)
            self.stats.lost += sum(len(r.rows) for unit in self._unsafe for r in unit)
            self._unsafe, self._memory_rows = [], 0
            left = self._backlog + (self._take_sealed(self.journal.seal()) if self.journal is not None else [])
            if self.journal is not None:
                self.journal.close()
            self._backlog = []
            self.stats.lost += sum(len(r.rows) for unit in self._unsafe for r in unit)
            self._unsafe = []
        assert self.journal is not None or not left
        kept = 0
        for seg in left:
            if seg.rows < 0 and self.journal is not None:
                self.journal.load(seg)
            kept += max(seg.rows, 0)
        out = WriterOutcome(filed_all=not left and not self.stats.lost, kept_rows=kept,
                            kept_in=[s.path.parent for s in left if s.rows > 0], lost_rows=self.stats.lost,
                            last_error=self.stats.last_error)
        if out.lost_rows:
            log.error("%d rows could not be kept: no journal folder was writable (%s) and the database failed (%s)", out.lost_rows,
                      (self.journal.last_error if self.journal else None) or "no journal configured", out.last_error)
        return out

    # -- the thread ------------------------------------------------------------
    def _loop(self) -> None:
        delay = 0.5
        next_at = self.clock() + self.batch_s
        tries_at_stop = 0
        while True:
            self._wake.wait(max(0.0, next_at - self.clock()))
            self._wake.clear()
            stopping = self._stop.is_set()  # set before this cycle sealed: the cycle sees every submission
            ok = self._cycle()
            if stopping:
                tries_at_stop += not ok
                # Rows only in memory are worth every second until the deadline; rows safe in the
                # journal are filed at the next start, so a few tries are enough.
                kept = not self._memory and not self._unsafe and tries_at_stop >= STOP_TRIES_WHEN_KEPT
                if ok or kept or (self._give_up_at is not None and self.clock() > self._give_up_at):
                    return
            if ok:
                delay = 0.5
                next_at = self.clock() + self.batch_s
            else:
                next_at = self.clock() + (min(delay, 1.0) if self._stop.is_set() else delay)
                delay = min(delay * 2, self.retry_max_s)

    def _cycle(self) -> bool:
        """Seal, file every sealed segment, then the memory queue. True if nothing is left."""
        with self._lock:
            if self.journal is not None:
                self._backlog += self._take_sealed(self.journal.seal())
            memory, self._memory = self._memory, []
            self._memory_rows = sum(len(r.rows) for unit in self._unsafe for r in unit)
            with self._cv:
                self._cycles_started += 1
                number = self._cycles_started
        try:
            while self._backlog:
                seg = self._backlog[0]
                assert self.journal is not None
                self._file(self.journal.load(seg), replayed=seg.found)
                self.journal.remove(seg)
                self._backlog.pop(0)
                with self._cv:
                    self._filed += seg.records
            while self._unsafe:
                self._file(self._unsafe[0])
                with self._lock:
                    unit = self._unsafe.pop(0)
                    self._memory_rows -= sum(len(r.rows) for r in unit)
                with self._cv:
                    self._filed += len(unit)
            if memory:
                self._file(memory)
                with self._cv:
                    self._filed += len(memory)
                memory = []
            ok = True
        except (SQLAlchemyError, OSError) as e:
            ok = False
            self.stats.failures += 1
            self.stats.last_error = mask_text(str(e).splitlines()[0][:300])
            on_disk = sum(max(s.rows, 0) for s in self._backlog)
            log.warning("database write failed: %s; %d rows wait in the journal, %d in memory (retrying)",
                        self.stats.last_error, on_disk, sum(len(r.rows) for r in memory) + self._memory_rows)
            if memory:
                self._requeue(memory)
        with self._cv:
            self._cycles_done = number
            if ok:
                self._clean_cycle = number
            self._cv.notify_all()
        return ok

    def _requeue(self, memory: list[Record]) -> None:
        """Records that were only in memory: into the journal if it takes them now, else back in the queue."""
        with self._lock:
            back: list[Record] = []
            for rec in memory:  # into the journal: counted as filed when its segment is
                if (self.journal.append(encode(rec), len(rec.rows)) if self.journal is not None else None) is None:
                    back.append(rec)
            self._memory = back + self._memory
            self._memory_rows += sum(len(r.rows) for r in back)

    def _take_sealed(self, sealed: list[Segment]) -> list[Segment]:
        """Durable segments go to the backlog; an unsafe one's records are held in memory (under the bound)."""
        keep = []
        assert self.journal is not None
        for seg in sealed:
            if seg.durable:
                keep.append(seg)
                continue
            records = self.journal.load(seg)
            n = sum(len(r.rows) for r in records)
            log.error("journal %s could not be made durable (%s) and no other folder took a copy; its %d rows wait in memory",
                      seg.path, self.journal.last_error, n)
            if self._memory_rows + n > self.max_queued_rows:
                self._lose(n)
            else:
                self._unsafe.append(records)
                self._memory_rows += n
            with self._cv:  # the unit is counted as filed by its records, not the segment's
                self._submitted += len(records) - seg.records
        return keep

    def _file(self, records: list[Record], *, replayed: bool = False) -> None:
        """One transaction: rows chained, evidence, each run's last-seen time. Idempotent: a unit
        whose first row (or evidence item) is already stored was filed before a crash and is skipped."""
        rows = [r for rec in records for r in rec.rows]
        evidence = [e for rec in records for e in rec.evidence]
        seen: dict[int, int] = {}
        for rec in records:
            if rec.run_id is not None and rec.at_us > seen.get(rec.run_id, -1):
                seen[rec.run_id] = rec.at_us
        with self.store.engine.begin() as conn:
            if self.store.already_filed(conn, rows[0] if rows else None, evidence[0] if evidence else None):
                log.info("journal records already in the database (filed before a crash): not filed again")
                rows, evidence = [], []
            else:
                self.store.append_chained(conn, self.agent_id, self._genesis, rows)
                self.store.insert_evidence(conn, evidence)
            for run_id, at_us in seen.items():
                self.store.touch_run(conn, run_id, at_us)
        self.stats.rows_written += len(rows)
        self.stats.batches += 1
        if replayed and rows:
            self.stats.replayed_segments += 1
            log.info("filed %d rows from a journal file left by an earlier run", len(rows))
