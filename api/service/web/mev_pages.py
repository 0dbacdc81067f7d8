"""MEV pages: the list with the "new MEV" form, one MEV with its steps, dates, files and
the audit log. Replies, conflicts and the result are in ``mev_review``.

Every step is ``api.service.mev.MevWorkflow`` (the same as ``gapmap mev`` and ``/mev``);
the pages only read forms and show what the workflow returns. Analyst and admin keys only.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Any, Literal

import shapely
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload

from api.service.deps import DATASET_ID, get_services
from api.service.mev import MevWorkflow
from api.service.routers.mev import mev_inputs
from api.service.store import Store
from api.service.web.i18n import language, translator
from api.service.web.mev_view import (
    MevIdPath,
    actions,
    actor,
    analyst,
    day,
    flow,
    header,
    mev_file,
    posted,
    text,
    upload,
)
from api.service.web.render import page, render
from coverage.errors import GapmapError, InputDataError
from coverage.mev.procedure import MIN_HORIZON_MONTHS, STATES, MevSpec

router = APIRouter(prefix="/ui/mev", include_in_schema=False)
RUN_ID = r"^run_[0-9a-f]{12}$"
AREA_SUFFIXES = {".gpkg": "GPKG", ".geojson": "GeoJSON"}


# -- the list and the new-MEV form -------------------------------------------------------------
def _gemeinden(
    request: Request, store: Store, dataset_ids: list[str]
) -> dict[str, list[tuple[str, str]] | str]:
    """Gemeinden (AGS, name) of each boundaries dataset, read once per dataset (datasets
    never change) through the run's boundary reader; the reader's message when it refuses."""
    from coverage.run_inputs import LayerSpec, load_boundaries, region_for

    cache: dict[str, list[tuple[str, str]] | str] | None = getattr(
        request.app.state, "mev_gemeinden", None
    )
    if cache is None:
        cache = request.app.state.mev_gemeinden = {}
    for ds_id in dataset_ids:
        if ds_id not in cache:
            try:
                path = store.dataset_path(store.get_dataset(ds_id))
                frame, _, _ = load_boundaries(LayerSpec(path), region_for("de"))
            except GapmapError as exc:
                cache[ds_id] = str(exc)
                continue
            g = frame[frame["level"] == "gemeinde"].sort_values("name")
            cache[ds_id] = [(str(a), str(n)) for a, n in zip(g["ags"], g["name"], strict=True)]
    return {d: cache[d] for d in dataset_ids}  # fmt: skip


def _row(f: MevWorkflow, mev: Any, t: Any, today: date) -> dict[str, Any]:
    top = header(mev, t, today)
    open_k = None
    if mev.state in ("published", "closed", "result"):
        try:
            open_k = f.reconcile(mev.id).open_conflicts()
        except (GapmapError, OSError):  # the list shows even when one MEV's files are gone
            open_k = None
    return {
        **top,
        "open_conflicts": open_k,
        "replies": len(f.mevs.replies(mev.id, current_only=True)),
    }


@router.get("")
@page
async def mev_list(request: Request) -> Response:
    """Every MEV (state, dates, countdown, open conflicts) and the form for a new one."""
    who = await analyst(request)
    t = translator(language(request))
    store = get_services(request).store

    def load() -> dict[str, Any]:
        from coverage.profiles import families, list_profiles

        f = flow(request)
        today = date.today()
        datasets = store.list_datasets(None, 1000, 0).items
        runs = [r for r in store.list_runs(None, 100, 0).items if r.state == "succeeded"]
        bounds = [d for d in datasets if d.kind == "boundaries"]
        return {
            "rows": [_row(f, m, t, today) for m in f.mevs.list()],
            "addresses": [d for d in datasets if d.kind == "addresses"],
            "boundaries": bounds,
            "gemeinden": _gemeinden(request, store, [d.id for d in bounds]),
            "runs": runs,
            "families": [f for f, members in families().items() if members[0].jurisdiction == "DE"],
            "profiles": [(p.id, p.version, p.title) for p in list_profiles() if p.jurisdiction == "DE"],
            "horizon": MIN_HORIZON_MONTHS,
            "states": STATES,
        }  # fmt: skip

    return render(request, "mev_list.html", await run_in_threadpool(load), who=who)


def _area_wkt(store: Store, up: StarletteUpload) -> str:
    """The project area of an uploaded polygon file as WKT in the working CRS; the file is
    read by the GDAL driver its extension names (GPKG or GeoJSON), nothing else."""
    from coverage.io.vector import read_vector
    from coverage.run_inputs import region_for

    name = Path(up.filename or "").name
    suffix = Path(name).suffix.lower()
    if suffix not in AREA_SUFFIXES:
        raise InputDataError(
            f"{name or 'area'}: the project area is a GeoPackage (.gpkg) or GeoJSON (.geojson), "
            f"not {suffix or 'a file without extension'}"
        )
    store.tmp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=store.tmp_dir, prefix="area-") as tmp:
        dest = Path(tmp) / f"area{suffix}"
        with dest.open("wb") as fh:
            shutil.copyfileobj(up.file, fh, 1 << 20)
        frame = read_vector(dest).frame
    if frame.crs is None:
        raise InputDataError(f"{name}: the polygons have no CRS; save them with one (EPSG:25832)")
    polys = frame[frame.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polys.empty:
        raise InputDataError(f"{name}: no polygon in the file; draw the project area as a polygon")
    geom = shapely.make_valid(
        shapely.union_all(polys.to_crs(region_for("de").working_crs).geometry.values)
    )
    return str(geom.wkt)  # fmt: skip


def _choice(form: Any, name: str, pattern: str) -> str | None:
    value = text(form, name, 40)
    if not value:
        return None
    if not re.fullmatch(pattern, value):
        raise InputDataError(f"{name}: {value!r} is not an id of this service")
    return value


@router.post("")
@page
async def mev_create(request: Request) -> Response:
    """Create an MEV in state draft (its warnings are shown on its page)."""
    who = await analyst(request)
    form = await posted(request, who, files=1)
    store = get_services(request).store
    ags = sorted({a.strip() for a in form.getlist("ags") if isinstance(a, str) and a.strip()})
    area_file = upload(form, "area")

    def create() -> str:
        addresses = _choice(form, "addresses", DATASET_ID)
        if addresses is None:
            raise InputDataError("addresses: choose the address base (upload it under Datasets)")
        start, end = day(form, "start"), day(form, "end")
        if start is None or end is None:
            raise InputDataError(
                "start, end: give the first day of the publication and the deadline"
            )
        try:
            horizon = int(text(form, "horizon_months", 4) or MIN_HORIZON_MONTHS)
        except ValueError:
            raise InputDataError("horizon_months: give whole months, e.g. 36") from None
        spec = MevSpec(name=text(form, "name"), start=start, end=end,
                       profile=text(form, "profile", 100) or MevSpec.profile, horizon_months=horizon,
                       branchendialog=day(form, "branchendialog"), area_ags=tuple(ags),
                       area_wkt=_area_wkt(store, area_file) if area_file else None,
                       stichtag=day(form, "stichtag"))  # fmt: skip
        inputs = mev_inputs(store, addresses, _choice(form, "boundaries", DATASET_ID),
                            _choice(form, "baseline_run", RUN_ID))  # fmt: skip
        return flow(request).create(spec, inputs, actor(request, who)).id

    mev_id = await run_in_threadpool(create)
    return RedirectResponse(f"/ui/mev/{mev_id}", status_code=303)


# -- one MEV -----------------------------------------------------------------------------------
@router.get("/{mev_id}")
@page
async def mev_detail(request: Request, mev_id: MevIdPath) -> Response:
    """State, warnings, the possible steps, dates, the operator package and the area map."""
    who = await analyst(request)
    t = translator(language(request))

    def load() -> dict[str, Any]:
        f = flow(request)
        mev = f.mevs.get(mev_id)
        base = f.mevs.dir(mev_id)
        row = _row(f, mev, t, date.today())
        names = {}
        bid = (mev.inputs or {}).get("boundaries_dataset")
        if bid:
            found = _gemeinden(request, get_services(request).store, [bid])[bid]
            names = dict(found) if isinstance(found, list) else {}
        return {
            **row,
            "actions": actions(mev.state),
            "states": STATES,
            "area_names": [f"{names.get(a, '')} ({a})".strip() for a in row["spec"].area_ags],
            "has_package": (base / "package.zip").is_file(),
            "has_area_png": (base / "package" / "projektgebiet.png").is_file(),
            "has_result": (base / "result.zip").is_file(),
            "dates_open": mev.state in ("draft", "published"),
        }

    return render(request, "mev_detail.html", await run_in_threadpool(load), who=who)


@router.post("/{mev_id}/step/{action}")
@page
async def mev_step(
    request: Request, mev_id: MevIdPath, action: Literal["publish", "close", "reopen", "result"]
) -> Response:
    """One step of the state machine (the workflow refuses a step the state does not allow)."""
    who = await analyst(request)
    form = await posted(request, who)
    contact = text(form, "contact", 300) or None
    by = actor(request, who)

    def step() -> None:
        f = flow(request)
        if action == "publish":
            f.publish(mev_id, by, contact=contact)
        elif action == "result":
            from api.service.mev_result import build_result

            build_result(f, mev_id, by)
        else:
            f.transition(mev_id, action, by)

    await run_in_threadpool(step)
    target = f"/ui/mev/{mev_id}/result" if action == "result" else f"/ui/mev/{mev_id}"
    return RedirectResponse(target, status_code=303)


@router.post("/{mev_id}/dates")
@page
async def mev_dates(request: Request, mev_id: MevIdPath) -> Response:
    """Change dates (draft or published); the warnings are checked again."""
    who = await analyst(request)
    form = await posted(request, who)
    dates = {k: day(form, k) for k in ("start", "end", "branchendialog", "stichtag")}
    by = actor(request, who)
    await run_in_threadpool(lambda: flow(request).set_dates(mev_id, by, **dates))
    return RedirectResponse(f"/ui/mev/{mev_id}", status_code=303)


_FILES = {
    "package.zip": ("package.zip", "application/zip"),
    "result.zip": ("result.zip", "application/zip"),
    "area.png": ("package/projektgebiet.png", "image/png"),
    "result.png": ("result/ergebnis_karte.png", "image/png"),
}


@router.get("/{mev_id}/file/{name}")
@page
async def mev_download(
    request: Request,
    mev_id: MevIdPath,
    name: Literal["package.zip", "result.zip", "area.png", "result.png"],
) -> Response:
    """The operator package, the result pack and the two map images."""
    who = await analyst(request)
    rel, media = _FILES[name]
    return await run_in_threadpool(mev_file, request, who, mev_id, rel, media)


# -- audit log ---------------------------------------------------------------------------------
def _detail(detail: dict[str, Any]) -> str:
    shown = {k: v for k, v in (detail or {}).items() if k not in ("inputs", "spec")}
    if "spec" in (detail or {}):
        spec = detail["spec"]
        shown["spec"] = {
            k: spec.get(k) for k in ("start", "end", "branchendialog", "profile", "horizon_months")
        }
    return json.dumps(shown, ensure_ascii=False, default=str, sort_keys=True)  # fmt: skip


@router.get("/{mev_id}/audit")
@page
async def mev_audit(request: Request, mev_id: MevIdPath) -> Response:
    """Who did what when (every change of the MEV, every reply, decision and download)."""
    who = await analyst(request)
    t = translator(language(request))

    def load() -> dict[str, Any]:
        f = flow(request)
        mev = f.mevs.get(mev_id)
        rows = [{"at": a.at, "actor": a.actor, "action": a.action, "detail": _detail(a.detail)}
                for a in f.mevs.audit(mev_id)]  # fmt: skip
        return {**header(mev, t, date.today()), "rows": rows}

    return render(request, "mev_audit.html", await run_in_threadpool(load), who=who)
