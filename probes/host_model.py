"""The host endpoint's answer, as a checked model: what ``slaproof serve --host`` sends and the agent keeps.

One schema on both sides: the responder builds these models from its readings,
the agent's ``host`` probe validates what arrives against them (strictly:
unknown keys, wrong types, NaN, negative counts or shares past 100 % make the
whole answer malformed) and stores the model's canonical JSON, so a row never
holds anything this schema does not describe.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA = "slaproof.host/1"
MAX_READINGS_PER_ANSWER = 500

Pct = Annotated[float, Field(ge=0, le=100.001)]
NonNeg = Annotated[float, Field(ge=0)]
Count = Annotated[int, Field(ge=0)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class CpuPart(_Part):
    """Shares of all CPU time since the previous reading (None for the first reading after a start)."""

    interval_s: NonNeg | None = None
    steal_pct: Pct | None = None
    iowait_pct: Pct | None = None
    busy_pct: Pct | None = None
    idle_pct: Pct | None = None
    vcpus_online: Annotated[int, Field(ge=1)]
    vcpus_usable: Annotated[int, Field(ge=1)]
    quota_cores: NonNeg | None = None  # the cgroup's CPU quota, if any
    periods: Count | None = None  # cgroup scheduling periods in the interval
    throttled_periods: Count | None = None
    throttled_s: NonNeg | None = None


class SpeedPart(_Part):
    workload: str = Field(min_length=1, max_length=100)
    units_per_s: Annotated[float, Field(gt=0)]
    peak_units_per_s: Annotated[float, Field(gt=0)]
    unit_ms_p50: NonNeg
    units: Annotated[int, Field(ge=1)]
    window_s: Annotated[float, Field(gt=0)]
    thread_cpu_s: NonNeg
    others_cores: NonNeg | None = None
    throttled_periods: Count | None = None


class MemoryPart(_Part):
    total_bytes: Count
    available_bytes: Count
    host_total_bytes: Count
    host_available_bytes: Count
    limit_bytes: Count | None = None
    swap_total_bytes: Count
    swap_used_bytes: Count


class FsyncPart(_Part):
    samples: Annotated[int, Field(ge=1)]
    p50_ms: NonNeg
    p99_ms: NonNeg
    max_ms: NonNeg


class ThroughputPart(_Part):
    bytes: Annotated[int, Field(ge=1)]
    write_mb_s: NonNeg
    read_mb_s: NonNeg
    direct: bool


class DiskPart(_Part):
    path: str = Field(max_length=4096)
    fs_type: str | None = Field(None, max_length=100)
    free_bytes: Count | None = None
    fsync: FsyncPart | None = None
    throughput: ThroughputPart | None = None
    bytes_written: Count
    errors: list[Annotated[str, Field(max_length=500)]] = Field(default_factory=list, max_length=10)


class ClockPart(_Part):
    """The host's clock when it took the reading, as its kernel reports it (adjtimex)."""

    synced: bool | None = None
    maxerror_us: Count | None = None
    esterror_us: Count | None = None


class Reading(_Part):
    seq: Annotated[int, Field(ge=1)]
    taken_at_us: Count  # the host's wall clock at the start of the reading
    took_s: NonNeg  # wall time the reading took
    cpu_s: NonNeg  # CPU time the responder spent on it (its cost to the machine)
    clock: ClockPart
    boot_id: str | None = Field(None, max_length=64)
    cpu: CpuPart | None = None
    speed: SpeedPart | None = None
    memory: MemoryPart | None = None
    disk: DiskPart | None = None
    errors: list[Annotated[str, Field(max_length=500)]] = Field(default_factory=list, max_length=10)


class HostAnswer(_Part):
    """``GET /host``: the readings after the one the agent names (``?since=<instance>:<seq>``)."""

    schema_: Literal["slaproof.host/1"] = Field("slaproof.host/1", alias="schema")
    instance: str = Field(min_length=1, max_length=64)  # new at each responder start: seq counts from 1 again
    now_us: Count  # the host's wall clock when it answered
    every_s: Annotated[float, Field(gt=0)]
    started_us: Count  # the host's wall clock when the readings started
    last_taken_at_us: Count | None = None  # the newest reading kept, even when none is new to the agent
    readings: list[Reading] = Field(default_factory=list, max_length=MAX_READINGS_PER_ANSWER)
    more: bool = False  # more readings wait: ask again

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)
