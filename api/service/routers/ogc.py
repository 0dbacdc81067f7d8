"""OGC API - Features (Part 1: core, GeoJSON, OAS 3.0) over the newest succeeded run.

Readable by GDAL's OGCAPI driver: ``ogrinfo OAPIF:http://host:port/ogc``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.service import ogc
from api.service.addresses import parse_bbox
from api.service.deps import PublicKey, ResultsDep, StoreDep, newest_succeeded_run
from api.service.errors import PROBLEM_SCHEMA
from api.service.reads import feature_collection
from api.service.responses import GEOJSON, ORJSONResponse

_PROBLEM = {"content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}}}
router = APIRouter(
    prefix="/ogc",
    tags=["OGC API - Features"],
    responses={400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM},
)

CollectionId = Annotated[str, Path(pattern=r"^[a-z-]{1,40}$", examples=["municipalities"])]
Fmt = Annotated[Literal["json"] | None, Query(description="Only JSON (GeoJSON for items)")]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("", summary="Landing page")
def landing(request: Request, f: Fmt = None) -> Response:
    """Links to the API definition, the conformance declaration and the collections."""
    base = _base(request)
    return ORJSONResponse(
        {
            "title": "gapmap OGC API - Features",
            "description": "Broadband coverage classes of the newest succeeded run.",
            "links": [
                {
                    "href": f"{base}/ogc",
                    "rel": "self",
                    "type": "application/json",
                    "title": "This document",
                },
                {
                    "href": f"{base}/openapi.json",
                    "rel": "service-desc",
                    "type": "application/vnd.oai.openapi+json;version=3.0",
                    "title": "API definition",
                },
                {
                    "href": f"{base}/docs",
                    "rel": "service-doc",
                    "type": "text/html",
                    "title": "API documentation",
                },
                {
                    "href": f"{base}/ogc/conformance",
                    "rel": "conformance",
                    "type": "application/json",
                    "title": "Conformance",
                },
                {
                    "href": f"{base}/ogc/collections",
                    "rel": "data",
                    "type": "application/json",
                    "title": "Collections",
                },
            ],
        }
    )


@router.get("/conformance", summary="Conformance declaration")
def conformance(f: Fmt = None) -> Response:
    """The conformance classes implemented."""
    return ORJSONResponse({"conformsTo": ogc.CONFORMANCE})


@router.get("/collections", summary="Collections of the newest succeeded run")
def collections(
    request: Request, store: StoreDep, results: ResultsDep, principal: PublicKey, f: Fmt = None
) -> Response:
    """The collections this key may read (empty before the first succeeded run)."""
    base = _base(request)
    runs = store.list_runs("succeeded", 1, 0)
    docs = []
    if runs.items:
        run = store.newest_succeeded_run()
        docs = [ogc.describe(results, run, c, base) for c in ogc.available(results, run, principal)]
    return ORJSONResponse(
        {
            "links": [
                {"href": f"{base}/ogc/collections", "rel": "self", "type": "application/json"}
            ],
            "collections": docs,
        }
    )


@router.get("/collections/{collection_id}", summary="One collection")
def collection(
    request: Request,
    collection_id: CollectionId,
    store: StoreDep,
    results: ResultsDep,
    principal: PublicKey,
    f: Fmt = None,
) -> Response:
    """Metadata and extent (CRS84) of one collection."""
    run = store.newest_succeeded_run()
    c = ogc.get(results, run, principal, collection_id)
    return ORJSONResponse(ogc.describe(results, run, c, _base(request)))


#: Default page size of the items: large enough that a GIS reads a Gemeinde's addresses in
#: a few requests (GDAL's OAPIF driver takes the default and maximum of ``limit`` from the
#: OpenAPI document; set ``-oo PAGE_SIZE=`` to choose another).
PAGE_SIZE = 1000


@router.get(
    "/collections/{collection_id}/items",
    summary="Features of a collection",
    responses={200: {"content": {"application/geo+json": {}}}},
)
async def items(
    request: Request,
    collection_id: CollectionId,
    store: StoreDep,
    results: ResultsDep,
    principal: PublicKey,
    bbox: Annotated[
        str | None, Query(max_length=200, description="minlon,minlat,maxlon,maxlat (CRS84)")
    ] = None,
    limit: Annotated[
        int,
        Query(ge=1, le=10000, description=f"Features per page (default {PAGE_SIZE})."),
    ] = PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
    f: Fmt = None,
) -> Response:
    """GeoJSON features with numberMatched, numberReturned and a next link."""
    run = await newest_succeeded_run(store)
    box = parse_bbox(bbox) if bbox else None
    if collection_id == "addresses" and results.cached_address_reads(run) is not None:
        # the run's address store is open: a page is a few slices and block reads, cheaper
        # than the hop to the thread pool
        c = ogc.get(results, run, principal, collection_id)
        feats, matched = ogc.items(results, run, c, principal, box, limit, offset)
    else:
        c = await run_in_threadpool(ogc.get, results, run, principal, collection_id)
        feats, matched = await run_in_threadpool(
            ogc.items, results, run, c, principal, box, limit, offset
        )
    return items_response(request, feats, matched, limit, offset)


def items_response(
    request: Request, feats: list[bytes], matched: int, limit: int, offset: int
) -> Response:
    """The items page: the features with numberMatched, numberReturned, timeStamp and the
    self and next links (also sent by :mod:`api.service.hot` for the addresses)."""
    url = request.url
    links = [
        {
            "href": str(url.include_query_params(limit=limit, offset=offset)),
            "rel": "self",
            "type": "application/geo+json",
        }
    ]
    if offset + len(feats) < matched:
        nxt = url.include_query_params(limit=limit, offset=offset + len(feats))
        links.append({"href": str(nxt), "rel": "next", "type": "application/geo+json"})
    head = {
        "numberMatched": matched,
        "numberReturned": len(feats),
        "timeStamp": ogc.timestamp(),
        "links": links,
    }
    return Response(feature_collection(head, feats), media_type=GEOJSON)


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    summary="One feature",
    responses={200: {"content": {"application/geo+json": {}}}},
)
def item(
    collection_id: CollectionId,
    feature_id: Annotated[str, Path(max_length=200)],
    store: StoreDep,
    results: ResultsDep,
    principal: PublicKey,
    f: Fmt = None,
) -> Response:
    """A single feature by its id (address_id, AGS or gap area id)."""
    run = store.newest_succeeded_run()
    c = ogc.get(results, run, principal, collection_id)
    return Response(ogc.feature(results, run, c, principal, feature_id), media_type=GEOJSON)
