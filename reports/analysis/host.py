"""Host readings (from inside the rented machine) as figures: statistics, the CPU speed baseline,
days, and the samples SLA host terms are measured on. Pure functions over typed readings.

What is counted against the provider and what is not:

- steal is always the provider's: the hypervisor ran someone else while this vCPU wanted to run;
- a CPU speed reading taken while the machine's own processes kept its vCPUs busy (fewer than
  ``FREE_CORES_MIN`` cores left to the workload) is "contended": it measures the user's own load,
  and is counted apart, never in the statistics or the SLA samples;
- CPU speed is compared with the machine's own first week: the median of the uncontended
  readings of the same workload in the 7 days from the first reading, once there are at least
  ``BASELINE_MIN_READINGS`` of them (else there is no baseline, and no speed percentage);
- a failed poll (the endpoint unreachable, a wrong token) is no reading, and no outage either.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

BASELINE_SPAN = timedelta(days=7)
BASELINE_MIN_READINGS = 12  # an hour of readings at the default 5 minutes
FREE_CORES_MIN = 0.9  # fewer cores than this left by the machine's own load: the speed reading is contended

# SLA metric names of host figures (reports.analysis.sla_terms.PerformanceTerm.metric).
HOST_METRICS = frozenset({"steal_pct", "cpu_speed_pct", "disk_fsync_p99_ms", "disk_write_mb_s", "disk_read_mb_s"})


@dataclass(frozen=True, slots=True)
class HostSample:
    """One stored host row as the analysis sees it (a reading, or a failed poll with ``ok`` False)."""

    ts: datetime  # on the agent's clock: the moment the host took the reading
    ok: bool
    error_class: str | None = None
    steal_pct: float | None = None
    iowait_pct: float | None = None
    busy_pct: float | None = None
    vcpus_online: int | None = None
    vcpus_usable: int | None = None
    quota_cores: float | None = None
    throttled_periods: int | None = None
    workload: str | None = None
    units_per_s: float | None = None
    others_cores: float | None = None
    fsync_p50_ms: float | None = None
    fsync_p99_ms: float | None = None
    write_mb_s: float | None = None
    read_mb_s: float | None = None
    direct: bool | None = None
    fs_type: str | None = None
    disk_errors: tuple[str, ...] = ()
    mem_total_bytes: int | None = None
    mem_available_bytes: int | None = None
    mem_limit_bytes: int | None = None
    swap_used_bytes: int | None = None
    host_synced: bool | None = None
    host_offset_ms: float | None = None

    @property
    def contended(self) -> bool:
        """The machine's own processes left the speed workload less than a core."""
        if self.others_cores is None or self.vcpus_usable is None:
            return False
        return self.vcpus_usable - self.others_cores < FREE_CORES_MIN


@dataclass(frozen=True, slots=True)
class Stats:
    """Nearest-rank statistics of one figure over the readings that have it."""

    count: int
    mean: float | None
    min: float | None
    p5: float | None
    p50: float | None
    p95: float | None
    max: float | None


def nearest_rank(sorted_values: Sequence[float], q: float) -> float:
    return sorted_values[max(0, math.ceil(q / 100 * len(sorted_values)) - 1)]


def stats(values: Iterable[float | None]) -> Stats:
    v = sorted(float(x) for x in values if x is not None and not math.isnan(x))
    if not v:
        return Stats(0, None, None, None, None, None, None)
    return Stats(len(v), sum(v) / len(v), v[0], nearest_rank(v, 5), nearest_rank(v, 50), nearest_rank(v, 95), v[-1])


@dataclass(frozen=True, slots=True)
class Baseline:
    """The machine's own first-week CPU speed for one workload."""

    workload: str | None
    units_per_s: float | None  # None: fewer than BASELINE_MIN_READINGS uncontended readings in the first week
    start: datetime | None
    end: datetime | None
    readings: int


def baseline(first_week: Iterable[HostSample], workload: str | None = None) -> Baseline:
    """From the readings in time order from the very first: the median uncontended speed of
    ``workload`` (the first reading's when None) over the 7 days from its first reading."""
    start: datetime | None = None
    values: list[float] = []
    for s in first_week:
        if not s.ok or s.units_per_s is None or s.workload is None:
            continue
        if workload is None:
            workload = s.workload
        if s.workload != workload:
            continue
        if start is None:
            start = s.ts
        if s.ts >= start + BASELINE_SPAN:
            break
        if not s.contended:
            values.append(s.units_per_s)
    end = start + BASELINE_SPAN if start is not None else None
    ok = len(values) >= BASELINE_MIN_READINGS
    return Baseline(workload, statistics.median(values) if ok else None, start, end, len(values))


def speed_pct(s: HostSample, base: Baseline) -> float | None:
    """The reading's speed as % of the baseline; None when contended, another workload, or no baseline."""
    if base.units_per_s is None or s.units_per_s is None or s.workload != base.workload or s.contended:
        return None
    return 100.0 * s.units_per_s / base.units_per_s


@dataclass(frozen=True, slots=True)
class HostDay:
    day: date
    readings: int
    steal_mean_pct: float | None
    steal_max_pct: float | None
    speed_pct_median: float | None
    speed_pct_min: float | None
    fsync_p99_ms_max: float | None
    write_mb_s_min: float | None
    mem_available_min_bytes: int | None


def _day(day: date, rows: list[HostSample], base: Baseline) -> HostDay:
    steal = [s.steal_pct for s in rows if s.steal_pct is not None]
    speed = sorted(p for p in (speed_pct(s, base) for s in rows) if p is not None)
    fsync = [s.fsync_p99_ms for s in rows if s.fsync_p99_ms is not None]
    write = [s.write_mb_s for s in rows if s.write_mb_s is not None]
    mem = [s.mem_available_bytes for s in rows if s.mem_available_bytes is not None]
    return HostDay(day, len(rows), sum(steal) / len(steal) if steal else None, max(steal, default=None),
                   nearest_rank(speed, 50) if speed else None, speed[0] if speed else None,
                   max(fsync, default=None), min(write, default=None), min(mem, default=None))


def days(readings: Sequence[HostSample], base: Baseline, zone: tzinfo) -> list[HostDay]:
    """Per display-zone day with readings: the day's figures (failed polls are not readings)."""
    by_day: dict[date, list[HostSample]] = {}
    for s in readings:
        if s.ok:
            by_day.setdefault(s.ts.astimezone(zone).date(), []).append(s)
    return [_day(d, rows, base) for d, rows in sorted(by_day.items())]


def sla_samples(readings: Iterable[HostSample], base: Baseline, metrics: set[str]) -> Iterable[tuple[datetime, str, float]]:
    """(time, metric, value) of each reading for the SLA's host terms (see the module doc)."""
    for s in readings:
        if not s.ok:
            continue
        values = {"steal_pct": s.steal_pct, "cpu_speed_pct": speed_pct(s, base), "disk_fsync_p99_ms": s.fsync_p99_ms,
                  "disk_write_mb_s": s.write_mb_s, "disk_read_mb_s": s.read_mb_s}
        for metric in metrics & HOST_METRICS:
            v = values[metric]
            if v is not None:
                yield s.ts, metric, float(v)
