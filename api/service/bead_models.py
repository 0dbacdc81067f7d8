"""Catalog tables of BEAD challenge processes: the process, its challengers, the challenges
(with the provider's rebuttal and the office's decision on the same row) and the audit log.
Created by Alembic revision 0005."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.service.models import Base, utcnow


class BeadProcess(Base):
    """One challenge process over one BEAD classification (a ``us-bead`` run). ``spec`` holds
    the windows, profile and reference date; ``inputs`` the run and its locations and offers
    (paths and SHA-256)."""

    __tablename__ = "bead_processes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), index=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BeadChallenger(Base):
    """A challenger of NTIA's challengers.csv (``challenger`` is its id within the process)."""

    __tablename__ = "bead_challengers"
    __table_args__ = (UniqueConstraint("process_id", "challenger"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    process_id: Mapped[str] = mapped_column(
        ForeignKey("bead_processes.id", ondelete="CASCADE"), index=True
    )
    challenger: Mapped[str] = mapped_column(String(50))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BeadChallenge(Base):
    """One challenge of one location: NTIA's fields as filed (``fields``), the evidence files,
    the provider's rebuttal and the office's decision."""

    __tablename__ = "bead_challenges"
    __table_args__ = (UniqueConstraint("process_id", "challenge"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    process_id: Mapped[str] = mapped_column(
        ForeignKey("bead_processes.id", ondelete="CASCADE"), index=True
    )
    challenge: Mapped[str] = mapped_column(String(50))
    challenge_type: Mapped[str] = mapped_column(String(2))
    challenger: Mapped[str | None] = mapped_column(String(50), nullable=True)
    location_id: Mapped[int] = mapped_column(BigInteger, index=True)
    provider_id: Mapped[str | None] = mapped_column(String(10), nullable=True)
    challenge_date: Mapped[date] = mapped_column(Date)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rebuttal_kind: Mapped[str | None] = mapped_column(String(10), nullable=True)
    rebuttal_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    response: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    rebuttal_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    rebutted_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    disposition: Mapped[str | None] = mapped_column(String(2), nullable=True)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolution_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class BeadAudit(Base):
    """Who did what to a challenge process when (append only)."""

    __tablename__ = "bead_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    process_id: Mapped[str] = mapped_column(
        ForeignKey("bead_processes.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
