"""Monthly range partitions of ``measurements`` on PostgreSQL (a fleet's central database).

Migration 0005 turns the table into a declarative range-partitioned one on ``ts_us`` (UTC month
bounds, microseconds), with the covering index on every partition and a default partition for
rows no month holds yet. A year of a fleet stays fast to report on (a period's scan touches its
months only) and an old month can be detached to archive without rewriting the rest. SQLite keeps
one table: nothing here applies to it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from agent.core.errors import UsageError
from agent.core.times import from_us, to_us
from agent.store.database import Store

MONTHS_AHEAD = 2  # partitions made beyond the newest row, so the default partition stays empty


def month_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(m: datetime) -> datetime:
    return m.replace(year=m.year + 1, month=1) if m.month == 12 else m.replace(month=m.month + 1)


def partition_name(m: datetime) -> str:
    return f"measurements_{m:%Y_%m}"


def is_partitioned(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    return bool(conn.execute(text("SELECT count(*) FROM pg_partitioned_table WHERE partrelid = 'measurements'::regclass")).scalar_one())


def months(conn: Connection) -> list[str]:
    """The attached monthly partitions, oldest first."""
    rows = conn.execute(text("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                             "WHERE i.inhparent = 'measurements'::regclass AND c.relname ~ '^measurements_[0-9]{4}_[0-9]{2}$' "
                             "ORDER BY c.relname"))
    return [r[0] for r in rows]


def create_months(conn: Connection, first: datetime, last: datetime) -> list[str]:
    """Partitions for every month from ``first``'s to ``last``'s that has none; their names. A month whose rows
    already sit in the default partition (written before its partition existed) is left there: still read."""
    have = set(months(conn))
    made = []
    m = month_start(first)
    while m <= last:
        name = partition_name(m)
        if name not in have:
            try:
                with conn.begin_nested():
                    conn.execute(text(f"CREATE TABLE {name} PARTITION OF measurements "
                                      f"FOR VALUES FROM ({to_us(m)}) TO ({to_us(next_month(m))})"))
                made.append(name)
            except DBAPIError:
                pass  # rows of that month are in the default partition: it stays where it is
        m = next_month(m)
    return made


def ensure_months(store: Store, first_us: int, last_us: int) -> list[str]:
    """Make sure the months from ``first_us`` to ``last_us``, and MONTHS_AHEAD more, have a partition before
    their rows arrive (one short transaction; a no-op on SQLite or an unpartitioned table)."""
    if store.is_sqlite:
        return []
    last = from_us(last_us)
    for _ in range(MONTHS_AHEAD):
        last = next_month(month_start(last))
    m, wanted = month_start(from_us(first_us)), set()
    while m <= last:
        wanted.add(partition_name(m))
        m = next_month(m)
    with store.engine.begin() as conn:
        if not is_partitioned(conn) or wanted <= set(months(conn)):
            return []
        return create_months(conn, from_us(first_us), last)


def detach_month(store: Store, month: str) -> str:
    """Detach one month (``YYYY-MM``) from ``measurements``: its rows leave every report and stay in the
    table ``measurements_YYYY_MM``, to dump and archive (pg_dump -t). Returns the table's name."""
    try:
        m = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        raise UsageError(f"month {month!r}: write it as YYYY-MM, e.g. 2026-05") from None
    name = partition_name(m)
    with store.engine.begin() as conn:
        if not is_partitioned(conn):
            raise UsageError(f"{store.url}: measurements is not partitioned (only a PostgreSQL database at revision 0005 or later is)")
        if name not in months(conn):
            raise UsageError(f"{store.url}: no attached partition for {month}")
        conn.execute(text(f"ALTER TABLE measurements DETACH PARTITION {name}"))
    return name
