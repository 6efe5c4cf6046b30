"""Proof tables: agent key epochs, signed checkpoints, RFC 3161 tokens, clock state and steps.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("vkey", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("announcement", sa.Text),
        sa.UniqueConstraint("agent_id", "epoch", name="uq_agent_keys_epoch"),
    )
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("ts_us", sa.BigInteger, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("head_row_id", sa.BigInteger),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_checkpoints_agent_size", "checkpoints", ["agent_id", "size"])
    op.create_table(
        "timestamps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("checkpoint_id", sa.Integer, sa.ForeignKey("checkpoints.id"), nullable=False),
        sa.Column("tsa_url", sa.Text, nullable=False),
        sa.Column("authority", sa.Text, nullable=False),
        sa.Column("gen_time_us", sa.BigInteger, nullable=False),
        sa.Column("received_us", sa.BigInteger, nullable=False),
        sa.Column("token", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_timestamps_checkpoint", "timestamps", ["checkpoint_id"])
    op.create_table(
        "clock_spans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("start_us", sa.BigInteger, nullable=False),
        sa.Column("end_us", sa.BigInteger, nullable=False),
        sa.Column("synced", sa.Boolean),
        sa.Column("maxerror_us", sa.BigInteger),
        sa.Column("esterror_us", sa.BigInteger),
        sa.Column("samples", sa.Integer, nullable=False),
    )
    op.create_index("ix_clock_spans_agent_start", "clock_spans", ["agent_id", "start_us"])
    op.create_table(
        "clock_steps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("ts_us", sa.BigInteger, nullable=False),
        sa.Column("step_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_clock_steps_agent_ts", "clock_steps", ["agent_id", "ts_us"])


def downgrade() -> None:
    # Evidence is never dropped by a downgrade; restore from a backup instead.
    raise RuntimeError("slaproof migrations do not downgrade: the tables hold evidence")
