"""Dates from the command line: a day in the display zone, or a full ISO timestamp.

``--to 2026-11-30`` means to the end of that day (inclusive), i.e. up to
2026-12-01 00:00 in the display zone. Errors name the value and the fix.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agent.core.errors import UsageError

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def parse_when(value: str, tz: ZoneInfo, *, option: str, end: bool = False) -> datetime:
    """Parse a --from/--to value into an aware datetime (half-open end for days)."""
    v = value.strip()
    try:
        if _DAY.match(v):
            d = date.fromisoformat(v)
            if end:
                d += timedelta(days=1)
            return datetime.combine(d, time(), tzinfo=tz)
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option} {value!r}: not a date; use YYYY-MM-DD (a day in {tz.key}) or an ISO 8601 time such as 2026-11-03T02:00:00Z") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=tz)


def parse_period(start: str, stop: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    a = parse_when(start, tz, option="--from")
    b = parse_when(stop, tz, option="--to", end=True)
    if b <= a:
        raise UsageError(f"--to {stop!r} is not after --from {start!r}: the period is empty")
    return a, b


def parse_month(value: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    if not _MONTH.match(value.strip()):
        raise UsageError(f"--month {value!r}: use YYYY-MM, e.g. 2026-11")
    y, m = (int(x) for x in value.strip().split("-"))
    if not 1 <= m <= 12:
        raise UsageError(f"--month {value!r}: month must be 01..12")
    a = datetime(y, m, 1, tzinfo=tz)
    b = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=tz)
    return a, b
