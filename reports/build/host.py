"""The report's host section: the target's stored host readings, read back, analysed, set against its plan.

Each stored row holds the reading as the responder sent it (probes/host_model.py, checked again
here); the analysis (reports/analysis/host.py) makes the figures; this module reads the store and
builds the model (reports/render/model.py). The CPU speed baseline is read from the target's very
first week of readings, whatever the period.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import closing
from datetime import datetime, tzinfo
from typing import Any

from pydantic import ValidationError

from agent.config import Plan
from agent.core.times import from_us
from agent.store import Store
from probes.host_model import Reading
from reports.analysis import host as A
from reports.analysis.sla_perf import PerfSample
from reports.build.rounds import TargetChecks
from reports.render.model import (
    HostCpuSpeed,
    HostDay,
    HostDisk,
    HostMemory,
    HostPlan,
    HostSection,
    HostStats,
    SlaTerm,
)

KIND = "host"
MIB = 1 << 20


def _figures(r: Reading) -> dict[str, Any]:
    """The sample's fields from the reading's parts that are there (a failed part is absent)."""
    out: dict[str, Any] = {"host_synced": r.clock.synced}
    if r.cpu is not None:
        c = r.cpu
        out.update(steal_pct=c.steal_pct, iowait_pct=c.iowait_pct, busy_pct=c.busy_pct, vcpus_online=c.vcpus_online,
                   vcpus_usable=c.vcpus_usable, quota_cores=c.quota_cores)
    if r.speed is not None:
        sp = r.speed
        out.update(throttled_periods=sp.throttled_periods, workload=sp.workload, units_per_s=sp.units_per_s,
                   others_cores=sp.others_cores)
    if r.memory is not None:
        m = r.memory
        out.update(mem_total_bytes=m.total_bytes, mem_available_bytes=m.available_bytes, mem_limit_bytes=m.limit_bytes,
                   swap_used_bytes=m.swap_used_bytes)
    if r.disk is not None:
        d = r.disk
        out.update(fs_type=d.fs_type, disk_errors=tuple(d.errors))
        if d.fsync is not None:
            out.update(fsync_p50_ms=d.fsync.p50_ms, fsync_p99_ms=d.fsync.p99_ms)
        if d.throughput is not None:
            out.update(write_mb_s=d.throughput.write_mb_s, read_mb_s=d.throughput.read_mb_s, direct=d.throughput.direct)
    return out


def sample_of(ts_us: int, ok: Any, error_class: str | None, detail: str | None) -> A.HostSample:
    """One stored host row as a typed sample; a row whose reading does not parse is a failed one."""
    when = from_us(ts_us)
    if not ok or not detail:
        return A.HostSample(when, False, error_class or "failed")
    try:
        d = json.loads(detail)
        r = Reading.model_validate(d["reading"])
    except (ValueError, KeyError, TypeError, ValidationError):
        return A.HostSample(when, False, "unreadable")
    offset = d.get("host_offset_ms")
    return A.HostSample(when, True, None, **_figures(r),
                        host_offset_ms=float(offset) if isinstance(offset, (int, float)) else None)


def host_samples(store: Store, ids: Sequence[int], start_us: int, end_us: int) -> Generator[A.HostSample, None, None]:
    for ts, ok, ec, detail in store.iter_detail_rows(ids, start_us, end_us):
        yield sample_of(ts, ok, ec, detail)


def host_baseline(store: Store, tc: TargetChecks) -> A.Baseline:
    """The first week's CPU speed, read from the target's first host row on (and no further)."""
    with closing(host_samples(store, tc.of_kind(KIND), 0, 2**62)) as rows:
        return A.baseline(rows)


def host_perf_samples(store: Store, tc: TargetChecks, start_us: int, end_us: int, metrics: set[str]) -> Iterator[PerfSample]:
    """The samples of the SLA's host terms (reports/analysis/host.py says which readings count)."""
    wanted = metrics & A.HOST_METRICS
    if not wanted or not tc.of_kind(KIND):
        return
    base = host_baseline(store, tc) if "cpu_speed_pct" in wanted else A.Baseline(None, None, None, None, 0)
    for ts, metric, value in A.sla_samples(host_samples(store, tc.of_kind(KIND), start_us, end_us), base, wanted):
        yield PerfSample(ts, metric, value)


def _stats(values: Iterable[float | None]) -> HostStats:
    s = A.stats(values)
    return HostStats(count=s.count, mean=s.mean, min=s.min, p5=s.p5, p50=s.p50, p95=s.p95, max=s.max)


def _plan(plan: Plan | None) -> HostPlan | None:
    if plan is None:
        return None
    return HostPlan(vcpus=plan.vcpus, cpu=plan.cpu, memory_mb=plan.memory_mb, disk_type=plan.disk_type, disk_gb=plan.disk_gb,
                    disk_iops=plan.disk_iops, disk_mb_s=plan.disk_mb_s, source=plan.source)


def _last(values: Iterable[Any]) -> Any:
    out = None
    for v in values:
        if v is not None:
            out = v
    return out


def _speed(readings: Sequence[A.HostSample], base: A.Baseline) -> HostCpuSpeed:
    return HostCpuSpeed(
        workload=base.workload, baseline_units_per_s=base.units_per_s, baseline_from=base.start, baseline_to=base.end,
        baseline_readings=base.readings, pct_of_baseline=_stats(A.speed_pct(s, base) for s in readings),
        units_per_s=_stats(s.units_per_s for s in readings if not s.contended),
        contended=sum(1 for s in readings if s.contended and s.units_per_s is not None),
        quota_cores=readings[-1].quota_cores if readings else None,
        throttled_readings=sum(1 for s in readings if (s.throttled_periods or 0) > 0),
    )


def _disk(readings: Sequence[A.HostSample], plan: Plan | None) -> HostDisk:
    promised = plan.disk_mb_s if plan is not None else None
    writes = [s.write_mb_s for s in readings if s.write_mb_s is not None]
    return HostDisk(
        fs_type=_last(s.fs_type for s in readings), direct=_last(s.direct for s in readings),
        fsync_p50_ms=_stats(s.fsync_p50_ms for s in readings), fsync_p99_ms=_stats(s.fsync_p99_ms for s in readings),
        write_mb_s=_stats(writes), read_mb_s=_stats(s.read_mb_s for s in readings),
        write_below_plan=None if promised is None else sum(1 for w in writes if w < promised),
        errors=dict(Counter(e for s in readings for e in s.disk_errors)),
    )


def _memory(readings: Sequence[A.HostSample], plan: Plan | None) -> HostMemory:
    totals = [s.mem_total_bytes for s in readings if s.mem_total_bytes is not None]
    plan_bytes = int(plan.memory_mb * MIB) if plan is not None and plan.memory_mb is not None else None
    return HostMemory(
        total_bytes_min=min(totals, default=None), total_bytes_max=max(totals, default=None), plan_bytes=plan_bytes,
        total_pct_of_plan_min=100.0 * min(totals) / plan_bytes if totals and plan_bytes else None,
        available_bytes=_stats(s.mem_available_bytes for s in readings),
        limit_bytes=readings[-1].mem_limit_bytes if readings else None,
        swap_used_bytes_max=max((s.swap_used_bytes for s in readings if s.swap_used_bytes is not None), default=None),
    )


def host_section(store: Store, tc: TargetChecks, plan: Plan | None, start: datetime, end: datetime, zone: tzinfo,
                 terms: Sequence[SlaTerm] = ()) -> HostSection | None:
    """The target's host section over [start, end), or None when it has no host check."""
    from agent.core.times import to_us

    ids = tc.of_kind(KIND)
    if not ids:
        return None
    rows = list(host_samples(store, ids, to_us(start), to_us(end)))
    readings = [s for s in rows if s.ok]
    base = host_baseline(store, tc)
    online = [s.vcpus_online for s in readings if s.vcpus_online is not None]
    offsets = [s.host_offset_ms for s in readings if s.host_offset_ms is not None]
    return HostSection(
        readings=len(readings), polls_failed=len(rows) - len(readings),
        poll_errors=dict(Counter(s.error_class or "failed" for s in rows if not s.ok)),
        first_reading=readings[0].ts if readings else None, last_reading=readings[-1].ts if readings else None,
        plan=_plan(plan), vcpus_online_min=min(online, default=None), vcpus_online_max=max(online, default=None),
        steal_pct=_stats(s.steal_pct for s in readings), iowait_pct=_stats(s.iowait_pct for s in readings),
        busy_pct=_stats(s.busy_pct for s in readings),
        cpu_speed=_speed(readings, base), disk=_disk(readings, plan), memory=_memory(readings, plan),
        host_clock_unsynced=sum(1 for s in readings if s.host_synced is False),
        host_offset_ms_max=max(offsets, key=abs) if offsets else None,
        days=tuple(HostDay(day=d.day, readings=d.readings, steal_mean_pct=d.steal_mean_pct, steal_max_pct=d.steal_max_pct,
                           speed_pct_median=d.speed_pct_median, speed_pct_min=d.speed_pct_min,
                           fsync_p99_ms_max=d.fsync_p99_ms_max, write_mb_s_min=d.write_mb_s_min,
                           mem_available_min_bytes=d.mem_available_min_bytes)
                   for d in A.days(readings, base, zone)),
        terms=tuple(t for t in terms if t.metric in A.HOST_METRICS),
    )


def host_series(store: Store, tc: TargetChecks, start_us: int, end_us: int) -> list[tuple[datetime, float | None, float | None,
                                                                                          float | None, float | None, float | None]]:
    """Plot data: per reading (time, steal %, speed % of baseline, fsync p99 ms, write MB/s, read MB/s)."""
    ids = tc.of_kind(KIND)
    if not ids:
        return []
    base = host_baseline(store, tc)
    return [(s.ts, s.steal_pct, A.speed_pct(s, base), s.fsync_p99_ms, s.write_mb_s, s.read_mb_s)
            for s in host_samples(store, ids, start_us, end_us) if s.ok]
