"""Measured service against the advertised SLA, counted the way the provider counts it.

Pure logic over :class:`reports.analysis.model.Span` timelines and performance samples.
All instants become integer microseconds since the epoch (UTC) and all ratios
are :class:`fractions.Fraction`, so tier bounds ("less than 99.5 %, at least
99 %") are compared on exact values and never on rounded percentages.

Order of operations (docs/sla.md explains each step):
  spans → outages (runs of down states) → minus maintenance → minus outages
  below the minimum duration → clipped to the period → counting windows →
  provider uptime → verdict → credit, clock-hour credits, claim deadline.
"""

from __future__ import annotations

import calendar
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from typing import Any, Literal
from zoneinfo import ZoneInfo

from reports.analysis.model import Span, State
from reports.analysis.sla_perf import PerfOutcome, PerfSample, evaluate_performance
from reports.analysis.sla_terms import Confidence, SlaDefinition

__all__ = ["PerfSample", "SlaResult", "evaluate", "month_period", "period_bounds"]

US = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Interval = tuple[int, int]
Verdict = Literal["met", "breached", "not enough data", "no uptime term"]


# --- time helpers ----------------------------------------------------------------------------


def _us(dt: datetime) -> int:
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt.isoformat()}: SLA accounting needs time-zone-aware instants")
    return (dt - EPOCH) // timedelta(microseconds=1)


def _dt(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def _add_months(d: date, months: int, day: int | None = None) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(day or d.day, calendar.monthrange(year, month)[1]))


def _local_midnight(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, time(0), tzinfo=tz)


def month_period(month: str, tz: str | ZoneInfo = "UTC") -> tuple[datetime, datetime]:
    """Calendar month ``YYYY-MM`` as [start, end) at local midnight in ``tz``.

    The datetimes carry the zone; subtract them via UTC (``end.astimezone(utc)``)
    because Python subtracts same-zone datetimes by wall clock, ignoring DST.
    """
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    try:
        year, mon = (int(x) for x in month.split("-"))
        first = date(year, mon, 1)
    except ValueError:
        raise ValueError(f"month must be YYYY-MM, got {month!r}") from None
    return _local_midnight(first, zone), _local_midnight(_add_months(first, 1), zone)


def period_bounds(definition: SlaDefinition, month: str) -> tuple[datetime, datetime]:
    """The accounting period that starts in ``month``: calendar month, or billing cycle from anchor_day."""
    zone = ZoneInfo(definition.period.timezone)
    if definition.period.kind != "billing_month" or definition.period.anchor_day in (None, 1):
        return month_period(month, zone)
    start, _ = month_period(month, zone)
    day = definition.period.anchor_day
    first = _add_months(start.date(), 0, day)
    return _local_midnight(first, zone), _local_midnight(_add_months(first, 1, day), zone)


# --- interval helpers ------------------------------------------------------------------------


def _clip(iv: Interval, lo: int, hi: int) -> Interval | None:
    s, e = max(iv[0], lo), min(iv[1], hi)
    return (s, e) if s < e else None


def _subtract(iv: Interval, cuts: list[Interval]) -> list[Interval]:
    """``iv`` minus the sorted, disjoint ``cuts``."""
    out, cur = [], iv[0]
    for cs, ce in cuts:
        if ce <= cur or cs >= iv[1]:
            continue
        if cs > cur:
            out.append((cur, cs))
        cur = max(cur, ce)
    if cur < iv[1]:
        out.append((cur, iv[1]))
    return out


def _overlap(iv: Interval, cuts: list[Interval]) -> int:
    return sum(max(0, min(iv[1], ce) - max(iv[0], cs)) for cs, ce in cuts)


def _merge(ivs: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for s, e in sorted(ivs):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _maintenance(definition: SlaDefinition, lo: int, hi: int) -> list[Interval]:
    """One-off and weekly maintenance windows that touch [lo, hi), merged."""
    ex = definition.exclusions
    ivs = [(_us(m.start), _us(m.end)) for m in ex.maintenance]
    for w in ex.weekly_maintenance:
        zone = ZoneInfo(w.timezone)
        hh, mm = (int(x) for x in w.time.split(":"))
        # Walk local dates from a week before lo: a window may start before lo and still overlap.
        day = _dt(lo).astimezone(zone).date() - timedelta(days=7)
        last = _dt(hi).astimezone(zone).date()
        while day <= last:
            if WEEKDAYS[day.weekday()] == w.weekday:
                start = _us(datetime.combine(day, time(hh, mm), tzinfo=zone))
                ivs.append((start, start + w.duration_min * 60 * US))
            day += timedelta(days=1)
    return _merge([iv for iv in ivs if iv[1] > lo and iv[0] < hi])


def _per_bucket(ivs: Iterable[Interval], origin: int, size: int, hi: int) -> tuple[dict[int, int], int, int]:
    """Covered µs per bucket [origin + k·size, …) clipped at hi.

    Returns (partial buckets → covered µs, number of fully covered full-size
    buckets, µs in them). Full middle buckets are counted, not stored, so a
    month-long outage at 1 s windows costs O(1).
    """
    partial: dict[int, int] = {}
    full_n = full_us = 0
    for s, e in ivs:
        k0, k1 = (s - origin) // size, (e - 1 - origin) // size
        for k in {k0, k1}:
            b0, b1 = origin + k * size, min(origin + (k + 1) * size, hi)
            partial[k] = partial.get(k, 0) + max(0, min(e, b1) - max(s, b0))
        if k1 - k0 > 1:
            full_n += k1 - k0 - 1
            full_us += (k1 - k0 - 1) * size
    return partial, full_n, full_us


# --- result ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldUse:
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
    known_s: float
    coverage_pct: Fraction
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
        return sum(self.excluded.values())

    def to_json(self) -> dict[str, Any]:
        d = self.definition
        zone = ZoneInfo(self.timezone)

        def iso(dt: datetime) -> str:
            return dt.astimezone(zone).isoformat()

        credit = self.credit
        return {
            "target": self.target,
            "preset": d.preset,
            "sla_id": d.id,
            "provider": d.provider,
            "product": d.product,
            "terms_date": d.terms_date,
            "sources": list(d.sources),
            "overrides": list(d.overrides),
            "timezone": self.timezone,
            "period_start": iso(self.period_start),
            "period_end": iso(self.period_end),
            "period_kind": d.period.kind,
            "period_complete": self.period_complete,
            "uptime_target_pct": _num(d.uptime_target_pct),
            "uptime_provider_pct": _pct_down(self.uptime_provider),
            "uptime_provider_exact": _frac_str(self.uptime_provider),
            "uptime_measured_pct": _pct_down(self.uptime_measured),
            "coverage_pct": _pct_down(self.coverage_pct / 100),
            "period_s": self.period_s,
            "known_s": self.known_s,
            "measured_downtime_s": self.measured_downtime_s,
            "qualifying_downtime_s": self.qualifying_downtime_s,
            "counted_downtime_s": self.counted_downtime_s,
            "counted_windows": self.counted_windows,
            "window_s": d.counting.window_s,
            "window_down_when": d.counting.window_down_when,
            "min_outage_s": d.counting.min_outage_s,
            "min_outage_strict": d.counting.min_outage_strict,
            "down_states": list(d.counting.down_states),
            "excluded_downtime_s": self.excluded_downtime_s,
            "excluded": dict(self.excluded),
            "no_data_rule": self.no_data_rule,
            "min_coverage_pct": _num(d.no_data.min_coverage_pct),
            "verdict": self.verdict,
            "verdict_basis": self.verdict_basis,
            "credit_mode": credit.mode if credit else d.credit.mode,
            "credit_tier": credit.tier if credit else None,
            "credit_pct": _pct_value(credit.pct) if credit else None,
            "credit_amount": str(credit.amount) if credit and credit.amount is not None else None,
            "monthly_fee": None if self.monthly_fee is None else str(self.monthly_fee),
            "currency": self.currency,
            "credit_capped": credit.capped if credit else False,
            "credit_below_minimum": credit.below_minimum if credit else False,
            "credit_service_hours": _num(credit.service_hours) if credit else None,
            "credit_per_outage": credit.per_outage if credit else [],
            "credit_notes": credit.notes if credit else [],
            "clock_hours_credited": [iso(h) for h in self.clock_hours],
            "clock_hour_amount": str(self.clock_hour_amount) if self.clock_hour_amount is not None else None,
            "claim_deadline": self.claim_deadline.isoformat() if self.claim_deadline else None,
            "claim_deadline_passed": self.claim_deadline_passed,
            "claim_channel": d.claim.channel if d.claim else None,
            "claim_subject": d.claim.subject if d.claim else None,
            "evidence": list(self.evidence),
            "outages": [
                {
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
                for o in self.outages
            ],
            "terms": [p.to_json(zone) for p in self.performance],
            "fields": [f.__dict__ for f in self.fields],
            "unconfirmed_fields": list(self.unconfirmed),
            "notes": list(d.notes),
            "warnings": list(self.warnings),
        }

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2)


def _num(v: Decimal | None) -> float | None:
    return None if v is None else float(v)


def _frac_str(v: Fraction | None) -> str | None:
    return None if v is None else f"{v.numerator}/{v.denominator}"


def _pct_down(v: Fraction | None, places: int = 6) -> float | None:
    """A 0..1 ratio as a percentage truncated (never rounded up: 99.49999 must not print 99.5)."""
    if v is None:
        return None
    scaled = math.floor(v * 100 * 10**places)
    return float(Decimal(scaled).scaleb(-places))


def _pct_value(v: Fraction | None) -> float | None:
    return None if v is None else _pct_down(v / 100)


def _money(v: Fraction) -> Decimal:
    return (Decimal(v.numerator) / Decimal(v.denominator)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)


# --- evaluation ------------------------------------------------------------------------------


@dataclass
class _Account:
    """Downtime accounting under one NO_DATA rule."""

    outages: list[Outage] = field(default_factory=list)
    qualifying: list[Interval] = field(default_factory=list)  # clipped to the period
    qualifying_whole: list[int] = field(default_factory=list)  # per counted outage, µs, unclipped
    qualifying_starts: list[int] = field(default_factory=list)
    counted_us: int = 0
    counted_windows: int = 0
    maintenance_us: int = 0
    below_min_us: int = 0


def _pieces(spans: Iterable[Span], lo: int, hi: int) -> tuple[list[tuple[int, int, State]], int, int]:
    """Sorted spans as µs pieces; gaps (and the parts of the period no span covers) are NO_DATA."""
    raw = sorted(((_us(s.start), _us(s.end), State(s.state)) for s in spans), key=lambda t: (t[0], t[1]))
    for a, b in zip(raw, raw[1:]):
        if b[0] < a[1]:
            raise ValueError(f"spans overlap at {_dt(b[0]).isoformat()}: spans must tile time without overlap")
    for s, e, _ in raw:
        if e < s:
            raise ValueError(f"span ends before it starts at {_dt(s).isoformat()}")
    if raw:
        lo, hi = min(lo, raw[0][0]), max(hi, raw[-1][1])
    out: list[tuple[int, int, State]] = []
    cur = lo
    for s, e, st in raw:
        if s > cur:
            out.append((cur, s, State.NO_DATA))
        if e > s:
            out.append((s, e, st))
        cur = max(cur, e)
    if cur < hi:
        out.append((cur, hi, State.NO_DATA))
    return out, lo, hi


def _account(
    definition: SlaDefinition,
    pieces: list[tuple[int, int, State]],
    rule: str,
    maint: list[Interval],
    p0: int,
    p1: int,
) -> _Account:
    c = definition.counting
    down_states = {State(s) for s in c.down_states}

    def is_down(st: State) -> bool:
        return st in down_states or (st is State.NO_DATA and rule == "down")

    runs: list[Interval] = []
    for s, e, st in pieces:
        if not is_down(st):
            continue
        if runs and runs[-1][1] == s:
            runs[-1] = (runs[-1][0], e)
        else:
            runs.append((s, e))

    acc = _Account()
    min_us = c.min_outage_s * US
    for run in runs:
        in_period = _clip(run, p0, p1)
        if in_period is None:
            continue
        maint_us = _overlap(in_period, maint)
        acc.maintenance_us += maint_us
        counted_here = 0
        whole = 0
        short_all = True
        for piece in _subtract(run, maint):
            length = piece[1] - piece[0]
            short = length <= min_us if c.min_outage_strict else length < min_us
            clipped = _clip(piece, p0, p1)
            if short:
                if clipped:
                    acc.below_min_us += clipped[1] - clipped[0]
                continue
            short_all = False
            whole += length
            if clipped:
                acc.qualifying.append(clipped)
                counted_here += clipped[1] - clipped[0]
        if counted_here:
            acc.qualifying_whole.append(whole)
            acc.qualifying_starts.append(run[0])
        acc.outages.append(
            Outage(
                start=_dt(run[0]),
                end=_dt(run[1]),
                duration_s=(run[1] - run[0]) / US,
                in_period_s=(in_period[1] - in_period[0]) / US,
                counted_s=counted_here / US,
                maintenance_s=maint_us / US,
                below_minimum=short_all and maint_us < in_period[1] - in_period[0],
            )
        )

    size = c.window_s * US
    partial, full_n, full_us = _per_bucket(acc.qualifying, p0, size, p1)
    acc.counted_windows, acc.counted_us = full_n, full_us
    for k, down in partial.items():
        wlen = min(p0 + (k + 1) * size, p1) - (p0 + k * size)
        rule_w = c.window_down_when
        if (rule_w == "any" and down > 0) or (rule_w == "all" and down >= wlen) or (rule_w == "majority" and 2 * down > wlen):
            acc.counted_windows += 1
            acc.counted_us += wlen
    return acc


def _state_us(pieces: list[tuple[int, int, State]], p0: int, p1: int) -> dict[State, int]:
    out = dict.fromkeys(State, 0)
    for s, e, st in pieces:
        iv = _clip((s, e), p0, p1)
        if iv:
            out[st] += iv[1] - iv[0]
    return out


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
    p0, p1 = _us(period_start), _us(period_end)
    if p1 <= p0:
        raise ValueError("period_end must be after period_start")
    d = definition
    zone = ZoneInfo(d.period.timezone)
    fee = monthly_fee if monthly_fee is not None else d.billing.monthly_fee
    cur = currency if currency is not None else d.billing.currency
    period_us = p1 - p0
    warnings: list[str] = []

    pieces, lo, hi = _pieces(spans, p0, p1)
    maint = _maintenance(d, lo, hi)
    states = _state_us(pieces, p0, p1)
    down_states = {State(s) for s in d.counting.down_states}
    known_us = sum(v for st, v in states.items() if st not in (State.LOCAL, State.NO_DATA))
    measured_down_us = sum(states[st] for st in down_states)
    rule = d.no_data.rule
    acc = _account(d, pieces, rule, maint, p0, p1)

    unknown_us = states[State.LOCAL] + (states[State.NO_DATA] if rule == "excluded" else 0)
    eligible = period_us - unknown_us
    uptime = Fraction(max(0, eligible - acc.counted_us), eligible) if eligible > 0 else None
    measured = Fraction(known_us - measured_down_us, known_us) if known_us else None
    coverage = Fraction(known_us * 100, period_us)

    excluded = {
        "maintenance": acc.maintenance_us / US,
        "below_minimum": acc.below_min_us / US,
        "local": states[State.LOCAL] / US,
        "no_data": states[State.NO_DATA] / US if rule == "excluded" else 0.0,
    }

    # Verdict: exact comparison. With too little data a breach still stands if it is
    # proven by known downtime alone (all unknown time taken as up).
    target_pct = Fraction(d.uptime_target_pct) if d.uptime_target_pct is not None else None
    basis_uptime = uptime
    basis_acc = acc
    verdict: Verdict
    if target_pct is None:
        verdict, basis = "no uptime term", "the definition has no uptime target"
    elif coverage >= Fraction(d.no_data.min_coverage_pct) and uptime is not None:
        verdict = "breached" if uptime * 100 < target_pct else "met"
        basis = f"coverage {_pct_down(coverage / 100, 2)} % >= {d.no_data.min_coverage_pct} %; no-data rule: {rule}"
    else:
        proof = acc if rule == "up" else _account(d, pieces, "up", maint, p0, p1)
        proven = Fraction(period_us - min(proof.counted_us, period_us), period_us)
        if proven * 100 < target_pct:
            verdict, basis_uptime, basis_acc = "breached", proven, proof
            basis = (
                f"coverage {_pct_down(coverage / 100, 2)} % < {d.no_data.min_coverage_pct} %, but the breach is "
                "proven by measured downtime alone (all unknown time taken as up)"
            )
        else:
            verdict, basis = "not enough data", (
                f"coverage {_pct_down(coverage / 100, 2)} % < {d.no_data.min_coverage_pct} % and the measured "
                "downtime alone does not prove a breach"
            )

    credit = None
    if verdict == "breached" and basis_uptime is not None:
        credit = _credit(d, basis_uptime, basis_acc, period_us, fee, cur)

    clock_hours, clock_amount = _clock_hours(d, acc, p0, p1, fee)
    deadline = _claim_deadline(d, acc, p0, p1, zone)
    now_local = now.astimezone(zone)
    passed = None if deadline is None else now_local.date() > deadline

    if clock_hours and d.billing.hourly_rate is None and clock_amount is not None:
        warnings.append("clock-hour amount values each hour at the monthly fee / hours in the period (set billing.hourly_rate)")
    complete = _us(now) >= p1
    if not complete:
        warnings.append("the period is not over yet: figures are interim")
    if d.counting.starts_at == "ticket":
        warnings.append("the provider counts downtime only from the support ticket: counted downtime here is an upper bound")
    if d.counting.measured_by == "provider":
        warnings.append("the provider uses its own measurements; externally measured downtime can exceed what it credits")
    if d.scope != "instance":
        warnings.append(f"scope '{d.scope}': the spans must stand for the whole {d.scope.replace('_', '-')} deployment")
    if states[State.LOCAL]:
        warnings.append("time when the agent's own network was down is excluded: it is not the provider's fault")
    if states[State.NO_DATA]:
        warnings.append(f"time without data is {_NO_DATA_WORDS[rule]}")
    if d.exclusions.provider_exclusions:
        warnings.append(
            "the provider also excludes (not detectable here): " + "; ".join(d.exclusions.provider_exclusions)
        )
    if deadline is None and d.claim is not None and d.claim.anchor != "unknown":
        warnings.append("no counted incident: no incident-based claim deadline")

    perf = evaluate_performance(d.performance, samples, p0=p0, p1=p1)
    fields = _fields_used(d, bool(credit and credit.amount is not None))
    unconfirmed = [f.path for f in fields if f.source != "override" and f.confidence != Confidence.VERBATIM.value]
    return SlaResult(
        target=target,
        definition=d,
        timezone=d.period.timezone,
        period_start=_dt(p0),
        period_end=_dt(p1),
        period_complete=complete,
        fields=fields,
        unconfirmed=unconfirmed,
        period_s=period_us / US,
        known_s=known_us / US,
        coverage_pct=coverage,
        measured_downtime_s=measured_down_us / US,
        qualifying_downtime_s=sum(e - s for s, e in acc.qualifying) / US,
        counted_downtime_s=acc.counted_us / US,
        counted_windows=acc.counted_windows,
        excluded=excluded,
        no_data_rule=rule,
        uptime_provider=uptime,
        uptime_measured=measured,
        uptime_target_pct=d.uptime_target_pct,
        verdict=verdict,
        verdict_basis=basis,
        outages=acc.outages,
        credit=credit,
        monthly_fee=fee,
        currency=cur,
        clock_hours=clock_hours,
        clock_hour_amount=clock_amount,
        claim_deadline=deadline,
        claim_deadline_passed=passed,
        evidence=list(d.claim.evidence) if d.claim else [],
        performance=perf,
        warnings=warnings,
    )


_NO_DATA_WORDS = {
    "excluded": "excluded from the period (neither up nor down)",
    "up": "counted as up, as the SLA definition says",
    "down": "counted as down, as the SLA definition says",
}


def _credit(
    d: SlaDefinition, uptime: Fraction, acc: _Account, period_us: int, fee: Decimal | None, cur: str | None
) -> Credit:
    cr = d.credit
    notes = list(cr.notes)
    pct: Fraction | None = None
    tier = None
    hours: Fraction | None = None
    per_outage: list[dict[str, Any]] = []
    period_h = Fraction(period_us, 3600 * US)
    hourly = Fraction(d.billing.hourly_rate) if d.billing.hourly_rate is not None else None
    if hourly is None and fee is not None:
        hourly = Fraction(fee) / period_h
    amount: Fraction | None = None
    pct_u = uptime * 100
    if cr.mode == "tiered":
        for t in cr.tiers:
            if pct_u < Fraction(t.lt) and (t.ge is None or pct_u >= Fraction(t.ge)):
                tier = {"lt": str(t.lt), "ge": None if t.ge is None else str(t.ge), "credit_pct": str(t.credit_pct)}
                pct = Fraction(t.credit_pct)
                break
        else:
            pct = Fraction(0)
        if fee is not None:
            amount = Fraction(fee) * pct / 100
    elif cr.mode == "prorated":
        down_h = Fraction(acc.counted_us, 3600 * US)
        if hourly is not None:
            amount = hourly * down_h
            if d.billing.hourly_rate is None:
                notes.append("hourly rate derived as the monthly fee / hours in the period")
        pct = Fraction(acc.counted_us * 100, period_us) if d.billing.hourly_rate is None or fee is None or amount is None else (
            amount * 100 / Fraction(fee) if fee else None
        )
    elif cr.mode == "duration_table":
        hours = Fraction(0)
        for start, whole in zip(acc.qualifying_starts, acc.qualifying_whole):
            row = next((r for r in cr.duration_table if whole >= r.ge_s * US and (r.lt_s is None or whole < r.lt_s * US)), None)
            entry: dict[str, Any] = {"start": _dt(start).isoformat(), "duration_s": whole / US}
            if row is None:
                entry["credit_hours"] = None
                notes.append(f"an outage of {whole / US:g} s falls between rows of the credit table: not covered")
            else:
                entry["credit_hours"] = float(row.credit_hours)
                hours += Fraction(row.credit_hours)
            per_outage.append(entry)
        pct = hours * 100 / period_h
        if hourly is not None:
            amount = hourly * hours
            if d.billing.hourly_rate is None:
                notes.append("service hours valued at the monthly fee / hours in the period")
    else:
        notes.append("the credit rule was not found: no credit is computed")

    capped = False
    if cr.cap_pct is not None and pct is not None and pct > Fraction(cr.cap_pct):
        pct, capped = Fraction(cr.cap_pct), True
    if cr.cap_pct is not None and amount is not None and fee is not None:
        cap_amount = Fraction(fee) * Fraction(cr.cap_pct) / 100
        if amount > cap_amount:
            amount, capped = cap_amount, True

    below_min = False
    if amount is not None and cr.minimum_amount is not None:
        if cr.minimum_currency and cur and cr.minimum_currency.upper() != cur.upper():
            notes.append(
                f"minimum credit is {cr.minimum_amount} {cr.minimum_currency}; the fee is in {cur}: not checked"
            )
        else:
            m = Fraction(cr.minimum_amount)
            below_min = amount <= m if cr.minimum_strict else amount < m
            if below_min and amount > 0:
                word = "more than" if cr.minimum_strict else "at least"
                notes.append(f"the provider issues credits only of {word} {cr.minimum_amount} {cr.minimum_currency or cur or ''}".rstrip())
    if fee is None and cr.mode != "unknown":
        notes.append("no monthly fee configured: credit given as a percentage only")
    return Credit(
        mode=cr.mode,
        tier=tier,
        pct=pct,
        amount=None if amount is None else (Decimal(0) if below_min else _money(amount)),
        currency=cur,
        capped=capped,
        below_minimum=below_min,
        service_hours=None if hours is None else Decimal(hours.numerator) / Decimal(hours.denominator),
        per_outage=per_outage,
        notes=notes,
    )


def _clock_hours(d: SlaDefinition, acc: _Account, p0: int, p1: int, fee: Decimal | None) -> tuple[list[datetime], Decimal | None]:
    """AWS-style: clock-hours (SLA zone, from the period start) with more than N s unavailable."""
    rule = d.credit.clock_hour_rule
    if rule is None:
        return [], None
    hour = 3600 * US
    partial, _, _ = _per_bucket(acc.qualifying, p0, hour, p1)
    qualifying = {k for k, v in partial.items() if v > rule.more_than_s * US}
    # Fully covered middle hours: walk each interval's whole hours.
    for s, e in acc.qualifying:
        k0, k1 = (s - p0) // hour, (e - 1 - p0) // hour
        qualifying.update(range(k0 + 1, k1))
    hours = [_dt(p0 + k * hour) for k in sorted(qualifying)]
    amount = None
    if d.billing.hourly_rate is not None:
        amount = _money(Fraction(d.billing.hourly_rate) * len(hours))
    elif fee is not None:
        amount = _money(Fraction(fee) * len(hours) * hour / (p1 - p0))
    return hours, amount


def _claim_deadline(d: SlaDefinition, acc: _Account, p0: int, p1: int, zone: ZoneInfo) -> date | None:
    """The last day (SLA zone) on which a claim is still in time."""
    cl = d.claim
    if cl is None or cl.anchor == "unknown":
        return None
    end_day = _dt(p1).astimezone(zone).date() - timedelta(days=1)  # last day of the period
    if cl.anchor == "period_end":
        return _add_months(end_day + timedelta(days=1), cl.offset_months) - timedelta(days=1) + timedelta(days=cl.offset_days)
    if not acc.qualifying_starts:
        return None
    first = _dt(max(min(acc.qualifying_starts), p0)).astimezone(zone).date()
    if cl.anchor == "incident":
        return _add_months(first, cl.offset_months) + timedelta(days=cl.offset_days)
    # cycles_after_incident: the end of the Nth billing cycle after the incident's cycle.
    anchor = d.period.anchor_day
    next_start = _dt(p1).astimezone(zone).date()
    return _add_months(next_start, cl.cycles, anchor) - timedelta(days=1) + timedelta(days=cl.offset_days)


def _fields_used(d: SlaDefinition, with_money: bool) -> list[FieldUse]:
    paths = ["uptime_target_pct", "period.kind", "period.timezone"]
    if d.period.kind == "billing_month":
        paths.append("period.anchor_day")
    paths += [
        "counting.window_s",
        "counting.window_down_when",
        "counting.min_outage_s",
        "counting.down_states",
        "no_data.rule",
        "no_data.min_coverage_pct",
        "credit.mode",
    ]
    if d.counting.starts_at != "outage":
        paths.append("counting.starts_at")
    if d.counting.min_outage_s:
        paths.append("counting.min_outage_strict")
    if d.credit.mode == "tiered":
        paths.append("credit.tiers")
    if d.credit.mode == "duration_table":
        paths.append("credit.duration_table")
    if d.credit.cap_pct is not None:
        paths.append("credit.cap_pct")
    if d.credit.minimum_amount is not None:
        paths.append("credit.minimum_amount")
    if d.credit.clock_hour_rule is not None:
        paths.append("credit.clock_hour_rule")
    if d.claim is not None:
        paths += ["claim.anchor", "claim.evidence"]
    out = []
    for p in paths:
        out.append(_field_use(d, p))
    for i, term in enumerate(d.performance):
        src = _source(d, f"performance.{i}") if d.preset else "custom"
        out.append(
            FieldUse(f"performance[{i}].{term.metric}", f"{term.statistic} {term.comparator} {term.threshold}",
                     "override" if src == "override" else term.confidence.value, src)
        )
    return out


def _source(d: SlaDefinition, path: str) -> Literal["preset", "override", "custom"]:
    if d.preset is None:
        return "custom"
    for o in d.overrides:
        if o == path or o.startswith(path + ".") or path.startswith(o + ".") or o == path.split(".")[0] == "performance":
            return "override"
    return "preset"


def _field_use(d: SlaDefinition, path: str) -> FieldUse:
    value: Any = d
    for part in path.split("."):
        value = getattr(value, part)
    if isinstance(value, list):
        text = "; ".join(_short(v) for v in value) or "(none)"
    else:
        text = _short(value)
    src = _source(d, path)
    conf = "override" if src == "override" else d.confidence_of(path).value
    return FieldUse(path, text, conf, src)


def _short(v: Any) -> str:
    if hasattr(v, "model_dump"):
        return ", ".join(f"{k}={x}" for k, x in v.model_dump(exclude_none=True).items())
    return str(v)
