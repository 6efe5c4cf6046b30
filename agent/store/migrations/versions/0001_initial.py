"""Initial schema: agents, targets, checks, runs, measurements (hash-chained), evidence.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID64 = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.Text, nullable=False, unique=True),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("hostname", sa.Text, nullable=False),
    )
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("provider", sa.Text),
        sa.Column("control", sa.Boolean, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("agent_id", "name", name="uq_targets_agent_name"),
    )
    op.create_table(
        "checks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("target_id", sa.Integer, sa.ForeignKey("targets.id"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("settings_hash", sa.Text, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("target_id", "kind", "settings_hash", name="uq_checks_identity"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("started_us", sa.BigInteger, nullable=False),
        sa.Column("ended_us", sa.BigInteger),
        sa.Column("last_seen_us", sa.BigInteger),
        sa.Column("stop", sa.Text),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("hostname", sa.Text, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("config_hash", sa.Text),
        sa.Column("note", sa.Text),
    )
    op.create_table(
        "measurements",
        sa.Column("id", ID64, primary_key=True),
        sa.Column("ts_us", sa.BigInteger, nullable=False),
        sa.Column("check_id", sa.Integer, sa.ForeignKey("checks.id"), nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("lag_us", sa.Integer),
        sa.Column("rtt_ns", sa.BigInteger),
        sa.Column("rtt_min_ns", sa.BigInteger),
        sa.Column("rtt_max_ns", sa.BigInteger),
        sa.Column("jitter_ns", sa.BigInteger),
        sa.Column("sent", sa.SmallInteger),
        sa.Column("received", sa.SmallInteger),
        sa.Column("status", sa.SmallInteger),
        sa.Column("error_class", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("detail", sa.Text),
        sa.Column("imported", sa.Boolean, nullable=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
    )
    # Covering index for reports (see agent/store/schema.py): key (check_id, ts_us), then the analysed figures.
    op.create_index("ix_measurements_check_ts", "measurements",
                    ["check_id", "ts_us", "lag_us", "ok", "rtt_ns", "sent", "received", "status", "error_class"])
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ts_us", sa.BigInteger, nullable=False),
        sa.Column("target_id", sa.Integer, sa.ForeignKey("targets.id"), nullable=False),
        sa.Column("about_target_id", sa.Integer, sa.ForeignKey("targets.id")),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("measurement_id", sa.BigInteger),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
    )
    op.create_index("ix_evidence_target_ts", "evidence", ["target_id", "ts_us"])


def downgrade() -> None:
    # Evidence is never dropped by a downgrade; restore from a backup instead.
    raise RuntimeError("slaproof migrations do not downgrade: the tables hold evidence")
