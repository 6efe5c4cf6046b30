"""Figures in words, shared by the claim page, the target pages and the SLA section.

The rules that keep a printed figure true: an uptime by the provider's rule is truncated, never
rounded up (99.89996 % must not print as the 99.9 % target), and is never printed as 0 when it is
above 0; a deadline is a date in the SLA's zone with the days left counted from the report's
generation.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from reports.render.i18n import label
from reports.render.model import SlaSection
from reports.render.numbers import cut


def fmt_uptime(value: float | None, lang: str, places: int = 4) -> str:
    """A percentage by the one rounding rule (reports/render/numbers.cut): cut, never rounded up, so
    99.89999 prints 99.8999, never the 99.9 target it does not reach; more decimals rather than a false 0."""
    return label("no_data", lang) if value is None else f"{cut(value, places)} %"


def fmt_target(value: float | None, lang: str) -> str:
    return label("no_data", lang) if value is None else f"{value:g} %"


def money(amount: str | None, currency: str | None) -> str:
    return f"{amount} {currency or ''}".strip() if amount is not None else "–"


def days_left(deadline: date, generated_at: datetime, zone: str) -> int:
    """Whole days from the report's generation (in the SLA zone) to the deadline (negative: passed)."""
    try:
        tz = ZoneInfo(zone)
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    return (deadline - generated_at.astimezone(tz).date()).days


def deadline_text(sla: SlaSection, generated_at: datetime, lang: str) -> str:
    """"2026-11-30 (2 days left)", "2026-11-30 (passed 3 days ago)"; or why there is none."""
    if sla.claim_deadline is None:
        return label("claim.no_deadline", lang)
    n = days_left(sla.claim_deadline, generated_at, sla.timezone)
    day = sla.claim_deadline.isoformat()
    if n > 1:
        return label("claim.days_left", lang, day=day, n=n)
    if n == 1:
        return label("claim.one_day_left", lang, day=day)
    if n == 0:
        return label("claim.today", lang, day=day)
    return label("claim.passed", lang, day=day, n=-n)


def interim(sla: SlaSection | None, period_interim: bool) -> bool:
    """The period (the report's, or the SLA's) is not over: its figures are interim."""
    return period_interim or (sla is not None and not sla.period_complete)
