"""``slaproof serve --host``: readings of the rented machine taken on a schedule, kept for the agent.

The responder takes a reading every ``every_s`` seconds in one thread of its
own (probes/host_readings.py and probes/host_disk.py do the measuring) and
keeps the last ``keep`` of them. ``GET /host?since=<instance>:<seq>`` answers
with the readings after the one the agent last stored, so a poll never
triggers heavy work, and readings taken while the agent was away (or its
network down) still reach it later. Each reading carries the host's wall time
and its clock's sync state (adjtimex); the agent stamps its own on arrival.

Between readings the thread sleeps on an event: no CPU. A part that fails (a
full disk, an unreadable cgroup file) becomes that part's error in the
reading; the thread and the responder go on.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from agent.core.times import to_us, utcnow
from agent.proof.checkpoint import ClockState
from agent.proof.clock import read_kernel_clock
from probes import host_disk, host_readings
from probes.host_cgroup import CgroupDirs, cpu_limit, own_dirs
from probes.host_model import (
    MAX_READINGS_PER_ANSWER,
    ClockPart,
    CpuPart,
    DiskPart,
    HostAnswer,
    MemoryPart,
    Reading,
    SpeedPart,
)

log = logging.getLogger(__name__)

DEFAULT_EVERY_S = 300.0
DEFAULT_KEEP = 576  # two days at the default interval: an agent away that long still gets every reading
FIRST_AFTER_MAX_S = 30.0  # the first reading comes soon after a start (its CPU shares need an interval)
MIN_EVERY_S = 0.2

P = TypeVar("P")


@dataclass(frozen=True)
class HostOptions:
    """What ``slaproof serve --host`` measures and how often (docs/host.md gives the costs)."""

    every_s: float = DEFAULT_EVERY_S
    scratch: Path | None = None  # None: no disk tests
    disk_budget_bytes: int = host_disk.DEFAULT_BUDGET_BYTES
    throughput_every: int = 12  # the throughput test in every Nth reading (hourly at 5 minutes)
    fsync_samples: int = host_disk.DEFAULT_FSYNC_SAMPLES
    min_free_bytes: int = host_disk.DEFAULT_MIN_FREE_BYTES
    speed_window_s: float = host_readings.DEFAULT_SPEED_WINDOW_S
    speed_warmup_s: float = host_readings.DEFAULT_SPEED_WARMUP_S
    keep: int = DEFAULT_KEEP

    def __post_init__(self) -> None:
        if self.every_s < MIN_EVERY_S:
            raise ValueError(f"host readings every {self.every_s} s: at least {MIN_EVERY_S} s")
        if self.throughput_every < 1 or self.keep < 1 or self.fsync_samples < 0 or self.disk_budget_bytes < 0:
            raise ValueError("throughput_every and keep must be at least 1; fsync samples and the disk budget not negative")


class HostSampler:
    """Takes readings on a fixed schedule and answers the endpoint from what it kept."""

    def __init__(self, options: HostOptions | None = None, *, wall_us: Callable[[], int] = lambda: to_us(utcnow()),
                 clock_state: Callable[[], ClockState] = read_kernel_clock, dirs: CgroupDirs | None = None) -> None:
        self.options = options or HostOptions()
        self.wall_us = wall_us
        self.clock_state = clock_state
        self.dirs = dirs if dirs is not None else own_dirs()
        self.instance = uuid.uuid4().hex
        self.started_us = wall_us()
        self._readings: collections.deque[Reading] = collections.deque(maxlen=self.options.keep)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._taken = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._seq = 0
        self._prev_times = host_readings.cpu_times()
        self._prev_limit = cpu_limit(self.dirs)
        self._prev_mono = time.monotonic()

    # -- the schedule ----------------------------------------------------------------
    def start(self) -> HostSampler:
        self._thread = threading.Thread(target=self._loop, name="host-readings", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        every = self.options.every_s
        start = time.monotonic()
        due = start + min(every, FIRST_AFTER_MAX_S)
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            try:
                self.take_reading()
            except Exception:  # a bug must not stop the readings: logged, the next one is tried
                log.exception("host reading failed")
            now = time.monotonic()
            due += every * max(1, int((now - due) // every) + 1)  # a reading that overran skips slots, not the grid

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def wait_for(self, seq: int, timeout: float) -> bool:
        """Until reading ``seq`` is kept (for tests and the benchmark)."""
        with self._taken:
            return self._taken.wait_for(lambda: self._seq >= seq, timeout)

    # -- one reading -----------------------------------------------------------------
    def take_reading(self) -> Reading:
        """Measure now (in the caller's thread) and keep the reading."""
        cpu0, t0 = time.thread_time(), time.monotonic()
        taken_at = self.wall_us()
        clock = self.clock_state()
        errors: list[str] = []
        seq = self._seq + 1
        cpu = self._part("cpu", errors, self._cpu_part)
        speed = self._part("speed", errors, self._speed_part)
        mem = self._part("memory", errors, lambda: MemoryPart(**asdict(host_readings.memory(self.dirs))))
        disk = self._part("disk", errors, lambda: self._disk_part(seq)) if self.options.scratch is not None else None
        reading = Reading(seq=seq, taken_at_us=taken_at, took_s=round(time.monotonic() - t0, 4),
                          cpu_s=round(time.thread_time() - cpu0, 4),
                          clock=ClockPart(synced=clock.synced, maxerror_us=clock.maxerror_us, esterror_us=clock.esterror_us),
                          boot_id=host_readings.boot_id(), cpu=cpu, speed=speed, memory=mem, disk=disk, errors=errors)
        with self._taken:
            self._seq = seq
            self._readings.append(reading)
            self._taken.notify_all()
        return reading

    @staticmethod
    def _part(name: str, errors: list[str], fn: Callable[[], P]) -> P | None:
        try:
            return fn()
        except Exception as e:  # one part failing leaves the others: the reading says which and why
            log.warning("host reading: %s failed: %s", name, e)
            errors.append(f"{name}: {type(e).__name__}: {e}"[:500])
            return None

    def _cpu_part(self) -> CpuPart:
        now_times, now_limit, now_mono = host_readings.cpu_times(), cpu_limit(self.dirs), time.monotonic()
        shares = host_readings.cpu_shares(self._prev_times, now_times, now_mono - self._prev_mono)
        prev = self._prev_limit
        self._prev_times, self._prev_limit, self._prev_mono = now_times, now_limit, now_mono

        def delta(a: int | None, b: int | None) -> int | None:
            return b - a if a is not None and b is not None and b >= a else None

        throttled_us = delta(prev.throttled_us, now_limit.throttled_us)
        return CpuPart(**(asdict(shares) if shares else {}), vcpus_online=host_readings.vcpus_online(),
                       vcpus_usable=host_readings.vcpus_usable(), quota_cores=now_limit.quota_cores,
                       periods=delta(prev.nr_periods, now_limit.nr_periods),
                       throttled_periods=delta(prev.nr_throttled, now_limit.nr_throttled),
                       throttled_s=None if throttled_us is None else throttled_us / 1e6)

    def _speed_part(self) -> SpeedPart:
        s = host_readings.cpu_speed(self.options.speed_window_s, self.options.speed_warmup_s, dirs=self.dirs)
        return SpeedPart(**asdict(s))

    def _disk_part(self, seq: int) -> DiskPart:
        o = self.options
        assert o.scratch is not None
        d = host_disk.disk_reading(o.scratch, budget_bytes=o.disk_budget_bytes, fsync_samples=o.fsync_samples,
                                   with_throughput=(seq - 1) % o.throughput_every == 0, min_free_bytes=o.min_free_bytes)
        return DiskPart.model_validate(asdict(d))

    # -- the endpoint ----------------------------------------------------------------
    def answer(self, since: str | None) -> HostAnswer:
        """The readings after ``since`` (``<instance>:<seq>``); all kept ones for another instance or none."""
        after = 0
        if since:
            inst, _, seq = since.partition(":")
            if inst == self.instance and seq.isdigit():
                after = int(seq)
        with self._lock:
            newer = [r for r in self._readings if r.seq > after]
            last = self._readings[-1].taken_at_us if self._readings else None
        return HostAnswer(instance=self.instance, now_us=self.wall_us(), every_s=self.options.every_s,
                          started_us=self.started_us, last_taken_at_us=last,
                          readings=newer[:MAX_READINGS_PER_ANSWER], more=len(newer) > MAX_READINGS_PER_ANSWER)


def answer_json(sampler: HostSampler, query: dict[str, list[str]]) -> dict[str, Any]:
    """The endpoint's body for a parsed query string (the responder's route calls this)."""
    values = query.get("since")
    since = values[0] if values else None
    return sampler.answer(since).model_dump(mode="json", by_alias=True)
