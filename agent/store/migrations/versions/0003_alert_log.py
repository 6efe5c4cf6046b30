"""Alert log: every alert sent or given up on (docs/alerts.md).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("event_us", sa.BigInteger, nullable=False),
        sa.Column("queued_us", sa.BigInteger, nullable=False),
        sa.Column("done_us", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("target_id", sa.Integer, sa.ForeignKey("targets.id")),
        sa.Column("dedup_key", sa.Text, nullable=False),
        sa.Column("destination", sa.Text, nullable=False),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_alert_log_target_event", "alert_log", ["target_id", "event_us"])


def downgrade() -> None:
    # The alert log is evidence of when the user was told; never dropped by a downgrade.
    raise RuntimeError("slaproof migrations do not downgrade: the tables hold evidence")
