"""video calls and conferences, with who they invite

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("room_id", sa.String(60), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("township_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("started_by", sa.String(80), nullable=False),
        sa.Column("caller_name", sa.String(120), nullable=False),
        sa.Column("callee_name", sa.String(200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(40), nullable=True),
        sa.Column("recording_path", sa.String(300), nullable=True),
        sa.Column("recording_seconds", sa.Float(), nullable=True),
        sa.Column("recording_size", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("room_id"),
    )
    op.create_index("ix_calls_case_id", "calls", ["case_id"])
    op.create_index("ix_calls_township_id", "calls", ["township_id"])
    op.create_index("ix_calls_ended_at", "calls", ["ended_at"])
    op.create_table(
        "call_parties",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(80), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("answer", sa.String(20), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id", "party", name="uq_call_party"),
    )
    op.create_index("ix_call_parties_call_id", "call_parties", ["call_id"])


def downgrade() -> None:
    op.drop_index("ix_call_parties_call_id", "call_parties")
    op.drop_table("call_parties")
    op.drop_index("ix_calls_ended_at", "calls")
    op.drop_index("ix_calls_township_id", "calls")
    op.drop_index("ix_calls_case_id", "calls")
    op.drop_table("calls")
