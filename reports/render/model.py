"""The report model: everything the renderers read, as typed, frozen objects.

Report building (reports/build) produces a :class:`Report` and the plot series; the renderers
(content → pdf / html, charts) take them as they are, and summary.json is serialised from the
same object (reports/render/model_json.py), so the report and the machine-readable file cannot
say different things. A renderer reading a field the model lacks is a mypy error, not a silent
"–" at run time.

Why stdlib dataclasses and not pydantic: building validates nothing twice (the figures come from
typed analysis results), construction stays cheap for thousands of incidents, instances pickle to
the renderer process as they are, and a number keeps its type (pydantic turns an int 47 into 47.0,
which would change summary.json). Reading summary.json back is validated by the decoder in
model_json.py; docs/summary.schema.json states the same shape for other readers.

Field names are summary.json's keys (docs/report-schema.md) unless the field's metadata says
otherwise (``key``); times are aware datetimes, written as UTC "…Z" strings, except inside the
SLA section, which keeps the SLA time zone's offset (``time=offset``, as SlaResult.to_json wrote).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final, Literal, cast, get_args

from reports.render.model_alerts import AlertEntry as AlertEntry

# The incident card's objects live in model_cards.py (for this file's size) and are the model's as well.
from reports.render.model_cards import HttpResponse as HttpResponse
from reports.render.model_cards import IncidentCard as IncidentCard
from reports.render.model_cards import RoundCheck as RoundCheck
from reports.render.model_cards import TraceHop as TraceHop
from reports.render.model_cards import Traceroute as Traceroute
from reports.render.model_proof import ProofSection as ProofSection
from reports.render.model_vantage import VantageSection
from reports.render.smokeping import SmokeBucket

SUMMARY_SCHEMA: Final = "slaproof.report/1"
MANIFEST_SCHEMA: Final = "slaproof.manifest/1"

Lang = Literal["en", "zh"]
IncidentKind = Literal["outage", "partial", "degraded", "local"]
BandKind = Literal["outage", "partial", "degraded", "local", "no_data"]
# Every verdict the SLA evaluation can reach (reports.analysis.sla.Verdict, a str enum); a test keeps them equal.
Verdict = Literal["met", "breached", "not enough data", "no uptime term"]

INCIDENT_KINDS: Final[tuple[IncidentKind, ...]] = get_args(IncidentKind)
BAND_KINDS: Final[tuple[BandKind, ...]] = get_args(BandKind)
VERDICTS: Final[tuple[Verdict, ...]] = get_args(Verdict)

# Field metadata read by the serialiser (model_json.py).
OFFSET_TIME: Final[Mapping[str, Any]] = {"time": "offset"}  # datetime.isoformat(), offset kept
OMIT_IF_NONE: Final[Mapping[str, Any]] = {"omit_none": True}  # key absent when the value is None


def _one_of(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} {value!r} is not one of {', '.join(allowed)}")
    return value


def incident_kind(name: str) -> IncidentKind:
    """An analysis kind name ("outage" …) as the model's literal; anything else is a bug."""
    return cast(IncidentKind, _one_of(name, INCIDENT_KINDS, "incident kind"))


def report_lang(lang: str) -> Lang:
    return cast(Lang, _one_of(lang, get_args(Lang), "report language"))


# -- report, period, agent ------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Period:
    """The reported period [start, end) and the IANA zone every time is shown in."""

    start: datetime = field(metadata={"key": "from"})  # "from" is a Python keyword
    end: datetime = field(metadata={"key": "to"})
    timezone: str
    interim: bool = False  # the period is not over (its end is after the report was made): every figure may change


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentInfo:
    id: str  # the agent's persistent UUID, or "unknown"
    host: str
    vantage: str
    network: str
    version: str


# -- methods ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeMethod:
    """One configured check: its kind, interval and settings (secrets masked)."""

    target: str
    kind: str
    interval_s: float
    settings: Mapping[str, Any]  # the kind's options as configured (a JSON object)


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """A target's degraded-round thresholds."""

    rtt_ms_max: float | None
    loss_pct_max: float | None
    sustain_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Methods:
    probes: tuple[ProbeMethod, ...]
    thresholds: Mapping[str, Thresholds]  # target name → thresholds (targets that set any)
    control_targets: tuple[str, ...]
    clock: str
    open_after: int
    merge_gap_s: float | None
    gap_rule: str
    text_en: str  # the methods narrative; paragraphs separated by "\n\n"
    text_zh: str


# -- a target's figures -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class LatencyFigures:
    """Latency of the target's first latency check kind, ms (None without samples)."""

    p50: float | None
    p95: float | None
    p99: float | None
    mean: float | None
    min: float | None
    max: float | None
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceRef:
    """Where a reader finds the proof of an incident: ``type`` is traceroute, http_response or rows."""

    type: str
    ref: str  # "ev-0042", "row 40211", "40211–40493"
    summary: str  # quoted as stored; untrusted text


@dataclass(frozen=True, slots=True, kw_only=True)
class StartBounds:
    last_good_before: datetime | None
    first_failed: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class EndBounds:
    last_failed: datetime
    first_good_after: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentEntry:
    """One incident, clipped to the period (reports.analysis.incidents.Incident, with its id and evidence).

    ``end`` is the first good round after it, or the period end when it continued past it
    (``clipped_end``); the true duration lies in [duration_min_s, duration_max_s].
    """

    id: str  # "T1-3": target 1, third incident
    kind: IncidentKind
    state: str  # the analysis state behind the kind ("down" for an outage)
    start: datetime
    end: datetime
    duration_s: float
    duration_min_s: float
    duration_max_s: float | None  # None: the upper bound was not observed
    counted_s: float
    start_bounds: StartBounds
    end_bounds: EndBounds
    start_bound: str
    end_bound: str
    rounds_failed: int
    rounds_good_inside: int
    error_classes: Mapping[str, int]
    first_row_id: int | None
    last_row_id: int | None
    clipped_start: bool
    clipped_end: bool
    evidence: tuple[EvidenceRef, ...]
    card: IncidentCard | None = field(default=None, metadata=OMIT_IF_NONE)  # provider incidents only


@dataclass(frozen=True, slots=True, kw_only=True)
class BandwidthStats:
    """One direction's statistics over the measured tests' means (nearest rank)."""

    count: int
    mean_mbps: float
    min_mbps: float
    p10_mbps: float
    p50_mbps: float
    p90_mbps: float
    max_mbps: float


@dataclass(frozen=True, slots=True, kw_only=True)
class BandwidthTest:
    ts: datetime
    direction: str
    ok: bool
    mbps_mean: float | None
    bytes_total: float | None
    error_class: str | None
    counted_as: str  # ok, failed, skipped, agent_side or local


@dataclass(frozen=True, slots=True, kw_only=True)
class BandwidthSection:
    tests: int
    ok: int
    failed: int
    skipped: int
    agent_side: int
    local: int
    by_direction: Mapping[str, BandwidthStats]  # "download" / "upload"
    listed: tuple[BandwidthTest, ...]  # the first 200 tests
    listed_all: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckFigures:
    """One check kind of a target judged on its own, as if it were the target's only check, by the
    target's own rules (reports/build/checks.py; docs/methods.md, "Each check on its own").

    A target is down only when every check failed: a web service refused while ping answered is
    "partial" for the target; here it is the HTTP check's downtime.
    """

    kind: str  # icmp, tcp or http
    availability_pct: float | None  # (observed − downtime) / observed × 100; None when nothing was observed
    downtime_s: float  # time this check failed (its outages, by the incident rules)
    coverage_pct: float  # observed time of this check / period × 100 (truncated)
    outages: int  # outages of this check alone
    rounds: int  # rounds in which this check ran
    rounds_failed: int  # rounds in which it failed
    counts_toward_sla: bool | None  # its failure is part of the SLA's downtime (counting.checks); None: no SLA


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportedSource:
    """One imported file's rows of a target in the period (``slaproof import``; docs/import-format.md)."""

    file: str  # the file's name as imported ("unknown" for rows imported before sources were kept)
    sha256: str | None  # SHA-256 of the file as imported; None when not kept
    tool: str  # what measured the rows, as given with --tool ("unknown" when not given)
    kinds: tuple[str, ...]  # check kinds of its rows
    rows: int
    first: datetime  # its first and last row's time in the period
    last: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportedRows:
    """Rows of a target brought in with ``slaproof import``, not measured by this agent: how they were
    measured is unknown (the methods text says so); they are counted like measured rows."""

    rows: int  # imported rows in the period (round checks: icmp, tcp, http)
    share_pct: float  # of the target's rows in the period
    first: datetime
    last: datetime
    sources: tuple[ImportedSource, ...]


# -- the SLA section (reports.analysis.sla.SlaResult.to_json(); docs/sla.md) ---------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class CreditTier:
    lt: str
    ge: str | None
    credit_pct: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditPerOutage:
    start: datetime = field(metadata=OFFSET_TIME)
    duration_s: float
    credit_hours: float | None  # None: between rows of the credit table


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaOutage:
    start: datetime = field(metadata=OFFSET_TIME)
    end: datetime = field(metadata=OFFSET_TIME)
    start_utc: datetime = field(metadata=OFFSET_TIME)
    end_utc: datetime = field(metadata=OFFSET_TIME)
    duration_s: float
    in_period_s: float
    counted_s: float
    maintenance_s: float
    below_minimum: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class BreachingWindow:
    start: datetime = field(metadata=OFFSET_TIME)
    end: datetime = field(metadata=OFFSET_TIME)
    mean: float
    samples: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaTerm:
    """A performance term measured against its threshold."""

    metric: str
    statistic: str
    comparator: str
    threshold: float
    share_min_pct: float | None
    measured: float | None
    measured_range: tuple[float, float] | None
    met: bool | None  # None: no samples, or too close to call
    samples: int
    window_s: float
    breaching_window_count: int
    breaching_windows: tuple[BreachingWindow, ...]
    remedy: str
    confidence: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaFieldUse:
    """One definition field used, and how sure its value is (verbatim … unconfirmed)."""

    path: str
    value: str
    confidence: str
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaSection:
    """The SLA evaluation of one target, field for field as SlaResult.to_json() writes it.

    The field order is to_json's key order: the report prints the fields in it (after the
    leading ones, content_sla.LEADING), so keep the two in step.
    """

    target: str | None
    preset: str | None
    sla_id: str
    provider: str
    product: str
    terms_date: str
    terms_date_note: str
    sources: tuple[str, ...]
    overrides: tuple[str, ...]
    timezone: str
    period_start: datetime = field(metadata=OFFSET_TIME)
    period_end: datetime = field(metadata=OFFSET_TIME)
    period_kind: str
    period_complete: bool
    uptime_target_pct: float | None
    uptime_provider_pct: float | None
    uptime_provider_exact: str | None
    uptime_measured_pct: float | None
    coverage_pct: float
    period_s: float
    known_s: float  # observed time: the target's state seen (neither no data nor local); coverage's numerator
    no_data_s: float  # time without data, apart from local_s (not downtime; excluded_downtime_s never holds it)
    local_s: float  # time the agent's own network was down (never the provider's downtime)
    measured_downtime_s: float
    qualifying_downtime_s: float
    counted_downtime_s: float
    counted_windows: int
    window_s: float
    window_down_when: str
    min_outage_s: float
    min_outage_strict: bool
    down_states: tuple[str, ...]
    checks: str | tuple[str, ...]  # whose failure is downtime: "all" (every check failed), or these check kinds
    excluded_downtime_s: float  # maintenance + below the minimum + local: failure time not charged
    excluded: Mapping[str, float]
    no_data_rule: str
    min_coverage_pct: float | None
    verdict: Verdict
    verdict_basis: str
    credit_mode: str
    credit_tier: CreditTier | None
    credit_pct: float | None
    credit_amount: str | None  # decimal text, rounded down to the cent
    monthly_fee: str | None
    currency: str | None
    credit_capped: bool
    credit_below_minimum: bool
    credit_service_hours: float | None
    credit_per_outage: tuple[CreditPerOutage, ...]
    credit_notes: tuple[str, ...]
    clock_hours_credited: tuple[datetime, ...] = field(metadata=OFFSET_TIME)
    clock_hour_amount: str | None
    claim_deadline: date | None
    claim_deadline_passed: bool | None
    claim_channel: str | None
    claim_subject: str | None
    evidence: tuple[str, ...]
    outages: tuple[SlaOutage, ...]
    terms: tuple[SlaTerm, ...]
    fields: tuple[SlaFieldUse, ...]
    unconfirmed_fields: tuple[str, ...]
    notes: tuple[str, ...]
    warnings: tuple[str, ...]


# -- the host section (readings from inside the rented machine; docs/host.md) --------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class HostPlan:
    """The machine as advertised (the target's ``plan`` in the config); None where not stated."""

    vcpus: int | None
    cpu: str | None  # dedicated or shared
    memory_mb: float | None  # MiB, as plans mean it (4 GB = 4096)
    disk_type: str | None
    disk_gb: float | None
    disk_iops: int | None
    disk_mb_s: float | None
    source: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class HostStats:
    """One figure over the period's readings that have it: mean and nearest-rank percentiles."""

    count: int
    mean: float | None
    min: float | None
    p5: float | None
    p50: float | None
    p95: float | None
    max: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class HostCpuSpeed:
    """The fixed workload's speed against the machine's own first week (reports/analysis/host.py)."""

    workload: str | None
    baseline_units_per_s: float | None  # None: not enough uncontended readings in the first week
    baseline_from: datetime | None
    baseline_to: datetime | None
    baseline_readings: int
    pct_of_baseline: HostStats  # uncontended readings of the baseline's workload
    units_per_s: HostStats
    contended: int  # readings left out: the machine's own processes kept its vCPUs busy
    quota_cores: float | None  # the cgroup quota in the last reading, if any
    throttled_readings: int  # readings during whose workload the cgroup was throttled


@dataclass(frozen=True, slots=True, kw_only=True)
class HostDisk:
    fs_type: str | None  # of the scratch path, in the last reading
    direct: bool | None  # the last throughput test bypassed the page cache (O_DIRECT)
    fsync_p50_ms: HostStats  # over the readings' own p50
    fsync_p99_ms: HostStats  # over the readings' own p99
    write_mb_s: HostStats
    read_mb_s: HostStats
    write_below_plan: int | None  # throughput tests writing slower than the plan's disk_mb_s
    errors: Mapping[str, int]  # what failed ("fsync: No space left on device (ENOSPC)") → readings


@dataclass(frozen=True, slots=True, kw_only=True)
class HostMemory:
    total_bytes_min: int | None
    total_bytes_max: int | None
    plan_bytes: int | None
    total_pct_of_plan_min: float | None
    available_bytes: HostStats
    limit_bytes: int | None  # the cgroup limit in the last reading, if any
    swap_used_bytes_max: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class HostDay:
    """One display-zone day's readings."""

    day: date
    readings: int
    steal_mean_pct: float | None
    steal_max_pct: float | None
    speed_pct_median: float | None
    speed_pct_min: float | None
    fsync_p99_ms_max: float | None
    write_mb_s_min: float | None
    mem_available_min_bytes: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class HostSection:
    """Readings the machine took of itself (`slaproof serve --host`) in the period, against its plan."""

    readings: int
    polls_failed: int  # polls that brought no reading: not outages of the target
    poll_errors: Mapping[str, int]  # error class → failed polls
    first_reading: datetime | None
    last_reading: datetime | None
    plan: HostPlan | None
    vcpus_online_min: int | None
    vcpus_online_max: int | None
    steal_pct: HostStats
    iowait_pct: HostStats
    busy_pct: HostStats
    cpu_speed: HostCpuSpeed
    disk: HostDisk
    memory: HostMemory
    host_clock_unsynced: int  # readings taken while the host's clock was not synchronised
    host_offset_ms_max: float | None  # the largest host − agent clock offset seen, either sign
    days: tuple[HostDay, ...]
    terms: tuple[SlaTerm, ...]  # the SLA's host terms, as in the SLA section


# -- a target, the report -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class TargetReport:
    """Every printed figure of one target (seconds, %, ms; unknown is None, never 0 or 100)."""

    name: str
    address: str
    provider: str
    control: bool
    interval_s: float
    service_name: str | None = field(default=None, metadata=OMIT_IF_NONE)  # the provider's name of the service
    service_id: str | None = field(default=None, metadata=OMIT_IF_NONE)  # the provider's id of it (instance id …)
    availability_pct: float | None
    downtime_s: float
    coverage_pct: float
    local_s: float
    no_data_s: float
    partial_s: float
    degraded_s: float
    latency_ms: LatencyFigures
    latency_source: str | None  # icmp, else tcp, else http
    loss_pct: float | None
    rows: int
    incidents: tuple[IncidentEntry, ...]
    blips: int
    rounds: int
    rounds_failed: int
    checks: tuple[CheckFigures, ...] = ()  # each check kind on its own (one entry per kind; a single kind's are the target's)
    imported: ImportedRows | None = field(default=None, metadata=OMIT_IF_NONE)  # absent: every row measured by this agent
    bandwidth: BandwidthSection | None = field(default=None, metadata=OMIT_IF_NONE)
    sla: SlaSection | None = field(default=None, metadata=OMIT_IF_NONE)
    host: HostSection | None = field(default=None, metadata=OMIT_IF_NONE)
    vantages: VantageSection | None = field(default=None, metadata=OMIT_IF_NONE)  # several agents measured it


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """The whole report: summary.json is this object serialised (model_json.report_to_json)."""

    schema: Literal["slaproof.report/1"] = SUMMARY_SCHEMA
    generated_at: datetime
    lang: Lang
    period: Period
    agent: AgentInfo
    methods: Methods
    targets: tuple[TargetReport, ...]
    notes: tuple[str, ...]
    proof: ProofSection | None = field(default=None, metadata=OMIT_IF_NONE)  # absent: no agent's rows in the report
    alerts: tuple[AlertEntry, ...] | None = field(default=None, metadata=OMIT_IF_NONE)  # absent: the alert log has none


# -- chart series (plot data only: never in summary.json, never a printed figure) -------------
@dataclass(frozen=True, slots=True)
class TargetSeries:
    """Plot data for one target (UTC times; days are display-zone days).

    ``smoke``: the SmokePing chart's time buckets (reports/render/smokeping.SmokeBucket: the
    spread of RTT samples as quantiles, the median, ICMP loss), only buckets with samples or ICMP
    requests, by time; from the report's one pass over the rows (reports/build/accumulate.py).
    ``latency_kind``: the check kind the RTTs come from (icmp, else tcp, else http; None: none).
    ``icmp``: the target has ICMP checks, so loss is known (no loss panel without).
    ``daily``: (day, availability % or None for no data, coverage %).
    ``bands``: (start, end, kind, incident id or "" for a no-data gap). ``vantage_spans``: each vantage's states, and "quorum"
    for the combined reading.
    ``windows``: incident id → the buckets of its card chart (the incident and 30 min each side).
    ``host``: per host reading (time, steal %, CPU speed % of baseline, fsync p99 ms, write MB/s, read MB/s).
    """

    smoke: list[SmokeBucket] = field(default_factory=list)
    latency_kind: str | None = None
    icmp: bool = False
    daily: list[tuple[date, float | None, float]] = field(default_factory=list)
    bands: list[tuple[datetime, datetime, BandKind, str]] = field(default_factory=list)
    windows: dict[str, list[SmokeBucket]] = field(default_factory=dict)
    host: list[tuple[datetime, float | None, float | None, float | None, float | None, float | None]] = field(default_factory=list)
    vantage_spans: list[tuple[str, datetime, datetime, str]] = field(default_factory=list)  # (vantage, start, end, state)
