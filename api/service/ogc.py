"""OGC API - Features over the newest succeeded run: collection metadata and item pages.

Collections: ``addresses`` (analyst), ``gap-areas`` (analyst, when computed) and
``municipalities`` (summary_gemeinde on the Gemeinde polygons; public keys get it with
its public version, perturbed with the cell key method). Geometry is GeoJSON in CRS84 (lon/lat).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd

from api.service.errors import ApiError
from api.service.models import Run
from api.service.responses import dumps
from api.service.results import Results, to_wgs84_features
from api.service.security import Principal, Role
from coverage.errors import NotFoundError

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]


@dataclass(frozen=True)
class CollectionDef:
    """A collection: id, title, description and the role it needs."""

    id: str
    title: str
    description: str
    role: Role


COLLECTIONS = {
    "addresses": CollectionDef(
        "addresses",
        "Addresses",
        "Every address with its class, eligibility and reason (confidential).",
        Role.ANALYST,
    ),
    "gap-areas": CollectionDef(
        "gap-areas",
        "Gap areas",
        "Clusters of eligible addresses: candidate project areas.",
        Role.ANALYST,
    ),
    "municipalities": CollectionDef(
        "municipalities",
        "Municipalities",
        "Per-Gemeinde summary on the Gemeinde boundaries.",
        Role.PUBLIC,
    ),
}


def available(results: Results, run: Run, principal: Principal) -> list[CollectionDef]:
    """The collections this run has and this key may read."""
    out = []
    for c in COLLECTIONS.values():
        if principal.role.rank < c.role.rank:
            continue
        if c.id == "gap-areas" and not results.path(run, "gap_areas.parquet").is_file():
            continue
        if c.id == "municipalities" and not run.inputs.get("boundaries"):
            continue
        out.append(c)
    return out


def get(results: Results, run: Run, principal: Principal, collection_id: str) -> CollectionDef:
    """One collection, 404 when unknown or absent, 403 when the role is too small."""
    c = COLLECTIONS.get(collection_id)
    if c is None:
        raise ApiError(404, "not_found", f"no collection {collection_id!r}; see /ogc/collections")
    if principal.role.rank < c.role.rank:
        raise ApiError(
            403, "forbidden", f"collection {collection_id} needs a key with role {c.role.value}"
        )
    if c not in available(results, run, principal):
        raise ApiError(404, "not_computed", f"{collection_id}: not computed in run {run.id}")
    return c


def _frame(results: Results, run: Run, c: CollectionDef, principal: Principal) -> gpd.GeoDataFrame:
    if c.id == "gap-areas":
        return results.gap_areas(run)
    return results.municipalities(run, public=principal.is_public)


def extent(results: Results, run: Run, c: CollectionDef) -> list[float]:
    """Bounding box of a collection in CRS84."""
    if c.id == "addresses":
        return list(results.address_reads(run).extent)
    frame = results.gap_areas(run) if c.id == "gap-areas" else results.municipalities(run)
    return [float(v) for v in frame.total_bounds]


def describe(results: Results, run: Run, c: CollectionDef, base: str) -> dict[str, Any]:
    """The collection document."""
    href = f"{base}/ogc/collections/{c.id}"
    return {
        "id": c.id,
        "title": c.title,
        "description": f"{c.description} Run {run.id}.",
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [extent(results, run, c)], "crs": CRS84}},
        "links": [
            {"href": href, "rel": "self", "type": "application/json", "title": c.title},
            {
                "href": f"{href}/items",
                "rel": "items",
                "type": "application/geo+json",
                "title": "Features",
            },
        ],
    }


def items(
    results: Results, run: Run, c: CollectionDef, principal: Principal,
    bbox: tuple[float, float, float, float] | None, limit: int, offset: int,
) -> tuple[list[bytes], int]:  # fmt: skip
    """One page of features (each as its GeoJSON bytes) and numberMatched.

    Addresses come from the run's prepared store (:mod:`api.service.reads`), the other
    collections (thousands of polygons at most) from their frames.
    """
    if c.id == "addresses":
        return results.address_reads(run).page(bbox, offset, limit)
    frame = _frame(results, run, c, principal)
    if bbox is not None:
        b = frame.bounds
        keep = (
            (b["minx"] <= bbox[2])
            & (b["maxx"] >= bbox[0])
            & (b["miny"] <= bbox[3])
            & (b["maxy"] >= bbox[1])
        )
        frame = frame[keep.to_numpy(dtype=bool)]
    id_col = _id_column(c, frame)
    feats = to_wgs84_features(frame.iloc[offset : offset + limit], id_col)
    return [dumps(f) for f in feats], len(frame)


def _id_column(c: CollectionDef, frame: gpd.GeoDataFrame) -> str | None:
    """The stable feature id: AGS of a Gemeinde, ``area_id`` of a gap area."""
    if c.id == "municipalities":
        return "ags"
    return next((col for col in ("area_id", "gap_id") if col in frame.columns), None)


def feature(results: Results, run: Run, c: CollectionDef, principal: Principal, fid: str) -> bytes:
    """One feature by id (address_id, ags or gap id), as its GeoJSON bytes."""
    if c.id == "addresses":
        reads = results.address_reads(run)
        row = reads.row_of(fid)
        if row is None:
            raise NotFoundError(f"address {fid!r} is not in run {run.id}")
        return reads.features([row])[0]
    frame = _frame(results, run, c, principal)
    id_col = _id_column(c, frame)
    if id_col is None:
        hit = (
            frame.iloc[[int(fid) - 1]]
            if fid.isdigit() and 0 < int(fid) <= len(frame)
            else frame.iloc[0:0]
        )
    else:
        hit = frame[(frame[id_col].astype(str) == fid).to_numpy(dtype=bool)]
    if len(hit) == 0:
        raise ApiError(404, "not_found", f"{c.id}: no feature {fid!r}")
    return dumps(to_wgs84_features(hit, id_col)[0])


def timestamp() -> str:
    """Now, ISO 8601 UTC (the timeStamp member)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["CONFORMANCE", "CRS84", "available", "describe", "feature", "get", "items", "timestamp"]
