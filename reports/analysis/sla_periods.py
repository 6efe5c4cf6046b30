"""The accounting period and the maintenance windows inside it, on the SLA's own clock.

Periods start at local midnight in the SLA's time zone (a calendar month, or a
billing cycle from its anchor day); weekly maintenance is local wall-clock time
in its own zone, so both stay right across DST changes.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agent.core.times import US_PER_S, from_us, to_us
from reports.analysis.sla_intervals import Interval, merge
from reports.analysis.sla_terms import SlaDefinition, WeeklyMaintenance

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def add_months(d: date, months: int, day: int | None = None) -> date:
    """``d`` moved by ``months``, on ``day`` (default: d's day), clamped to the month's last day."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(day or d.day, calendar.monthrange(year, month)[1]))


def local_midnight(d: date, tz: ZoneInfo) -> datetime:
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
    return local_midnight(first, zone), local_midnight(add_months(first, 1), zone)


def period_bounds(definition: SlaDefinition, month: str) -> tuple[datetime, datetime]:
    """The accounting period that starts in ``month``: calendar month, or billing cycle from anchor_day."""
    zone = ZoneInfo(definition.period.timezone)
    if definition.period.kind != "billing_month" or definition.period.anchor_day in (None, 1):
        return month_period(month, zone)
    start, _ = month_period(month, zone)
    day = definition.period.anchor_day
    first = add_months(start.date(), 0, day)
    return local_midnight(first, zone), local_midnight(add_months(first, 1, day), zone)


def maintenance_windows(definition: SlaDefinition, lo: int, hi: int) -> list[Interval]:
    """One-off and weekly maintenance windows that touch [lo, hi), merged."""
    ex = definition.exclusions
    ivs = [(to_us(m.start), to_us(m.end)) for m in ex.maintenance]
    for w in ex.weekly_maintenance:
        ivs.extend(_weekly(w, lo, hi))
    return merge([iv for iv in ivs if iv[1] > lo and iv[0] < hi])


def _weekly(w: WeeklyMaintenance, lo: int, hi: int) -> list[Interval]:
    """Each occurrence of a weekly window from a week before ``lo`` to ``hi`` (unclipped)."""
    zone = ZoneInfo(w.timezone)
    hh, mm = (int(x) for x in w.time.split(":"))
    # Walk local dates from a week before lo: a window may start before lo and still overlap.
    day = from_us(lo).astimezone(zone).date() - timedelta(days=7)
    last = from_us(hi).astimezone(zone).date()
    out: list[Interval] = []
    while day <= last:
        if WEEKDAYS[day.weekday()] == w.weekday:
            start = to_us(datetime.combine(day, time(hh, mm), tzinfo=zone))
            out.append((start, start + w.duration_min * 60 * US_PER_S))
        day += timedelta(days=1)
    return out
