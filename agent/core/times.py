"""Time as the store keeps it: integer microseconds since the Unix epoch, UTC.

Exact (no float rounding), compact, and the same on SQLite and PostgreSQL. Every
layer converts through these four names, so there is one definition of each.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

UTC = UTC
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US_PER_S = 1_000_000


def to_us(dt: datetime) -> int:
    """Aware datetime → integer µs since the epoch, exactly (no float rounding)."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime: times must carry a zone")
    d = dt - EPOCH
    return (d.days * 86_400 + d.seconds) * US_PER_S + d.microseconds


def from_us(us: int) -> datetime:
    """Integer µs since the epoch → aware UTC datetime."""
    return EPOCH + timedelta(microseconds=us)


def iso(us: int) -> str:
    """ISO 8601 UTC with microseconds and Z: the one time format of every export."""
    return from_us(us).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_dt(moment: datetime) -> str:
    """The same format from an aware datetime."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def utcnow() -> datetime:
    """The current time, UTC, aware, microseconds."""
    return datetime.now(UTC)
