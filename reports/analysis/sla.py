"""Measured service against the advertised SLA, counted the way the provider counts it.

Pure logic over :class:`reports.analysis.model.Span` timelines and performance samples.
All instants become integer microseconds since the epoch (UTC) and all ratios
are :class:`fractions.Fraction`, so tier bounds ("less than 99.5 %, at least
99 %") are compared on exact values and never on rounded percentages.

Order of operations (docs/sla.md explains each step), one module each:
  spans → outages → minus maintenance → minus outages below the minimum
  duration → clipped to the period → counting windows (sla_account) →
  provider uptime → verdict (sla_verdict) → credit, clock-hour credits
  (sla_credit), claim deadline (sla_claim); the terms used (sla_fields);
  the result and its JSON (sla_result); periods (sla_periods).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from agent.core.times import US_PER_S, from_us, to_us
from reports.analysis.model import Span, State
from reports.analysis.sla_account import Account, Tiling, account, tile
from reports.analysis.sla_claim import claim_deadline
from reports.analysis.sla_credit import clock_hours, credit_owed
from reports.analysis.sla_fields import fields_used, unconfirmed
from reports.analysis.sla_perf import PerfSample, evaluate_performance
from reports.analysis.sla_periods import month_period, period_bounds
from reports.analysis.sla_result import Credit, FieldUse, Outage, SlaResult, Verdict
from reports.analysis.sla_terms import SlaDefinition
from reports.analysis.sla_verdict import Decision, decide

__all__ = [
    "Credit",
    "FieldUse",
    "Outage",
    "PerfSample",
    "SlaResult",
    "Verdict",
    "evaluate",
    "month_period",
    "period_bounds",
]

_NO_DATA_WORDS = {
    "excluded": "excluded from the period (neither up nor down)",
    "up": "counted as up, as the SLA definition says",
    "down": "counted as down, as the SLA definition says",
}


@dataclass(frozen=True)
class _Figures:
    """The period's uptime figures under the definition's no-data rule."""

    known_us: int  # observed: up or down, as measured (not LOCAL, not NO_DATA); coverage's numerator
    no_data_us: int  # NO_DATA inside the period, whatever the rule
    local_us: int  # LOCAL inside the period
    measured_down_us: int
    uptime: Fraction | None  # 0..1 by the provider's counting; None when no time is eligible
    measured: Fraction | None  # 0..1: known up time / known time, no exclusions
    coverage: Fraction  # % of the period observed (the target's state seen): known / period
    excluded: dict[str, float]  # seconds by reason


def evaluate(
    definition: SlaDefinition,
    spans: Iterable[Span],
    *,
    period_start: datetime,
    period_end: datetime,
    samples: Iterable[PerfSample] = (),
    monthly_fee: Decimal | None = None,
    currency: str | None = None,
    now: datetime,
    target: str | None = None,
) -> SlaResult:
    """Check one period of one target against its SLA definition.

    Pass spans reaching a little past both period edges when you have them: an
    outage crossing the edge is then judged whole for the minimum duration.
    """
    d = definition
    p0, p1 = to_us(period_start), to_us(period_end)
    if p1 <= p0:
        raise ValueError("period_end must be after period_start")
    zone = ZoneInfo(d.period.timezone)
    fee = monthly_fee if monthly_fee is not None else d.billing.monthly_fee
    cur = currency if currency is not None else d.billing.currency

    tiling = tile(d, spans, p0, p1)
    acc = account(d, tiling, d.no_data.rule)
    fig = _figures(d, tiling, acc)
    decision = decide(d, tiling, acc, uptime=fig.uptime, coverage=fig.coverage)
    credit = _credit(d, decision, p1 - p0, fee, cur)
    hours, hours_amount = clock_hours(d, acc, p0, p1, fee)
    deadline = claim_deadline(d, acc.qualifying_starts, p0, p1, zone)
    complete = to_us(now) >= p1
    fields = fields_used(d)
    return SlaResult(
        target=target,
        definition=d,
        timezone=d.period.timezone,
        period_start=from_us(p0),
        period_end=from_us(p1),
        period_complete=complete,
        fields=fields,
        unconfirmed=unconfirmed(fields),
        period_s=(p1 - p0) / US_PER_S,
        known_s=fig.known_us / US_PER_S,
        no_data_s=fig.no_data_us / US_PER_S,
        local_s=fig.local_us / US_PER_S,
        coverage_pct=fig.coverage,
        measured_downtime_s=fig.measured_down_us / US_PER_S,
        qualifying_downtime_s=sum(e - s for s, e in acc.qualifying) / US_PER_S,
        counted_downtime_s=acc.counted_us / US_PER_S,
        counted_windows=acc.counted_windows,
        excluded=fig.excluded,
        no_data_rule=d.no_data.rule,
        uptime_provider=fig.uptime,
        uptime_measured=fig.measured,
        uptime_target_pct=d.uptime_target_pct,
        verdict=decision.verdict,
        verdict_basis=decision.basis,
        outages=acc.outages,
        credit=credit,
        monthly_fee=fee,
        currency=cur,
        clock_hours=hours,
        clock_hour_amount=hours_amount,
        claim_deadline=deadline,
        claim_deadline_passed=None if deadline is None else now.astimezone(zone).date() > deadline,
        evidence=list(d.claim.evidence) if d.claim else [],
        performance=evaluate_performance(d.performance, samples, p0=p0, p1=p1),
        warnings=_warnings(d, tiling, complete=complete, clock_hours=hours, clock_amount=hours_amount,
                           deadline_found=deadline is not None, unchargeable_us=acc.unchargeable_us),
    )


def _figures(d: SlaDefinition, tiling: Tiling, acc: Account) -> _Figures:
    states, rule = tiling.states, d.no_data.rule
    period_us = tiling.p1 - tiling.p0
    known_us = sum(v for st, v in states.items() if st not in (State.LOCAL, State.NO_DATA))
    measured_down_us = sum(states[State(s)] for s in set(d.counting.down_states))
    no_data_us = states[State.NO_DATA] if rule == "excluded" else 0
    eligible = period_us - states[State.LOCAL] - no_data_us  # the uptime's base (sla_account.base_gaps)
    if acc.counted_us > eligible:  # sla_account counts only chargeable time, which lies inside the base
        raise AssertionError(f"counted downtime {acc.counted_us} µs exceeds its base {eligible} µs")
    return _Figures(
        known_us=known_us,
        no_data_us=states[State.NO_DATA],
        local_us=states[State.LOCAL],
        measured_down_us=measured_down_us,
        uptime=Fraction(eligible - acc.counted_us, eligible) if eligible > 0 else None,
        measured=Fraction(known_us - measured_down_us, known_us) if known_us else None,
        coverage=Fraction(known_us * 100, period_us),
        excluded={
            "maintenance": acc.maintenance_us / US_PER_S,
            "below_minimum": acc.below_min_us / US_PER_S,
            "local": states[State.LOCAL] / US_PER_S,
            "no_data": no_data_us / US_PER_S,
        },
    )


def _credit(d: SlaDefinition, decision: Decision, period_us: int, fee: Decimal | None, cur: str | None) -> Credit | None:
    """The credit a breach earns, counted on the uptime and downtime the verdict rests on."""
    if decision.verdict is not Verdict.BREACHED or decision.uptime is None:
        return None
    return credit_owed(d, decision.uptime, decision.account, period_us, fee, cur)


def _seconds(us: int) -> str:
    """Exact seconds of a µs count, as text: 97300000 → "97.3"."""
    whole, frac = divmod(us, US_PER_S)
    return f"{whole}.{frac:06d}".rstrip("0") if frac else str(whole)


def _warnings(d: SlaDefinition, tiling: Tiling, *, complete: bool, clock_hours: list[datetime],
              clock_amount: Decimal | None, deadline_found: bool, unchargeable_us: int) -> list[str]:
    """What a reader must know to weigh the figures, in a fixed order."""
    states = tiling.states
    claim = d.claim
    checks = (
        (bool(clock_hours) and d.billing.hourly_rate is None and clock_amount is not None,
         "clock-hour amount values each hour at the monthly fee / hours in the period (set billing.hourly_rate)"),
        (not complete, "the period is not over yet: figures are interim"),
        (d.counting.starts_at == "ticket",
         "the provider counts downtime only from the support ticket: counted downtime here is an upper bound"),
        (d.counting.measured_by == "provider",
         "the provider uses its own measurements; externally measured downtime can exceed what it credits"),
        (d.scope != "instance",
         f"scope '{d.scope}': the spans must stand for the whole {d.scope.replace('_', '-')} deployment"),
        (bool(states[State.LOCAL]),
         "time when the agent's own network was down is excluded: it is not the provider's fault"),
        (bool(states[State.NO_DATA]), f"time without data is {_NO_DATA_WORDS[d.no_data.rule]}"),
        (unchargeable_us > 0,
         f"down windows count only their observed time: {_seconds(unchargeable_us)} s inside them without data "
         "or in the agent's own network outage was not counted"),
        (bool(d.exclusions.provider_exclusions),
         "the provider also excludes (not detectable here): " + "; ".join(d.exclusions.provider_exclusions)),
        (not deadline_found and claim is not None and claim.anchor != "unknown",
         "no counted incident: no incident-based claim deadline"),
    )
    return [text for applies, text in checks if applies]
