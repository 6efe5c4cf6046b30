"""Fleet ingest: each forwarding agent's place in its chain, and every refused row (docs/fleet.md).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upstream_agents",
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("last_hash", sa.LargeBinary),
        sa.Column("head_seq", sa.BigInteger, nullable=False),
        sa.Column("rows_received", sa.BigInteger, nullable=False),
        sa.Column("first_contact_us", sa.BigInteger, nullable=False),
        sa.Column("last_contact_us", sa.BigInteger, nullable=False),
        sa.Column("clock_offset_us", sa.BigInteger),
        sa.Column("clock_synced", sa.Boolean),
    )
    op.create_table(
        "upstream_refusals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agent_uuid", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger),
        sa.Column("received_us", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("row", sa.Text),
    )
    op.create_index("ix_upstream_refusals_agent", "upstream_refusals", ["agent_uuid", "received_us"])


def downgrade() -> None:
    # Refusals are evidence that something was tried; never dropped by a downgrade.
    raise RuntimeError("slaproof migrations do not downgrade: the tables hold evidence")
