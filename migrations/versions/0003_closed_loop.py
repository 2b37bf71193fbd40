"""closed loop: users, device tokens, whistle parties, photos, event audience

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column(
        "events", sa.Column("audience", sa.String(400), nullable=False, server_default="")
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(60), nullable=False),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=True),
        sa.Column("department", sa.String(40), nullable=True),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _utc("created_at", nullable=False),
        _utc("last_login_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "device_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("label", sa.String(120), nullable=False),
        _utc("created_at", nullable=False),
        _utc("last_seen_at"),
        _utc("revoked_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_device_tokens_user_id", "device_tokens", ["user_id"])
    op.create_table(
        "whistle_parties",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("department", sa.String(40), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        _utc("ack_deadline", nullable=False),
        _utc("acknowledged_at"),
        _utc("reported_at"),
        sa.Column("report", sa.Text(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "department", name="uq_whistle_case_dept"),
    )
    op.create_index("ix_whistle_parties_case_id", "whistle_parties", ["case_id"])
    op.create_table(
        "photos",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("path", sa.String(300), nullable=False),
        sa.Column("thumb_path", sa.String(300), nullable=False),
        sa.Column("original_name", sa.String(200), nullable=False),
        sa.Column("uploaded_by", sa.String(80), nullable=False),
        _utc("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_photos_case_id", "photos", ["case_id"])
    op.create_index("ix_photos_sha256", "photos", ["sha256"])


def downgrade() -> None:
    op.drop_table("photos")
    op.drop_table("whistle_parties")
    op.drop_table("device_tokens")
    op.drop_table("users")
    op.drop_column("events", "audience")
