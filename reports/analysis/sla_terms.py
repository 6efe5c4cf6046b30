"""What a provider promises, as data: the SLA definition model (pydantic, validated).

A definition says how the provider itself counts (period, windows, minimum
outage, exclusions), what it pays (credit rules) and by when one must claim.
Every field can carry a confidence mark, because most public terms were only
read second-hand; anything not read verbatim is printed as unconfirmed.

Reading presets and merging a target's overrides is I/O and lives in
:mod:`reports.presets`; this module only says what a valid definition is.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agent.core.errors import ConfigError

DEFAULT_MIN_COVERAGE_PCT = Decimal(90)


class SlaConfigError(ConfigError):
    """A preset or an ``sla`` config section is unknown or invalid; the message names the key."""


class Confidence(str, enum.Enum):
    VERBATIM = "verbatim"  # read in the provider's own text (✔)
    SECONDARY = "secondary"  # only from a secondary page (◐): printed as unconfirmed
    UNCONFIRMED = "unconfirmed"  # not found, or our own reading (✘): printed as unconfirmed


def _check_zone(v: str) -> str:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {v!r}") from None
    return v


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(_Strict):
    """The accounting period the uptime percentage is computed over."""

    kind: Literal["calendar_month", "billing_month", "per_outage"] = "calendar_month"
    timezone: str = "UTC"
    anchor_day: int | None = Field(None, ge=1, le=31, description="billing_month: day the cycle starts")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        return _check_zone(v)

    @model_validator(mode="after")
    def _anchor(self) -> Period:
        if self.kind == "billing_month" and self.anchor_day is None:
            raise ValueError("billing_month needs anchor_day (1 for a calendar-aligned cycle)")
        return self


class Counting(_Strict):
    """How measured downtime becomes the provider's downtime."""

    window_s: int = Field(60, gt=0, le=3600, description="1 = exact seconds, 60 per minute, 300 per 5 minutes")
    window_down_when: Literal["any", "all", "majority"] = Field(
        "all", description="a window is down if any / all / more than half of it is down"
    )
    min_outage_s: int = Field(0, ge=0, description="shorter outages are not counted")
    min_outage_strict: bool = Field(False, description="true: must last MORE than min_outage_s")
    down_states: list[Literal["down", "partial", "degraded"]] = Field(default_factory=lambda: ["down"])  # type: ignore[arg-type]  # pydantic plugin reads the lambda as list[str]
    checks: Literal["all"] | list[Literal["icmp", "tcp", "http"]] = Field(
        "all", description="whose failure is downtime: 'all' = every check of the target failed (its outage state); "
                           "a list of check kinds = every listed check failed, whatever the others did")
    starts_at: Literal["outage", "ticket"] = Field("outage", description="ticket: provider counts from the ticket")
    measured_by: Literal["customer", "provider"] = "customer"
    unavailable_definition: str = ""

    @field_validator("window_s")
    @classmethod
    def _divides_hour(cls, v: int) -> int:
        if 3600 % v:
            raise ValueError("window_s must divide 3600 (1, 60, 300, …)")
        return v

    @field_validator("checks")
    @classmethod
    def _checks(cls, v: str | list[str]) -> str | list[str]:
        if isinstance(v, list) and (not v or len(set(v)) != len(v)):
            raise ValueError("checks must be \"all\" or a non-empty list of distinct check kinds (icmp, tcp, http)")
        return v

    @property
    def check_kinds(self) -> tuple[str, ...] | None:
        """The check kinds whose joint failure is downtime, sorted; None for every check of the target."""
        return None if isinstance(self.checks, str) else tuple(sorted(self.checks))

    @field_validator("down_states")
    @classmethod
    def _needs_down(cls, v: list[str]) -> list[str]:
        if "down" not in v:
            raise ValueError("down_states must include 'down'")
        return v


class OneOffMaintenance(_Strict):
    start: datetime
    end: datetime
    note: str = ""

    @model_validator(mode="after")
    def _aware(self) -> OneOffMaintenance:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("maintenance start/end need a UTC offset")
        if self.end <= self.start:
            raise ValueError("maintenance end must be after start")
        return self


class WeeklyMaintenance(_Strict):
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    time: str = Field(description="local start time HH:MM")
    duration_min: int = Field(gt=0, le=7 * 24 * 60)
    timezone: str = "UTC"

    @field_validator("time")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        try:
            h, m = v.split(":")
            if not (0 <= int(h) < 24 and 0 <= int(m) < 60 and len(m) == 2):
                raise ValueError
        except ValueError:
            raise ValueError(f"time must be HH:MM, got {v!r}") from None
        return v

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        return _check_zone(v)


class Exclusions(_Strict):
    maintenance: list[OneOffMaintenance] = Field(default_factory=list)
    weekly_maintenance: list[WeeklyMaintenance] = Field(default_factory=list)
    # Provider exclusions the tool cannot detect (force majeure, customer action, DDoS): printed.
    provider_exclusions: list[str] = Field(default_factory=list)


class NoData(_Strict):
    rule: Literal["excluded", "up", "down"] = "excluded"
    min_coverage_pct: Decimal = Field(DEFAULT_MIN_COVERAGE_PCT, ge=0, le=100)


class Tier(_Strict):
    """Credit when ``ge <= uptime < lt`` (unrounded); ``ge`` absent: no lower bound."""

    lt: Decimal = Field(gt=0, le=100)
    ge: Decimal | None = Field(None, ge=0, lt=100)
    credit_pct: Decimal = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _order(self) -> Tier:
        if self.ge is not None and self.ge >= self.lt:
            raise ValueError(f"ge ({self.ge}) must be below lt ({self.lt})")
        return self


class DurationRow(_Strict):
    """Per-outage credit when ``ge_s <= duration < lt_s``."""

    ge_s: int = Field(0, ge=0)
    lt_s: int | None = None
    credit_hours: Decimal = Field(ge=0)

    @model_validator(mode="after")
    def _order(self) -> DurationRow:
        if self.lt_s is not None and self.lt_s <= self.ge_s:
            raise ValueError(f"lt_s ({self.lt_s}) must be above ge_s ({self.ge_s})")
        return self


class ClockHourRule(_Strict):
    """AWS: no charge for any clock-hour with more than ``more_than_s`` unavailable."""

    more_than_s: int = Field(gt=0, lt=3600)


class Credit(_Strict):
    mode: Literal["tiered", "prorated", "duration_table", "unknown"] = "unknown"
    basis: str = "monthly fee of the affected service"
    tiers: list[Tier] = Field(default_factory=list)
    duration_table: list[DurationRow] = Field(default_factory=list)
    cap_pct: Decimal | None = Field(None, gt=0, le=1000)
    minimum_amount: Decimal | None = Field(None, ge=0, description="credits at or below are not issued")
    minimum_strict: bool = Field(True, description="true: issued only if MORE than minimum_amount")
    minimum_currency: str | None = None
    clock_hour_rule: ClockHourRule | None = None
    notes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Credit:
        if self.mode == "tiered" and not self.tiers:
            raise ValueError("mode 'tiered' needs tiers")
        if self.mode == "duration_table" and not self.duration_table:
            raise ValueError("mode 'duration_table' needs duration_table")
        for i in range(1, len(self.tiers)):
            above, below = self.tiers[i - 1], self.tiers[i]
            if above.ge is None or below.lt > above.ge:
                raise ValueError(
                    f"tiers[{i}]: bounds out of order (tiers go from the highest uptime down, "
                    f"without overlap: tiers[{i}].lt={below.lt} must be <= tiers[{i - 1}].ge={above.ge})"
                )
            if below.credit_pct < above.credit_pct:
                raise ValueError(f"tiers[{i}]: credit_pct falls as uptime falls")
        rows = self.duration_table
        for i in range(1, len(rows)):
            prev = rows[i - 1]
            if prev.lt_s is None or rows[i].ge_s < prev.lt_s:
                raise ValueError(f"duration_table[{i}]: rows out of order or overlapping")
        return self


class Claim(_Strict):
    anchor: Literal["period_end", "incident", "cycles_after_incident", "unknown"] = "period_end"
    offset_days: int = Field(0, ge=0)
    offset_months: int = Field(0, ge=0)
    cycles: int = Field(0, ge=0, description="cycles_after_incident: end of the Nth cycle after")
    channel: str = ""
    subject: str = ""
    evidence: list[str] = Field(default_factory=list)


class PerformanceTerm(_Strict):
    metric: Literal["rtt_ms", "loss_pct", "jitter_ms", "bandwidth_mbps",
                    # host readings (reports/analysis/host.py, docs/host.md)
                    "steal_pct", "cpu_speed_pct", "disk_fsync_p99_ms", "disk_write_mb_s", "disk_read_mb_s"]
    statistic: Literal["mean", "p95", "share", "window_mean"] = "mean"
    comparator: Literal["le", "lt", "ge", "gt"] = "le"
    threshold: Decimal
    share_min_pct: Decimal | None = Field(None, ge=0, le=100, description="share: at least this % of samples meet")
    window_s: int = Field(300, gt=0, le=86400, description="aggregation window for window_mean and breach lists")
    remedy: str = ""
    confidence: Confidence = Confidence.UNCONFIRMED

    @model_validator(mode="after")
    def _share(self) -> PerformanceTerm:
        if self.statistic == "share" and self.share_min_pct is None:
            raise ValueError("statistic 'share' needs share_min_pct")
        return self


class Billing(_Strict):
    monthly_fee: Decimal | None = Field(None, ge=0)
    currency: str | None = None
    hourly_rate: Decimal | None = Field(None, ge=0, description="else derived: monthly_fee / hours in the period")


class SlaDefinition(_Strict):
    id: str = "custom"
    provider: str = "custom"
    product: str = ""
    terms_date: str = Field("unknown", description="YYYY-MM-DD of the version followed, or 'unconfirmed'")
    terms_date_note: str = Field("", description="what was found when the date could not be confirmed")
    retrieved: str = "unknown"
    sources: list[str] = Field(default_factory=list)
    scope: Literal["instance", "region", "multi_zone", "service"] = "instance"
    notes: list[str] = Field(default_factory=list)
    confidence: dict[str, Confidence] = Field(default_factory=dict)
    confidence_default: Confidence = Confidence.UNCONFIRMED
    uptime_target_pct: Decimal | None = Field(None, gt=0, le=100)
    period: Period = Field(default_factory=Period)
    counting: Counting = Field(default_factory=Counting)
    exclusions: Exclusions = Field(default_factory=Exclusions)
    no_data: NoData = Field(default_factory=NoData)
    credit: Credit = Field(default_factory=Credit)
    claim: Claim | None = None
    performance: list[PerformanceTerm] = Field(default_factory=list)
    billing: Billing = Field(default_factory=Billing)
    # Set by reports.presets.resolve(), not by hand: which preset this came from and which paths were overridden.
    preset: str | None = None
    overrides: list[str] = Field(default_factory=list)

    @field_validator("confidence")
    @classmethod
    def _known_paths(cls, v: dict[str, Confidence]) -> dict[str, Confidence]:
        for path in v:
            if not _is_field_path(SlaDefinition, path):
                raise ValueError(f"confidence key {path!r} names no field")
        return v

    def confidence_of(self, path: str) -> Confidence:
        """The mark for a dotted field path: its own, else its nearest parent's, else the default."""
        parts = path.split(".")
        for n in range(len(parts), 0, -1):
            key = ".".join(parts[:n])
            if key in self.confidence:
                return self.confidence[key]
        return self.confidence_default


def _is_field_path(model: type[BaseModel], path: str) -> bool:
    current: Any = model
    for part in path.split("."):
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return False
        field = current.model_fields.get(part)
        if field is None:
            return False
        ann = field.annotation
        # Unwrap Optional[Model] / Model | None to reach nested fields.
        args = getattr(ann, "__args__", ())
        current = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), ann)
    return True


def validate_definition(data: dict[str, Any], *, where: str) -> SlaDefinition:
    """``data`` as a definition; a bad key raises SlaConfigError naming it, prefixed by ``where``."""
    try:
        return SlaDefinition.model_validate(data)
    except ValidationError as e:
        raise SlaConfigError(_describe(e, where)) from None


def _describe(e: ValidationError, where: str) -> str:
    lines = []
    for err in e.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        lines.append(f"sla.{key}: {msg}")
    return f"{where}: " + "; ".join(lines)
