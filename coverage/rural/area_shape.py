"""Gap-area polygons that hold only their own addresses, inside the analysed boundaries.

:func:`coverage.rural.gaps.find_gap_areas` draws each area as the union of discs around its
addresses (:mod:`coverage.rural.disc_union`). Such a disc also covers neighbours that are
not part of the area (served addresses, members of another area) and may reach beyond the
outer boundary of the analysed Gemeinden. :func:`refine_area_polygons` makes the polygons
what they say, so selecting addresses by polygon in a GIS gives exactly the area's members:

* **clipped** to the Gemeinden the area touches (only the Gemeinde polygons that meet the
  area are united, so it scales to all of Germany);
* **non-members cut out**: every address inside an area's polygon that is not a member of
  that area gets a small disc cut out around it, of radius ``cut_m`` (default 5 m) or less:
  never more than 0.45 x its distance to the nearest member of the area, so no member is
  ever cut out. An address within 2 mm of a member (in practice: at the same coordinates,
  one building, two addresses, different classes) cannot be separated by any polygon; such addresses are
  counted per area in ``other_addresses_inside`` (0 almost everywhere) and stay inside.

It also names each area after all the Gemeinden its addresses lie in, the main one (most
addresses) first: ``gemeinde_ags`` ("05962052,05962016") and, with boundary names,
``gemeinde_names`` ("Plettenberg, Herscheid").
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from coverage.kernel.join import points_in_polygons

#: Largest radius (metres) cut out around an address that is not part of an area.
CUT_M = 5.0
#: A cut never reaches further than this share of the distance to the nearest member.
_CUT_SHARE = 0.45
_QUAD_SEGS = 4
#: Cuts smaller than this (metres) are below the coordinates' precision: not cut, counted.
_MIN_CUT_M = 1e-3


def refine_area_polygons(
    areas: gpd.GeoDataFrame,
    address_area: npt.NDArray[np.int64],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    ags: npt.ArrayLike,
    gemeinden: gpd.GeoDataFrame | None = None,
    *,
    cut_m: float = CUT_M,
) -> gpd.GeoDataFrame:
    """``areas`` with clipped polygons, non-members cut out and the Gemeinden named.

    Parameters
    ----------
    areas
        :func:`coverage.rural.gaps.find_gap_areas` output (row ``i`` is area ``i``).
    address_area
        Per address: row of its area in ``areas``, -1 for none.
    x, y
        Coordinates of every address in the areas' CRS (metres); NaN for none.
    ags
        8-digit Gemeinde key per address (NA allowed).
    gemeinden
        Gemeinde polygons (``ags``, optional ``name``) in the same CRS; None: no clipping,
        no names.

    Returns a copy with the new geometry, ``area_km2`` and ``density_per_km2`` recomputed,
    and ``gemeinde_ags``, ``gemeinde_names``, ``other_addresses_inside`` added.
    """
    out = areas.copy()
    n_areas = len(out)
    geoms = np.asarray(out.geometry.values, dtype=object)
    area_of = np.asarray(address_area, dtype=np.int64)
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ags_s = pd.Series(pd.array(np.asarray(ags, dtype=object), dtype="string"))
    names = _names(gemeinden)
    order = _gemeinden_per_area(area_of, ags_s, n_areas)
    out["gemeinde_ags"] = pd.array([",".join(k) for k in order], dtype="string")
    out["gemeinde_names"] = pd.array(
        [", ".join(names.get(k, k) for k in keys) for keys in order], dtype="string"
    )
    if n_areas == 0:
        out["other_addresses_inside"] = pd.Series(dtype="int64")
        return out
    if gemeinden is not None and len(gemeinden):
        geoms = _clip(geoms, gemeinden)
    geoms, left = _cut_non_members(geoms, area_of, xs, ys, cut_m)
    out["other_addresses_inside"] = left
    out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=out.crs))
    km2 = shapely.area(geoms) / 1e6
    out["area_km2"] = km2
    with np.errstate(invalid="ignore", divide="ignore"):
        addresses = out["addresses"].to_numpy(float)
        out["density_per_km2"] = np.where(km2 > 0, addresses / km2, np.nan)
    return out


def _names(gemeinden: gpd.GeoDataFrame | None) -> dict[str, str]:
    if gemeinden is None or "name" not in gemeinden:
        return {}
    keys = gemeinden["ags"].astype("string").to_numpy()
    return {str(k): str(v) for k, v in zip(keys, gemeinden["name"].to_numpy(), strict=True)}


def _gemeinden_per_area(
    area_of: npt.NDArray[np.int64], ags: pd.Series, n_areas: int
) -> list[list[str]]:
    """Per area: the AGS of its addresses, most addresses first (ties: smaller key)."""
    on = area_of >= 0
    frame = pd.DataFrame({"area": area_of[on], "ags": ags[on].fillna("NA").to_numpy()})
    votes = frame.groupby(["area", "ags"]).size().rename("n").reset_index()
    votes = votes.sort_values(["area", "n", "ags"], ascending=[True, False, True])
    out: list[list[str]] = [[] for _ in range(n_areas)]
    for a, key in zip(votes["area"].to_numpy(), votes["ags"].to_numpy(), strict=True):
        out[int(a)].append(str(key))
    return out


def _clip(geoms: npt.NDArray[np.object_], gemeinden: gpd.GeoDataFrame) -> npt.NDArray[np.object_]:
    """Each polygon cut to the union of the Gemeinde polygons it meets."""
    polys = np.asarray(gemeinden.geometry.values, dtype=object)
    area_i, gem_i = shapely.STRtree(polys).query(geoms, predicate="intersects")
    out = geoms.copy()
    order = np.argsort(area_i, kind="stable")
    area_i, gem_i = area_i[order], gem_i[order]
    bounds = np.searchsorted(area_i, np.arange(geoms.size + 1))
    for a in range(geoms.size):
        hit = gem_i[bounds[a] : bounds[a + 1]]
        if hit.size == 0:
            continue  # an area wholly outside the boundaries (addresses without AGS): kept
        inside = shapely.union_all(polys[hit]) if hit.size > 1 else polys[hit[0]]
        if not shapely.covers(inside, geoms[a]):
            out[a] = _polygonal(shapely.intersection(geoms[a], inside))
    return out


def _cut_non_members(
    geoms: npt.NDArray[np.object_],
    area_of: npt.NDArray[np.int64],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    cut_m: float,
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.int64]]:
    """Cut a small disc around every non-member inside each polygon; count the uncuttable."""
    # the kernel (covered_by, the same as intersects for points; non-finite points match
    # nothing): no Point objects, and fast where a tree query over millions of points is not
    pt_i, poly_i = points_in_polygons(x, y, geoms)
    pt_i, poly_i = pt_i.astype(np.intp), poly_i.astype(np.intp)
    foreign = area_of[pt_i] != poly_i
    pt_i, poly_i = pt_i[foreign], poly_i[foreign]
    left = np.zeros(geoms.size, dtype=np.int64)
    if pt_i.size == 0:
        return geoms, left
    radius = _cut_radius(pt_i, poly_i, area_of, x, y, cut_m)
    cuttable = radius >= _MIN_CUT_M
    np.add.at(left, poly_i[~cuttable], 1)
    pt_i, poly_i, radius = pt_i[cuttable], poly_i[cuttable], radius[cuttable]
    holes = shapely.buffer(shapely.points(x[pt_i], y[pt_i]), radius, quad_segs=_QUAD_SEGS)
    out = geoms.copy()
    order = np.argsort(poly_i, kind="stable")
    poly_i, holes = poly_i[order], holes[order]
    bounds = np.searchsorted(poly_i, np.arange(geoms.size + 1))
    for a in np.unique(poly_i):
        cut = holes[bounds[a] : bounds[a + 1]]
        out[a] = _polygonal(shapely.difference(geoms[a], shapely.union_all(cut)))
    return out, left


def _cut_radius(
    pt_i: npt.NDArray[np.intp],
    poly_i: npt.NDArray[np.intp],
    area_of: npt.NDArray[np.int64],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    cut_m: float,
) -> npt.NDArray[np.float64]:
    """Per (non-member, area) pair: cut radius below 0.45 x distance to the area's nearest
    member (so the cut disc, a polygon inside its circle, never reaches a member), at most
    ``cut_m``; 0 when a member has the same coordinates.
    """
    members = np.flatnonzero((area_of >= 0) & np.isfinite(x) & np.isfinite(y))
    tree = cKDTree(np.column_stack([x[members], y[members]]))
    reach = cut_m / _CUT_SHARE
    near = tree.query_ball_point(np.column_stack([x[pt_i], y[pt_i]]), reach)
    radius = np.full(pt_i.size, cut_m)
    for k, rows in enumerate(near):
        if not rows:
            continue
        rows = members[np.asarray(rows, dtype=np.intp)]
        own = rows[area_of[rows] == poly_i[k]]
        if own.size:
            d = float(np.hypot(x[own] - x[pt_i[k]], y[own] - y[pt_i[k]]).min())
            radius[k] = min(cut_m, _CUT_SHARE * d)
    return radius


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Only the polygon parts of an overlay result (drops stray lines and points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()
