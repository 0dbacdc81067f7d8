"""Per-address results (analyst keys): filtered listing with cursors, one address, lookup.

Operator-reported coverage is confidential: nothing here reaches a public key.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.service.addresses import (
    AddressTable,
    explain,
    page,
    page_features,
    page_records,
)
from api.service.deps import AnalystKey, ResultsDep, RunDep, StoreDep, newest_succeeded_run
from api.service.errors import PROBLEM_SCHEMA, ApiError
from api.service.models import Run
from api.service.responses import GeoJSONResponse, ORJSONResponse, csv_response

_PROBLEM = {"content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}}}
router = APIRouter(
    tags=["addresses"],
    responses={400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM, 409: _PROBLEM},
)


@router.get(
    "/runs/{run_id}/addresses",
    summary="Addresses of a run, filtered, with cursor pagination",
    responses={
        200: {"content": {"application/json": {}, "application/geo+json": {}, "text/csv": {}}}
    },
)
def list_addresses(
    request: Request,
    run: RunDep,
    results: ResultsDep,
    _: AnalystKey,
    ags: Annotated[
        str | None, Query(pattern=r"^\d{1,12}$", description="AGS prefix", examples=["05974"])
    ] = None,
    klass: Annotated[str | None, Query(alias="class", max_length=40, examples=["white"])] = None,
    eligible: bool | None = None,
    site_type: Annotated[str | None, Query(max_length=40, examples=["residential"])] = None,
    bbox: Annotated[
        str | None,
        Query(
            max_length=200,
            description="minlon,minlat,maxlon,maxlat (WGS84)",
            examples=["8.0,51.3,8.5,51.6"],
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[
        str | None, Query(max_length=500, description="next_cursor of the previous page")
    ] = None,
    f: Annotated[Literal["json", "geojson", "csv"], Query(description="Response format")] = "json",
) -> Response:
    """Addresses in file order; ``next_cursor`` continues after the last one returned."""
    table = results.addresses(run)
    rows, matched, next_cursor = page(
        table,
        ags=ags,
        klass=klass,
        eligible=eligible,
        site_type=site_type,
        bbox=bbox,
        cursor=cursor,
        limit=limit,
    )
    next_url = str(request.url.include_query_params(cursor=next_cursor)) if next_cursor else None
    if f == "csv":
        return csv_response(table.frame.iloc[rows], f"{run.id}_addresses.csv")
    meta = {
        "run_id": run.id,
        "number_matched": matched,
        "number_returned": len(rows),
        "next_cursor": next_cursor,
        "links": {"next": next_url},
    }
    if f == "geojson":
        return GeoJSONResponse(
            {"type": "FeatureCollection", **meta, "features": page_features(table, rows)}
        )
    items = page_records(table, rows)
    return ORJSONResponse({**meta, "items": items})


@router.get(
    "/runs/{run_id}/addresses/{address_id}", summary="One address with its full explanation"
)
def show_address(
    run: RunDep,
    address_id: Annotated[str, Path(max_length=200)],
    results: ResultsDep,
    _: AnalystKey,
) -> Response:
    """Class, eligibility, reason code and reason, best and planned offers, network counts."""
    table = results.addresses(run)
    return ORJSONResponse({"run_id": run.id, **explain(table, table.index_of(address_id))})


@router.get("/lookup", summary="Nearest address or address search in the newest run")
async def lookup(
    store: StoreDep,
    results: ResultsDep,
    _: AnalystKey,
    lon: Annotated[float | None, Query(ge=-180, le=180, examples=[8.3482])] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, examples=[51.4426])] = None,
    q: Annotated[
        str | None, Query(min_length=3, max_length=200, examples=["Hauptstraße 5, Warstein"])
    ] = None,
    max_distance_m: Annotated[float | None, Query(gt=0, le=100_000)] = None,
) -> Response:
    """``lon``+``lat``: the nearest address (distance in metres). ``q``: 'street number[, place]'."""
    if (lon is None) != (lat is None) or (lon is None and not q) or (lon is not None and q):
        raise ApiError(422, "lookup_invalid", "give either lon and lat, or q")
    run = await newest_succeeded_run(store)
    # Hot path on the event loop: once the run's table and index are in memory a lookup is
    # a few hundred microseconds of CPU, less than a hop to the thread pool. Loading the
    # table or building an index (seconds) happens in the thread pool: the event loop
    # never builds anything nor waits for a lock.
    table = results.cached_addresses(run)
    if table is not None and table.rows_ready and (table.text_ready if q else table.nearest_ready):
        return _lookup(run, table, lon, lat, q, max_distance_m)
    return await run_in_threadpool(
        lambda: _lookup(run, results.addresses(run), lon, lat, q, max_distance_m)
    )


def _lookup(
    run: Run,
    table: AddressTable,
    lon: float | None,
    lat: float | None,
    q: str | None,
    max_distance_m: float | None,
) -> Response:
    extra: dict[str, Any]
    if q:
        i, candidates = table.find_text(q)
        extra = {"match": "text", "candidates": candidates}
    else:
        assert lon is not None and lat is not None
        i, distance = table.nearest(lon, lat)
        if max_distance_m is not None and distance > max_distance_m:
            raise ApiError(
                404, "not_found", f"no address within {max_distance_m:g} m of lon={lon}, lat={lat}"
            )
        extra = {"match": "nearest", "distance_m": round(distance, 1)}
    return ORJSONResponse({"run_id": run.id, **extra, **explain(table, i)})
