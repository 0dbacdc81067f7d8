"""Runs get ``published_at``: the run an admin published is what lookup, OGC and public
pages serve (the newest succeeded run until one is published).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add runs.published_at (nullable, indexed)."""
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_runs_published_at", ["published_at"])


def downgrade() -> None:
    """Drop runs.published_at."""
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_published_at")
        batch.drop_column("published_at")
