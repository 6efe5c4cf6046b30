"""The credit a breach earns, by the provider's own rule: one function per credit mode.

``tiered`` (a percentage of the fee by uptime band), ``prorated`` (the down
hours at the hourly rate), ``duration_table`` (service hours per outage by its
length), then the cap and the provider's minimum credit; and AWS's clock-hour
rule apart. Amounts are exact fractions until they are rounded down to the cent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from typing import Any

from agent.core.times import US_PER_S, from_us
from reports.analysis.sla_account import Account
from reports.analysis.sla_intervals import per_bucket
from reports.analysis.sla_result import Credit
from reports.analysis.sla_terms import Credit as CreditTerms
from reports.analysis.sla_terms import DurationRow, SlaDefinition

HOUR_US = 3600 * US_PER_S
CENT = Decimal("0.01")


@dataclass(frozen=True)
class _Basis:
    """What every credit rule may read."""

    definition: SlaDefinition
    uptime: Fraction  # 0..1, the uptime the verdict rests on
    acc: Account
    period_us: int
    fee: Decimal | None
    hourly: Fraction | None  # the hourly rate, stated or derived from the fee

    @property
    def period_h(self) -> Fraction:
        return Fraction(self.period_us, HOUR_US)


@dataclass
class _Draft:
    """A credit before the cap and the minimum."""

    pct: Fraction | None = None
    amount: Fraction | None = None
    tier: dict[str, str | None] | None = None
    hours: Fraction | None = None
    per_outage: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def money(v: Fraction) -> Decimal:
    """An exact amount rounded down to the cent: never claim a cent more than owed."""
    return (Decimal(v.numerator) / Decimal(v.denominator)).quantize(CENT, rounding=ROUND_DOWN)


def credit_owed(
    d: SlaDefinition, uptime: Fraction, acc: Account, period_us: int, fee: Decimal | None, cur: str | None
) -> Credit:
    """The credit for a breached period with uptime ``uptime`` and downtime ``acc``."""
    cr = d.credit
    basis = _Basis(d, uptime, acc, period_us, fee, _hourly(d, fee, period_us))
    rule = _RULES.get(cr.mode)
    draft = rule(basis) if rule else _Draft(notes=["the credit rule was not found: no credit is computed"])
    pct, amount, capped = _cap(cr, draft.pct, draft.amount, fee)
    notes = list(cr.notes) + draft.notes
    below_min = _below_minimum(cr, amount, cur, notes)
    if fee is None and cr.mode != "unknown":
        notes.append("no monthly fee configured: credit given as a percentage only")
    hours = draft.hours
    return Credit(
        mode=cr.mode,
        tier=draft.tier,
        pct=pct,
        amount=None if amount is None else (Decimal(0) if below_min else money(amount)),
        currency=cur,
        capped=capped,
        below_minimum=below_min,
        service_hours=None if hours is None else Decimal(hours.numerator) / Decimal(hours.denominator),
        per_outage=draft.per_outage,
        notes=notes,
    )


def _hourly(d: SlaDefinition, fee: Decimal | None, period_us: int) -> Fraction | None:
    if d.billing.hourly_rate is not None:
        return Fraction(d.billing.hourly_rate)
    if fee is not None:
        return Fraction(fee) / Fraction(period_us, HOUR_US)
    return None


def _tiered(b: _Basis) -> _Draft:
    """The first tier whose band holds the unrounded uptime; none: 0 %."""
    pct_u = b.uptime * 100
    pct, tier = Fraction(0), None
    for t in b.definition.credit.tiers:
        if pct_u < Fraction(t.lt) and (t.ge is None or pct_u >= Fraction(t.ge)):
            tier = {"lt": str(t.lt), "ge": None if t.ge is None else str(t.ge), "credit_pct": str(t.credit_pct)}
            pct = Fraction(t.credit_pct)
            break
    amount = None if b.fee is None else Fraction(b.fee) * pct / 100
    return _Draft(pct=pct, amount=amount, tier=tier)


def _prorated(b: _Basis) -> _Draft:
    """Counted down hours at the hourly rate; the percentage is of the fee when a rate is stated."""
    draft = _Draft()
    stated_rate = b.definition.billing.hourly_rate is not None
    if b.hourly is not None:
        draft.amount = b.hourly * Fraction(b.acc.counted_us, HOUR_US)
        if not stated_rate:
            draft.notes.append("hourly rate derived as the monthly fee / hours in the period")
    if not stated_rate or b.fee is None or draft.amount is None:
        draft.pct = Fraction(b.acc.counted_us * 100, b.period_us)
    elif b.fee:
        draft.pct = draft.amount * 100 / Fraction(b.fee)
    return draft


def _duration_table(b: _Basis) -> _Draft:
    """Service hours per counted outage, by the table row its whole length falls in."""
    table = b.definition.credit.duration_table
    hours = Fraction(0)
    draft = _Draft()
    for start, whole in zip(b.acc.qualifying_starts, b.acc.qualifying_whole):
        row = _row(table, whole)
        entry: dict[str, Any] = {"start": from_us(start).isoformat(), "duration_s": whole / US_PER_S}
        if row is None:
            entry["credit_hours"] = None
            draft.notes.append(f"an outage of {whole / US_PER_S:g} s falls between rows of the credit table: not covered")
        else:
            entry["credit_hours"] = float(row.credit_hours)
            hours += Fraction(row.credit_hours)
        draft.per_outage.append(entry)
    draft.hours = hours
    draft.pct = hours * 100 / b.period_h
    if b.hourly is not None:
        draft.amount = b.hourly * hours
        if b.definition.billing.hourly_rate is None:
            draft.notes.append("service hours valued at the monthly fee / hours in the period")
    return draft


def _row(table: list[DurationRow], whole_us: int) -> DurationRow | None:
    return next(
        (r for r in table if whole_us >= r.ge_s * US_PER_S and (r.lt_s is None or whole_us < r.lt_s * US_PER_S)), None
    )


_RULES: dict[str, Callable[[_Basis], _Draft]] = {
    "tiered": _tiered,
    "prorated": _prorated,
    "duration_table": _duration_table,
}


def _cap(
    cr: CreditTerms, pct: Fraction | None, amount: Fraction | None, fee: Decimal | None
) -> tuple[Fraction | None, Fraction | None, bool]:
    """Percentage and amount held to ``cap_pct`` of the fee."""
    if cr.cap_pct is None:
        return pct, amount, False
    cap = Fraction(cr.cap_pct)
    capped = False
    if pct is not None and pct > cap:
        pct, capped = cap, True
    if amount is not None and fee is not None and amount > Fraction(fee) * cap / 100:
        amount, capped = Fraction(fee) * cap / 100, True
    return pct, amount, capped


def _below_minimum(cr: CreditTerms, amount: Fraction | None, cur: str | None, notes: list[str]) -> bool:
    """Whether the provider would issue nothing (credit at or under its minimum); notes say why."""
    if amount is None or cr.minimum_amount is None:
        return False
    if cr.minimum_currency and cur and cr.minimum_currency.upper() != cur.upper():
        notes.append(f"minimum credit is {cr.minimum_amount} {cr.minimum_currency}; the fee is in {cur}: not checked")
        return False
    m = Fraction(cr.minimum_amount)
    below = amount <= m if cr.minimum_strict else amount < m
    if below and amount > 0:
        word = "more than" if cr.minimum_strict else "at least"
        notes.append(f"the provider issues credits only of {word} {cr.minimum_amount} {cr.minimum_currency or cur or ''}".rstrip())
    return below


def clock_hours(d: SlaDefinition, acc: Account, p0: int, p1: int, fee: Decimal | None) -> tuple[list[datetime], Decimal | None]:
    """AWS-style: clock-hours (SLA zone, from the period start) with more than N s unavailable."""
    rule = d.credit.clock_hour_rule
    if rule is None:
        return [], None
    partial, _, _ = per_bucket(acc.qualifying, p0, HOUR_US, p1)
    qualifying = {k for k, v in partial.items() if v > rule.more_than_s * US_PER_S}
    # Fully covered middle hours: walk each interval's whole hours.
    for s, e in acc.qualifying:
        k0, k1 = (s - p0) // HOUR_US, (e - 1 - p0) // HOUR_US
        qualifying.update(range(k0 + 1, k1))
    hours = [from_us(p0 + k * HOUR_US) for k in sorted(qualifying)]
    amount = None
    if d.billing.hourly_rate is not None:
        amount = money(Fraction(d.billing.hourly_rate) * len(hours))
    elif fee is not None:
        amount = money(Fraction(fee) * len(hours) * HOUR_US / (p1 - p0))
    return hours, amount
