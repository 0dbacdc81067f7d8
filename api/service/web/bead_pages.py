"""BEAD challenge-process pages: the list with the create form, one process with its phase,
challengers and challenges, NTIA's files and the audit log. Filing, rebuttals and decisions
are in ``bead_forms``.

Every step is ``api.service.bead_process.BeadWorkflow`` (the same as ``gapmap bead`` and
``/bead/processes``); the pages only read forms and show what the workflow returns or refuses.
Analyst and admin keys only.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.service.bead_models import BeadChallenge
from api.service.deps import get_services, succeeded_run
from api.service.errors import ApiError
from api.service.routers.bead import _store as keep_upload
from api.service.store import new_id
from api.service.web.auth import Visitor
from api.service.web.bead_view import ChallengePath, ProcessIdPath, bead_analyst, bead_flow
from api.service.web.mev_view import actor, day, posted, text, upload
from api.service.web.render import page, render
from coverage.errors import GapmapError, InputDataError
from coverage.mev.bead import DISPOSITIONS
from coverage.mev.bead_process import PHASES, Windows

router = APIRouter(prefix="/ui/bead", include_in_schema=False)
STATUSES = ("open", "rebutted", "agreed", "decided")
WINDOW_FIELDS = ("challenge_start", "challenge_end", "rebuttal_start", "rebuttal_end")


def status(c: BeadChallenge) -> str:
    """open (filed), rebutted or agreed (by the provider), decided (by the office)."""
    if c.disposition:
        return "decided"
    return {"rebut": "rebutted", "agree": "agreed"}.get(c.rebuttal_kind or "", "open")


def _by_status(challenges: list[BeadChallenge]) -> dict[str, int]:
    found = [status(c) for c in challenges]
    return {s: found.count(s) for s in STATUSES}


def _bead_runs(request: Request) -> list[Any]:
    from coverage.profiles import families

    ids = {p.id for p in families().get("us-bead", [])}
    store = get_services(request).store
    return [
        r
        for r in store.list_runs(None, 100, 0).items
        if r.state == "succeeded" and r.profile in ids
    ]


# -- the list and the create form --------------------------------------------------------------
@router.get("")
@page
async def bead_list(request: Request) -> Response:
    """Every challenge process (phase, windows, challenges by status) and the create form."""
    who = await bead_analyst(request)
    return render(
        request, "bead_list.html", await run_in_threadpool(list_context, request), who=who
    )


def list_context(request: Request) -> dict[str, Any]:
    f = bead_flow(request)
    rows = [{"p": p, "by_status": _by_status(f.beads.challenges(p.id))} for p in f.beads.list()]
    return {"rows": rows, "runs": _bead_runs(request), "statuses": STATUSES}


async def refused(
    request: Request, who: Visitor, exc: GapmapError, process_id: str | None
) -> Response:
    """The page the form came from with the workflow's message on top (nothing was kept)."""
    from api.service.errors import status_for

    if process_id is None:
        context = await run_in_threadpool(list_context, request)
        name = "bead_list.html"
    else:
        context = await run_in_threadpool(detail_context, request, process_id)
        name = "bead_detail.html"
    return render(request, name, {**context, "error": str(exc)}, who=who, status=status_for(exc))


@router.post("")
@page
async def bead_create(request: Request) -> Response:
    """Open a process in phase challenges over a us-bead run (or uploaded Fabric and BDC
    files, as ``POST /bead/processes``)."""
    who = await bead_analyst(request)
    form = await posted(request, who, files=3)
    store = get_services(request).store
    by = actor(request, who)

    def create() -> str:
        dates = {k: day(form, k) for k in WINDOW_FIELDS}
        missing = [k for k, v in dates.items() if v is None]
        if missing:
            raise InputDataError(f"{', '.join(missing)}: give the dates of both windows")
        windows = Windows(**dates)  # type: ignore[arg-type]
        run_id = text(form, "run_id", 40)
        locations, offers = upload(form, "locations"), upload(form, "offers")
        run_dir, source, kept = None, None, None
        if run_id:
            run_dir = store.run_dir(succeeded_run(store, run_id).id)
        elif locations is not None and offers is not None:
            kept = store.workspace / "bead" / "inputs" / new_id("bin")
            kept.mkdir(parents=True)
            source = {"locations": keep_upload(locations, "locations", kept),  # type: ignore[arg-type]
                      "offers": keep_upload(offers, "offers", kept),  # type: ignore[arg-type]
                      "profile": text(form, "profile", 100) or "us-bead-2022",
                      "as_of": day(form, "as_of") or windows.challenge_start}  # fmt: skip
        else:
            raise InputDataError(
                "run: choose a us-bead run, or upload Fabric locations and BDC offers"
            )
        try:
            store.tmp_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=store.tmp_dir, prefix="bead-") as tmp:
                cai = upload(form, "cai")
                cai_path = keep_upload(cai, "cai", Path(tmp)) if cai else None  # type: ignore[arg-type]
                row = bead_flow(request).create(text(form, "name"), windows, by, run_dir=run_dir,
                                                source=source, cai=cai_path)  # fmt: skip
        except Exception:
            if kept is not None:
                shutil.rmtree(kept, ignore_errors=True)
            raise
        return row.id

    try:
        process_id = await run_in_threadpool(create)
    except GapmapError as exc:
        return await refused(request, who, exc, None)
    return RedirectResponse(f"/ui/bead/{process_id}", status_code=303)


# -- one process -------------------------------------------------------------------------------
@router.get("/{process_id}")
@page
async def bead_detail(request: Request, process_id: ProcessIdPath) -> Response:
    """Phase and windows, the advance button, challengers, challenges and the forms of the phase."""
    who = await bead_analyst(request)
    context = await run_in_threadpool(detail_context, request, process_id)
    return render(request, "bead_detail.html", context, who=who)


def detail_context(request: Request, process_id: str) -> dict[str, Any]:
    f = bead_flow(request)
    p = f.beads.get(process_id)
    challenges = f.beads.challenges(process_id)
    return {
        "p": p, "phases": PHASES, "tab": "detail",
        "next": PHASES[PHASES.index(p.state) + 1] if p.state != PHASES[-1] else None,
        "challengers": [c.fields for c in f.beads.challengers(process_id)],
        "challenges": [{"c": c, "status": status(c)} for c in challenges],
        "by_status": _by_status(challenges), "statuses": STATUSES,
        "dispositions": DISPOSITIONS, "fields": ADD_FIELDS, "today": date.today(),
    }  # fmt: skip


#: the fields of the "add one challenge" form, in NTIA's order
ADD_FIELDS = ("challenge", "challenge_type", "challenger", "location_id", "provider_id", "technology",
              "unit", "reason_code", "advertised_download_speed", "download_speed",
              "advertised_upload_speed", "upload_speed", "latency", "challenge_date")  # fmt: skip


@router.post("/{process_id}/advance")
@page
async def bead_advance(request: Request, process_id: ProcessIdPath) -> Response:
    """The next phase (the workflow refuses final while a challenge is undecided)."""
    who = await bead_analyst(request)
    await posted(request, who)
    by = actor(request, who)
    try:
        await run_in_threadpool(lambda: bead_flow(request).advance(process_id, by))
    except GapmapError as exc:
        return await refused(request, who, exc, process_id)
    return RedirectResponse(f"/ui/bead/{process_id}", status_code=303)


# -- NTIA's files, evidence and the audit log ----------------------------------------------------
def _files(request: Request, process_id: str, by: str, folder: Path) -> list[Path]:
    get_services(request).store.tmp_dir.mkdir(parents=True, exist_ok=True)
    _, written = bead_flow(request).files(process_id, folder / "ntia", by)
    return sorted(written)


@router.get("/{process_id}/files.zip")
@page
async def bead_files_zip(request: Request, process_id: ProcessIdPath) -> Response:
    """Before final the pre-challenge lists; at final every file of NTIA's submission."""
    who = await bead_analyst(request)
    by = actor(request, who)

    def build() -> bytes:
        with tempfile.TemporaryDirectory(
            dir=get_services(request).store.tmp_dir, prefix="bead-"
        ) as tmp:
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for path in _files(request, process_id, by, Path(tmp)):
                    zf.write(path, path.name)
            return buf.getvalue()

    body = await run_in_threadpool(build)
    disposition = f'attachment; filename="{process_id}_ntia.zip"'
    return Response(
        body, media_type="application/zip", headers={"Content-Disposition": disposition}
    )


@router.get("/{process_id}/files/{name}")
@page
async def bead_file(
    request: Request,
    process_id: ProcessIdPath,
    name: str = PathParam(pattern=r"^[a-z_]{1,40}\.csv$"),
) -> Response:
    """One CSV of NTIA's files (built from the stored state, like the zip)."""
    who = await bead_analyst(request)
    by = actor(request, who)

    def build() -> bytes:
        with tempfile.TemporaryDirectory(
            dir=get_services(request).store.tmp_dir, prefix="bead-"
        ) as tmp:
            for path in _files(request, process_id, by, Path(tmp)):
                if path.name == name:
                    return path.read_bytes()
        raise ApiError(404, "not_found", f"{name} is not among the files of this phase")

    body = await run_in_threadpool(build)
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


@router.get("/{process_id}/challenge/{challenge}/file/{name}")
@page
async def bead_evidence(
    request: Request,
    process_id: ProcessIdPath,
    challenge: ChallengePath,
    name: str = PathParam(pattern=r"^[A-Za-z0-9_-]{1,100}\.(pdf|zip)$"),
) -> Response:
    """An evidence or response file of a challenge (the download is in the audit log)."""
    who = await bead_analyst(request)
    by = actor(request, who)

    def find() -> Path:
        f = bead_flow(request)
        path = f.evidence_path(process_id, challenge, name)
        f.beads.note(process_id, by, "download", {"challenge": challenge, "file": name})
        return path

    path = await run_in_threadpool(find)
    media = "application/pdf" if name.endswith(".pdf") else "application/zip"
    return FileResponse(path, media_type=media, filename=name)


@router.get("/{process_id}/audit")
@page
async def bead_audit(request: Request, process_id: ProcessIdPath) -> Response:
    """Who did what when: every phase, challenge, rebuttal, decision and download (the
    server paths of the inputs are left out)."""
    who = await bead_analyst(request)

    def load() -> dict[str, Any]:
        f = bead_flow(request)
        p = f.beads.get(process_id)
        rows = [{"at": a.at, "actor": a.actor, "action": a.action,
                 "detail": json.dumps({k: v for k, v in (a.detail or {}).items() if k != "inputs"},
                                      ensure_ascii=False, default=str, sort_keys=True)}
                for a in f.beads.audit(process_id)]  # fmt: skip
        return {"p": p, "phases": PHASES, "tab": "audit", "rows": rows}

    return render(request, "bead_audit.html", await run_in_threadpool(load), who=who)
