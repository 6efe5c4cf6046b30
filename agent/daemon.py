"""`slaproof run`: the scheduled measurement loop.

Each target runs on a fixed grid: scheduled times are ``phase + k × interval``
from the Unix epoch, with a per-target phase taken from a hash of its name, so a
thousand targets do not fire in the same millisecond and a restart keeps the
same grid. Phases are rounded down to a tick (a hundredth of the interval): the targets of one tick are one APScheduler job whose
rounds start together, so a thousand targets every 10 s wake the scheduler ten
times a second, not a hundred (docs/performance.md). A round
(:meth:`Daemon.run_round`) is one step that can be called directly in tests;
APScheduler only decides when. A round's rows go to the
writer's journal with one write() (agent/journal.py): durable against a kill
from then on; the probe path never waits for the database. On SIGTERM, running
rounds finish (bounded by their checks' timeouts), every row is filed, and the
run is recorded clean only if all of that happened (docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError

from agent import identity, sdnotify
from agent.checks import check_settings, run_checks
from agent.config import OWN_SCHEDULE, BandwidthCheck, HostCheck, Settings, Target
from agent.core import result as R
from agent.core.errors import StoreError
from agent.core.result import ProbeResult, utcnow
from agent.core.times import EPOCH, to_us
from agent.live.wiring import attach
from agent.services import HeartbeatHook, RoundObserver, Service
from agent.store import Store, TargetRef
from agent.store.database import db_reason
from agent.store.rows import dumps, result_to_row
from agent.version import VERSION
from agent.writer import Writer, WriterOutcome

log = logging.getLogger(__name__)

REPLAY_WAIT_S = 30.0  # at start, how long earlier journal files may take to be filed before measuring begins
ROUND_SLACK_S = 2.0  # beyond the checks' own timeouts, before a round is cancelled at stop
ROUND_WAIT_MAX_S = 30.0  # the unit gives 90 s to stop: rounds, evidence, then filing every row
EVIDENCE_WAIT_S = 10.0
WRITER_CLOSE_S = 15.0
TICKS_PER_INTERVAL = 100  # an interval's scheduled times: 1,000 targets every 10 s are 100 jobs of ~10 rounds
TICK_S = 0.01  # the shortest tick: a tick's rounds start one after another, so a tick holds few (drift, docs/performance.md)
GIL_SWITCH_S = 0.0005  # see run_daemon
GROUP_NAMES_LOGGED = 5  # targets a missed tick's warning names


def phase_of(name: str, interval_s: float) -> float:
    """A stable offset in [0, interval) from the target's name."""
    h = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")
    return (h / 2**64) * interval_s


def tick_phase(name: str, interval_s: float) -> float:
    """The target's phase on the tick grid: :func:`phase_of` rounded down to a multiple of the
    tick (interval / TICKS_PER_INTERVAL, at least TICK_S), so targets share scheduled times."""
    ticks = max(1, min(TICKS_PER_INTERVAL, int(interval_s / TICK_S)))
    return int(phase_of(name, interval_s) / interval_s * ticks) * interval_s / ticks


def grid_time(now: datetime, interval_s: float, phase_s: float) -> datetime:
    """The scheduled time nearest ``now`` on the grid phase + k·interval."""
    t = (now - EPOCH).total_seconds() - phase_s
    k = round(t / interval_s)
    return EPOCH + timedelta(seconds=k * interval_s + phase_s)


def first_run_after(now: datetime, interval_s: float, phase_s: float) -> datetime:
    t = (now - EPOCH).total_seconds() - phase_s
    k = int(t // interval_s) + 1
    return EPOCH + timedelta(seconds=k * interval_s + phase_s)


def target_spec(t: Target) -> dict[str, Any]:
    return {"name": t.name, "address": t.address, "provider": t.provider, "control": t.control,
            "checks": [check_settings(c) for c in t.checks]}


@dataclass
class DaemonStats:
    rounds: int = 0
    missed: int = 0
    overlapped: int = 0
    evidence_taken: int = 0
    cancelled: int = 0  # rounds cut off at stop
    lags_us: list[int] = field(default_factory=list)


class Daemon:
    """One agent process: pinger, writer, scheduler, and the run row that explains its time."""

    def __init__(self, settings: Settings, store: Store, *, clock: Callable[[], datetime] = utcnow,
                 pinger: Any | None = None, keep_lags: bool = False, owns_process: bool = False) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.pinger = pinger
        self.keep_lags = keep_lags
        self.owns_process = owns_process  # `slaproof run`: process-wide tuning (the collector) is the daemon's to set
        self.stats = DaemonStats()
        self.state_dir = settings.state_dir()
        self.agent_uuid = identity.load_or_create(self.state_dir)
        now_us = to_us(clock())
        self.agent_id = store.ensure_agent(self.agent_uuid, now_us)
        self.refs: dict[str, TargetRef] = store.sync_targets(self.agent_id, [target_spec(t) for t in settings.targets], now_us)
        self.targets = {t.name: t for t in settings.targets}
        self.writer = Writer(store, self.agent_uuid, self.agent_id, batch_s=settings.agent.batch_s,
                             journal_dirs=settings.journal_dirs(), max_queued_rows=settings.agent.max_queued_rows, now=clock)
        self.outcome: WriterOutcome | None = None
        self.clean: bool | None = None  # how stop() recorded the run
        self._rounds: set[asyncio.Task[Any]] = set()  # rounds running now: stop() lets them finish
        self._running: dict[str, asyncio.Task[Any]] = {}  # target → its regular round running now
        self._ticks: dict[str, list[str]] = {}  # scheduler job id → the targets of that tick
        self.run_id: int | None = None
        # Parts that join the loop (agent/services.py): observers see every round, services run beside it.
        self.observers: list[RoundObserver] = []
        self.services: list[Service] = []
        self.heartbeat_hooks: list[HeartbeatHook] = []
        if settings.agent.checkpoints.enabled:
            # Signed checkpoints, timestamps and the clock record (agent/proof): off the probe path.
            from agent.proof.service import ProofService

            proof = ProofService(settings, store, self.agent_uuid, self.agent_id, wall=clock, flush=self.writer.flush)
            self.services.append(proof)
            self.heartbeat_hooks.append(proof.heartbeat)
        if settings.agent.upstream is not None:  # store-and-forward to a fleet's central database (docs/fleet.md)
            from agent.forwarder import Forwarder, agent_name

            self.services.append(Forwarder(settings.agent.upstream, store, self.agent_uuid, self.agent_id,
                                           agent_name(settings.agent.vantage), self.state_dir))
        # Incident events, log lines, alerts, /metrics (agent/live): observers, services and hooks of their own.
        self.live = attach(self, self._on_incident_open)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.scheduler: AsyncIOScheduler | None = None
        self.stop_event = asyncio.Event()
        self.budget: Any = None
        if any(isinstance(c, BandwidthCheck) for t in settings.targets for c in t.checks):
            from agent import bandwidth_glue as bw
            # Seeded from the stored rows, so a restart does not reset what was used.
            self.budget = bw.make_budget(settings)
            since = bw.seed_since(clock(), settings.display_tz())
            self.budget.seed(bw.seed_rows(store.bandwidth_usage(to_us(since))))
        self.host_cursors: Any = None
        if any(isinstance(c, HostCheck) for t in settings.targets for c in t.checks):
            from agent import host_glue
            # Where each target's host readings left off, so a restart stores none twice.
            self.host_cursors = host_glue.HostCursors()
            host_glue.seed_cursors(self.host_cursors, store, settings.targets, clock())

    # -- one step --------------------------------------------------------------
    async def run_round(self, name: str, scheduled: datetime | None = None, *, bandwidth: bool = False,
                        own: str | None = None) -> list[ProbeResult]:
        """Run every regular check of one target once, queue the rows, take evidence if an incident opens.

        ``own`` (``bandwidth=True`` is ``own="bandwidth"``): run instead the checks of that kind, which
        have an interval of their own and never decide an outage."""
        own = "bandwidth" if bandwidth else own
        target = self.targets[name]
        interval = self.settings.interval_of(target)
        now = self.clock()
        sched = scheduled or grid_time(now, interval, tick_phase(name, interval))
        lag_us = to_us(now) - to_us(sched)
        ref = self.refs[name]
        pairs = [(c, r) for c, r in zip(target.checks, ref.checks)
                 if (c.kind == own if own is not None else not isinstance(c, OWN_SCHEDULE))]
        if len(pairs) == 1:  # the common case: no gather (a task per check) needed
            nested = [await run_checks(target, pairs[0][0], pinger=self.pinger, budget=self.budget, clock=self.clock,
                                       host_cursors=self.host_cursors)]
        else:
            nested = await asyncio.gather(*(run_checks(target, c, pinger=self.pinger, budget=self.budget, clock=self.clock,
                                                       host_cursors=self.host_cursors) for c, _ in pairs))
        results = [r for rs in nested for r in rs]
        rows = []
        for (_, cref), res in ((p, r) for p, rs in zip(pairs, nested) for r in rs):
            if res.figures.get("address") == target.address:
                # The configured address is in the targets table; keep only a resolved one that differs.
                res = ProbeResult(res.kind, res.started_at, res.ok, res.rtt_ms,
                                  {k: v for k, v in res.figures.items() if k != "address"}, res.error_class, res.error)
            # A host reading is timed when the host took it, not on this round's grid: no lag.
            rows.append({**result_to_row(res, target=cref.target, settings_hash=cref.settings_hash,
                                         lag_us=None if res.kind == "host" else lag_us), "check_id": cref.id})
        self.writer.submit_round(rows)  # one journal write: from here a kill -9 cannot lose the round
        self.stats.rounds += 1
        if self.keep_lags:
            self.stats.lags_us.append(lag_us)
        for observer in self.observers:  # own-schedule rounds too (bandwidth: a traffic budget reached; they never decide an outage)
            observer.observe(target, sched, results)
        return list(results)

    def _on_incident_open(self, target: Target, results: Sequence[ProbeResult]) -> None:
        if self.settings.agent.evidence_on_incident and not target.control:
            self._spawn(self.take_evidence(target, list(results)))

    async def take_evidence(self, target: Target, results: list[ProbeResult]) -> int:
        """What provider support asks for first: a traceroute to the target and to a control target."""
        jobs: list[tuple[Target, Any]] = [(target, _trace(target.address))]
        control = next((t for t in self.settings.targets if t.control), None)
        if control is not None:
            jobs.append((control, _trace(control.address)))
        outs = await asyncio.gather(*(j for _, j in jobs), return_exceptions=True)
        n = 0
        for (about, _), out in zip(jobs, outs):
            if isinstance(out, BaseException):
                content: dict[str, Any] = {"ok": False, "error": f"{type(out).__name__}: {out}"}
                ts = self.clock()
            else:
                content = {"ok": out.ok, "figures": dict(out.figures), "error_class": out.error_class, "error": out.error}
                ts = out.started_at
            content.update({"kind": "traceroute", "to": about.name, "address": about.address,
                            "because": [{"kind": r.kind, "error_class": r.error_class, "error": r.error} for r in results if not r.ok]})
            body = dumps(content)
            self.writer.submit_evidence({"ts_us": to_us(ts), "target_id": self.refs[target.name].id,
                                         "about_target_id": self.refs[about.name].id, "kind": "traceroute",
                                         "measurement_id": None, "content": body,
                                         "sha256": hashlib.sha256(body.encode()).hexdigest()})
            n += 1
            if not isinstance(out, BaseException):
                self.live.evidence_taken(target, about.name, out)
        self.stats.evidence_taken += n
        return n

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- lifecycle -------------------------------------------------------------
    async def start(self) -> None:
        now = self.clock()
        self.writer.start()  # locks the journal; earlier runs' journal files are filed first
        try:
            if not await asyncio.to_thread(self.writer.flush, REPLAY_WAIT_S):
                log.warning("journal files of an earlier run are not all filed yet (%s); they are retried in the background",
                            self.writer.stats.last_error or "still filing")
            stale = self.store.close_stale_runs(self.agent_id)
            if stale:
                log.warning("%d earlier run(s) ended without a clean stop (crash or kill); marked unclean", stale)
            self.run_id = self.store.start_run(self.agent_id, to_us(now), version=VERSION, pid=os.getpid(),
                                               config_hash=self.settings.fingerprint())
        except SQLAlchemyError as e:
            await asyncio.to_thread(self.writer.close, 5.0)
            raise StoreError(f"cannot write the database {self.store.url} at start: {db_reason(e)}; "
                             "free space, make it writable, or check agent.database_url") from None
        self.writer.run_id = self.run_id
        if self.pinger is None and any(c.kind == "icmp" for t in self.settings.targets for c in t.checks):
            from probes.icmp import Pinger

            self.pinger = Pinger()
        self._schedule(now)
        for service in self.services:
            await service.start()
        # Everything built so far (config, targets, check refs, the scheduler's jobs) lives as long as
        # the process: out of the garbage collector's sight, a full collection no longer walks it, and
        # the rounds' schedule no longer stalls 100-300 ms every few seconds at 1,000 targets (docs/performance.md).
        if self.owns_process:
            gc.collect()
            gc.freeze()
        sdnotify.notify(f"READY=1\nSTATUS=measuring {len(self.targets)} targets")
        log.info("slaproof %s running: agent %s, %d targets, database %s", VERSION, self.agent_uuid, len(self.targets), self.store.url)

    def _schedule(self, now: datetime) -> None:
        sched = AsyncIOScheduler(timezone=UTC, event_loop=asyncio.get_running_loop())
        ticks: dict[tuple[float, float], list[str]] = {}  # (interval, phase) → the targets of that tick
        for t in self.settings.targets:
            if any(not isinstance(c, OWN_SCHEDULE) for c in t.checks):
                interval = self.settings.interval_of(t)
                ticks.setdefault((interval, tick_phase(t.name, interval)), []).append(t.name)
        for (interval, phase), names in ticks.items():
            job_id = f"round:{names[0]}" if len(names) == 1 else f"rounds:{interval:g}s@{phase:.3f}s"
            self._ticks[job_id] = names
            sched.add_job(self._tick_job, IntervalTrigger(seconds=interval, start_date=first_run_after(now, interval, phase), timezone=UTC),
                          args=(tuple(names), interval, phase), id=job_id, name=", ".join(names[:GROUP_NAMES_LOGGED]),
                          misfire_grace_time=max(1, int(interval / 2)), coalesce=True, max_instances=1)
        for t in self.settings.targets:
            seen: set[str] = set()
            for c in t.checks:
                if isinstance(c, OWN_SCHEDULE) and c.kind not in seen:  # one job per kind, on the first such check's interval
                    seen.add(c.kind)
                    ophase = phase_of(t.name + ("/bw" if c.kind == "bandwidth" else f"/{c.kind}"), c.interval_s)
                    jitter = c.jitter_s if isinstance(c, BandwidthCheck) else 0.0
                    sched.add_job(self._job, IntervalTrigger(seconds=c.interval_s, start_date=first_run_after(now, c.interval_s, ophase),
                                                             timezone=UTC, jitter=jitter or None),
                                  args=(t.name, c.interval_s, ophase, c.kind), id=f"{c.kind}:{t.name}", name=f"{t.name} {c.kind}",
                                  misfire_grace_time=int(c.interval_s / 2), coalesce=True, max_instances=1)
        hb = sdnotify.watchdog_interval_s() or self.settings.agent.heartbeat_s
        sched.add_job(self._heartbeat, IntervalTrigger(seconds=min(hb, self.settings.agent.heartbeat_s), timezone=UTC),
                      id="heartbeat", misfire_grace_time=30, coalesce=True)
        sched.add_listener(self._on_missed, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        sched.start()
        self.scheduler = sched

    async def _tick_job(self, names: tuple[str, ...], interval: float, phase: float) -> None:
        """Start the rounds of one tick's targets together (one burst of probes) and return: each
        round is a task of its own, so a slow target delays no other; a target whose previous
        round still runs skips this one (counted as overlapped, as APScheduler would)."""
        sched = grid_time(self.clock(), interval, phase)
        loop = asyncio.get_running_loop()
        for name in names:
            if name in self._running:
                self.stats.overlapped += 1
                log.warning("round of %s still running at its next time; skipped one round", name)
                continue
            task = loop.create_task(self._round(name, sched, None))
            self._running[name] = task
            self._rounds.add(task)
            task.add_done_callback(partial(self._round_done, name))

    def _round_done(self, name: str, task: asyncio.Task[Any]) -> None:
        self._rounds.discard(task)
        if self._running.get(name) is task:
            del self._running[name]

    async def _job(self, name: str, interval: float, phase: float, own: str | None) -> None:
        """A job of one target's own-schedule checks (bandwidth, host readings)."""
        task = asyncio.current_task()
        if task is not None:
            self._rounds.add(task)
        try:
            await self._round(name, grid_time(self.clock(), interval, phase), own)
        finally:
            if task is not None:
                self._rounds.discard(task)

    async def _round(self, name: str, scheduled: datetime, own: str | None) -> None:
        try:
            await self.run_round(name, scheduled, own=own)
        except asyncio.CancelledError:
            # Only stop() cancels a round, after its checks' timeouts have passed: say so, and end
            # normally (the scheduler would log a cancelled job as an ERROR).
            self.stats.cancelled += 1
            log.warning("round of %s still running at stop after its checks' timeouts; cancelled, its results are not recorded", name)
        except Exception:  # a round's task has no scheduler to report it: log it here (masked), and go on
            log.exception("round of %s failed", name)

    async def _heartbeat(self) -> None:
        if self.run_id is not None:
            self.writer.heartbeat(self.run_id, to_us(self.clock()))
        for hook in self.heartbeat_hooks:
            hook()
        sdnotify.notify("WATCHDOG=1")

    def _on_missed(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            names = self._ticks.get(event.job_id, [event.job_id])
            self.stats.missed += len(names)
            shown = ", ".join(names[:GROUP_NAMES_LOGGED]) + (f" and {len(names) - GROUP_NAMES_LOGGED} more" if len(names) > GROUP_NAMES_LOGGED else "")
            log.warning("round(s) of %s scheduled for %s were missed (the agent was too busy); those rounds are 'no data'", shown,
                        event.scheduled_run_time)
        else:
            self.stats.overlapped += 1
            log.warning("round %s still running at its next time; skipped one round", event.job_id)

    def round_bound_s(self) -> float:
        """How long a round may run: the longest of its checks' own timeouts, plus slack."""
        longest = 1.0
        for t in self.settings.targets:
            for c in t.checks:
                if isinstance(c, BandwidthCheck):
                    longest = max(longest, c.warmup_s + c.max_seconds + 2 * c.timeout_s)
                elif c.kind == "icmp":
                    longest = max(longest, c.count * c.spacing_s + c.timeout_s)
                else:
                    longest = max(longest, c.timeout_s)
        return min(longest + ROUND_SLACK_S, ROUND_WAIT_MAX_S)

    async def stop(self, *, note: str | None = None) -> None:
        """Let running rounds finish, stop the parts, file every row; record the run clean only if all were filed."""
        sdnotify.notify("STOPPING=1")
        if self.scheduler and self.scheduler.running:
            self.scheduler.pause()  # no new rounds; running ones go on
        await _finish(self._rounds, self.round_bound_s())
        if self.scheduler:
            self.scheduler.shutdown(wait=False)  # nothing left for it to cancel
        await _finish(self._tasks, EVIDENCE_WAIT_S)
        for service in reversed(self.services):
            try:
                await service.stop()
            except Exception as e:  # one part failing to stop must not lose the writer's rows
                log.error("stopping %s failed: %s", service.name, e)
        if self.pinger is not None and hasattr(self.pinger, "close"):
            await self.pinger.close()
        self.outcome = await asyncio.to_thread(self.writer.close, WRITER_CLOSE_S)
        reasons = [note] if note else []
        if self.stats.cancelled:
            reasons.append(f"{self.stats.cancelled} round(s) still running at stop were cancelled (not recorded)")
        if self.outcome.reason():
            reasons.append(self.outcome.reason() or "")
        self.clean = not reasons
        if self.stats.missed or self.stats.overlapped:
            reasons.append(f"missed rounds: {self.stats.missed}, overlapped: {self.stats.overlapped}")
        if self.run_id is not None:
            try:
                self.store.end_run(self.run_id, to_us(self.clock()), clean=self.clean, note="; ".join(reasons) or None)
            except SQLAlchemyError as e:  # the next start marks it unclean
                self.clean = False
                log.error("could not record the end of this run (%s); the next start marks it unclean", db_reason(e))

    async def serve(self, duration_s: float | None = None) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, self.stop_event.set)
            except (NotImplementedError, RuntimeError):
                pass
        await self.start()
        try:
            if duration_s is None:
                await self.stop_event.wait()
            else:
                try:
                    await asyncio.wait_for(self.stop_event.wait(), duration_s)
                except TimeoutError:
                    pass
        finally:
            await self.stop()


async def _finish(tasks: set[asyncio.Task[Any]], timeout: float) -> None:
    """Wait for tasks up to ``timeout``, then cancel the rest (they end themselves quietly)."""
    if not tasks:
        return
    _, pending = await asyncio.wait(list(tasks), timeout=timeout)
    for t in pending:
        t.cancel()
    if pending:
        await asyncio.wait(pending, timeout=2.0)


async def _trace(address: str) -> ProbeResult:
    """ICMP traceroute (what MTR shows), UDP where raw sockets are not allowed."""
    from probes.traceroute import traceroute

    res = await traceroute(address, max_hops=20, count=2, timeout_s=1.0, protocol="icmp")
    if res.error_class == R.PERMISSION:
        res = await traceroute(address, max_hops=20, count=2, timeout_s=1.0, protocol="udp")
    return res


def run_daemon(settings: Settings, *, duration_s: float | None = None, store: Store | None = None) -> Daemon:
    # The writer thread hashes and files rows while holding the GIL; the event loop waits for its turn
    # at most this long instead of Python's 5 ms: schedule drift p99 at 1,000 probes/s 10.4 → 5.5 ms.
    sys.setswitchinterval(GIL_SWITCH_S)
    store = store or Store.open(settings.database_url())
    holder: dict[str, Daemon] = {}

    async def main() -> None:
        try:
            d = Daemon(settings, store, owns_process=True)
        except SQLAlchemyError as e:
            raise StoreError(f"cannot write the database {store.url}: {db_reason(e)}; "
                             "free space, make it writable, or check agent.database_url") from None
        holder["d"] = d
        await d.serve(duration_s)

    asyncio.run(main())
    return holder["d"]
