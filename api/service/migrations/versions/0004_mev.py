"""Markterkundungsverfahren: mevs, mev_replies, mev_resolutions, mev_audit.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the four MEV tables."""
    op.create_table(
        "mevs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False, index=True),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("counts", sa.JSON, nullable=True),
        sa.Column("created_by", sa.String(40), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_table(
        "mev_replies",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "mev_id",
            sa.String(40),
            sa.ForeignKey("mevs.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("operator", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("stored_name", sa.String(40), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(40), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("superseded_at", _TS, nullable=True),
        sa.UniqueConstraint("mev_id", "operator", "version"),
    )
    op.create_table(
        "mev_resolutions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "mev_id",
            sa.String(40),
            sa.ForeignKey("mevs.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("conflict_id", sa.String(40), nullable=False, index=True),
        sa.Column("decision", sa.String(240), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("decided_by", sa.String(40), nullable=True),
        sa.Column("decided_at", _TS, nullable=False),
    )
    op.create_table(
        "mev_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "mev_id",
            sa.String(40),
            sa.ForeignKey("mevs.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    """Drop the MEV tables."""
    for table in ("mev_audit", "mev_resolutions", "mev_replies", "mevs"):
        op.drop_table(table)
