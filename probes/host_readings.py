"""Measuring the rented machine from inside: CPU shares, vCPUs, CPU speed, memory.

These run in ``slaproof serve --host`` on the machine itself, on its own
schedule (agent/serve/host.py), never because a poll arrived. Each function
measures one thing and returns a value; none writes anywhere.

- CPU shares come from /proc/stat (through psutil): the change of each
  counter between two readings, as a share of all CPU time in the interval.
  ``steal`` is the time the hypervisor ran someone else while this machine's
  vCPU wanted to run: the oversold-host figure.
- CPU speed is a fixed single-threaded workload (zlib level 6 of the same
  256 KiB every time, a few milliseconds), repeated for a short window; the
  figure is work units per second of wall time after a warm-up, so it falls
  when a quota, steal or a slower core takes time away. The warm-up is left
  out because a quota refilled while the process was idle lets the first
  period run free. The best single unit (``peak``) is the core's own speed.
- Memory is /proc/meminfo's total and available, cut to the cgroup's limit
  and headroom where one applies (a container sees the host's meminfo).
"""

from __future__ import annotations

import hashlib
import os
import random
import statistics
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import psutil

from probes.host_cgroup import CgroupDirs, cpu_limit, memory_limit

WORKLOAD_INPUT_BYTES = 256 * 1024
WORKLOAD_LEVEL = 6
DEFAULT_SPEED_WINDOW_S = 0.5  # five 100 ms CFS periods after the warm-up: within a few % of a quota
DEFAULT_SPEED_WARMUP_S = 0.1  # one CFS period: the quota left from idle time is used up here
MAX_SPEED_UNITS = 10_000  # a bound on the loop whatever the clock does


@cache
def workload_input() -> bytes:
    """The workload's input: word-like text from a fixed seed, so it compresses like real data."""
    r = random.Random(16)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(r.choice(letters) for _ in range(r.randint(2, 9))) for _ in range(2000)]
    text = " ".join(r.choice(words) for _ in range(60_000)).encode()
    return text[:WORKLOAD_INPUT_BYTES]


@cache
def workload_id() -> str:
    """Names the workload (method, level, input): speed figures compare only within one id."""
    digest = hashlib.sha256(workload_input()).hexdigest()[:16]
    return f"zlib{WORKLOAD_LEVEL}-{WORKLOAD_INPUT_BYTES // 1024}k-{digest}"


@cache
def _expected_output_len() -> int:
    return len(zlib.compress(workload_input(), WORKLOAD_LEVEL))


def workload_unit() -> None:
    """One unit of work: the same bytes in, the same bytes out (checked, so the work cannot shrink)."""
    if len(zlib.compress(workload_input(), WORKLOAD_LEVEL)) != _expected_output_len():
        raise RuntimeError("the CPU workload gave a different output: zlib changed under a running process")


# -- CPU shares -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CpuTimes:
    """Cumulative CPU seconds of all CPUs together, as /proc/stat's first line counts them."""

    user: float
    nice: float
    system: float
    idle: float
    iowait: float
    irq: float
    softirq: float
    steal: float

    @property
    def busy(self) -> float:
        return self.user + self.nice + self.system + self.irq + self.softirq

    @property
    def total(self) -> float:  # guest time is already inside user and nice on Linux
        return self.busy + self.idle + self.iowait + self.steal


def cpu_times() -> CpuTimes:
    t: Any = psutil.cpu_times()
    return CpuTimes(t.user, t.nice, t.system, t.idle, getattr(t, "iowait", 0.0), getattr(t, "irq", 0.0),
                    getattr(t, "softirq", 0.0), getattr(t, "steal", 0.0))


@dataclass(frozen=True, slots=True)
class CpuShares:
    """Shares (%) of all CPU time between two readings."""

    interval_s: float
    steal_pct: float
    iowait_pct: float
    busy_pct: float
    idle_pct: float


def cpu_shares(a: CpuTimes, b: CpuTimes, interval_s: float) -> CpuShares | None:
    """The shares from ``a`` to ``b``; None when no CPU time passed (or the counters went back: a reboot)."""
    if b.steal < a.steal or b.busy < a.busy:
        return None
    # The total is the sum of the parts' own deltas (not b.total - a.total): large counters with
    # small deltas would otherwise lose precision and give shares that do not add up to 100.
    parts = (b.steal - a.steal, b.iowait - a.iowait, b.busy - a.busy, b.idle - a.idle)
    total = sum(max(0.0, x) for x in parts)
    if total <= 0:
        return None

    def pct(x: float) -> float:
        return round(min(100.0, max(0.0, 100.0 * x / total)), 3)

    steal, iowait, busy, idle = (pct(x) for x in parts)
    return CpuShares(round(interval_s, 3), steal, iowait, busy, idle)


def vcpus_online(path: str = "/sys/devices/system/cpu/online") -> int:
    """CPUs the kernel has online (a list such as ``0-3,6``); psutil's count where the file is missing."""
    try:
        text = Path(path).read_text().strip()
        n = 0
        for part in text.split(","):
            lo, _, hi = part.partition("-")
            n += int(hi or lo) - int(lo) + 1
        return n
    except (OSError, ValueError):
        return psutil.cpu_count() or 1


def vcpus_usable() -> int:
    """CPUs this process may run on (its affinity mask)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return vcpus_online()


# -- CPU speed ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CpuSpeed:
    """The workload's speed over one window (units of :func:`workload_unit` per second)."""

    workload: str
    units_per_s: float  # sustained, after the warm-up: what the machine gives this process now
    peak_units_per_s: float  # the fastest single unit: the core's own speed
    unit_ms_p50: float
    units: int  # units timed after the warm-up
    window_s: float  # wall time the sustained figure is over
    thread_cpu_s: float  # CPU time the measuring thread used (warm-up included)
    others_cores: float | None  # cores other processes kept busy meanwhile (the machine's own load)
    throttled_periods: int | None  # cgroup periods throttled during the window


def cpu_speed(window_s: float = DEFAULT_SPEED_WINDOW_S, warmup_s: float = DEFAULT_SPEED_WARMUP_S, *,
              dirs: CgroupDirs | None = None, clock: Callable[[], float] = time.perf_counter,
              unit: Callable[[], None] = workload_unit) -> CpuSpeed:
    """Run the workload back to back for ``warmup_s + window_s`` and time it."""
    dirs = dirs or CgroupDirs()
    workload_input()
    _expected_output_len()
    lim0 = cpu_limit(dirs)
    times0, thread0 = cpu_times(), time.thread_time()
    t0 = clock()
    measured_from: float | None = None
    durations: list[float] = []
    last = t0
    for _ in range(MAX_SPEED_UNITS):
        a = clock()
        unit()
        last = clock()
        if measured_from is None:
            if last - t0 >= warmup_s:
                measured_from = last
            continue
        durations.append(last - a)
        if last - measured_from >= window_s:
            break
    thread_cpu = time.thread_time() - thread0
    times1, lim1 = cpu_times(), cpu_limit(dirs)
    wall = last - t0
    span = last - (measured_from if measured_from is not None else t0)
    others = None
    if wall > 0:
        others = round(max(0.0, (times1.busy - times0.busy - thread_cpu) / wall), 3)
    throttled = None
    if lim0.nr_throttled is not None and lim1.nr_throttled is not None:
        throttled = lim1.nr_throttled - lim0.nr_throttled
    if not durations:
        raise RuntimeError("the CPU workload did not run: no unit finished after the warm-up")
    return CpuSpeed(
        workload=workload_id(),
        units_per_s=round(len(durations) / span, 3),
        peak_units_per_s=round(1.0 / max(min(durations), 1e-9), 3),
        unit_ms_p50=round(statistics.median(durations) * 1000, 3),
        units=len(durations),
        window_s=round(span, 4),
        thread_cpu_s=round(thread_cpu, 4),
        others_cores=others,
        throttled_periods=throttled,
    )


# -- memory -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MemoryReading:
    """Memory as the machine reports it, and as this process may use it."""

    total_bytes: int  # the host's total, cut to the cgroup limit
    available_bytes: int  # the host's available, cut to the cgroup headroom
    host_total_bytes: int
    host_available_bytes: int
    limit_bytes: int | None  # the cgroup limit in force, if any
    swap_total_bytes: int
    swap_used_bytes: int


def memory(dirs: CgroupDirs | None = None) -> MemoryReading:
    vm: Any = psutil.virtual_memory()
    sw: Any = psutil.swap_memory()
    lim = memory_limit(dirs or CgroupDirs())
    total, available = int(vm.total), int(vm.available)
    if lim.limit_bytes is not None:
        total = min(total, lim.limit_bytes)
    if lim.available_bytes is not None:
        available = min(available, lim.available_bytes)
    return MemoryReading(total, min(available, total), int(vm.total), int(vm.available), lim.limit_bytes,
                         int(sw.total), int(sw.used))


def boot_id(path: str = "/proc/sys/kernel/random/boot_id") -> str | None:
    """Changes at every boot: a reboot between readings shows."""
    try:
        return Path(path).read_text().strip() or None
    except OSError:
        return None
