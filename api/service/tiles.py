"""Mapbox Vector Tiles of a run: ``/runs/{run_id}/tiles/{layer}/{z}/{x}/{y}.mvt``.

Layers: ``addresses`` (points by class, from zoom ``ADDRESS_MIN_ZOOM``), ``gaps`` (gap
areas), ``gemeinden`` (Gemeinden with their figures), ``cells`` (1 km grid cells). Analyst
keys get every layer; public keys get ``gemeinden`` and ``cells`` only, with the counts
the public tables the run wrote (cell key method), exactly as the public API serves them.

The indexes (``tile_index``) are built once per run and layer and kept in memory (LRU);
every tile is cached on disk under ``<workspace>/tiles/<run_id>/<variant>/<layer>/z/x/y.mvt``
(written atomically; a run's results never change). Callers authenticate with an API key
or a browser session (``web.auth``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.service import tile_index as ti
from api.service.deps import ResultsDep, RunDep, SettingsDep, StoreDep
from api.service.errors import ApiError
from api.service.models import Run
from api.service.results import _LRU, Results
from api.service.security import Principal, Role

MVT = "application/vnd.mapbox-vector-tile"
Layer = Literal["addresses", "gaps", "gemeinden", "cells"]
PUBLIC_LAYERS = ("gemeinden", "cells")
MAX_ZOOM = 20

#: What an address carries in its tile (the content of the static maps' popups).
ADDRESS_PROPS = (
    "address_id",
    "street",
    "house_number",
    "suffix",
    "postcode",
    "place",
    "ags",
    "class",
    "eligible",
    "best_provider",
    "best_technology",
    "best_down_mbps",
    "best_up_mbps",
    "households",
    "reason",
    "reason_code",
    "gap_area_id",
)


class TileService:
    """Cuts and caches the tiles of succeeded runs."""

    def __init__(self, results: Results, workspace: Path) -> None:
        self.results = results
        self.root = workspace / "tiles"
        self._indexes = _LRU(16)

    # -- cache -------------------------------------------------------------------------------
    def cache_path(self, run: Run, variant: str, layer: str, z: int, x: int, y: int) -> Path:
        """Where a tile is kept (every part is a validated id or an integer)."""
        return self.root / run.id / variant / layer / str(z) / str(x) / f"{y}.mvt"

    @staticmethod
    def cached(path: Path) -> bytes | None:
        """The cached tile, or None."""
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def tile(self, run: Run, layer: str, z: int, x: int, y: int, public: bool) -> bytes:
        """Cut (or read) one tile."""
        variant = "public" if public else "full"
        path = self.cache_path(run, variant, layer, z, x, y)
        hit = self.cached(path)
        if hit is not None:
            return hit
        data = self.cut(run, layer, z, x, y, public)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        Path(tmp).replace(path)
        return data

    # -- cutting -----------------------------------------------------------------------------
    def cut(self, run: Run, layer: str, z: int, x: int, y: int, public: bool) -> bytes:
        """Encode one tile from the run's index (no cache)."""
        if layer == "addresses":
            if z < ti.ADDRESS_MIN_ZOOM:
                return b""
            index, props = self._address_index(run)
            pos = index.query(z, x, y)
            return ti.encode(layer, ti.point_features(index, pos, z, x, y, props))
        polygons = self._polygon_index(run, layer, public)
        return ti.encode(layer, polygons.query(z, x, y))

    def _address_index(self, run: Run) -> tuple[ti.PointIndex, pd.DataFrame]:
        def build() -> tuple[ti.PointIndex, pd.DataFrame]:
            table = self.results.addresses(run)
            cols = [c for c in ADDRESS_PROPS if c in table.frame.columns]
            index = ti.PointIndex.build(table.lon, table.lat)
            return index, table.frame[cols].iloc[index.rows].reset_index(drop=True)

        return self._indexes.get_or_build((run.id, "addresses"), build)

    def _polygon_index(self, run: Run, layer: str, public: bool) -> ti.PolygonIndex:
        return self._indexes.get_or_build(
            (run.id, f"{layer}:{public}"), lambda: self._build_polygons(run, layer, public)
        )

    def _build_polygons(self, run: Run, layer: str, public: bool) -> ti.PolygonIndex:
        if layer == "gaps":
            frame = self.results.gap_areas(run)
            table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
            geoms = frame.geometry.values
        elif layer == "gemeinden":
            frame = self.results.municipalities(run, public)
            table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
            geoms = frame.geometry.values
        else:
            geoms, table = self._cells(run, public)
        return ti.PolygonIndex.build(list(geoms), _prop_records(table))

    def _cells(self, run: Run, public: bool) -> tuple[Any, pd.DataFrame]:
        import geopandas as gpd

        frame = self.results.grid(run, public)
        table = self.results.grid_table(run, public)
        if isinstance(frame, gpd.GeoDataFrame):
            geo = frame.to_crs("OGC:CRS84") if frame.crs is not None else frame
            return geo.geometry.values, table
        from coverage.rural.gridcells import cell_polygons, parse_inspire_cell_id

        size, east, north = parse_inspire_cell_id(frame["cell_id"].astype(str).to_numpy())
        polys = gpd.GeoSeries(cell_polygons(east, north, size), crs="EPSG:3035")
        return polys.to_crs("OGC:CRS84").values, table


def _prop_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as MVT properties: numbers rounded, missing values left out."""
    cols = {c: table[c].tolist() for c in table.columns}
    out: list[dict[str, Any]] = []
    for i in range(len(table)):
        row: dict[str, Any] = {}
        for c, values in cols.items():
            v = values[i]
            if not ti._present(v):
                continue
            v = ti._mvt_value(v)
            row[c] = round(v, 4) if isinstance(v, float) else v
        out.append(row)
    return out


# -- the endpoint ------------------------------------------------------------------------------
router = APIRouter(tags=["maps"])


def tile_service(request: Request) -> TileService:
    """The app's tile service (built on first use)."""
    state = request.app.state
    service: TileService | None = getattr(state, "tiles", None)
    if service is None:
        services = state.services
        service = TileService(services.results, services.settings.workspace)
        state.tiles = service
    return service


@router.get(
    "/runs/{run_id}/tiles/{layer}/{z}/{x}/{y}.mvt",
    summary="A Mapbox Vector Tile of a run",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}},
)
async def get_tile(
    request: Request,
    run: RunDep,
    store: StoreDep,
    settings: SettingsDep,
    results: ResultsDep,
    layer: Layer,
    z: Annotated[int, PathParam(ge=0, le=MAX_ZOOM)],
    x: Annotated[int, PathParam(ge=0)],
    y: Annotated[int, PathParam(ge=0)],
) -> Response:
    """Addresses by class (analyst, zoom >= 13), gap areas (analyst), Gemeinden and 1 km
    cells (public keys: the perturbed public tables). An API key or a signed-in browser session."""
    from api.service.web.auth import caller

    principal: Principal = await caller(request, store)
    public = principal.role is Role.PUBLIC
    if public and layer not in PUBLIC_LAYERS:
        raise ApiError(
            403, "forbidden", f"layer {layer} needs an analyst key; public keys see aggregates"
        )
    if x >= 1 << z or y >= 1 << z:
        raise ApiError(404, "not_found", f"no tile {z}/{x}/{y}: x and y must be below 2^{z}")
    service = tile_service(request)
    variant = "public" if public else "full"
    data = service.cached(service.cache_path(run, variant, layer, z, x, y))
    if data is None:
        data = await run_in_threadpool(service.tile, run, layer, z, x, y, public)
    return Response(
        data, media_type=MVT, headers={"Cache-Control": "private, max-age=86400, immutable"}
    )


__all__ = ["TileService", "np", "router"]
