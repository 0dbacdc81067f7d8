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
  ever cut out, and never more than 0.45 x its distance to the next non-member inside the
  area (at least 1 mm), so neighbouring cuts stay apart (:mod:`coverage.rural.cut`). An address within 2 mm of a member (in practice: at the same coordinates,
  one building, two addresses, different classes) cannot be separated by any polygon; such addresses are
  counted per area in ``other_addresses_inside`` (0 almost everywhere) and stay inside.

It also names each area after all the Gemeinden its addresses lie in, the main one (most
addresses) first: ``gemeinde_ags`` ("05962052,05962016") and, with boundary names,
``gemeinde_names`` ("Plettenberg, Herscheid").
"""

from __future__ import annotations

from concurrent.futures import Executor

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from coverage.rural.cut import cut_non_members, polygonal

#: Largest radius (metres) cut out around an address that is not part of an area.
CUT_M = 5.0


def refine_area_polygons(
    areas: gpd.GeoDataFrame,
    address_area: npt.NDArray[np.int64],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    ags: npt.ArrayLike,
    gemeinden: gpd.GeoDataFrame | None = None,
    *,
    cut_m: float = CUT_M,
    executor: Executor | None = None,
    partition_points: int | None = None,
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
    executor, partition_points
        Where the cuts run (:func:`coverage.rural.cut.cut_non_members`): None, in this
        thread; else in tasks of about ``partition_points`` addresses. Same result.

    Returns a copy with the new geometry, ``area_km2`` and ``density_per_km2`` recomputed,
    and ``gemeinde_ags``, ``gemeinde_names``, ``other_addresses_inside`` added.
    """
    out = areas.copy()
    n_areas = len(out)
    geoms = np.asarray(out.geometry.values, dtype=object)
    area_of = np.asarray(address_area, dtype=np.int64)
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    names = _names(gemeinden)
    order = _gemeinden_per_area(area_of, ags, n_areas)
    out["gemeinde_ags"] = pd.array([",".join(k) for k in order], dtype="string")
    out["gemeinde_names"] = pd.array(
        [", ".join(names.get(k, k) for k in keys) for keys in order], dtype="string"
    )
    if n_areas == 0:
        out["other_addresses_inside"] = pd.Series(dtype="int64")
        return out
    if gemeinden is not None and len(gemeinden):
        geoms = _clip(geoms, gemeinden)
    geoms, left = cut_non_members(
        geoms, area_of, xs, ys, cut_m, executor=executor, partition_points=partition_points
    )
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
    area_of: npt.NDArray[np.int64], ags: npt.ArrayLike, n_areas: int
) -> list[list[str]]:
    """Per area: the AGS of its addresses, most addresses first (ties: smaller key)."""
    on = np.flatnonzero(area_of >= 0)  # only the members' keys as text (fast at millions)
    picked = pd.Series(ags).iloc[on] if not isinstance(ags, np.ndarray) else ags[on]
    keys = pd.Series(pd.array(np.asarray(picked, dtype=object), dtype="string"))
    frame = pd.DataFrame({"area": area_of[on], "ags": keys.fillna("NA").to_numpy()})
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
    # an area meeting one Gemeinde only (most of them) is kept when that Gemeinde covers it:
    # one vectorised test on the prepared Gemeinde polygons instead of one call per area
    counts = np.diff(bounds)
    alone = np.flatnonzero(counts == 1)
    shapely.prepare(polys)
    covered = np.zeros(geoms.size, dtype=bool)
    covered[alone] = shapely.covers(polys[gem_i[bounds[alone]]], geoms[alone])
    unions: dict[tuple[int, ...], shapely.Geometry] = {}  # Gemeinde sets met by several areas
    for a in np.flatnonzero((counts > 0) & ~covered):
        hit = gem_i[bounds[a] : bounds[a + 1]]
        if hit.size > 1:
            hit = np.sort(hit)
            key = tuple(hit.tolist())
            if key not in unions:
                unions[key] = shapely.union_all(polys[hit])
            inside = unions[key]
        else:
            inside = polys[hit[0]]
        if not shapely.covers(inside, geoms[a]):
            out[a] = polygonal(shapely.intersection(geoms[a], inside))
    return out
