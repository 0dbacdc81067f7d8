"""The BEAD challenge process over HTTP (analyst and admin only: challenges name people and
carry evidence): ``/bead/processes/...`` keeps a process with its challenges, rebuttals and
decisions in the catalog (as ``gapmap bead``); ``/bead/challenge`` builds NTIA's files in one
step from finished tables."""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from api.service.bead import BeadInputs, build_submission, summary
from api.service.bead_models import BeadProcess
from api.service.bead_process import BeadWorkflow, Upload
from api.service.bead_store import BeadStore
from api.service.deps import AnalystKey, StoreDep, succeeded_run
from api.service.errors import PROBLEM_SCHEMA
from api.service.security import Principal
from api.service.store import Store, new_id

_PROBLEM = {"content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}}}
router = APIRouter(
    prefix="/bead",
    tags=["bead"],
    responses={401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM, 409: _PROBLEM, 422: _PROBLEM},
)
_CHUNK = 1 << 20
#: upload field -> (stored name, allowed suffixes); stored names are fixed, never the user's
_FILES = {
    "locations": ("fabric", (".csv", ".zip", ".parquet", ".gpkg")),
    "offers": ("bdc", (".csv", ".zip")),
    "challengers": ("challengers", (".csv",)),
    "challenges": ("challenges", (".csv",)),
    "cai": ("cai", (".csv",)),
    "cai_challenges": ("cai_challenges", (".csv",)),
}


def _store(upload: UploadFile | None, field: str, folder: Path) -> Path | None:
    from coverage.errors import InputDataError

    if upload is None:
        return None
    stem, allowed = _FILES[field]
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in allowed:
        raise InputDataError(
            f"{field}: expected {' or '.join(allowed)}, got {suffix or 'no extension'}"
        )
    path = folder / f"{stem}{suffix}"
    with path.open("wb") as fh:
        shutil.copyfileobj(upload.file, fh, _CHUNK)
    return path


@router.post(
    "/challenge",
    summary="NTIA challenge-process files from challenges, rebuttals and decisions",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def challenge(
    store: StoreDep,
    _: AnalystKey,
    locations: Annotated[UploadFile, File(description="FCC Fabric locations CSV")],
    offers: Annotated[UploadFile, File(description="FCC BDC availability CSV")],
    challengers: Annotated[UploadFile, File(description="challengers.csv (NTIA layout)")],
    challenges: Annotated[UploadFile, File(description="challenges.csv (NTIA layout)")],
    cai: Annotated[UploadFile | None, File(description="cai.csv")] = None,
    cai_challenges: Annotated[UploadFile | None, File(description="cai_challenges.csv")] = None,
    as_of: Annotated[date | None, Form(description="Reference date (default today)")] = None,
    profile: Annotated[str, Form(max_length=100)] = "us-bead-2022",
) -> Response:
    """A zip of unserved.csv, underserved.csv, post_challenge_locations.csv, challenges.csv,
    challengers.csv, cai.csv, cai_challenges.csv and post_challenge_cai.csv; the counts before
    and after the challenges are in the ``X-Gapmap-Bead-*`` headers."""
    with tempfile.TemporaryDirectory(dir=store.tmp_dir, prefix="bead-") as tmp:
        folder = Path(tmp)
        paths = {
            name: _store(upload, name, folder)
            for name, upload in (("locations", locations), ("offers", offers), ("challengers", challengers),
                                 ("challenges", challenges), ("cai", cai), ("cai_challenges", cai_challenges))
        }  # fmt: skip
        inputs = BeadInputs(profile=profile, **paths)  # type: ignore[arg-type]
        classes, written = build_submission(inputs, folder / "ntia", as_of or date.today())
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(written):
                zf.write(path, path.name)
    counts = summary(classes)
    headers = {f"X-Gapmap-Bead-{k.replace('_', '-')}": str(v) for k, v in counts.items()}
    headers["Content-Disposition"] = 'attachment; filename="bead_challenge_results.zip"'
    return Response(buf.getvalue(), media_type="application/zip", headers=headers)


# -- the challenge process with state ---------------------------------------------------------
PROCESS_ID = r"^bcp_[0-9a-f]{12}$"
ProcessIdP = Annotated[str, PathParam(pattern=PROCESS_ID, description="A challenge process id.")]
ChallengeP = Annotated[
    str, PathParam(pattern=r"^[A-Za-z0-9-]{1,50}$", description="NTIA challenge id.")
]
FileNameP = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_-]{1,100}\.(pdf|zip)$")]


class ChallengerIn(BaseModel):
    """A challenger (NTIA challengers.csv)."""

    challenger: str = Field(pattern=r"^[A-Za-z0-9-]{1,50}$")
    category: str = Field(max_length=1, examples=["L"])
    organization: str = Field(min_length=1, max_length=300)
    webpage: str = Field("", max_length=500)
    provider_id: str = Field("", max_length=6)
    contact_name: str = Field(min_length=1, max_length=200)
    contact_email: str = Field(min_length=3, max_length=300)
    contact_phone: str = Field("", max_length=12)


class ChallengersIn(BaseModel):
    challengers: list[ChallengerIn] = Field(min_length=1, max_length=10_000)


class DecisionIn(BaseModel):
    """The broadband office's decision on one challenge."""

    disposition: str = Field(max_length=1, examples=["S"])
    reason: str = Field(min_length=1, max_length=5000)
    resolution_date: date | None = None


def _bead_flow(store: Store) -> BeadWorkflow:
    return BeadWorkflow(BeadStore(store))


def _actor(p: Principal) -> str:
    return f"key:{p.key_id}"


def _process_out(p: BeadProcess) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "phase": p.state, "spec": p.spec, "counts": p.counts,
            "warnings": p.warnings, "created_by": p.created_by,
            "created_at": p.created_at, "updated_at": p.updated_at}  # fmt: skip


def _save_uploads(uploads: list[UploadFile], folder: Path, stem: str) -> dict[str, Upload]:
    """Uploads under server-made names; the original file name is the NTIA name (checked)."""
    from coverage.mev.bead_process import check_evidence_name

    kept: dict[str, Upload] = {}
    for k, up in enumerate(uploads, start=1):
        name = check_evidence_name(Path(up.filename or "").name, stem)
        path = folder / f"{stem}-{k}{Path(name).suffix}"
        with path.open("wb") as fh:
            shutil.copyfileobj(up.file, fh, _CHUNK)
        kept[name] = Upload(path, name)
    return kept


@router.post("/processes", status_code=status.HTTP_201_CREATED, summary="Open a challenge process")
def create_process(
    store: StoreDep, principal: AnalystKey,
    name: Annotated[str, Form(min_length=1, max_length=200)],
    challenge_start: Annotated[date, Form()], challenge_end: Annotated[date, Form()],
    rebuttal_start: Annotated[date, Form()], rebuttal_end: Annotated[date, Form()],
    run_id: Annotated[str | None, Form(pattern=r"^run_[0-9a-f]{12}$", description="A finished us-bead run")] = None,
    locations: Annotated[UploadFile | None, File(description="FCC Fabric locations CSV")] = None,
    offers: Annotated[UploadFile | None, File(description="FCC BDC availability CSV")] = None,
    profile: Annotated[str, Form(max_length=100)] = "us-bead-2022",
    as_of: Annotated[date | None, Form(description="Reference date (default today)")] = None,
    cai: Annotated[UploadFile | None, File(description="cai.csv (pre-challenge CAI list)")] = None,
) -> dict[str, Any]:  # fmt: skip
    """Phase ``challenges`` over a BEAD classification: a finished run (its locations and BDC
    offers), or uploaded Fabric locations and BDC offers classified with ``profile`` on
    ``as_of`` (kept with the process)."""
    from coverage.errors import InputDataError
    from coverage.mev.bead_process import Windows

    windows = Windows(challenge_start, challenge_end, rebuttal_start, rebuttal_end)
    run_dir, source, kept = None, None, None
    if run_id:
        run_dir = store.run_dir(succeeded_run(store, run_id).id)
    elif locations is not None and offers is not None:
        kept = store.workspace / "bead" / "inputs" / new_id("bin")
        kept.mkdir(parents=True)
        source = {"locations": _store(locations, "locations", kept), "offers": _store(offers, "offers", kept),
                  "profile": profile, "as_of": as_of or date.today()}  # fmt: skip
    else:
        raise InputDataError("give run_id, or the locations and offers files")
    try:
        with tempfile.TemporaryDirectory(dir=store.tmp_dir, prefix="bead-") as tmp:
            cai_path = _store(cai, "cai", Path(tmp))
            row = _bead_flow(store).create(name, windows, _actor(principal), run_dir=run_dir,
                                           source=source, cai=cai_path)  # fmt: skip
    except Exception:
        if kept is not None:
            shutil.rmtree(kept, ignore_errors=True)
        raise
    return _process_out(row)


@router.get("/processes", summary="List challenge processes")
def list_processes(store: StoreDep, _: AnalystKey) -> list[dict[str, Any]]:
    return [_process_out(p) for p in BeadStore(store).list()]


@router.get("/processes/{process_id}", summary="A challenge process with its challenges")
def show_process(process_id: ProcessIdP, store: StoreDep, _: AnalystKey) -> dict[str, Any]:
    flow = _bead_flow(store)
    out = _process_out(flow.beads.get(process_id))
    out["challengers"] = flow.challengers_frame(process_id).to_dict(orient="records")
    out["challenges"] = flow.challenges_frame(process_id).to_dict(orient="records")
    return out


@router.post("/processes/{process_id}/challengers", status_code=status.HTTP_201_CREATED,
             summary="Register challengers")  # fmt: skip
def add_challengers(process_id: ProcessIdP, body: ChallengersIn, store: StoreDep,
                    principal: AnalystKey) -> dict[str, int]:  # fmt: skip
    import pandas as pd

    frame = pd.DataFrame([c.model_dump() for c in body.challengers])
    return {"registered": _bead_flow(store).add_challengers(process_id, frame, _actor(principal))}


@router.post("/processes/{process_id}/challenges", status_code=status.HTTP_201_CREATED,
             summary="File challenges (NTIA challenges.csv) with their evidence files")  # fmt: skip
def add_challenges(
    process_id: ProcessIdP, store: StoreDep, principal: AnalystKey,
    file: Annotated[UploadFile, File(description="challenges.csv: NTIA columns, no rebuttal/decision yet")],
    evidence: Annotated[list[UploadFile] | None, File(description="The files named in evidence_file_id")] = None,
) -> dict[str, Any]:  # fmt: skip
    """All rows or none; every evidence file is kept and listed in the audit log."""
    from coverage.io.mev_files import read_bead_table

    with tempfile.TemporaryDirectory(dir=store.tmp_dir, prefix="bead-") as tmp:
        path = _store(file, "challenges", Path(tmp))
        assert path is not None
        uploads = _save_uploads(evidence or [], Path(tmp), "evidence")
        done = _bead_flow(store).add_challenges(process_id, read_bead_table(path), uploads,
                                                _actor(principal), source=file.filename or "challenges.csv")  # fmt: skip
    return {"filed": done}


@router.post("/processes/{process_id}/challenges/{challenge}/rebuttal",
             status_code=status.HTTP_201_CREATED, summary="The provider's rebuttal or agreement")  # fmt: skip
def rebut(
    process_id: ProcessIdP, challenge: ChallengeP, store: StoreDep, principal: AnalystKey,
    kind: Annotated[str, Form(pattern="^(rebut|agree)$")] = "rebut",
    note: Annotated[str | None, Form(max_length=5000)] = None,
    rebuttal_date: Annotated[date | None, Form()] = None,
    response: Annotated[list[UploadFile] | None, File(description="The provider's response file(s)")] = None,
) -> dict[str, Any]:  # fmt: skip
    with tempfile.TemporaryDirectory(dir=store.tmp_dir, prefix="bead-") as tmp:
        uploads = list(_save_uploads(response or [], Path(tmp), "response").values())
        row = _bead_flow(store).rebut(process_id, challenge, kind, _actor(principal), response=uploads,
                                      note=note, day=rebuttal_date)  # fmt: skip
    return {
        "challenge": row.challenge,
        "rebuttal": row.rebuttal_kind,
        "rebuttal_date": row.rebuttal_date,
    }


@router.post("/processes/{process_id}/challenges/{challenge}/decision",
             status_code=status.HTTP_201_CREATED, summary="The broadband office's decision")  # fmt: skip
def decide(process_id: ProcessIdP, challenge: ChallengeP, body: DecisionIn, store: StoreDep,
           principal: AnalystKey) -> dict[str, Any]:  # fmt: skip
    row = _bead_flow(store).decide(process_id, challenge, body.disposition, body.reason,
                                   _actor(principal), body.resolution_date)  # fmt: skip
    return {
        "challenge": row.challenge,
        "disposition": row.disposition,
        "resolution_date": row.resolution_date,
    }


@router.post(
    "/processes/{process_id}/advance", summary="Next phase (challenges, rebuttal, decisions, final)"
)
def advance(process_id: ProcessIdP, store: StoreDep, principal: AnalystKey) -> dict[str, Any]:
    row, notes = _bead_flow(store).advance(process_id, _actor(principal))
    return {**_process_out(row), "notes": notes}


@router.get("/processes/{process_id}/files.zip", summary="NTIA's files from the stored state (zip)",
            response_class=Response, responses={200: {"content": {"application/zip": {}}}})  # fmt: skip
def process_files(process_id: ProcessIdP, store: StoreDep, principal: AnalystKey) -> Response:
    """Before final: the pre-challenge lists; at final: every file of the submission."""
    with tempfile.TemporaryDirectory(dir=store.tmp_dir, prefix="bead-") as tmp:
        counts, written = _bead_flow(store).files(process_id, Path(tmp) / "ntia", _actor(principal))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(written):
                zf.write(path, path.name)
    headers = {f"X-Gapmap-Bead-{k.replace('_', '-')}": str(v) for k, v in counts.items()}
    headers["Content-Disposition"] = f'attachment; filename="{process_id}_ntia.zip"'
    return Response(buf.getvalue(), media_type="application/zip", headers=headers)


@router.get("/processes/{process_id}/challenges/{challenge}/files/{name}",
            summary="An evidence or response file", response_class=FileResponse)  # fmt: skip
def evidence_file(process_id: ProcessIdP, challenge: ChallengeP, name: FileNameP, store: StoreDep,
                  principal: AnalystKey) -> FileResponse:  # fmt: skip
    flow = _bead_flow(store)
    path = flow.evidence_path(process_id, challenge, name)
    flow.beads.note(
        process_id, _actor(principal), "download", {"challenge": challenge, "file": name}
    )
    media = "application/pdf" if name.endswith(".pdf") else "application/zip"
    return FileResponse(path, media_type=media, filename=name)


@router.get("/processes/{process_id}/audit", summary="The audit log")
def process_audit(process_id: ProcessIdP, store: StoreDep, _: AnalystKey) -> list[dict[str, Any]]:
    beads = BeadStore(store)
    beads.get(process_id)
    return [
        {"at": a.at, "actor": a.actor, "action": a.action, "detail": a.detail}
        for a in beads.audit(process_id)
    ]
