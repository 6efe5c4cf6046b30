"""What an SLA check found, and its documented JSON form (docs/report-schema.md).

Percentages in the JSON are truncated, never rounded up: an uptime of
99.49999 % must not print as a target of 99.5 % that was met.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal
from zoneinfo import ZoneInfo

from reports.analysis.sla_perf import PerfOutcome
from reports.analysis.sla_terms import SlaDefinition
from reports.analysis.timeline import pct_down


class Verdict(enum.StrEnum):
    """The verdict values ``SlaResult.verdict`` and its JSON ``verdict`` take; renderers key on them."""

    MET = "met"
    BREACHED = "breached"
    NOT_ENOUGH_DATA = "not enough data"  # coverage too low and the known downtime proves no breach
    NO_UPTIME_TERM = "no uptime term"  # the definition promises no uptime


@dataclass(frozen=True)
class FieldUse:
    """One term the verdict rests on, with where it came from and how sure we are of it."""

    path: str
    value: str
    confidence: str  # verbatim | secondary | unconfirmed | override
    source: Literal["preset", "override", "custom"]


@dataclass(frozen=True)
class Outage:
    start: datetime
    end: datetime
    duration_s: float  # measured, whole outage (may cross the period edge)
    in_period_s: float
    counted_s: float  # exact qualifying seconds inside the period (before windowing)
    maintenance_s: float
    below_minimum: bool


@dataclass(frozen=True)
class Credit:
    mode: str
    tier: dict[str, str | None] | None
    pct: Fraction | None
    amount: Decimal | None  # rounded down to the cent; None without a fee or a rule
    currency: str | None
    capped: bool
    below_minimum: bool
    service_hours: Decimal | None  # duration_table
    per_outage: list[dict[str, Any]]
    notes: list[str]


@dataclass(frozen=True)
class SlaResult:
    target: str | None
    definition: SlaDefinition
    timezone: str
    period_start: datetime
    period_end: datetime
    period_complete: bool
    fields: list[FieldUse]
    unconfirmed: list[str]
    period_s: float
    known_s: float  # observed: the target's state seen (neither no data nor local)
    no_data_s: float  # time without data in the period (whatever the no-data rule)
    local_s: float  # time the agent's own network was down (never the provider's downtime)
    coverage_pct: Fraction  # known / period × 100: the one coverage of every document
    measured_downtime_s: float
    qualifying_downtime_s: float
    counted_downtime_s: float
    counted_windows: int
    excluded: dict[str, float]
    no_data_rule: str
    uptime_provider: Fraction | None  # 0..1 by the provider's counting
    uptime_measured: Fraction | None  # 0..1: known up time / known time, no exclusions
    uptime_target_pct: Decimal | None
    verdict: Verdict
    verdict_basis: str
    outages: list[Outage]
    credit: Credit | None
    monthly_fee: Decimal | None
    currency: str | None
    clock_hours: list[datetime]
    clock_hour_amount: Decimal | None
    claim_deadline: date | None
    claim_deadline_passed: bool | None
    evidence: list[str]
    performance: list[PerfOutcome]
    warnings: list[str]

    @property
    def excluded_downtime_s(self) -> float:
        """Failure time not counted as the provider's downtime: maintenance, outages below the
        minimum, the agent's own network outages. Never time without data: that is not downtime."""
        return sum(v for k, v in self.excluded.items() if k != "no_data")

    @property
    def interim(self) -> bool:
        """The period is not over: every figure may still change."""
        return not self.period_complete

    def to_json(self) -> dict[str, Any]:
        zone = ZoneInfo(self.timezone)

        def iso(dt: datetime) -> str:
            return dt.astimezone(zone).isoformat()

        return {
            "target": self.target,
            **_terms_json(self.definition),
            "timezone": self.timezone,
            "period_start": iso(self.period_start),
            "period_end": iso(self.period_end),
            "period_kind": self.definition.period.kind,
            "period_complete": self.period_complete,
            **self._figures_json(),
            "verdict": self.verdict.value,
            "verdict_basis": self.verdict_basis,
            **_credit_json(self.credit, self.definition),
            "monthly_fee": None if self.monthly_fee is None else str(self.monthly_fee),
            "currency": self.currency,
            **_credit_details_json(self.credit),
            "clock_hours_credited": [iso(h) for h in self.clock_hours],
            "clock_hour_amount": str(self.clock_hour_amount) if self.clock_hour_amount is not None else None,
            **self._claim_json(),
            "outages": [_outage_json(o, iso) for o in self.outages],
            "terms": [p.to_json(zone) for p in self.performance],
            "fields": [f.__dict__ for f in self.fields],
            "unconfirmed_fields": list(self.unconfirmed),
            "notes": list(self.definition.notes),
            "warnings": list(self.warnings),
        }

    def _figures_json(self) -> dict[str, Any]:
        c = self.definition.counting
        return {
            "uptime_target_pct": _num(self.definition.uptime_target_pct),
            "uptime_provider_pct": pct_down(self.uptime_provider),
            "uptime_provider_exact": _frac_str(self.uptime_provider),
            "uptime_measured_pct": pct_down(self.uptime_measured),
            "coverage_pct": pct_down(self.coverage_pct / 100),
            "period_s": self.period_s,
            "known_s": self.known_s,
            "no_data_s": self.no_data_s,
            "local_s": self.local_s,
            "measured_downtime_s": self.measured_downtime_s,
            "qualifying_downtime_s": self.qualifying_downtime_s,
            "counted_downtime_s": self.counted_downtime_s,
            "counted_windows": self.counted_windows,
            "window_s": c.window_s,
            "window_down_when": c.window_down_when,
            "min_outage_s": c.min_outage_s,
            "min_outage_strict": c.min_outage_strict,
            "down_states": list(c.down_states),
            "checks": c.checks if isinstance(c.checks, str) else list(c.checks),
            "excluded_downtime_s": self.excluded_downtime_s,
            "excluded": dict(self.excluded),
            "no_data_rule": self.no_data_rule,
            "min_coverage_pct": _num(self.definition.no_data.min_coverage_pct),
        }

    def _claim_json(self) -> dict[str, Any]:
        claim = self.definition.claim
        return {
            "claim_deadline": self.claim_deadline.isoformat() if self.claim_deadline else None,
            "claim_deadline_passed": self.claim_deadline_passed,
            "claim_channel": claim.channel if claim else None,
            "claim_subject": claim.subject if claim else None,
            "evidence": list(self.evidence),
        }


def _terms_json(d: SlaDefinition) -> dict[str, Any]:
    return {
        "preset": d.preset,
        "sla_id": d.id,
        "provider": d.provider,
        "product": d.product,
        "terms_date": d.terms_date,
        "terms_date_note": d.terms_date_note,
        "sources": list(d.sources),
        "overrides": list(d.overrides),
    }


def _credit_json(credit: Credit | None, d: SlaDefinition) -> dict[str, Any]:
    if credit is None:
        return {"credit_mode": d.credit.mode, "credit_tier": None, "credit_pct": None, "credit_amount": None}
    return {
        "credit_mode": credit.mode,
        "credit_tier": credit.tier,
        "credit_pct": _pct_value(credit.pct),
        "credit_amount": str(credit.amount) if credit.amount is not None else None,
    }


def _credit_details_json(credit: Credit | None) -> dict[str, Any]:
    if credit is None:
        return {"credit_capped": False, "credit_below_minimum": False, "credit_service_hours": None,
                "credit_per_outage": [], "credit_notes": []}
    return {
        "credit_capped": credit.capped,
        "credit_below_minimum": credit.below_minimum,
        "credit_service_hours": _num(credit.service_hours),
        "credit_per_outage": credit.per_outage,
        "credit_notes": credit.notes,
    }


def _outage_json(o: Outage, iso: Callable[[datetime], str]) -> dict[str, Any]:
    return {
        "start": iso(o.start),
        "end": iso(o.end),
        "start_utc": o.start.astimezone(UTC).isoformat(),
        "end_utc": o.end.astimezone(UTC).isoformat(),
        "duration_s": o.duration_s,
        "in_period_s": o.in_period_s,
        "counted_s": o.counted_s,
        "maintenance_s": o.maintenance_s,
        "below_minimum": o.below_minimum,
    }


def _num(v: Decimal | None) -> float | None:
    return None if v is None else float(v)


def _frac_str(v: Fraction | None) -> str | None:
    return None if v is None else f"{v.numerator}/{v.denominator}"


def _pct_value(v: Fraction | None) -> float | None:
    return None if v is None else pct_down(v / 100)
