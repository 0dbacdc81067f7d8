"""Jobs get ``heartbeat_at``: a run belongs to the process that runs it through a lease.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add jobs.heartbeat_at (nullable)."""
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop jobs.heartbeat_at."""
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("heartbeat_at")
