"""Catalog access for BEAD challenge processes (SQLAlchemy constructs only) and their
workspace paths: ``<workspace>/bead/<process id>/`` holds the CAI list and the evidence and
response files under ``files/<challenge row id>/``, all named by server-generated ids."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from api.service.bead_models import BeadAudit, BeadChallenge, BeadChallenger, BeadProcess
from api.service.models import utcnow
from api.service.store import Store, new_id
from coverage.errors import NotFoundError, StateError

PROCESS_PREFIX, CHALLENGE_PREFIX = "bcp", "bch"


def _json(value: Any) -> Any:
    """Dates as ISO text inside audit details."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


class BeadStore:
    """Challenge-process rows of the catalog; every change writes an audit row in the same
    transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store
        (store.workspace / "bead").mkdir(parents=True, exist_ok=True)

    def dir(self, process_id: str) -> Path:
        return self.store.workspace / "bead" / process_id

    def files_dir(self, process_id: str, challenge_row: str) -> Path:
        return self.dir(process_id) / "files" / challenge_row

    def _audit(
        self, s: Any, process_id: str, actor: str, action: str, detail: dict[str, Any]
    ) -> None:
        s.add(BeadAudit(process_id=process_id, at=utcnow(), actor=actor, action=action,
                        detail=_json(detail)))  # fmt: skip

    # -- processes --------------------------------------------------------------------------
    def create(self, name: str, spec: dict[str, Any], inputs: dict[str, Any],
               warnings: list[str], counts: dict[str, Any], actor: str) -> BeadProcess:  # fmt: skip
        now = utcnow()
        row = BeadProcess(id=new_id(PROCESS_PREFIX), name=name, state="challenges", spec=spec,
                          inputs=inputs, warnings=warnings, counts=counts, created_by=actor,
                          created_at=now, updated_at=now)  # fmt: skip
        with self.store.session() as s:
            s.add(row)
            s.flush()
            self._audit(s, row.id, actor, "create", {"name": name, "spec": spec, "inputs": inputs,
                                                     "warnings": warnings, "counts": counts})  # fmt: skip
        self.dir(row.id).mkdir(parents=True, exist_ok=True)
        return row

    def get(self, process_id: str) -> BeadProcess:
        with self.store.session() as s:
            row = s.get(BeadProcess, process_id)
        if row is None:
            raise NotFoundError(f"no challenge process with id {process_id}")
        return row

    def list(self) -> list[BeadProcess]:
        with self.store.session() as s:
            q = select(BeadProcess).order_by(BeadProcess.created_at.desc(), BeadProcess.id)
            return list(s.scalars(q))

    def set_state(
        self, process_id: str, state: str, actor: str, detail: dict[str, Any]
    ) -> BeadProcess:
        with self.store.session() as s:
            row = s.get(BeadProcess, process_id)
            if row is None:
                raise NotFoundError(f"no challenge process with id {process_id}")
            before, row.state, row.updated_at = row.state, state, utcnow()
            self._audit(s, process_id, actor, "advance", {**detail, "from": before, "to": state})
        return row

    # -- challengers ------------------------------------------------------------------------
    def add_challengers(self, process_id: str, rows: list[dict[str, str]], actor: str) -> int:
        """Add challengers; an id already in the process is a conflict (nothing is added)."""
        with self.store.session() as s:
            known = {c.lower() for c in s.scalars(select(BeadChallenger.challenger)
                                                  .where(BeadChallenger.process_id == process_id))}  # fmt: skip
            clash = [r["challenger"] for r in rows if r["challenger"].lower() in known]
            if clash:
                raise StateError(f"challenger {clash[0]} is already registered in {process_id}")
            for r in rows:
                s.add(BeadChallenger(process_id=process_id, challenger=r["challenger"], fields=r,
                                     created_by=actor, created_at=utcnow()))  # fmt: skip
            self._audit(s, process_id, actor, "challenger",
                        {"challengers": [r["challenger"] for r in rows]})  # fmt: skip
        return len(rows)

    def challengers(self, process_id: str) -> list[BeadChallenger]:
        with self.store.session() as s:
            q = select(BeadChallenger).where(BeadChallenger.process_id == process_id)
            return list(s.scalars(q.order_by(BeadChallenger.id)))

    # -- challenges -------------------------------------------------------------------------
    def add_challenges(self, process_id: str, rows: list[BeadChallenge], actor: str) -> None:
        """Add challenges in one transaction; an id already in the process is a conflict."""
        with self.store.session() as s:
            ids = [r.challenge for r in rows]
            clash = s.scalars(select(BeadChallenge.challenge).where(
                BeadChallenge.process_id == process_id,
                func.lower(BeadChallenge.challenge).in_([i.lower() for i in ids]))).first()  # fmt: skip
            if clash:
                raise StateError(
                    f"challenge {clash} is already filed in {process_id}; give another id"
                )
            for r in rows:
                s.add(r)
            self._audit(s, process_id, actor, "challenge",
                        {"challenges": [{"challenge": r.challenge, "type": r.challenge_type,
                                         "location_id": r.location_id, "row": r.id,
                                         "evidence": r.evidence} for r in rows]})  # fmt: skip

    def challenges(self, process_id: str) -> list[BeadChallenge]:
        with self.store.session() as s:
            q = select(BeadChallenge).where(BeadChallenge.process_id == process_id)
            return list(
                s.scalars(q.order_by(BeadChallenge.challenge_date, BeadChallenge.challenge))
            )

    def challenge(self, process_id: str, challenge: str) -> BeadChallenge:
        """A challenge by its NTIA id (case-insensitive)."""
        with self.store.session() as s:
            row = s.scalars(select(BeadChallenge).where(
                BeadChallenge.process_id == process_id,
                func.lower(BeadChallenge.challenge) == challenge.lower())).first()  # fmt: skip
        if row is None:
            raise NotFoundError(f"challenge process {process_id} has no challenge {challenge}")
        return row

    def update_challenge(self, process_id: str, row_id: str, actor: str, action: str,
                         **fields: Any) -> BeadChallenge:  # fmt: skip
        """Set rebuttal or decision fields of a challenge and audit the change."""
        with self.store.session() as s:
            row = s.get(BeadChallenge, row_id)
            if row is None or row.process_id != process_id:
                raise NotFoundError(f"challenge process {process_id} has no challenge row {row_id}")
            changed = {k: {"from": getattr(row, k), "to": v} for k, v in fields.items()}
            for k, v in fields.items():
                setattr(row, k, v)
            self._audit(
                s, process_id, actor, action, {"challenge": row.challenge, "changed": changed}
            )
        return row

    # -- audit ------------------------------------------------------------------------------
    def audit(self, process_id: str) -> list[BeadAudit]:
        with self.store.session() as s:
            q = select(BeadAudit).where(BeadAudit.process_id == process_id).order_by(BeadAudit.id)
            return list(s.scalars(q))

    def note(self, process_id: str, actor: str, action: str, detail: dict[str, Any]) -> None:
        """An audit row without a change (files written, downloads)."""
        with self.store.session() as s:
            self._audit(s, process_id, actor, action, detail)
