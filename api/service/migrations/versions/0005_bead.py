"""BEAD challenge processes: bead_processes, bead_challengers, bead_challenges, bead_audit.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def _process_fk() -> sa.Column:
    return sa.Column(
        "process_id",
        sa.String(40),
        sa.ForeignKey("bead_processes.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


def upgrade() -> None:
    """Create the four tables of the BEAD challenge process."""
    op.create_table(
        "bead_processes",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False, index=True),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("counts", sa.JSON, nullable=True),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_table(
        "bead_challengers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _process_fk(),
        sa.Column("challenger", sa.String(50), nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.UniqueConstraint("process_id", "challenger"),
    )
    op.create_table(
        "bead_challenges",
        sa.Column("id", sa.String(40), primary_key=True),
        _process_fk(),
        sa.Column("challenge", sa.String(50), nullable=False),
        sa.Column("challenge_type", sa.String(2), nullable=False),
        sa.Column("challenger", sa.String(50), nullable=True),
        sa.Column("location_id", sa.BigInteger, nullable=False, index=True),
        sa.Column("provider_id", sa.String(10), nullable=True),
        sa.Column("challenge_date", sa.Date, nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("rebuttal_kind", sa.String(10), nullable=True),
        sa.Column("rebuttal_date", sa.Date, nullable=True),
        sa.Column("response", sa.JSON, nullable=True),
        sa.Column("rebuttal_note", sa.Text, nullable=True),
        sa.Column("rebutted_by", sa.String(200), nullable=True),
        sa.Column("disposition", sa.String(2), nullable=True),
        sa.Column("resolution", sa.Text, nullable=True),
        sa.Column("resolution_date", sa.Date, nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.UniqueConstraint("process_id", "challenge"),
    )
    op.create_table(
        "bead_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _process_fk(),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    """Drop the BEAD tables."""
    for table in ("bead_audit", "bead_challenges", "bead_challengers", "bead_processes"):
        op.drop_table(table)
