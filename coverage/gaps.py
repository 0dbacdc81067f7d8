"""Gap areas: eligible addresses chained into candidate project areas, with length and cost.

An area is a single-linkage cluster of eligible addresses: two addresses belong to the same
area when a chain of eligible addresses joins them with no step longer than
``link_distance_m`` (peers.md lesson 6: gap areas as first-class objects; German white-spot
programmes tender by cluster, BEAD allows a single location).

Method, all in the working CRS EPSG:25832 (metres):

* the Euclidean minimum spanning tree (EMST) of all eligible addresses is built from their
  Delaunay triangulation (the EMST is a subgraph of it), with one
  ``scipy.sparse.csgraph.minimum_spanning_tree`` call;
* cutting the EMST edges longer than ``link_distance_m`` leaves a forest whose trees are
  exactly the single-linkage clusters, and each tree is its cluster's own EMST: the trench
  length of the area. (Every EMST edge of a cluster is <= the link distance, by the cut
  property, because the cluster is connected by such edges.)

Duplicate coordinates (several addresses in one building) join their area at no length.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from scipy.spatial import Delaunay, QhullError, cKDTree

from coverage.costs import CostParams, PriorityWeights, area_cost, priority_score
from coverage.errors import InputDataError

WORKING_CRS = "EPSG:25832"
_FOCAL = ("school", "hospital", "business")
#: Default unit costs (a frozen dataclass, shared safely).
DEFAULT_COSTS = CostParams()
#: Rounding allowance on the link distance (1 micrometre): 250 m stays 250 m after a rotation.
_LINK_TOLERANCE_M = 1e-6
#: Disc unions run on up to this many threads once the multi-address areas hold this many
#: addresses (below it thread start-up costs more than it saves).
_UNION_THREADS = 4
_THREADED_UNION_POINTS = 20_000


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
    weights
        Points of the priority score parts, see :func:`coverage.costs.priority_score`.
    """

    link_distance_m: float = 250.0
    buffer_m: float | None = None
    min_addresses: int = 1
    quad_segs: int = 4
    weights: PriorityWeights = field(default_factory=PriorityWeights)

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


def emst_edges(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """Edges ``(i, j, length_m)`` of the Euclidean minimum spanning tree of distinct points.

    Uses the Delaunay triangulation; collinear input (and 2 points), where Qhull cannot
    triangulate, is chained in (x, y) order, which is the EMST of points on a line. Points
    Qhull leaves out of every triangle (numerically coincident) are tied to their nearest
    triangle vertex. 0 or 1 point: no edges.
    """
    n = x.size
    empty = (np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0, np.float64))
    if n < 2:
        return empty
    pts = np.column_stack([x - x.mean(), y - y.mean()])
    try:
        tri = Delaunay(pts)
    except (QhullError, ValueError):
        order = np.lexsort((y, x))
        i, j = order[:-1], order[1:]
    else:
        s = tri.simplices
        i = np.concatenate([s[:, 0], s[:, 1], s[:, 2], tri.coplanar[:, 0]])
        j = np.concatenate([s[:, 1], s[:, 2], s[:, 0], tri.coplanar[:, 2]])
    lo, hi = np.minimum(i, j).astype(np.int64), np.maximum(i, j).astype(np.int64)
    # distinct edges: sort packed (lo, hi) keys and drop repeats (same order as sorted rows;
    # far faster than a row-wise unique, and than numpy's hash-based 1-D unique)
    key = np.sort(lo * n + hi)
    keep = np.ones(key.size, dtype=bool)
    np.not_equal(key[1:], key[:-1], out=keep[1:])
    key = key[keep]
    lo, hi = key // n, key % n
    w = np.hypot(x[lo] - x[hi], y[lo] - y[hi])
    graph = sparse.csr_matrix((w, (lo, hi)), shape=(n, n))
    tree = minimum_spanning_tree(graph).tocoo()
    return tree.row.astype(np.intp), tree.col.astype(np.intp), tree.data.astype(np.float64)


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
    params: GapParams = GapParams(),
    costs: CostParams = DEFAULT_COSTS,
    crs: str = WORKING_CRS,
) -> tuple[gpd.GeoDataFrame, npt.NDArray[np.int64]]:
    """Group eligible addresses into gap areas and describe, cost and rank each area.

    Parameters
    ----------
    x, y
        Address coordinates, metres, EPSG:25832. Eligible addresses need finite values.
    eligible
        Addresses to group (NA = not eligible).
    served
        Addresses with a network to connect to (e.g. gigabit served); the nearest one, over
        all served addresses, gives ``distance_to_served_m``. NA = not served.
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
    params, costs
        See :class:`GapParams` and :class:`coverage.costs.CostParams`.

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
        nearest area address to the nearest served address; NaN if nothing is served),
        ``trench_intra_m`` (EMST of the area's addresses), ``link_m`` (=
        distance_to_served_m, 0 when NaN), ``trench_m`` (intra + link),
        ``addresses_per_route_km``, ``cost_eur``, ``cost_per_address``,
        ``above_private_threshold``, ``priority`` (0..100) and ``priority_rank`` (1 = first;
        ties in area order); geometry = union of discs of ``params.radius_m``.
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
    sites = pd.Series(pd.array(site_type, dtype="string")).str.lower()
    ags_s = pd.Series(pd.array(ags, dtype="string"))
    deg = np.asarray(degurba_cell)
    for name, arr in (
        ("households", hh),
        ("site_type", sites),
        ("ags", ags_s),
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

    # clusters: EMST of the distinct eligible locations, cut at the link distance
    uniq, inv = _unique_points(xs[idx], ys[idx])
    ei, ej, ew = emst_edges(uniq[:, 0], uniq[:, 1])
    keep = ew <= params.link_distance_m + _LINK_TOLERANCE_M
    ei, ej, ew = ei[keep], ej[keep], ew[keep]
    nu = uniq.shape[0]
    _, comp_u = connected_components(
        sparse.coo_matrix((np.ones(ei.size), (ei, ej)), shape=(nu, nu)), directed=False
    )
    trench_u = np.bincount(comp_u[ei], weights=ew, minlength=int(comp_u.max(initial=-1)) + 1)
    comp = comp_u[inv]  # per eligible address

    sizes = np.bincount(comp) if comp.size else np.zeros(0, np.intp)
    member = sizes[comp] >= params.min_addresses
    idx, comp = idx[member], comp[member]
    order = _area_order(comp, idx, ags_s.iloc[idx].reset_index(drop=True))
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
        out[f"n_{site}"] = per_area((sites.iloc[idx] == site).fillna(False).to_numpy(float)).astype(
            "int64"
        )
    out["focal_points"] = out[[f"n_{s}" for s in _FOCAL]].sum(axis=1)

    geoms = _area_polygons(xs[idx], ys[idx], area, n_areas, params)
    area_km2 = shapely.area(geoms) / 1e6
    out["area_km2"] = area_km2
    with np.errstate(invalid="ignore", divide="ignore"):
        out["density_per_km2"] = np.where(area_km2 > 0, addresses / area_km2, np.nan)
        for col, cls in (("share_rural", 1), ("share_cluster", 2), ("share_centre", 3)):
            out[col] = per_area((deg[idx] == cls).astype(float)) / addresses
        out["share_white"] = per_area(wht[idx].astype(float)) / addresses

    dist = np.full(n_areas, np.inf)
    served_pts = np.column_stack([xs[srv], ys[srv]])
    served_pts = served_pts[np.isfinite(served_pts).all(axis=1)]
    if served_pts.size and idx.size:
        d, _ = cKDTree(served_pts).query(np.column_stack([xs[idx], ys[idx]]))
        np.minimum.at(dist, area, d)
    dist = np.where(np.isfinite(dist), dist, np.nan)
    out["distance_to_served_m"] = dist
    out["trench_intra_m"] = trench_u[order["comp"].to_numpy()] if n_areas else np.zeros(0)
    out["link_m"] = np.nan_to_num(dist, nan=0.0)
    out["trench_m"] = out["trench_intra_m"] + out["link_m"]
    trench = out["trench_m"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["addresses_per_route_km"] = np.where(trench > 0, addresses / (trench / 1000.0), np.nan)
    cost, per_address = area_cost(trench, addresses, costs)
    out["cost_eur"] = cost
    out["cost_per_address"] = per_address
    out["above_private_threshold"] = per_address > costs.private_threshold_eur_per_address
    score = priority_score(
        out["share_white"], out["share_rural"], per_address, costs, params.weights, addresses
    )
    out["priority"] = score
    rank = np.empty(n_areas, dtype=np.int64)
    rank[np.lexsort((np.arange(n_areas), -score))] = np.arange(1, n_areas + 1)
    out["priority_rank"] = rank
    return gpd.GeoDataFrame(out, geometry=geoms, crs=crs), address_area


def _area_polygons(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    area: npt.NDArray[np.int64],
    n_areas: int,
    params: GapParams,
) -> npt.NDArray[np.object_]:
    """Union of discs around the addresses of each area (one shapely call per multi-point area).

    The unions are GEOS-bound (shapely releases the GIL), so large jobs run on a few threads,
    each taking every k-th area by size; every area is the same ``union_all`` as serially.
    """
    geoms = np.empty(n_areas, dtype=object)
    if n_areas == 0:
        return geoms
    discs = shapely.buffer(shapely.points(x, y), params.radius_m, quad_segs=params.quad_segs)
    order = np.argsort(area, kind="stable")
    bounds = np.searchsorted(area[order], np.arange(n_areas + 1))
    counts = np.diff(bounds)
    single = counts == 1
    geoms[single] = discs[order[bounds[:-1][single]]]
    multi = np.flatnonzero(~single)
    multi = multi[np.argsort(-counts[multi], kind="stable")]  # largest first

    def union(areas: npt.NDArray[np.intp]) -> None:
        for a in areas:
            geoms[a] = shapely.union_all(discs[order[bounds[a] : bounds[a + 1]]])

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    workers = min(_UNION_THREADS, cpus or 1, max(len(multi), 1))
    if workers < 2 or int(counts[multi].sum()) < _THREADED_UNION_POINTS:
        union(multi)
        return geoms
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(union, [multi[k::workers] for k in range(workers)]))
    return geoms
