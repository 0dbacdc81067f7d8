"""Markterkundungsverfahren over HTTP: every step of ``gapmap mev`` (analyst and admin only:
operators' replies are confidential). Long steps (publish, result) answer when done."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from api.service.deps import DATASET_ID, AnalystKey, StoreDep, succeeded_run
from api.service.errors import PROBLEM_SCHEMA, ApiError
from api.service.mev import MevWorkflow
from api.service.mev_models import Mev, MevReply
from api.service.mev_store import MevStore
from api.service.security import Principal
from api.service.store import Store
from coverage.mev.procedure import MevSpec

_PROBLEM = {"content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}}}
router = APIRouter(
    prefix="/mev",
    tags=["mev"],
    responses={401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM, 422: _PROBLEM},
)
MEV_ID = r"^mev_[0-9a-f]{12}$"
REPLY_ID = r"^rep_[0-9a-f]{12}$"
MevIdP = Annotated[
    str, PathParam(pattern=MEV_ID, examples=["mev_0a1b2c3d4e5f"], description="An MEV id.")
]
ReplyIdP = Annotated[str, PathParam(pattern=REPLY_ID, description="A reply id.")]
_UPLOAD_CHUNK = 1 << 20


class MevCreate(BaseModel):
    """A new MEV; the project area is ``ags`` (Gemeinde keys) or ``area_wkt`` (EPSG:25832)."""

    name: str = Field(min_length=1, max_length=200)
    start: date
    end: date
    addresses_dataset: str = Field(pattern=DATASET_ID)
    boundaries_dataset: str | None = Field(None, pattern=DATASET_ID)
    baseline_run: str | None = Field(None, pattern=r"^run_[0-9a-f]{12}$")
    ags: list[Annotated[str, Field(pattern=r"^\d{8}$")]] = Field(
        default_factory=list, max_length=500
    )
    area_wkt: str | None = Field(None, max_length=5_000_000)
    branchendialog: date | None = None
    stichtag: date | None = None
    profile: str = Field("de-gigabit", max_length=100)
    horizon_months: int = Field(36, ge=1, le=240)


class Resolution(BaseModel):
    """A decision with its reason on one conflict, or on every open conflict of ``kind``."""

    decision: str = Field(
        max_length=240, examples=["accept", "reject_all", "reject:Demo Kabelnetz"]
    )
    reason: str = Field(min_length=1, max_length=5000)
    conflict_id: str | None = Field(None, pattern=r"^k_[0-9a-f]{12}$")
    kind: str | None = Field(None, max_length=40)


class DatesBody(BaseModel):
    """Dates to change (draft or published); omitted ones stay."""

    start: date | None = None
    end: date | None = None
    branchendialog: date | None = None
    stichtag: date | None = None


class PublishBody(BaseModel):
    contact: str | None = Field(None, max_length=300)


def _flow(store: Store) -> MevWorkflow:
    return MevWorkflow(MevStore(store))


def _reply_out(r: MevReply) -> dict[str, Any]:
    return {"id": r.id, "operator": r.operator, "version": r.version, "kind": r.kind, "filename": r.filename,
            "sha256": r.sha256, "summary": r.summary, "created_by": r.created_by,
            "created_at": r.created_at, "current": r.superseded_at is None}  # fmt: skip


def _mev_out(m: Mev, replies: list[MevReply] | None = None) -> dict[str, Any]:
    out = {"id": m.id, "name": m.name, "state": m.state, "spec": m.spec, "warnings": m.warnings,
           "counts": m.counts, "created_by": m.created_by, "created_at": m.created_at,
           "updated_at": m.updated_at}  # fmt: skip
    if replies is not None:
        out["replies"] = [_reply_out(r) for r in replies]
    return out


def _actor(p: Principal) -> str:
    return f"key:{p.key_id}"


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create an MEV (draft)")
def create(body: MevCreate, store: StoreDep, principal: AnalystKey) -> dict[str, Any]:
    """Warnings (period under eight weeks, Branchendialog older than six months) are in the answer."""
    spec = MevSpec(name=body.name, start=body.start, end=body.end, profile=body.profile,
                   horizon_months=body.horizon_months, branchendialog=body.branchendialog,
                   area_ags=tuple(body.ags), area_wkt=body.area_wkt, stichtag=body.stichtag)  # fmt: skip
    inputs = mev_inputs(store, body.addresses_dataset, body.boundaries_dataset, body.baseline_run)
    return _mev_out(_flow(store).create(spec, inputs, _actor(principal)))


def mev_inputs(
    store: Store, addresses: str, boundaries: str | None, baseline_run: str | None
) -> dict[str, Any]:
    """The MEV's inputs from catalog ids (datasets and a succeeded run; the web form too)."""
    inputs: dict[str, Any] = {
        "addresses": str(store.dataset_path(store.get_dataset(addresses))),
        "addresses_dataset": addresses,
        "boundaries": None, "boundaries_dataset": boundaries, "baseline_run": None,
        "baseline_run_id": baseline_run,
    }  # fmt: skip
    if boundaries:
        inputs["boundaries"] = str(store.dataset_path(store.get_dataset(boundaries)))
    if baseline_run:
        inputs["baseline_run"] = str(store.run_dir(succeeded_run(store, baseline_run).id))
    return inputs


@router.get("", summary="List MEVs")
def list_mevs(store: StoreDep, _: AnalystKey) -> list[dict[str, Any]]:
    return [_mev_out(m) for m in MevStore(store).list()]


@router.get("/{mev_id}", summary="Show an MEV with its replies")
def show(mev_id: MevIdP, store: StoreDep, _: AnalystKey) -> dict[str, Any]:
    mevs = MevStore(store)
    return _mev_out(mevs.get(mev_id), mevs.replies(mev_id))


@router.patch("/{mev_id}/dates", summary="Change dates (draft or published)")
def change_dates(
    mev_id: MevIdP, body: DatesBody, store: StoreDep, principal: AnalystKey
) -> dict[str, Any]:
    """Warnings are computed again; the change is in the audit log."""
    return _mev_out(_flow(store).set_dates(mev_id, _actor(principal), **body.model_dump()))


@router.post("/{mev_id}/publish", summary="Build the operator package and publish")
def publish(
    mev_id: MevIdP, store: StoreDep, principal: AnalystKey, body: PublishBody | None = None
) -> dict[str, Any]:
    flow = _flow(store)
    flow.publish(mev_id, _actor(principal), contact=body.contact if body else None)
    return _mev_out(flow.mevs.get(mev_id))


def _file(store: Store, mev_id: str, name: str, what: str, principal: Principal,
          media_type: str = "application/zip") -> FileResponse:  # fmt: skip
    mevs = MevStore(store)
    mevs.get(mev_id)
    path = mevs.dir(mev_id) / name
    if not path.is_file():
        raise ApiError(409, "not_ready", f"MEV {mev_id} has no {what} yet")
    mevs.note(mev_id, _actor(principal), "download", {"file": name})
    return FileResponse(path, media_type=media_type, filename=f"{mev_id}_{Path(name).name}")


@router.get("/{mev_id}/package", summary="Download the operator package (zip)")
def package(mev_id: MevIdP, store: StoreDep, principal: AnalystKey) -> FileResponse:
    return _file(store, mev_id, "package.zip", "operator package (publish first)", principal)


@router.post(
    "/{mev_id}/replies", status_code=status.HTTP_201_CREATED, summary="Upload an operator's reply"
)
def upload_reply(
    mev_id: MevIdP, store: StoreDep, principal: AnalystKey,
    file: Annotated[UploadFile, File(description="Template (.csv/.xlsx) or polygons (.gpkg/.geojson ...)")],
    operator: Annotated[str, Form(min_length=1, max_length=200)],
) -> dict[str, Any]:  # fmt: skip
    """Checked row by row; a later reply of the same operator replaces the earlier (both kept)."""
    name = Path(file.filename or "reply").name
    with tempfile.TemporaryDirectory(dir=store.tmp_dir, prefix="reply-") as tmp:
        dest = Path(tmp) / ("upload" + Path(name).suffix.lower()[:12])
        with dest.open("wb") as fh:
            shutil.copyfileobj(file.file, fh, _UPLOAD_CHUNK)
        res = _flow(store).add_reply(mev_id, operator, dest, name, _actor(principal))
    return {**_reply_out(res.row), "issues": res.check.issues.to_dict(orient="records")}


@router.get("/{mev_id}/replies", summary="All reply versions")
def list_replies(mev_id: MevIdP, store: StoreDep, _: AnalystKey) -> list[dict[str, Any]]:
    mevs = MevStore(store)
    mevs.get(mev_id)
    return [_reply_out(r) for r in mevs.replies(mev_id)]


@router.get("/{mev_id}/replies/{reply_id}/issues", summary="The row check of one reply version")
def reply_issues(
    mev_id: MevIdP, reply_id: ReplyIdP, store: StoreDep, _: AnalystKey
) -> list[dict[str, Any]]:
    return _flow(store).issues(mev_id, reply_id).to_dict(orient="records")


@router.get("/{mev_id}/conflicts", summary="Conflicts between the replies, with decisions")
def conflicts(mev_id: MevIdP, store: StoreDep, _: AnalystKey) -> dict[str, Any]:
    rec = _flow(store).reconcile(mev_id)
    k = rec.conflicts.astype(object).where(rec.conflicts.notna(), None)
    return {"conflicts": k.to_dict(orient="records"), "open": rec.open_conflicts(),
            "claims": len(rec.claims), "silent_addresses": len(rec.silent)}  # fmt: skip


@router.post(
    "/{mev_id}/resolutions", status_code=status.HTTP_201_CREATED, summary="Decide conflicts"
)
def resolve(
    mev_id: MevIdP, body: Resolution, store: StoreDep, principal: AnalystKey
) -> list[dict[str, Any]]:
    return _flow(store).resolve(mev_id, body.conflict_id, body.decision, body.reason, _actor(principal),
                                kind=body.kind)  # fmt: skip


@router.post("/{mev_id}/close", summary="End the reply period")
def close(mev_id: MevIdP, store: StoreDep, principal: AnalystKey) -> dict[str, Any]:
    return _mev_out(_flow(store).transition(mev_id, "close", _actor(principal)))


@router.post("/{mev_id}/reopen", summary="Accept replies again")
def reopen(mev_id: MevIdP, store: StoreDep, principal: AnalystKey) -> dict[str, Any]:
    return _mev_out(_flow(store).transition(mev_id, "reopen", _actor(principal)))


@router.post("/{mev_id}/result", summary="Classify with the resolved replies")
def result(mev_id: MevIdP, store: StoreDep, principal: AnalystKey) -> dict[str, Any]:
    from api.service.mev_result import build_result

    summary = build_result(_flow(store), mev_id, _actor(principal))
    summary.pop("same_run", None)  # server paths stay on the server
    return summary


@router.get("/{mev_id}/result.zip", summary="Download the result pack (zip)")
def result_zip(mev_id: MevIdP, store: StoreDep, principal: AnalystKey) -> FileResponse:
    return _file(
        store, mev_id, "result.zip", "result (close it and build the result first)", principal
    )


@router.get(
    "/{mev_id}/report.pdf",
    summary="Download the result report (PDF, also inside result.zip)",
    response_class=FileResponse,
    responses={200: {"content": {"application/pdf": {}}}},
)
def result_report(mev_id: MevIdP, store: StoreDep, principal: AnalystKey) -> FileResponse:
    return _file(store, mev_id, "result/ergebnisbericht.pdf",
                 "result report (close it and build the result first)", principal, "application/pdf")  # fmt: skip


@router.get("/{mev_id}/audit", summary="The audit log")
def audit(mev_id: MevIdP, store: StoreDep, _: AnalystKey) -> list[dict[str, Any]]:
    mevs = MevStore(store)
    mevs.get(mev_id)
    return [
        {"at": a.at, "actor": a.actor, "action": a.action, "detail": a.detail}
        for a in mevs.audit(mev_id)
    ]
