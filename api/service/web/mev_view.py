"""What the MEV pages share: the workflow of the app's catalog, the actor of a session,
forms read only after the role check, the deadline countdown and paging.

Every MEV page needs an analyst or admin key, as every ``/mev`` route of the API does
(operators' replies are confidential); a public key gets 403 before any body is read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi import Request
from fastapi.responses import FileResponse
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload

from api.service.deps import get_services
from api.service.errors import ApiError
from api.service.mev import MevWorkflow, spec_from_json
from api.service.mev_models import Mev
from api.service.mev_store import MevStore
from api.service.routers.mev import MEV_ID, REPLY_ID
from api.service.security import Role
from api.service.web.auth import Visitor
from api.service.web.i18n import language, translator
from api.service.web.render import csrf_ok, signed_in
from coverage.errors import InputDataError
from coverage.mev.procedure import TRANSITIONS, MevSpec

MevIdPath = Annotated[str, PathParam(pattern=MEV_ID)]
ReplyIdPath = Annotated[str, PathParam(pattern=REPLY_ID)]
PAGE_SIZE = 50


def flow(request: Request) -> MevWorkflow:
    """The MEV workflow on the app's catalog and workspace (the API's and the CLI's)."""
    return MevWorkflow(MevStore(get_services(request).store))


async def analyst(request: Request) -> Visitor:
    """The signed-in visitor with an analyst or admin key (403 page otherwise)."""
    who = await signed_in(request, Role.PUBLIC)
    if who.principal.role.rank < Role.ANALYST.rank:
        t = translator(language(request))
        raise ApiError(403, "forbidden", t("mev_forbidden", role=who.principal.role.value))
    return who


async def posted(request: Request, who: Visitor, *, files: int = 0) -> FormData:
    """The form of a POST, read after the role check, with its CSRF token checked."""
    form = await request.form(max_files=files, max_fields=1000)
    token = form.get("csrf")
    csrf_ok(request, token if isinstance(token, str) else None, who)
    return form


def text(form: FormData, name: str, limit: int = 200) -> str:
    """A text field of a form, trimmed; 422 when longer than ``limit``."""
    value = form.get(name)
    if value is None or isinstance(value, StarletteUpload):
        return ""
    value = value.strip()
    if len(value) > limit:
        raise InputDataError(f"{name}: at most {limit} characters")
    return value


def day(form: FormData, name: str) -> date | None:
    """A date field (YYYY-MM-DD from the browser's date input), or None when empty."""
    value = text(form, name, 10)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputDataError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None


def upload(form: FormData, name: str) -> StarletteUpload | None:
    """The uploaded file of a field, or None when the field was left empty."""
    value = form.get(name)
    if isinstance(value, StarletteUpload) and value.filename:
        return value
    return None


def actor(request: Request, who: Visitor) -> str:
    """Who does it, for the audit log: the key's name and id (the API writes ``key:<id>``)."""
    row = get_services(request).store.key_by_hash(who.session.key_hash)
    name = (row.name or "").strip() if row is not None else ""
    key = f"key:{who.principal.key_id}"
    return f"{name} ({key})" if name else key


def actions(state: str) -> list[str]:
    """The steps possible in ``state`` (publish, close, reopen, result)."""
    return [a for a, (needs, _) in TRANSITIONS.items() if state in needs]


def countdown(spec: MevSpec, today: date, t: Any) -> tuple[str, str]:
    """The deadline as words (``noch 12 Tage``) and a CSS class (``due``, ``over``)."""
    if today < spec.start:
        return t("mev_not_started", n=(spec.start - today).days), ""
    left = (spec.end - today).days
    if left > 1:
        return t("mev_days_left", n=left), "due" if left <= 7 else ""
    if left == 1:
        return t("mev_day_left"), "due"
    if left == 0:
        return t("mev_last_day"), "due"
    return (t("mev_overdue_1") if left == -1 else t("mev_overdue", n=-left)), "over"


@dataclass
class Paged:
    """One page of rows and the numbers for the page links."""

    rows: list[dict[str, Any]]
    page: int
    pages: int
    total: int


def paged(rows: list[dict[str, Any]], page: int) -> Paged:
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    p = min(max(1, page), pages)
    return Paged(rows[(p - 1) * PAGE_SIZE : p * PAGE_SIZE], p, pages, len(rows))


def mev_file(request: Request, who: Visitor, mev_id: str, rel: str, media: str) -> FileResponse:
    """A file of the MEV's directory (fixed names only); 409 before it exists. Zip downloads
    are audited like the API's."""
    mevs = MevStore(get_services(request).store)
    mevs.get(mev_id)
    path: Path = mevs.dir(mev_id) / rel
    if not path.is_file():
        raise ApiError(409, "not_ready", f"MEV {mev_id} has no {Path(rel).name} yet")
    if rel.endswith(".zip"):
        mevs.note(mev_id, actor(request, who), "download", {"file": rel})
        return FileResponse(path, media_type=media, filename=f"{mev_id}_{Path(rel).name}")
    return FileResponse(path, media_type=media, headers={"Cache-Control": "no-store"})


def header(mev: Mev, t: Any, today: date) -> dict[str, Any]:
    """What every MEV page shows on top: name, state, dates and the countdown."""
    spec = spec_from_json(mev.spec)
    words, css = countdown(spec, today, t)
    return {"mev": mev, "spec": spec, "countdown": words, "countdown_class": css}
