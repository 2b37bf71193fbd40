"""camera registry: address, when the status and the record last changed

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:00:00

Cameras seeded before this revision keep NULL times: nobody edited them and nobody has yet
seen them change status.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(sa.Column("address", sa.String(400), nullable=False, server_default=""))
        batch.add_column(sa.Column("status_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("updated_at")
        batch.drop_column("status_at")
        batch.drop_column("address")
