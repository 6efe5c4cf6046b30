"""Dates from the command line: a day in the display zone, or a full ISO timestamp.

``--to 2026-11-30`` means to the end of that day (inclusive), i.e. up to
2026-12-01 00:00 in the display zone. Errors name the value and the fix.

Periods are bounded (docs/reliability.md): nothing before 1970-01-01 (the store's
epoch), no start later than tomorrow (nothing can have been measured yet), and at
most MAX_PERIOD_DAYS long, so a typo such as ``--to 2200-12-31`` is refused in a
line instead of running for minutes and filling memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agent.core.errors import UsageError
from agent.core.times import EPOCH

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
MAX_PERIOD_DAYS = 400  # a year and a month: one report; split longer spans into several
MAX_AHEAD = timedelta(days=1)  # clocks differ; beyond this, the future holds no measurements
FIRST_YEAR, LAST_YEAR = 1970, 2999


def _range_error(option: str, value: str) -> UsageError:
    return UsageError(f"{option} {value!r}: out of range; use a date between {FIRST_YEAR}-01-01 and today")


def parse_when(value: str, tz: ZoneInfo, *, option: str, end: bool = False) -> datetime:
    """Parse a --from/--to value into an aware datetime (half-open end for days)."""
    v = value.strip()
    try:
        if _DAY.match(v):
            d = date.fromisoformat(v)
            if not FIRST_YEAR <= d.year <= LAST_YEAR:
                raise _range_error(option, value)
            if end:
                d += timedelta(days=1)
            dt = datetime.combine(d, time(), tzinfo=tz)
        else:
            dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
            dt = dt if dt.tzinfo else dt.replace(tzinfo=tz)
            if not FIRST_YEAR <= dt.year <= LAST_YEAR:
                raise _range_error(option, value)
        if dt < EPOCH:
            raise _range_error(option, value)
    except ValueError:
        raise UsageError(f"{option} {value!r}: not a date; use YYYY-MM-DD (a day in {tz.key}) or an ISO 8601 time such as 2026-11-03T02:00:00Z") from None
    except OverflowError:
        raise _range_error(option, value) from None
    return dt


def parse_period(start: str, stop: str, tz: ZoneInfo, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> tuple[datetime, datetime]:
    a = parse_when(start, tz, option="--from")
    b = parse_when(stop, tz, option="--to", end=True)
    if b <= a:
        raise UsageError(f"--to {stop!r} is not after --from {start!r}: the period is empty")
    check_period(a, b, now(), f"--from {start!r} --to {stop!r}")
    return a, b


def check_period(a: datetime, b: datetime, now: datetime, shown: str) -> None:
    """Refuse periods that cannot hold measurements or would take minutes to report on."""
    if a > now + MAX_AHEAD:
        raise UsageError(f"{shown}: the period starts in the future; nothing has been measured then")
    if b - a > timedelta(days=MAX_PERIOD_DAYS):
        raise UsageError(f"{shown}: the period is {(b - a).days} days long; at most {MAX_PERIOD_DAYS} days: "
                         "write one report per month or year")


def parse_month(value: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    if not _MONTH.match(value.strip()):
        raise UsageError(f"--month {value!r}: use YYYY-MM, e.g. 2026-11")
    y, m = (int(x) for x in value.strip().split("-"))
    if not 1 <= m <= 12:
        raise UsageError(f"--month {value!r}: month must be 01..12")
    if not FIRST_YEAR <= y <= LAST_YEAR:
        raise UsageError(f"--month {value!r}: out of range; use a month between {FIRST_YEAR}-01 and now")
    a = datetime(y, m, 1, tzinfo=tz)
    b = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=tz)
    check_period(a, b, datetime.now(UTC), f"--month {value!r}")
    return a, b
