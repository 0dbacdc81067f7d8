"""The BEAD forms that change challenges: challengers and challenges imported from NTIA's CSV
layout (as ``gapmap bead challenger import`` / ``challenge import``), one challenge added, the
provider's rebuttal and the office's decision. Each is one call of ``BeadWorkflow``; what the
workflow refuses (wrong phase, outside the window, a decision without reason) is shown as the
error page with its message, and nothing is kept."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.service.deps import get_services
from api.service.web.bead_pages import ADD_FIELDS, refused
from api.service.web.bead_view import (
    ChallengePath,
    ProcessIdPath,
    bead_analyst,
    bead_flow,
    csv_upload,
    uploads,
)
from api.service.web.mev_view import actor, day, posted, text, upload
from api.service.web.render import page
from coverage.errors import GapmapError, InputDataError

router = APIRouter(prefix="/ui/bead", include_in_schema=False)
MAX_FILES = 200


def _back(process_id: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/ui/bead/{process_id}{anchor}", status_code=303)


async def _done(
    request: Request, who: Any, process_id: str, run: Callable[[], None], anchor: str
) -> Response:
    """Run a form's step off the event loop; back to the process page at ``anchor``, or the
    page again with the workflow's refusal."""
    try:
        await run_in_threadpool(run)
    except GapmapError as exc:
        return await refused(request, who, exc, process_id)
    return _back(process_id, anchor)


def _tmp(request: Request) -> tempfile.TemporaryDirectory[str]:
    store = get_services(request).store
    store.tmp_dir.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(dir=store.tmp_dir, prefix="bead-")


@router.post("/{process_id}/challengers")
@page
async def bead_challengers(request: Request, process_id: ProcessIdPath) -> Response:
    """Register the challengers of a challengers.csv (NTIA layout; all or none)."""
    from coverage.io.mev_files import read_bead_table

    who = await bead_analyst(request)
    form = await posted(request, who, files=1)
    by = actor(request, who)

    def run() -> None:
        up = upload(form, "file")
        with _tmp(request) as tmp:
            frame = read_bead_table(csv_upload(up, "challengers", Path(tmp)))
            source = Path(up.filename or "challengers.csv").name if up else "challengers.csv"
            bead_flow(request).add_challengers(process_id, frame, by, source=source)

    return await _done(request, who, process_id, run, "#challengers")


@router.post("/{process_id}/challenges")
@page
async def bead_import(request: Request, process_id: ProcessIdPath) -> Response:
    """File the challenges of a challenges.csv with the evidence files it names (all or none)."""
    from coverage.io.mev_files import read_bead_table

    who = await bead_analyst(request)
    form = await posted(request, who, files=MAX_FILES)
    by = actor(request, who)

    def run() -> None:
        up = upload(form, "file")
        with _tmp(request) as tmp:
            frame = read_bead_table(csv_upload(up, "challenges", Path(tmp)))
            kept = {u.name: u for u in uploads(form, "evidence", Path(tmp), "evidence")}
            source = Path(up.filename or "challenges.csv").name if up else "challenges.csv"
            bead_flow(request).add_challenges(process_id, frame, kept, by, source=source)

    return await _done(request, who, process_id, run, "#challenges")


@router.post("/{process_id}/challenge")
@page
async def bead_add(request: Request, process_id: ProcessIdPath) -> Response:
    """File one challenge from the form's fields, with its evidence files."""
    who = await bead_analyst(request)
    form = await posted(request, who, files=MAX_FILES)
    by = actor(request, who)

    def run() -> None:
        row = {k: text(form, k, 50) for k in ADD_FIELDS}
        row["challenge_type"] = row["challenge_type"].upper()
        if not row["challenge_date"]:
            row.pop("challenge_date")
        with _tmp(request) as tmp:
            kept = uploads(form, "evidence", Path(tmp), "evidence")
            row["evidence_file_id"] = " ".join(u.name for u in kept)
            bead_flow(request).add_challenges(process_id, pd.DataFrame([row]), {u.name: u for u in kept},
                                              by, source="challenge")  # fmt: skip

    return await _done(request, who, process_id, run, "#challenges")


@router.post("/{process_id}/challenge/{challenge}/rebut")
@page
async def bead_rebut(
    request: Request, process_id: ProcessIdPath, challenge: ChallengePath
) -> Response:
    """The challenged provider's rebuttal (with its response file) or agreement."""
    who = await bead_analyst(request)
    form = await posted(request, who, files=20)
    by = actor(request, who)
    kind = text(form, "kind", 10) or "rebut"
    note = text(form, "note", 5000) or None
    on = day(form, "rebuttal_date")

    def run() -> None:
        with _tmp(request) as tmp:
            kept = uploads(form, "response", Path(tmp), "response")
            bead_flow(request).rebut(
                process_id, challenge, kind, by, response=kept, note=note, day=on
            )

    return await _done(request, who, process_id, run, f"#c-{challenge}")


@router.post("/{process_id}/challenge/{challenge}/decide")
@page
async def bead_decide(
    request: Request, process_id: ProcessIdPath, challenge: ChallengePath
) -> Response:
    """The broadband office's decision with its reason (a later one replaces it; both are in
    the audit log)."""
    who = await bead_analyst(request)
    form = await posted(request, who)
    by = actor(request, who)
    disposition = text(form, "disposition", 2)
    reason = text(form, "reason", 5000)
    on = day(form, "resolution_date")

    def run() -> None:
        if not disposition or not reason:
            raise InputDataError("disposition, reason: choose the decision and give its reason")
        bead_flow(request).decide(process_id, challenge, disposition, reason, by, on)

    return await _done(request, who, process_id, run, f"#c-{challenge}")
