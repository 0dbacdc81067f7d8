"""Gap areas: eligible addresses chained into candidate project areas, with length and cost.

An area is a single-linkage cluster of eligible addresses: two addresses belong to the same
area when a chain of eligible addresses joins them with no step longer than
``link_distance_m`` (peers.md lesson 6: gap areas as first-class objects; German white-spot
programmes tender by cluster, BEAD allows a single location).

Method, all in the working CRS EPSG:25832 (metres):

* the Euclidean minimum spanning tree (EMST) of all eligible addresses, cut at
  ``link_distance_m``, is a forest whose trees are exactly the single-linkage clusters, and
  each tree is its cluster's own EMST: the trench length of the area. (Every EMST edge of a
  cluster is <= the link distance, by the cut property, because the cluster is connected by
  such edges.)
* the area polygon is the union of the discs (regular polygons) around its addresses.

Duplicate coordinates (several addresses in one building) join their area at no length.

The two expensive parts live in their own modules: :mod:`coverage.rural.linkage` (the cut EMST
on overlapping strips) and :mod:`coverage.rural.disc_union` (the union of only the discs that can
reach the boundary), each with its exactness argument.
"""

from __future__ import annotations

import math
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from coverage.errors import InputDataError
from coverage.rural.disc_union import area_polygons
from coverage.rural.linkage import forest_clusters, linkage_forest

WORKING_CRS = "EPSG:25832"
_FOCAL = ("school", "hospital", "business")
#: Rounding allowance on the link distance (1 micrometre): 250 m stays 250 m after a rotation.
_LINK_TOLERANCE_M = 1e-6


@dataclass(frozen=True)
class GapParams:
    """How gap areas are formed and drawn.

    Attributes
    ----------
    link_distance_m
        Largest step (metres) between two eligible addresses of one area; a distance equal
        to it still links (with 1 micrometre allowance for rounding).
    buffer_m
        Radius (metres) of the disc drawn around each address; the area polygon is the union
        of the discs. ``None``: just over half the link distance (see :attr:`radius_m`).
    min_addresses
        Clusters with fewer addresses are not areas (their addresses get area -1).
    quad_segs
        Segments per quarter circle of a disc (polygon detail vs size).
    """

    link_distance_m: float = 250.0
    buffer_m: float | None = None
    min_addresses: int = 1
    quad_segs: int = 4

    def __post_init__(self) -> None:
        if not self.link_distance_m > 0:
            raise InputDataError(f"link_distance_m must be > 0, got {self.link_distance_m}")
        if self.min_addresses < 1:
            raise InputDataError(f"min_addresses must be >= 1, got {self.min_addresses}")

    @property
    def radius_m(self) -> float:
        """Disc radius: ``buffer_m``, or by default a polygon enclosing a circle of
        0.505 x link distance (vertex radius 0.505 x link / cos(pi / (4 quad_segs))), so the
        discs of two linked addresses overlap at every angle and an area is one polygon."""
        if self.buffer_m is not None:
            return float(self.buffer_m)
        return 0.505 * self.link_distance_m / math.cos(math.pi / (4 * self.quad_segs))


def _unique_points(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp]]:
    """Distinct (x, y) rows sorted by x then y, and each input point's row among them: the
    result of ``np.unique(column_stack([x, y]), axis=0, return_inverse=True)`` from one
    lexsort instead of a sort of structured rows."""
    order = np.lexsort((y, x))
    xo, yo = x[order], y[order]
    new = np.ones(order.size, dtype=bool)
    new[1:] = (xo[1:] != xo[:-1]) | (yo[1:] != yo[:-1])
    inv = np.empty(order.size, dtype=np.intp)
    inv[order] = np.cumsum(new) - 1
    return np.column_stack([xo[new], yo[new]]), inv


def _as_bool(values: npt.ArrayLike, n: int, name: str) -> npt.NDArray[np.bool_]:
    arr = pd.array(values, dtype="boolean")
    if len(arr) != n:
        raise InputDataError(f"{name} has {len(arr)} values for {n} addresses")
    return arr.to_numpy(dtype=bool, na_value=False)


def _distance_to_served(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    served: npt.NDArray[np.bool_],
    rows: npt.NDArray[np.intp],
) -> npt.NDArray[np.float64]:
    """Distance from each of ``rows`` to the nearest served address (inf: none served)."""
    served_pts = np.column_stack([x[served], y[served]])
    served_pts = served_pts[np.isfinite(served_pts).all(axis=1)]
    if not (served_pts.size and rows.size):
        return np.full(rows.size, np.inf)
    # sliding-midpoint tree: half the build and query time of the balanced default
    tree = cKDTree(served_pts, balanced_tree=False, compact_nodes=False)
    return tree.query(np.column_stack([x[rows], y[rows]]))[0]


def _distance_to_fibre(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    rows: npt.NDArray[np.intp],
    fibre: npt.NDArray[np.object_] | None,
) -> npt.NDArray[np.float64]:
    """Distance from each of ``rows`` to the nearest fibre feature (point, line or polygon
    boundary; inf without a fibre layer)."""
    if fibre is None or not len(fibre) or not rows.size:
        return np.full(rows.size, np.inf)
    tree = shapely.STRtree(fibre)
    pts = shapely.points(x[rows], y[rows])
    (hit, _), dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    out = np.full(rows.size, np.inf)
    out[hit] = dist
    return out


def _strings_at(values: npt.ArrayLike, rows: npt.NDArray[np.intp]) -> pd.Series:
    """``values[rows]`` as a pandas string Series (missing values as NA)."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.StringDtype):
        return values.iloc[rows].reset_index(drop=True).astype("string")  # no Python strings
    picked = pd.Series(values).iloc[rows] if not isinstance(values, np.ndarray) else values[rows]
    return pd.Series(pd.array(np.asarray(picked, dtype=object), dtype="string"))


def _area_order(
    labels: npt.NDArray[np.intp], addr_idx: npt.NDArray[np.intp], ags: pd.Series
) -> pd.DataFrame:
    """Per cluster: majority AGS (ties: smallest; NA loses), first address, area rank."""
    frame = pd.DataFrame({"comp": labels, "ags": ags.to_numpy(), "idx": addr_idx})
    votes = frame.groupby(["comp", "ags"], dropna=False).size().rename("n").reset_index()
    votes = votes.sort_values(
        ["comp", "n", "ags"], ascending=[True, False, True], na_position="last"
    )
    major = votes.drop_duplicates("comp").set_index("comp")["ags"]
    first = frame.groupby("comp")["idx"].min()
    comps = pd.DataFrame({"ags": major.astype("string"), "first": first}).reset_index()
    comps = comps.sort_values(["ags", "first"], na_position="last", ignore_index=True)
    seq = comps.groupby("ags", dropna=False).cumcount() + 1
    comps["area_id"] = [
        f"GA-{a}-{s:04d}" for a, s in zip(comps["ags"].fillna("NA"), seq, strict=True)
    ]
    return comps


def find_gap_areas(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    eligible: npt.ArrayLike,
    served: npt.ArrayLike,
    households: npt.ArrayLike,
    site_type: npt.ArrayLike,
    ags: npt.ArrayLike,
    degurba_cell: npt.ArrayLike,
    *,
    white: npt.ArrayLike | None = None,
    fibre: npt.NDArray[np.object_] | None = None,
    params: GapParams = GapParams(),
    crs: str = WORKING_CRS,
    executor: Executor | None = None,
    partition_points: int | None = None,
) -> tuple[gpd.GeoDataFrame, npt.NDArray[np.int64]]:
    """Group eligible addresses into gap areas and describe each area.

    Costs, the minimum viable area and the ranking are added by
    :func:`coverage.rural.projects.finish_areas`.

    Parameters
    ----------
    x, y
        Address coordinates, metres, EPSG:25832. Eligible addresses need finite values.
    eligible
        Addresses to group (NA = not eligible).
    served
        Addresses served by a network an area can connect to (a gigabit-capable wired
        network: FTTB/H, DOCSIS 3.1), never merely non-eligible ones; the nearest one, or
        the nearest ``fibre`` feature if closer, gives ``distance_to_served_m``. NA = not served.
    households
        Households per address (NA = 0).
    site_type
        ``coverage.schema.SiteType`` values; school, hospital and business are focal points.
    ags
        8-digit municipality key per address (NA allowed).
    degurba_cell
        DEGURBA cell class per address: 3 centre, 2 cluster, 1 rural, 0 unknown.
    white
        Addresses without any NGA network (white spots). ``None``: every eligible address
        counts as white.
    fibre
        Shapely geometries of a user's fibre layer (PoPs, routes) in the same CRS, or None.
    params
        See :class:`GapParams`.
    executor, partition_points
        Where the linkage strips and the disc unions run (:mod:`coverage.rural.partition`):
        None, in this process (on a few threads); else as tasks on ``executor``, in strips
        of about ``partition_points`` distinct eligible locations (default 100,000). The
        result is the same.

    Returns
    -------
    areas : geopandas.GeoDataFrame
        One row per area in EPSG:25832, ordered by (majority AGS, first address index):
        ``area_id`` ("GA-<ags>-<nnnn>", numbered per AGS; "NA" when unknown), ``ags``
        (majority, ties to the smallest key), ``addresses``, ``households``, ``n_school``,
        ``n_hospital``, ``n_business``, ``focal_points`` (their sum), ``area_km2`` (of the
        polygon), ``density_per_km2`` (addresses / area_km2), ``share_rural``,
        ``share_cluster``, ``share_centre`` (address shares by DEGURBA cell class; with
        unknown classes they sum to < 1), ``share_white``, ``distance_to_served_m`` (from the
        nearest area address to the nearest served address or fibre feature; NaN if none),
        ``link_to`` ("address", "fibre" or NA), ``trench_intra_m`` (straight-line EMST of
        the area's addresses), ``link_m`` (= distance_to_served_m, 0 when NaN), ``trench_m``
        (intra + link, straight line); geometry = union of discs of ``params.radius_m``.
    address_area_id : numpy.ndarray
        int64 per input address: the row position of its area in ``areas``, -1 if none.
    """
    xs = np.asarray(x, dtype="float64")
    ys = np.asarray(y, dtype="float64")
    n = xs.size
    if ys.size != n:
        raise InputDataError(f"x and y differ in length ({n} vs {ys.size})")
    elig = _as_bool(eligible, n, "eligible")
    srv = _as_bool(served, n, "served")
    wht = elig.copy() if white is None else _as_bool(white, n, "white")
    hh = pd.to_numeric(pd.Series(np.asarray(households)), errors="coerce").fillna(0).to_numpy(float)
    deg = np.asarray(degurba_cell)
    for name, arr in (
        ("households", hh),
        ("site_type", site_type),
        ("ags", ags),
        ("degurba_cell", deg),
    ):
        if len(arr) != n:
            raise InputDataError(f"{name} has {len(arr)} values for {n} addresses")

    idx = np.flatnonzero(elig)
    bad = ~(np.isfinite(xs[idx]) & np.isfinite(ys[idx]))
    if bad.any():
        rows = ", ".join(str(int(r) + 1) for r in idx[bad][:5])
        raise InputDataError(
            f"eligible addresses without coordinates (rows {rows}); fix or drop them"
        )
    address_area = np.full(n, -1, dtype=np.int64)
    # the nearest served address of each eligible one, on a thread of its own while the
    # areas are built (the tree query releases the GIL)
    background = ThreadPoolExecutor(1)
    near_served = background.submit(_distance_to_served, xs, ys, srv, idx)
    near_fibre = background.submit(_distance_to_fibre, xs, ys, idx, fibre)
    background.shutdown(wait=False)  # runs the job, takes no more
    # the text columns of the eligible addresses only (conversion is the slow part)
    sites = _strings_at(site_type, idx).str.lower()
    ags_s = _strings_at(ags, idx)

    # clusters: EMST of the distinct eligible locations, cut at the link distance
    uniq, inv = _unique_points(xs[idx], ys[idx])
    ei, ej, ew = linkage_forest(
        uniq[:, 0], uniq[:, 1], params.link_distance_m + _LINK_TOLERANCE_M,
        executor=executor, strip_points=partition_points,
    )  # fmt: skip
    nu = uniq.shape[0]
    comp_u, trench_u = forest_clusters(ei, ej, ew, nu)
    comp = comp_u[inv]  # per eligible address

    sizes = np.bincount(comp) if comp.size else np.zeros(0, np.intp)
    member = sizes[comp] >= params.min_addresses
    idx, comp = idx[member], comp[member]
    sites, ags_s = sites[member].reset_index(drop=True), ags_s[member].reset_index(drop=True)
    order = _area_order(comp, idx, ags_s)
    n_areas = len(order)
    rank_of_comp = np.full(sizes.size, -1, dtype=np.int64)
    rank_of_comp[order["comp"].to_numpy()] = np.arange(n_areas)
    area = rank_of_comp[comp]
    address_area[idx] = area

    def per_area(weights: npt.ArrayLike | None = None) -> npt.NDArray[np.float64]:
        return np.bincount(area, weights=weights, minlength=n_areas).astype(float)

    addresses = per_area()
    out = pd.DataFrame({"area_id": order["area_id"].astype("string"), "ags": order["ags"]})
    out["addresses"] = addresses.astype("int64")
    out["households"] = per_area(hh[idx]).round().astype("int64")
    for site in _FOCAL:
        out[f"n_{site}"] = per_area((sites == site).fillna(False).to_numpy(float)).astype("int64")
    out["focal_points"] = out[[f"n_{s}" for s in _FOCAL]].sum(axis=1)

    area_u = np.full(nu, -1, dtype=np.int64)
    area_u[inv[member]] = area  # per distinct location
    geoms = area_polygons(
        uniq[:, 0], uniq[:, 1], area_u, n_areas, params,
        executor=executor, partition_points=partition_points,
    )  # fmt: skip
    area_km2 = shapely.area(geoms) / 1e6
    out["area_km2"] = area_km2
    with np.errstate(invalid="ignore", divide="ignore"):
        out["density_per_km2"] = np.where(area_km2 > 0, addresses / area_km2, np.nan)
        for col, cls in (("share_rural", 1), ("share_cluster", 2), ("share_centre", 3)):
            out[col] = per_area((deg[idx] == cls).astype(float)) / addresses
        out["share_white"] = per_area(wht[idx].astype(float)) / addresses

    d_addr, d_fibre = near_served.result()[member], near_fibre.result()[member]
    dist, via_fibre = np.full(n_areas, np.inf), np.full(n_areas, np.inf)
    np.minimum.at(dist, area, np.minimum(d_addr, d_fibre))
    np.minimum.at(via_fibre, area, d_fibre)
    link_to = np.where(via_fibre <= dist, "fibre", "address")
    dist = np.where(np.isfinite(dist), dist, np.nan)
    out["distance_to_served_m"] = dist
    out["link_to"] = pd.array(np.where(np.isnan(dist), None, link_to), dtype="string")
    out["trench_intra_m"] = trench_u[order["comp"].to_numpy()] if n_areas else np.zeros(0)
    out["link_m"] = np.nan_to_num(dist, nan=0.0)
    out["trench_m"] = out["trench_intra_m"] + out["link_m"]
    trench = out["trench_m"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["addresses_per_route_km"] = np.where(trench > 0, addresses / (trench / 1000.0), np.nan)
    return gpd.GeoDataFrame(out, geometry=geoms, crs=crs), address_area
