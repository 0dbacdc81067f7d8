"""A run's pages: report, Gemeinde, map, address search and downloads.

What a key sees is what the API gives it: public keys get the summaries with small-count
the public tables the run wrote (cell key method, README "Privacy"), no gap areas, no addresses
and no per-address downloads; analyst keys get everything.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from api.service.deps import RUN_ID, get_services, succeeded_run_async
from api.service.errors import ApiError
from api.service.models import Run
from api.service.responses import ORJSONResponse
from api.service.security import Role
from api.service.web import charts, downloads
from api.service.web.auth import Visitor
from api.service.web.i18n import language, number, translator
from api.service.web.render import page, render, signed_in
from maps.i18n import class_label

router = APIRouter(prefix="/ui/runs", include_in_schema=False)
RunIdPath = Annotated[str, Path(pattern=RUN_ID)]
AgsPath = Annotated[str, Path(pattern=r"^\d{8}$")]
TOP_GAPS = 10


async def _open(request: Request, run_id: str, minimum: Role = Role.PUBLIC) -> tuple[Visitor, Run]:
    who = await signed_in(request, minimum)
    return who, await succeeded_run_async(get_services(request).store, run_id)


def _tables(request: Request, run: Run, who: Visitor) -> dict[str, pd.DataFrame]:
    results = get_services(request).results
    public = who.principal.is_public
    return {level: results.summary(run, level, public=public) for level in ("kreis", "gemeinde")}


def _classes(manifest: dict[str, Any], summary: pd.DataFrame) -> list[str]:
    listed = list((manifest.get("profile") or {}).get("classes") or [])
    return listed or [c.removeprefix("n_") for c in summary.columns if c.startswith("n_")]


def _meta(request: Request, run: Run) -> dict[str, Any]:
    manifest = get_services(request).results.manifest(run)
    profile = manifest.get("profile") or {}
    return {
        "run": run,
        "manifest": manifest,
        "profile_id": profile.get("id", run.profile),
        "profile_version": profile.get("version", ""),
        "profile_title": profile.get("title", ""),
        "synthetic": manifest.get("synthetic_data"),
    }


def _gaps(request: Request, run: Run, ags: str | None = None) -> list[dict[str, Any]]:
    results = get_services(request).results
    try:
        frame = results.gap_areas(run)
    except ApiError:
        return []
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    if ags is not None and "ags" in table:
        table = table[table["ags"].astype(str) == ags]
    # the engine's names: screening_score/cost_central (cost ranges), priority/cost_eur before
    score = "screening_score" if "screening_score" in table else "priority"
    if score in table:
        table = table.sort_values(score, ascending=False, kind="stable", na_position="last")
    rows = table.head(TOP_GAPS).to_dict("records")
    for row in rows:
        row["score"] = row.get(score)
        row["cost"] = row.get("cost_central", row.get("cost_eur"))
        row["length_m"] = row.get("route_m", row.get("trench_m"))
    return rows


@router.get("/{run_id}")
@page
async def report_page(request: Request, run_id: RunIdPath) -> Response:
    """Tables per Kreis and Gemeinde, charts, top gap areas and downloads."""
    who, run = await _open(request, run_id)
    lang = language(request)
    t = translator(lang)

    def build() -> dict[str, Any]:
        meta = _meta(request, run)
        tables = _tables(request, run, who)
        classes = _classes(meta["manifest"], tables["gemeinde"])
        shares = charts.class_shares(tables["gemeinde"], classes, lang, t("none"))
        rurality = charts.eligible_by_rurality(
            tables["gemeinde"], lambda c: t(f"degurba_{c}"), lambda v: number(v, lang)
        )
        return {
            **meta,
            "kreise": tables["kreis"].to_dict("records"),
            "gemeinden": tables["gemeinde"].to_dict("records"),
            "classes": classes,
            "class_labels": {c: class_label(c, lang) for c in classes},
            "chart_shares": shares,
            "chart_rurality": rurality,
            "gaps": [] if who.principal.is_public else _gaps(request, run),
        }

    return render(request, "report.html", await run_in_threadpool(build), who=who)


@router.get("/{run_id}/gemeinde/{ags}")
@page
async def gemeinde_page(request: Request, run_id: RunIdPath, ags: AgsPath) -> Response:
    """Key figures, map link, gap areas and the evidence download of one Gemeinde."""
    who, run = await _open(request, run_id)
    lang = language(request)

    def build() -> dict[str, Any]:
        meta = _meta(request, run)
        table = _tables(request, run, who)["gemeinde"]
        hit = table[table["ags"].astype(str) == ags]
        if hit.empty:
            raise ApiError(404, "not_found", f"run {run.id} has no Gemeinde {ags}")
        row = hit.iloc[0].to_dict()
        return {
            **meta,
            "g": row,
            "ags": ags,
            "classes": (classes := _classes(meta["manifest"], table)),
            "class_labels": {c: class_label(c, lang) for c in classes},
            "gaps": [] if who.principal.is_public else _gaps(request, run, ags),
        }

    return render(request, "gemeinde.html", await run_in_threadpool(build), who=who)


@router.get("/{run_id}/map")
@page
async def map_page(
    request: Request,
    run_id: RunIdPath,
    ags: Annotated[str | None, Query(pattern=r"^\d{8}$")] = None,
) -> Response:
    """The Folium map reading the run's vector tiles."""
    from api.service.web.mappage import map_html
    from api.service.web.render import nonce

    who, run = await _open(request, run_id)
    lang = language(request)

    def build() -> str:
        meta = _meta(request, run)
        results = get_services(request).results
        bounds = None
        try:
            munis = results.municipalities(run)
            focus = munis[munis["ags"].astype(str) == ags] if ags else munis
            if len(focus):
                x0, y0, x1, y1 = focus.total_bounds
                bounds = [[float(y0), float(x0)], [float(y1), float(x1)]]
        except ApiError:
            pass
        if bounds is None:
            table = results.addresses(run)
            bounds = [
                [float(table.lat.min()), float(table.lon.min())],
                [float(table.lat.max()), float(table.lon.max())],
            ]
        return map_html(
            run=run,
            meta=meta,
            bounds=bounds,
            public=who.principal.is_public,
            lang=lang,
            nonce=nonce(request),
            csrf=who.session.csrf,
            role=who.principal.role.value,
        )

    html = await run_in_threadpool(build)
    return Response(
        html, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"}
    )


@router.get("/{run_id}/lookup")
async def lookup(
    request: Request,
    run_id: RunIdPath,
    q: Annotated[str, Query(min_length=3, max_length=200)],
) -> Response:
    """Address search on the map (analyst): the lookup endpoint's text match in this run,
    with the explanation and the address's tile properties (for the same popup)."""
    from api.service.addresses import explain
    from api.service.tiles import ADDRESS_PROPS

    _, run = await _open(request, run_id, Role.ANALYST)
    results = get_services(request).results

    def find() -> dict[str, Any]:
        table = results.addresses(run)
        i, candidates = table.find_text(q)
        row = table.row(i)
        return {
            "run_id": run.id,
            "candidates": candidates,
            "lon": float(table.lon[i]),
            "lat": float(table.lat[i]),
            "properties": {c: row[c] for c in ADDRESS_PROPS if row.get(c) is not None},
            **explain(table, i),
        }

    return ORJSONResponse(await run_in_threadpool(find))


Download = Literal[
    "summary_kreis.csv",
    "summary_gemeinde.csv",
    "summary_kreis.xlsx",
    "summary_gemeinde.xlsx",
    "addresses.gpkg",
    "addresses.parquet",
    "evidence.zip",
]


@router.get("/{run_id}/download/{name}")
@page
async def download(
    request: Request,
    run_id: RunIdPath,
    name: Download,
    ags: Annotated[str | None, Query(pattern=r"^\d{5}(\d{3})?$")] = None,
) -> Response:
    """Tables (public: perturbed), and for analysts addresses and evidence packs."""
    per_address = name.startswith("addresses") or name == "evidence.zip"
    who, run = await _open(request, run_id, Role.ANALYST if per_address else Role.PUBLIC)
    services = get_services(request)
    lang = language(request)
    stem = f"{run.id}_{name}" if not ags else f"{run.id}_{ags}_{name}"
    if name.startswith("summary_"):
        level = name.split("_", 1)[1].split(".")[0]
        frame = _tables(request, run, who)[level]
        if name.endswith(".csv"):
            body = await run_in_threadpool(downloads.csv_excel, frame)
            media = "text/csv; charset=utf-8"
        else:
            body = await run_in_threadpool(downloads.xlsx, frame, level)
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(
            body,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{stem}"'},
        )
    run_dir = services.store.run_dir(run.id)
    cache = services.settings.workspace / "downloads" / run.id
    if name == "addresses.parquet":
        path = services.results.file(run, "addresses.parquet")
    elif name == "addresses.gpkg":
        path = await run_in_threadpool(
            downloads.built,
            cache / "addresses.gpkg",
            lambda out: downloads.write_gpkg(run_dir / "addresses.parquet", out),
        )
    else:
        target = cache / f"evidence_{ags or 'all'}_{lang}.zip"
        path = await run_in_threadpool(
            downloads.built,
            target,
            lambda out: downloads.write_evidence(run_dir, out, ags, lang),
        )
    return FileResponse(path, filename=stem)
