"""Spatial indexes over a run's rows for cutting vector tiles, and the MVT encoding.

Addresses: Web-Mercator coordinates in [0, 1) sorted by their Morton (quadkey) code at zoom
``BASE_ZOOM``. The base tiles inside any tile of zoom z <= BASE_ZOOM share its quadkey as a
prefix, so they form ONE contiguous range of codes: two binary searches give the tile's
rows. A deeper tile lies inside one base tile: its slice is filtered by bounds. A tile never
scans the run; it costs O(log n + rows in the tile).

Polygons (gap areas, Gemeinden, 1 km cells; thousands, not millions): an STRtree in
Web Mercator, clipped to the tile (plus a small buffer) and simplified to the tile's pixel
size. Everything is encoded with ``mapbox_vector_tile`` in tile coordinates (extent 4096,
y down).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mapbox_vector_tile
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

BASE_ZOOM = 14
EXTENT = 4096
#: Zoom from which individual addresses are drawn (a z13 tile is about 3 km wide here).
ADDRESS_MIN_ZOOM = 13
#: Most addresses in one tile; beyond that an even sample (never at z >= 16 in practice).
MAX_POINTS_PER_TILE = 25_000
_BUFFER = 64 / EXTENT  # clip polygons slightly outside the tile so edges do not show
_MERC_HALF = 20037508.342789244


def _spread(v: np.ndarray) -> np.ndarray:
    """Bits of a 32-bit integer spread to the even positions of a 64-bit one."""
    v = v.astype(np.uint64) & np.uint64(0xFFFFFFFF)
    for shift, mask in (
        (16, 0x0000FFFF0000FFFF),
        (8, 0x00FF00FF00FF00FF),
        (4, 0x0F0F0F0F0F0F0F0F),
        (2, 0x3333333333333333),
        (1, 0x5555555555555555),
    ):
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def morton(tx: np.ndarray, ty: np.ndarray) -> np.ndarray:
    """Quadkey order of tiles (x, y) of one zoom: y bits odd, x bits even."""
    return (_spread(ty) << np.uint64(1)) | _spread(tx)


def lonlat_to_unit(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 -> Web Mercator scaled to [0, 1) (x east, y south), as tiles count."""
    lat = np.clip(lat, -85.05112878, 85.05112878)
    u = (np.asarray(lon, dtype=float) + 180.0) / 360.0
    s = np.sin(np.radians(lat))
    v = 0.5 - np.log((1 + s) / (1 - s)) / (4 * math.pi)
    return np.clip(u, 0, 1 - 1e-12), np.clip(v, 0, 1 - 1e-12)


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(u0, v0, u1, v1) of a tile in unit Mercator coordinates."""
    n = 1 << z
    return x / n, y / n, (x + 1) / n, (y + 1) / n


@dataclass
class PointIndex:
    """Points sorted by their base-zoom Morton code; ``rows`` maps back to the table."""

    keys: np.ndarray
    u: np.ndarray
    v: np.ndarray
    rows: np.ndarray

    @classmethod
    def build(cls, lon: np.ndarray, lat: np.ndarray) -> PointIndex:
        """Index points given in WGS84."""
        u, v = lonlat_to_unit(lon, lat)
        n = 1 << BASE_ZOOM
        keys = morton((u * n).astype(np.int64), (v * n).astype(np.int64))
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], u[order], v[order], order.astype(np.int64))

    def query(self, z: int, x: int, y: int) -> np.ndarray:
        """Positions (into the sorted arrays) of the points inside tile (z, x, y)."""
        if z <= BASE_ZOOM:
            shift = BASE_ZOOM - z
            lo_key = morton(np.array([x << shift]), np.array([y << shift]))[0]
            span = np.uint64(1) << np.uint64(2 * shift)
            lo = int(np.searchsorted(self.keys, lo_key, side="left"))
            hi = int(np.searchsorted(self.keys, lo_key + span, side="left"))
            return np.arange(lo, hi)
        shift = z - BASE_ZOOM
        key = morton(np.array([x >> shift]), np.array([y >> shift]))[0]
        lo = int(np.searchsorted(self.keys, key, side="left"))
        hi = int(np.searchsorted(self.keys, key, side="right"))
        u0, v0, u1, v1 = tile_bounds(z, x, y)
        u, v = self.u[lo:hi], self.v[lo:hi]
        inside = (u >= u0) & (u < u1) & (v >= v0) & (v < v1)
        return lo + np.flatnonzero(inside)


@dataclass
class PolygonIndex:
    """Polygons in unit Mercator coordinates with an STRtree, and their properties."""

    geoms: np.ndarray
    tree: shapely.STRtree
    props: list[dict[str, Any]]

    @classmethod
    def build(cls, geoms: Sequence[Any], props: list[dict[str, Any]]) -> PolygonIndex:
        """Index WGS84 (lon/lat) polygons."""
        to_merc = Transformer.from_crs("OGC:CRS84", "EPSG:3857", always_xy=True)

        def unit(coords: np.ndarray) -> np.ndarray:
            mx, my = to_merc.transform(coords[:, 0], coords[:, 1])
            mx, my = np.asarray(mx), np.asarray(my)
            return np.column_stack(
                (
                    (mx + _MERC_HALF) / (2 * _MERC_HALF),
                    (_MERC_HALF - my) / (2 * _MERC_HALF),
                )
            )

        arr = shapely.transform(np.asarray(geoms, dtype=object), unit)
        return cls(arr, shapely.STRtree(arr), props)

    def query(self, z: int, x: int, y: int) -> list[tuple[Any, dict[str, Any]]]:
        """(geometry in tile coordinates, properties) of the polygons meeting the tile."""
        u0, v0, u1, v1 = tile_bounds(z, x, y)
        pad = _BUFFER / (1 << z)
        box = (u0 - pad, v0 - pad, u1 + pad, v1 + pad)
        hits = np.sort(self.tree.query(shapely.box(*box), predicate="intersects"))
        if not len(hits):
            return []
        scale = EXTENT * (1 << z)
        clipped = shapely.clip_by_rect(self.geoms[hits], *box)
        tolerance = 0.5 / scale  # half a tile pixel
        simple = shapely.simplify(clipped, tolerance, preserve_topology=True)
        local = shapely.transform(simple, lambda c: (c - (u0, v0)) * scale)
        return [
            (g, self.props[i])
            for g, i in zip(local, hits, strict=True)
            if g is not None and not g.is_empty
        ]


def encode(layer: str, features: list[tuple[Any, dict[str, Any]]]) -> bytes:
    """One MVT layer (tile coordinates, y down)."""
    if not features:
        return b""
    return bytes(
        mapbox_vector_tile.encode(
            [
                {
                    "name": layer,
                    "features": [{"geometry": g, "properties": p} for g, p in features],
                }
            ],
            default_options={"y_coord_down": True, "extents": EXTENT},
        )
    )


def point_features(
    index: PointIndex, pos: np.ndarray, z: int, x: int, y: int, props: pd.DataFrame
) -> list[tuple[Any, dict[str, Any]]]:
    """Points at ``pos`` (increasing positions of the index) as tile features; ``props``
    holds the properties in index order (``props.iloc[i]`` belongs to ``index.u[i]``)."""
    if len(pos) > MAX_POINTS_PER_TILE:
        pos = pos[np.linspace(0, len(pos) - 1, MAX_POINTS_PER_TILE).astype(np.int64)]
    u0, v0, _, _ = tile_bounds(z, x, y)
    scale = EXTENT * (1 << z)
    tx = np.floor((index.u[pos] - u0) * scale)
    ty = np.floor((index.v[pos] - v0) * scale)
    geoms = shapely.points(tx, ty)
    # ``props`` is in index order: a tile's rows lie in one short slice (cheap to cut),
    # and only that slice is gathered
    if len(pos):
        lo = int(pos[0])
        rows = props.iloc[lo : int(pos[-1]) + 1].iloc[pos - lo]
    else:
        rows = props.iloc[:0]
    columns = {c: rows[c].tolist() for c in rows.columns}
    out = []
    for j, g in enumerate(geoms):
        out.append(
            (g, {c: _mvt_value(vals[j]) for c, vals in columns.items() if _present(vals[j])})
        )
    return out


def _present(value: Any) -> bool:
    return (
        value is not None
        and value is not pd.NA
        and not (isinstance(value, float) and value != value)
    )


def _mvt_value(value: Any) -> Any:
    """A property value MVT can hold (str, int, float, bool)."""
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
