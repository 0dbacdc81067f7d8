"""What the BEAD pages share: the challenge-process workflow of the app's catalog, the role
check (analyst and admin, as ``/bead/processes``; a public key gets 403 before any body is
read) and uploads kept under server-made names for the workflow."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

from fastapi import Path as PathParam
from fastapi import Request
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload

from api.service.bead_process import BeadWorkflow, Upload
from api.service.bead_store import BeadStore
from api.service.deps import get_services
from api.service.errors import ApiError
from api.service.routers.bead import PROCESS_ID
from api.service.security import Role
from api.service.web.auth import Visitor
from api.service.web.i18n import language, translator
from api.service.web.render import signed_in

ProcessIdPath = Annotated[str, PathParam(pattern=PROCESS_ID)]
ChallengePath = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9-]{1,50}$")]
_CHUNK = 1 << 20


def bead_flow(request: Request) -> BeadWorkflow:
    """The BEAD workflow on the app's catalog and workspace (the API's and the CLI's)."""
    return BeadWorkflow(BeadStore(get_services(request).store))


async def bead_analyst(request: Request) -> Visitor:
    """The signed-in visitor with an analyst or admin key (403 page otherwise)."""
    who = await signed_in(request, Role.PUBLIC)
    if who.principal.role.rank < Role.ANALYST.rank:
        t = translator(language(request))
        raise ApiError(403, "forbidden", t("bead_forbidden", role=who.principal.role.value))
    return who


def uploads(form: FormData, field: str, folder: Path, stem: str) -> list[Upload]:
    """The files of a multi-file field, copied under server-made names; the name the user
    gave is checked as an NTIA file name (letters, digits, ``_``, ``-``; .pdf or .zip)."""
    from coverage.mev.bead_process import check_evidence_name

    kept = []
    for k, up in enumerate(form.getlist(field), start=1):
        if not isinstance(up, StarletteUpload) or not up.filename:
            continue
        name = check_evidence_name(Path(up.filename).name, stem)
        path = folder / f"{stem}-{k}{Path(name).suffix.lower()}"
        with path.open("wb") as fh:
            shutil.copyfileobj(up.file, fh, _CHUNK)
        kept.append(Upload(path, name))
    return kept


def csv_upload(up: StarletteUpload | None, field: str, folder: Path) -> Path:
    """An uploaded CSV under a fixed name (the user's name is never a path)."""
    from coverage.errors import InputDataError

    if up is None:
        raise InputDataError(f"{field}: choose a .csv file")
    if Path(up.filename or "").suffix.lower() != ".csv":
        raise InputDataError(f"{field}: expected a .csv file, got {Path(up.filename or '').name}")
    path = folder / f"{field}.csv"
    with path.open("wb") as fh:
        shutil.copyfileobj(up.file, fh, _CHUNK)
    return path
