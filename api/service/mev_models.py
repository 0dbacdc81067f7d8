"""Catalog tables of Markterkundungsverfahren (MEV): the procedure, operators' replies, the
analysts' resolutions and the audit log. Created by Alembic revision 0004."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.service.models import Base, utcnow


class Mev(Base):
    """One MEV. ``spec`` holds the settings (``coverage.mev.procedure.MevSpec`` as JSON),
    ``inputs`` the address base, coverage already held, boundaries and the earlier run."""

    __tablename__ = "mevs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), index=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MevReply(Base):
    """One version of one operator's reply; a newer version supersedes it (both are kept)."""

    __tablename__ = "mev_replies"
    __table_args__ = (UniqueConstraint("mev_id", "operator", "version"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    mev_id: Mapped[str] = mapped_column(ForeignKey("mevs.id", ondelete="CASCADE"), index=True)
    operator: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class MevResolution(Base):
    """An analyst's decision on one conflict; the newest per conflict counts."""

    __tablename__ = "mev_resolutions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mev_id: Mapped[str] = mapped_column(ForeignKey("mevs.id", ondelete="CASCADE"), index=True)
    conflict_id: Mapped[str] = mapped_column(String(40), index=True)
    decision: Mapped[str] = mapped_column(String(240))
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MevAudit(Base):
    """Who did what to an MEV when (append only)."""

    __tablename__ = "mev_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mev_id: Mapped[str] = mapped_column(ForeignKey("mevs.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
