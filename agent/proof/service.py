"""The daemon part that signs checkpoints, asks for timestamps and records the clock.

It joins the daemon as a :class:`agent.services.Service` plus a heartbeat hook,
and never sits on the probe path: the hook samples the clock (a syscall), and
everything that touches the database, the key or the network runs in a worker
thread on its own timer. A Time-Stamp Authority that fails or hangs delays
nothing but its own retry; what it has not stamped stays pending in the
database (every checkpoint after the last token) and is covered by the next
token that arrives.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
from cryptography import x509
from sqlalchemy.exc import SQLAlchemyError

from agent import identity
from agent.config import Settings
from agent.core.errors import ConfigError
from agent.core.times import to_us
from agent.proof.checkpoint import Checkpoint, ClockState, origin_of
from agent.proof.clock import ClockWatch
from agent.proof.keys import KEY_FILENAME, AgentKey, open_agent_key
from agent.proof.note import SIG_COSIGNATURE, Note, NoteError, VerifierKey, parse_note, sign_note, verify_cosignature
from agent.proof.tsa import TsaError, load_roots, public_url, request_stamp
from agent.store import Store, chain
from agent.store.proof import ClockSpan, ClockStep, ProofRecords

log = logging.getLogger(__name__)

RETRY_FIRST_S = 60.0  # a failed timestamp is retried after a minute, then twice as late each time, up to the interval
FLUSH_TIMEOUT_S = 20.0


def key_path(settings: Settings) -> Path:
    """agent.checkpoints.key_file, else agent.key in the state directory (beside a SQLite database)."""
    if settings.agent.checkpoints.key_file:
        return Path(settings.agent.checkpoints.key_file).expanduser()
    return settings.state_dir() / KEY_FILENAME


@dataclass(frozen=True, slots=True)
class WitnessKey:
    url: str
    key: VerifierKey


def witness_keys(settings: Settings) -> list[WitnessKey]:
    out = []
    for i, w in enumerate(settings.agent.checkpoints.witnesses):
        try:
            vk = VerifierKey.parse(w.key)
        except NoteError as e:
            raise ConfigError(f"agent.checkpoints.witnesses[{i}].key: {e}; copy the key `slaproof serve --witness` prints") from None
        if vk.sig_type != SIG_COSIGNATURE:
            raise ConfigError(f"agent.checkpoints.witnesses[{i}].key: not a witness (cosignature) key")
        out.append(WitnessKey(w.url, vk))
    return out


def make_checkpoint(records: ProofRecords, store: Store, key: AgentKey, agent_id: int, agent_uuid: str, now_us: int,
                    clock: ClockState, reason: str, witnesses: list[WitnessKey] | None = None, witness_timeout_s: float = 5.0) -> int:
    """Sign and store a checkpoint of the chain as the database holds it now; returns its id."""
    head_id, head_hash = store.chain_head(agent_id)
    size = _chain_size(records, store, agent_id, head_id)
    head = head_hash if head_hash is not None else chain.genesis(agent_uuid)
    cp = Checkpoint(origin_of(agent_uuid), size, head, now_us, key.epoch.epoch, clock)
    note = sign_note(cp.text(), key.signer)
    for w in witnesses or []:
        note = _cosign(note, w, witness_timeout_s)
    return records.add_checkpoint(agent_id, key.epoch.epoch, now_us, size, head_id, note.encode(), reason)


def _chain_size(records: ProofRecords, store: Store, agent_id: int, head_id: int | None) -> int:
    """Rows in the chain up to ``head_id``: counted on from the last checkpoint when its head row still
    holds the hash it signed (a primary-key range, not the whole table), from the start otherwise."""
    if head_id is None:
        return 0
    last = records.last_checkpoint(agent_id)
    if last is not None and last.head_row_id is not None and last.head_row_id <= head_id:
        signed = Checkpoint.parse(parse_note(last.note).text).head
        if store.row_hash(last.head_row_id) == signed:
            return last.size + records.count_chain_rows(agent_id, last.head_row_id, head_id)
        log.error("checkpoint #%d no longer matches the database (row %d changed or is gone): rows were altered or removed; "
                  "'slaproof verify' names what", last.id, last.head_row_id)
    return records.count_chain_rows(agent_id, None, head_id)


def _cosign(note: Note, w: WitnessKey, timeout_s: float) -> Note:
    try:
        resp = httpx.post(w.url.rstrip("/") + "/checkpoint", content=note.encode().encode(), timeout=timeout_s,
                          headers={"Content-Type": "text/plain; charset=utf-8"})
    except httpx.HTTPError as e:
        log.warning("witness %s unreachable (%s); checkpoint stored without its cosignature", public_url(w.url), type(e).__name__)
        return note
    if resp.status_code != 200:
        log.warning("witness %s refused the checkpoint: HTTP %d %s", public_url(w.url), resp.status_code, resp.text[:200])
        return note
    try:
        cosigned = parse_note(note.text + "\n" + resp.text)
    except NoteError as e:
        log.warning("witness %s answered something else than a signature line: %s", public_url(w.url), e)
        return note
    sig = cosigned.signature_by(w.key)
    if sig is None or verify_cosignature(cosigned, w.key) is None:
        log.warning("witness %s: its cosignature does not verify with the configured key", public_url(w.url))
        return note
    return note.with_signature(sig)


@dataclass
class StampOutcome:
    stamped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def stamp_pending(records: ProofRecords, agent_id: int, urls: list[str], roots: list[x509.Certificate], timeout_s: float,
                  now_us: Callable[[], int]) -> StampOutcome:
    """One request per authority over the newest checkpoint it has not yet covered (covering every one before it)."""
    out = StampOutcome()
    cp = records.last_checkpoint(agent_id)
    if cp is None:
        return out
    for url in urls:
        shown = public_url(url)
        done = records.last_stamped_size(agent_id, shown)
        if done is not None and done >= cp.size:
            continue
        try:
            stamp = request_stamp(url, cp.note.encode("utf-8"), roots, timeout_s=timeout_s)
        except TsaError as e:
            log.warning("timestamp request failed, will retry: %s", e)
            out.failed.append(shown)
            continue
        records.add_timestamp(cp.id, stamp.tsa_url, stamp.authority, stamp.gen_time_us, now_us(), stamp.token)
        out.stamped.append(shown)
    return out


class ProofService:
    """Checkpoints every ``every_minutes`` and at a clean stop; timestamps on their own, longer timer."""

    name = "checkpoints"

    def __init__(self, settings: Settings, store: Store, agent_uuid: str, agent_id: int, *,
                 wall: Callable[[], datetime], flush: Callable[[float], bool]) -> None:
        cfg = settings.agent.checkpoints
        self.settings = settings
        self.store = store
        self.records = ProofRecords(store)
        self.agent_uuid = agent_uuid
        self.agent_id = agent_id
        self.wall = wall
        self.flush = flush
        self.every_s = cfg.every_minutes * 60.0
        self.witnesses = witness_keys(settings)
        self.key = open_agent_key(self.records, agent_id, agent_uuid, key_path(settings), to_us(wall()))
        ts = settings.agent.timestamp
        self.tsa_urls = list(ts.urls)
        self.roots = load_roots(ts.ca_file) if ts.urls else []
        self.stamp_every_s = ts.every_minutes * 60.0
        self.clock = ClockWatch(wall)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.checkpoints_written = 0
        self.stamp_failures = 0
        self._unsaved: tuple[list[ClockSpan], list[ClockStep]] = ([], [])

    @classmethod
    def for_state_dir(cls, settings: Settings, store: Store, *, wall: Callable[[], datetime], flush: Callable[[float], bool]) -> ProofService:
        uuid = identity.load_or_create(settings.state_dir())
        return cls(settings, store, uuid, store.ensure_agent(uuid, to_us(wall())), wall=wall, flush=flush)

    # -- the heartbeat hook (event loop) -----------------------------------------
    def heartbeat(self) -> None:
        self.clock.sample()

    # -- work done in a thread ---------------------------------------------------
    def _write(self, reason: str, spans: list[ClockSpan], steps: list[ClockStep], clock: ClockState) -> bool:
        try:
            if spans or steps:
                self.records.add_clock(self.agent_id, spans, steps)
                spans, steps = [], []
            make_checkpoint(self.records, self.store, self.key, self.agent_id, self.agent_uuid, to_us(self.wall()),
                            clock, reason, self.witnesses, self.settings.agent.checkpoints.witness_timeout_s)
        except (SQLAlchemyError, OSError) as e:
            log.warning("checkpoint not written (will try again): %s", str(e).splitlines()[0][:300])
            self._unsaved = (spans, steps)
            return False
        self.checkpoints_written += 1
        return True

    def checkpoint_now(self, reason: str = "periodic") -> bool:
        """Store the clock record and sign a checkpoint, all in the calling thread (tests, the CLI)."""
        self.clock.sample()
        return self._finish(self._write(reason, *self.clock.drain(), self.clock.latest))

    async def checkpoint_async(self, reason: str) -> bool:
        """The same, with the clock read on the event loop (where the heartbeat samples it) and the rest in a thread."""
        self.clock.sample()
        spans, steps = self.clock.drain()
        return self._finish(await asyncio.to_thread(self._write, reason, spans, steps, self.clock.latest))

    def _finish(self, ok: bool) -> bool:
        if not ok:
            self.clock.restore(*self._unsaved)
            self._unsaved = ([], [])
        return ok

    def stamp_now(self) -> StampOutcome:
        if not self.tsa_urls:
            return StampOutcome()
        try:
            out = stamp_pending(self.records, self.agent_id, self.tsa_urls, self.roots, self.settings.agent.timestamp.timeout_s,
                                lambda: to_us(self.wall()))
        except (SQLAlchemyError, OSError) as e:
            log.warning("timestamps not stored (will try again): %s", str(e).splitlines()[0][:300])
            out = StampOutcome(failed=list(self.tsa_urls))
        self.stamp_failures += len(out.failed)
        return out

    # -- Service -----------------------------------------------------------------
    async def start(self) -> None:
        self._stop.clear()
        self.clock.sample()
        self._tasks = [asyncio.get_running_loop().create_task(self._checkpoint_loop(), name="checkpoints")]
        if self.tsa_urls:
            self._tasks.append(asyncio.get_running_loop().create_task(self._stamp_loop(), name="timestamps"))
        log.info("signing checkpoints every %.0f min with key epoch %d (fingerprint %s)%s", self.every_s / 60,
                 self.key.epoch.epoch, self.key.epoch.fingerprint,
                 f"; timestamps from {len(self.tsa_urls)} authority(ies) every {self.stamp_every_s / 60:.0f} min" if self.tsa_urls else "")

    async def _wait(self, seconds: float) -> bool:
        """Sleep, or return True at once when stopping."""
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def _checkpoint_loop(self) -> None:
        while not await self._wait(self.every_s):
            await self.checkpoint_async("periodic")

    async def _stamp_loop(self) -> None:
        delay = 0.0  # first: cover what an earlier run left unstamped
        backoff = RETRY_FIRST_S
        while not await self._wait(delay):
            out = await asyncio.to_thread(self.stamp_now)
            if out.failed:
                delay, backoff = min(backoff, self.stamp_every_s), min(backoff * 2, self.stamp_every_s)
            else:
                delay, backoff = self.stamp_every_s, RETRY_FIRST_S

    async def stop(self) -> None:
        """Cancel the timers, wait for the writer to commit what the last rounds queued, then sign a final checkpoint."""
        self._stop.set()
        for t in self._tasks:
            try:
                await asyncio.wait_for(t, 30)
            except TimeoutError:
                t.cancel()
        self._tasks = []
        if not await asyncio.to_thread(self.flush, FLUSH_TIMEOUT_S):
            log.warning("rows still waiting for the database at stop: the final checkpoint does not cover them")
        started = time.monotonic()
        await self.checkpoint_async("stop")
        if self.tsa_urls:
            await asyncio.to_thread(self.stamp_now)
        log.debug("final checkpoint and timestamp took %.2f s", time.monotonic() - started)
