"""PostgreSQL: measurements partitioned by month of ts_us (declarative range partitioning), the same covering
index on every partition, a default partition; rows moved over in id order (docs/fleet.md). SQLite: nothing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import op
from sqlalchemy import text

from agent.core.times import from_us
from agent.store.partitions import MONTHS_AHEAD, create_months, month_start, next_month

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COVERING = "check_id, ts_us, lag_us, ok, rtt_ns, sent, received, status, error_class"


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    seq = conn.execute(text("SELECT pg_get_serial_sequence('measurements', 'id')")).scalar_one()
    lo, hi = conn.execute(text("SELECT min(ts_us), max(ts_us) FROM measurements")).one()
    op.execute("ALTER TABLE measurements RENAME TO measurements_unpartitioned")
    op.execute("ALTER INDEX ix_measurements_check_ts RENAME TO ix_measurements_unpartitioned_check_ts")
    op.execute(f"ALTER SEQUENCE {seq} OWNED BY NONE")
    op.execute("CREATE TABLE measurements (LIKE measurements_unpartitioned INCLUDING DEFAULTS) PARTITION BY RANGE (ts_us)")
    op.execute("ALTER TABLE measurements ADD PRIMARY KEY (id, ts_us)")  # a partitioned table's keys hold the partition key
    op.execute("ALTER TABLE measurements ADD FOREIGN KEY (check_id) REFERENCES checks (id)")
    op.execute(f"CREATE INDEX ix_measurements_check_ts ON measurements ({COVERING})")
    op.execute("CREATE TABLE measurements_default PARTITION OF measurements DEFAULT")
    now = datetime.now(UTC)
    first = from_us(lo) if lo is not None else now
    last = max(from_us(hi) if hi is not None else now, now)
    for _ in range(MONTHS_AHEAD):
        last = next_month(month_start(last))
    create_months(conn, first, last)
    op.execute("INSERT INTO measurements SELECT * FROM measurements_unpartitioned ORDER BY id")
    op.execute("DROP TABLE measurements_unpartitioned")
    op.execute(f"ALTER SEQUENCE {seq} OWNED BY measurements.id")


def downgrade() -> None:
    raise RuntimeError("slaproof migrations do not downgrade: the tables hold evidence")
