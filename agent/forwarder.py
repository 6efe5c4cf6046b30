"""Store-and-forward: ship this agent's rows to the fleet's central database (``[agent.upstream]``).

The local store stays the evidence of record and probing never waits on the network: the
forwarder is a :class:`agent.services.Service` with its own thread, reading rows the writer has
already committed. Each pass asks the central database where this agent's chain stands (its
cursor), sends the rows after it in local id order in one transaction (agent/store/upstream.py),
and repeats until caught up; then it waits ``interval_s``. Nothing is remembered locally that the
central side does not confirm, so a forwarder killed at any moment (even mid-batch: the central
transaction is rolled back) resumes exactly where the central side stopped, and a batch sent
twice lands once.

A central database that cannot be reached is retried with a growing wait (up to ``retry_max_s``);
the first failure of a run of failures is logged once, with the URL's secrets masked, and the
state file (agent/forward_state.py) tells ``slaproof status`` how far behind the agent is.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from agent import forward_state
from agent.core.errors import SlaproofError
from agent.core.secrets import mask_text
from agent.core.times import to_us, utcnow
from agent.forward_state import ForwardState
from agent.proof.clock import read_kernel_clock
from agent.store import Store
from agent.store import upstream as up
from agent.upstream_settings import UpstreamSettings

log = logging.getLogger(__name__)

FIRST_RETRY_S = 1.0
STOP_WAIT_S = 15.0  # the longest stop() waits for a batch in flight (its transaction rolls back if cut)
CENTRAL_KEY = "agent.upstream.database_url"


class Forwarder:
    """One agent's forwarder (module doc). ``run_once`` is one batch, callable from tests and the CLI."""

    name = "forwarder"

    def __init__(self, cfg: UpstreamSettings, store: Store, agent_uuid: str, agent_id: int, agent_name: str,
                 state_dir: Path, *, now_us: Callable[[], int] = lambda: to_us(utcnow())) -> None:
        self.cfg, self.store, self.uuid, self.agent_id, self.agent_name = cfg, store, agent_uuid, agent_id, agent_name
        self.state_dir, self.now_us = state_dir, now_us
        self.central: Store | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error_since: int | None = None
        self._created_us = 0

    # -- the Service --------------------------------------------------------------------------
    async def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="slaproof-forwarder", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, STOP_WAIT_S)
        self.close()

    def request_stop(self) -> None:
        """Stop after the batch in flight (a signal handler may call it)."""
        self._stop.set()

    def close(self) -> None:
        if self.central is not None:
            self.central.close()
            self.central = None

    # -- the loop -----------------------------------------------------------------------------
    def run(self) -> None:
        """Forward until stopped: catch up in full batches, then look again every ``interval_s``."""
        wait = FIRST_RETRY_S
        while not self._stop.is_set():
            try:
                taken = self.run_once()
            except (SlaproofError, SQLAlchemyError, OSError) as e:
                self._failed(e)
                self._stop.wait(wait)
                wait = min(wait * 2, self.cfg.retry_max_s)
                continue
            wait = FIRST_RETRY_S
            if taken < self.cfg.batch_rows:
                self._stop.wait(self.cfg.interval_s)

    def run_once(self) -> int:
        """Send the rows after the central cursor (one batch); return how many the central side took."""
        central = self._central()
        after = up.cursor(central, self.uuid)
        ids = up.agent_check_ids(self.store, self.agent_id)
        rows = up.pending(self.store, ids, after, self.cfg.batch_rows)
        head = max(self.store.chain_head(self.agent_id)[0] or 0, rows[-1]["seq"] if rows else 0)
        now = self.now_us()
        # Sent even when empty: the central side learns of the contact, the backlog and the clock, and
        # refuses a second machine under this identity before it has rows to send.
        defs = up.check_defs(self.store, sorted({r["check"] for r in rows})) if rows else []
        runs = up.recent_runs(self.store, self.agent_id, min(r["ts_us"] for r in rows) if rows else None)
        batch = up.Batch(self.uuid, self.agent_name, self._created(), head, now, read_kernel_clock().synced, tuple(defs),
                         tuple(runs), tuple(rows))
        res = up.ingest(central, batch, now)
        if res.refused_seq is not None:
            self._refused(res)
        else:
            self._ok(res.last_seq, now)
        return res.taken

    def drain(self, limit: int = 1_000_000) -> int:
        """Send batches until caught up (or refused); the rows taken. For ``slaproof forward --once``."""
        total = 0
        while total < limit:
            n = self.run_once()
            total += n
            if n < self.cfg.batch_rows:
                return total
        return total

    # -- helpers ------------------------------------------------------------------------------
    def _central(self) -> Store:
        if self.central is None:
            try:
                self.central = Store.open(self.cfg.database_url)
            except SlaproofError as e:
                raise type(e)(str(e).replace("agent.database_url", CENTRAL_KEY)) from None
        return self.central

    def _created(self) -> int:
        if not self._created_us:
            info = self.store.agent_info(self.uuid) or {}
            self._created_us = int(info.get("created_us") or self.now_us())
        return self._created_us

    def _ok(self, acked: int, now: int) -> None:
        if self._error_since is not None:
            log.info("forwarding to the central database works again")
        self._error_since = None
        forward_state.write(self.state_dir, ForwardState(acked, now, None, None, None, now))

    def _refused(self, res: up.IngestResult) -> None:
        log.error("the central database refused row %s: %s", res.refused_seq, res.reason)
        now = self.now_us()
        forward_state.write(self.state_dir, ForwardState(res.last_seq, now, res.reason, now, res.refused_seq, now))
        self._stop.wait(self.cfg.retry_max_s)  # it will refuse again until someone looks: do not hammer it

    def _failed(self, e: BaseException) -> None:
        if isinstance(e, SQLAlchemyError):
            self.close()  # a fresh connection next time
        reason = mask_text(str(getattr(e, "orig", e)).strip().splitlines()[0] if str(e).strip() else type(e).__name__)
        now = self.now_us()
        if self._error_since is None:
            self._error_since = now
            log.warning("cannot forward to the central database (will retry): %s", reason)
        old = forward_state.read(self.state_dir)
        forward_state.write(self.state_dir, ForwardState(old.acked_seq if old else 0, old.acked_us if old else None, reason,
                                                         self._error_since, None, now))


def agent_name(vantage: str | None) -> str:
    """How the fleet knows this agent: its configured vantage name, else its host name."""
    return vantage or socket.gethostname()
