"""Catalog access for MEVs (SQLAlchemy constructs only) and their workspace paths.

Files live under ``<workspace>/mev/<mev id>/`` (``package/``, ``replies/<reply id>/``,
``reconcile/``, ``result/``), built from server-generated ids only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from api.service.mev_models import Mev, MevAudit, MevReply, MevResolution
from api.service.models import utcnow
from api.service.store import Store, new_id
from coverage.errors import NotFoundError


class MevStore:
    """MEV rows of the catalog; every change writes an audit row in the same transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store
        (store.workspace / "mev").mkdir(parents=True, exist_ok=True)

    def dir(self, mev_id: str) -> Path:
        """The MEV's directory in the workspace."""
        return self.store.workspace / "mev" / mev_id

    def reply_dir(self, mev_id: str, reply_id: str) -> Path:
        return self.dir(mev_id) / "replies" / reply_id

    # -- procedures -----------------------------------------------------------------------
    def create(self, name: str, spec: dict[str, Any], inputs: dict[str, Any],
               warnings: list[str], actor: str) -> Mev:  # fmt: skip
        now = utcnow()
        row = Mev(id=new_id("mev"), name=name, state="draft", spec=spec, inputs=inputs,
                  warnings=warnings, counts=None, created_by=actor, created_at=now, updated_at=now)  # fmt: skip
        with self.store.session() as s:
            s.add(row)
            s.add(MevAudit(mev_id=row.id, at=now, actor=actor, action="create",
                           detail={"name": name, "spec": spec, "inputs": inputs, "warnings": warnings}))  # fmt: skip
        self.dir(row.id).mkdir(parents=True, exist_ok=True)
        return row

    def get(self, mev_id: str) -> Mev:
        with self.store.session() as s:
            row = s.get(Mev, mev_id)
        if row is None:
            raise NotFoundError(f"no MEV with id {mev_id}")
        return row

    def list(self) -> list[Mev]:
        with self.store.session() as s:
            return list(s.scalars(select(Mev).order_by(Mev.created_at.desc(), Mev.id)))

    def update(
        self, mev_id: str, actor: str, action: str, detail: dict[str, Any], **fields: Any
    ) -> Mev:
        """Change fields of an MEV (state, spec, warnings, counts) and audit it."""
        with self.store.session() as s:
            row = s.get(Mev, mev_id)
            if row is None:
                raise NotFoundError(f"no MEV with id {mev_id}")
            before = {k: getattr(row, k) for k in fields}
            for k, v in fields.items():
                setattr(row, k, v)
            row.updated_at = utcnow()
            changed = {k: {"from": before[k], "to": v} for k, v in fields.items() if k != "counts"}
            s.add(MevAudit(mev_id=mev_id, at=row.updated_at, actor=actor, action=action,
                           detail={**detail, **({"changed": changed} if changed else {})}))  # fmt: skip
        return row

    # -- replies ---------------------------------------------------------------------------
    def add_reply(self, mev_id: str, reply_id: str, operator: str, kind: str, filename: str,
                  stored_name: str, sha256: str, summary: dict[str, Any], actor: str) -> MevReply:  # fmt: skip
        """Store a new version of ``operator``'s reply; the previous version is superseded."""
        now = utcnow()
        with self.store.session() as s:
            prev = s.scalars(
                select(MevReply).where(
                    MevReply.mev_id == mev_id,
                    func.lower(MevReply.operator) == operator.lower(),
                    MevReply.superseded_at.is_(None),
                )
            ).first()
            version = 1
            if prev is not None:
                prev.superseded_at = now
                version = prev.version + 1
                operator = prev.operator  # one spelling per operator
            row = MevReply(id=reply_id, mev_id=mev_id, operator=operator, version=version, kind=kind,
                           filename=filename, stored_name=stored_name, sha256=sha256, summary=summary,
                           created_by=actor, created_at=now, superseded_at=None)  # fmt: skip
            s.add(row)
            s.add(MevAudit(mev_id=mev_id, at=now, actor=actor, action="reply",
                           detail={"reply": reply_id, "operator": operator, "version": version,
                                   "filename": filename, "sha256": sha256, "summary": summary,
                                   "replaces": prev.id if prev else None}))  # fmt: skip
        return row

    def replies(self, mev_id: str, *, current_only: bool = False) -> list[MevReply]:
        q = select(MevReply).where(MevReply.mev_id == mev_id)
        if current_only:
            q = q.where(MevReply.superseded_at.is_(None))
        with self.store.session() as s:
            return list(s.scalars(q.order_by(MevReply.operator, MevReply.version)))

    def reply(self, mev_id: str, reply_id: str) -> MevReply:
        with self.store.session() as s:
            row = s.get(MevReply, reply_id)
        if row is None or row.mev_id != mev_id:
            raise NotFoundError(f"MEV {mev_id} has no reply {reply_id}")
        return row

    # -- resolutions -----------------------------------------------------------------------
    def resolve(
        self, mev_id: str, conflict_id: str, decision: str, reason: str, actor: str
    ) -> MevResolution:
        now = utcnow()
        row = MevResolution(mev_id=mev_id, conflict_id=conflict_id, decision=decision, reason=reason,
                            decided_by=actor, decided_at=now)  # fmt: skip
        with self.store.session() as s:
            s.add(row)
            s.add(MevAudit(mev_id=mev_id, at=now, actor=actor, action="resolve",
                           detail={"conflict": conflict_id, "decision": decision, "reason": reason}))  # fmt: skip
        return row

    def resolutions(self, mev_id: str) -> dict[str, MevResolution]:
        """The newest resolution per conflict id."""
        with self.store.session() as s:
            rows = s.scalars(
                select(MevResolution)
                .where(MevResolution.mev_id == mev_id)
                .order_by(MevResolution.id)
            )
            return {r.conflict_id: r for r in rows}

    # -- audit -----------------------------------------------------------------------------
    def audit(self, mev_id: str) -> list[MevAudit]:
        with self.store.session() as s:
            q = select(MevAudit).where(MevAudit.mev_id == mev_id).order_by(MevAudit.id)
            return list(s.scalars(q))

    def note(self, mev_id: str, actor: str, action: str, detail: dict[str, Any]) -> None:
        """An audit row without a change of the MEV row (exports, downloads)."""
        with self.store.session() as s:
            s.add(MevAudit(mev_id=mev_id, at=utcnow(), actor=actor, action=action, detail=detail))
