"""Reports of a succeeded run: summaries, grid, gap areas, DEGURBA, diff, map, files.

Public keys get aggregates only: the public tables of the run (cell key method).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from api.service.deps import (
    RUN_ID,
    AnalystKey,
    PublicKey,
    ResultsDep,
    RunDep,
    StoreDep,
    succeeded_run,
)
from api.service.errors import PROBLEM_SCHEMA
from api.service.models import Run
from api.service.responses import CSV, GeoJSONResponse, table_response
from api.service.results import Body, to_wgs84_features

#: ``dialect`` of CSV answers (see api.service.responses.csv_response)
Dialect = Annotated[
    Literal["plain", "excel-de"],
    Query(description="CSV dialect: plain, or excel-de (BOM, ';', decimal comma, AGS as text)"),
]
_PROBLEM = {"content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}}}
router = APIRouter(
    prefix="/runs",
    tags=["reports"],
    responses={401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM, 409: _PROBLEM},
)
_TABLE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}, "text/csv": {}}}
}
_GEO: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}, "application/geo+json": {}, "text/csv": {}}}
}


@router.get("/{run_id}/summary", summary="Summary per Kreis or Gemeinde", responses=_TABLE)
async def summary(
    request: Request,
    run: RunDep,
    results: ResultsDep,
    principal: PublicKey,
    level: Annotated[
        Literal["kreis", "gemeinde"], Query(description="Aggregation level")
    ] = "kreis",
    f: Annotated[Literal["json", "csv"], Query(description="Response format")] = "json",
    dialect: Dialect = "plain",
) -> Response:
    """Addresses, households, eligible count and share, count and share per class, per AGS.

    Public keys get the run's public table: counts perturbed with the cell key method
    (README, Privacy), shares computed from the perturbed counts.
    """
    public = principal.is_public
    fmt = "json" if f == "json" else ("csv-excel-de" if dialect == "excel-de" else "csv")
    # a run's summary never changes: the body of each format is built once per (run, level,
    # audience); only building it (reading the CSV) needs the thread pool
    body = results.cached_summary_body(run, level, public, fmt)
    if body is None:
        body = await run_in_threadpool(results.summary_body, run, level, public, fmt)
    return summary_response(request, run, body, level, f)


def summary_response(request: Request, run: Run, body: Body, level: str, f: str) -> Response:
    """The summary's body with its ETag, or 304 when the client holds it (also sent by
    :mod:`api.service.hot`)."""
    headers = {"ETag": body.etag, "Cache-Control": "private, no-cache", "Vary": _VARY}
    if f == "csv":
        headers["Content-Disposition"] = f'attachment; filename="{run.id}_summary_{level}.csv"'
    if body.etag in _etags(request.headers.get("if-none-match")):
        return Response(status_code=304, headers=headers)
    media = "application/json" if f == "json" else CSV
    return Response(body.data, media_type=media, headers=headers)


#: the answer depends on the caller's role (public keys get the perturbed table)
_VARY = "X-API-Key, Authorization, Cookie"


def _etags(header: str | None) -> set[str]:
    """The entity tags of an If-None-Match header (weak ones compared by their value)."""
    if not header:
        return set()
    return {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}


@router.get("/{run_id}/grid", summary="Summary per 1 km grid cell", responses=_GEO)
def grid(
    run: RunDep,
    results: ResultsDep,
    principal: PublicKey,
    f: Annotated[Literal["json", "csv", "geojson"], Query(description="Response format")] = "json",
    dialect: Dialect = "plain",
) -> Response:
    """Per INSPIRE 1 km cell (when computed in this run); perturbed for public keys."""
    public = principal.is_public
    if f == "geojson":
        return GeoJSONResponse(
            {"type": "FeatureCollection", "features": results.grid_features(run, public)}
        )
    table = results.grid_table(run, public)
    return table_response(
        table, f, f"{run.id}_grid_1km.csv", {"run_id": run.id, **_method(public)}, dialect
    )


@router.get("/{run_id}/gap-areas", summary="Gap areas (candidate project areas)", responses=_GEO)
def gap_areas(
    run: RunDep,
    results: ResultsDep,
    _: AnalystKey,
    f: Annotated[
        Literal["geojson", "json", "csv"], Query(description="Response format")
    ] = "geojson",
    dialect: Dialect = "plain",
) -> Response:
    """Clusters of eligible addresses with their figures, as GeoJSON (WGS84) or a table."""
    frame = results.gap_areas(run)
    if f == "geojson":
        return GeoJSONResponse(
            {
                "type": "FeatureCollection",
                "features": to_wgs84_features(frame, "area_id" if "area_id" in frame else None),
            }
        )
    return table_response(
        frame.drop(columns=frame.geometry.name), f, f"{run.id}_gap_areas.csv",
        {"run_id": run.id}, dialect,
    )  # fmt: skip


@router.get("/{run_id}/degurba", summary="DEGURBA class per Gemeinde", responses=_TABLE)
def degurba(
    run: RunDep,
    results: ResultsDep,
    principal: PublicKey,
    f: Annotated[Literal["json", "csv"], Query(description="Response format")] = "json",
    dialect: Dialect = "plain",
) -> Response:
    """Degree of urbanisation per Gemeinde (when computed in this run)."""
    frame = results.degurba(run, principal.is_public)
    return table_response(
        frame,
        f,
        f"{run.id}_degurba_gemeinde.csv",
        {"run_id": run.id, **_method(principal.is_public)},
        dialect,
    )


def _method(public: bool) -> dict[str, Any]:
    return {"disclosure_control": "cell key method (README, Privacy)" if public else None}


@router.get(
    "/{run_id}/diff/{other_id}",
    summary="Addresses whose class changed between two runs",
    responses=_TABLE,
)
def diff(
    run: RunDep,
    other_id: Annotated[str, Path(pattern=RUN_ID, description="The later run (b)")],
    store: StoreDep,
    results: ResultsDep,
    _: AnalystKey,
    f: Annotated[
        Literal["json", "csv"],
        Query(description="json: counts + a page of changes; csv: all changes"),
    ] = "json",
    limit: Annotated[int, Query(ge=0, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
) -> Response:
    """Changed addresses (a -> b, keyed by address_id) and change counts per Gemeinde."""
    other = succeeded_run(store, other_id)
    d = results.diff(run, other)
    if f == "csv":
        return table_response(d.changes, "csv", f"{run.id}_{other.id}_diff.csv", {})
    from api.service.responses import ORJSONResponse, records

    counts = d.changes["change"].value_counts().to_dict() if len(d.changes) else {}
    page = d.changes.iloc[offset : offset + limit]
    return ORJSONResponse(
        {
            "run_a": run.id,
            "run_b": other.id,
            "changed": len(d.changes),
            "added": d.added,
            "removed": d.removed,
            "by_change": {str(k): int(v) for k, v in counts.items()},
            "per_gemeinde": records(d.per_gemeinde),
            "offset": offset,
            "limit": limit,
            "changes": records(page),
        }
    )


@router.get(
    "/{run_id}/map",
    summary="The run's interactive map",
    response_class=FileResponse,
    responses={200: {"content": {"text/html": {}}}},
)
def run_map(run: RunDep, results: ResultsDep, _: AnalystKey) -> FileResponse:
    """``map.html`` when the run produced one."""
    return FileResponse(results.optional(run, "map"), media_type="text/html; charset=utf-8")


@router.get(
    "/{run_id}/files/{name}", summary="Download a file of the run", response_class=FileResponse
)
def run_file(
    run: RunDep,
    name: Annotated[str, Path(max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")],
    results: ResultsDep,
    _: AnalystKey,
) -> FileResponse:
    """Only the files listed in the run's manifest (``files``) are served."""
    path = results.file(run, name)
    return FileResponse(path, filename=f"{run.id}_{name}")
