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

Linkage forest (:func:`linkage_forest`), exact. The EMST lies in the Delaunay graph, and
only its edges of at most the link distance ``L`` matter. The distinct points, sorted by x,
are cut into strips of equal counts, each widened to the right by ``L``, so both ends of
every pair within ``L`` share the strip of the left one. Each strip is triangulated on its
own (on threads; GEOS releases the GIL), its edges longer than ``L`` dropped, and the
spanning forest of what is left taken; the forest of all those strip forests is the
result. Why it is the cut EMST: for any two points ``p, q`` of one Delaunay triangulation
``T``, ``T`` joins them by a path of edges no longer than ``|pq|`` (take the shortest pair
where this fails; ``pq`` is not in ``T``, so the closed circle on diameter ``pq`` holds
another point ``r``, with ``|pr|, |rq| < |pq|``, and those pairs do not fail). So every pair
within ``L`` is joined in the strip graph by edges no longer than the pair, the graph is a
subgraph of the complete one, and its minimum spanning forest has the same components and
the same total length per component as the EMST cut at ``L`` (Kruskal merges the same sets
at the same lengths). GEOS's in-circle test is floating point, as Qhull's is: a flip it
gets wrong joins four nearly cocircular points, where the diagonal in question is, to
rounding, the longest side of a triangle it closes, so no length changes beyond rounding.
:func:`emst_edges` (Qhull) still gives the whole EMST.

Disc unions (:func:`_disc_union`), exact up to GEOS overlay rounding. A disc of vertex
radius ``R`` with ``4 quad_segs`` sides holds the circle of ``inner = R cos(pi / (4
quad_segs))``. Most discs of a dense area lie in the interior of the union ``U``; the union
of the rest, ``U'``, is far cheaper, and ``U`` follows from it:

* on a raster over the area, a square is *covered* when its four corners lie within
  ``inner`` of one point (it is then in the interior of ``U``), and a disc is dropped when
  every square meeting its circumcircle is covered: dropped discs lie in the interior of
  ``U`` (:func:`_boundary_discs`; both tests are exact per square, with rounding to spare).
* every boundary point of ``U`` lies in some disc, which cannot be a dropped one, so the
  boundary of ``U`` lies in ``U'`` (and ``U'`` lies in ``U``). Each connected piece of the
  complement of ``U'`` therefore misses the boundary of ``U`` and lies wholly inside ``U``
  or wholly outside it: one interior point of each piece decides (nearest point within
  ``inner``: inside; beyond ``R``: outside; otherwise the discs around it are asked). The
  pieces are the holes of ``U'`` minus the parts of ``U'`` nested in them; filling the
  inside ones gives ``U`` (:func:`_fill_holes`), nested true holes and islands included.

On 1.28 million eligible addresses the sieve keeps about one disc in ten.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable
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
#: Linkage forests of this many points run on strips in parallel, about this many a strip.
_PARALLEL_POINTS = 50_000
_STRIP_POINTS = 100_000
#: Areas of this many distinct points drop the discs that cannot reach the union's boundary
#: before the union, judged on a raster of squares of radius / _CELLS_PER_RADIUS metres
#: (coarser when it would exceed _CELLS_PER_POINT squares a point or _MAX_CELLS squares).
_SIEVE_MIN_POINTS = 100
_CELLS_PER_RADIUS = 8.0
_CELLS_PER_POINT = 64
_MAX_CELLS = 25_000_000
#: Rounding allowance (metres) of the disc tests: coordinates near 5e6 m carry ~1e-9 m.
_EPS_M = 1e-6


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


def _workers() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return os.cpu_count() or 1


def _qhull_edges(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Distinct Delaunay edges ``(lo, hi)`` (``lo < hi``) of >= 2 distinct points by Qhull.

    Collinear input (and 2 points), where Qhull cannot triangulate, is chained in (x, y)
    order, which contains the EMST of points on a line. Points Qhull leaves out of every
    triangle (numerically coincident) are tied to their nearest triangle vertex.
    """
    n = x.size
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
    return _distinct_edges(i, j, n)


def _distinct_edges(
    i: npt.NDArray[np.integer], j: npt.NDArray[np.integer], n: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Edges as ``(lo, hi)`` with ``lo < hi``, each once, sorted.

    Sorts packed ``lo * n + hi`` keys and drops repeats (far faster than a row-wise unique,
    and than numpy's hash-based 1-D unique).
    """
    lo, hi = np.minimum(i, j).astype(np.int64), np.maximum(i, j).astype(np.int64)
    key = np.sort(lo * n + hi)
    keep = np.ones(key.size, dtype=bool)
    np.not_equal(key[1:], key[:-1], out=keep[1:])
    key = key[keep]
    return key // n, key % n


def _mst(
    lo: npt.NDArray[np.int64],
    hi: npt.NDArray[np.int64],
    w: npt.NDArray[np.float64],
    n: int,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """Minimum spanning forest ``(i, j, length)`` of the graph of distinct edges."""
    graph = sparse.csr_matrix((w, (lo, hi)), shape=(n, n))
    tree = minimum_spanning_tree(graph).tocoo()
    return tree.row.astype(np.intp), tree.col.astype(np.intp), tree.data.astype(np.float64)


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
    if n < 2:
        return (np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0, np.float64))
    lo, hi = _qhull_edges(x, y)
    return _mst(lo, hi, np.hypot(x[lo] - x[hi], y[lo] - y[hi]), n)


def _strip_forest(
    pts: npt.NDArray[np.float64], max_edge: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Minimum spanning forest of the Delaunay edges no longer than ``max_edge`` of
    distinct points sorted by (x, y).

    GEOS builds the triangulation (``shapely.delaunay_triangles``: about 1.5 times less CPU
    than Qhull here, releases the GIL, and chains collinear input itself); its edges carry
    the input coordinates unchanged, so each end is found again by a binary search of the
    (x, y)-sorted points viewed as complex numbers (numpy orders those by real, then
    imaginary part). Should an end not be found, Qhull triangulates instead.
    """
    n = pts.shape[0]
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64)
    lines = shapely.delaunay_triangles(shapely.multipoints(pts), only_edges=True)
    ends = np.ascontiguousarray(shapely.get_coordinates(lines)).view(np.complex128).ravel()
    keys = np.ascontiguousarray(pts).view(np.complex128).ravel()
    pos = np.minimum(np.searchsorted(keys, ends), n - 1)
    if ends.size and np.array_equal(keys[pos], ends):
        i, j = pos[0::2].astype(np.int64), pos[1::2].astype(np.int64)
    else:  # not expected: GEOS returned coordinates it was not given
        i, j = _qhull_edges(pts[:, 0], pts[:, 1])
    w = np.hypot(pts[i, 0] - pts[j, 0], pts[i, 1] - pts[j, 1])
    short = w <= max_edge
    i, j, w = _mst(i[short], j[short], w[short], n)
    return i.astype(np.int64), j.astype(np.int64), w


def linkage_forest(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], max_edge: float
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """The Euclidean minimum spanning tree cut at ``max_edge``: edges ``(i, j, length_m)``.

    Same components and same total length per component as the edges of
    :func:`emst_edges` no longer than ``max_edge`` (see the module docstring for why),
    computed on overlapping vertical strips, in parallel above ``_PARALLEL_POINTS``
    points. Repeated points are tied to their first copy by edges of length 0. Fewer than
    2 points: no edges.
    """
    n = x.size
    dx, dy = np.diff(x), np.diff(y)
    if np.all((dx > 0) | ((dx == 0) & (dy >= 0))):  # already sorted by (x, y)
        order = np.arange(n)
    else:
        order = np.lexsort((y, x))
    xs, ys = x[order], y[order]
    new = np.ones(n, dtype=bool)
    new[1:] = (xs[1:] != xs[:-1]) | (ys[1:] != ys[:-1])
    first = np.flatnonzero(new)  # sorted row of each distinct point
    pts = np.column_stack([xs[new], ys[new]])
    m = first.size
    # strips of about equal point counts, each widened to the right by the longest edge
    # kept (and 1 % for rounding): both ends of a kept edge lie in the strip of its left end
    n_strips = max(1, min(-(-m // _STRIP_POINTS), 64)) if m >= _PARALLEL_POINTS else 1
    cuts = np.linspace(0, m, n_strips + 1).astype(np.intp)
    pad = 1.01 * max_edge
    spans = [
        (int(a), int(np.searchsorted(pts[:, 0], pts[b - 1, 0] + pad, "right")))
        for a, b in itertools.pairwise(cuts)
        if b > a
    ]
    if sum(b - a for a, b in spans) > 2 * m:  # links as long as the data are wide
        spans = [(0, m)]

    def strip(
        span: tuple[int, int],
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        a, b = span
        i, j, w = _strip_forest(pts[a:b], max_edge)
        return i + a, j + a, w

    workers = min(_workers(), len(spans))
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            forests = list(pool.map(strip, spans))
    else:
        forests = [strip(s) for s in spans]
    if len(forests) <= 1:
        i, j, w = forests[0] if forests else _strip_forest(pts, max_edge)
    else:  # the forest of the union of the strip forests (an edge may be in two strips)
        lo, hi = _distinct_edges(
            np.concatenate([f[0] for f in forests]), np.concatenate([f[1] for f in forests]), m
        )
        w = np.hypot(pts[lo, 0] - pts[hi, 0], pts[lo, 1] - pts[hi, 1])
        i, j, w = _mst(lo, hi, w, m)
    # back to input rows; repeats join their first copy at length 0
    run = np.cumsum(new) - 1
    dup = np.flatnonzero(~new)
    i = np.concatenate([order[first[i]], order[first[run[dup]]]])
    j = np.concatenate([order[first[j]], order[dup]])
    return i.astype(np.intp), j.astype(np.intp), np.concatenate([w, np.zeros(dup.size)])


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


def _strings_at(values: npt.ArrayLike, rows: npt.NDArray[np.intp]) -> pd.Series:
    """``values[rows]`` as a pandas string Series (missing values as NA)."""
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
    background.shutdown(wait=False)  # runs the job, takes no more
    # the text columns of the eligible addresses only (conversion is the slow part)
    sites = _strings_at(site_type, idx).str.lower()
    ags_s = _strings_at(ags, idx)

    # clusters: EMST of the distinct eligible locations, cut at the link distance
    uniq, inv = _unique_points(xs[idx], ys[idx])
    ei, ej, ew = linkage_forest(uniq[:, 0], uniq[:, 1], params.link_distance_m + _LINK_TOLERANCE_M)
    nu = uniq.shape[0]
    _, comp_u = connected_components(
        sparse.coo_matrix((np.ones(ei.size), (ei, ej)), shape=(nu, nu)), directed=False
    )
    trench_u = np.bincount(comp_u[ei], weights=ew, minlength=int(comp_u.max(initial=-1)) + 1)
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
    geoms = _area_polygons(uniq[:, 0], uniq[:, 1], area_u, n_areas, params)
    area_km2 = shapely.area(geoms) / 1e6
    out["area_km2"] = area_km2
    with np.errstate(invalid="ignore", divide="ignore"):
        out["density_per_km2"] = np.where(area_km2 > 0, addresses / area_km2, np.nan)
        for col, cls in (("share_rural", 1), ("share_cluster", 2), ("share_centre", 3)):
            out[col] = per_area((deg[idx] == cls).astype(float)) / addresses
        out["share_white"] = per_area(wht[idx].astype(float)) / addresses

    dist = np.full(n_areas, np.inf)
    np.minimum.at(dist, area, near_served.result()[member])
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
    """Union of the discs around the distinct points ``(x, y)`` of each area (-1: none).

    A one-point area is its disc, any other :func:`_disc_union`. The work is mostly GEOS
    (shapely releases the GIL), so large jobs run on a few threads, the largest areas first;
    every area gets the same polygon as serially.
    """
    geoms = np.empty(n_areas, dtype=object)
    if n_areas == 0:
        return geoms
    member = area >= 0
    x, y, area = x[member], y[member], area[member]
    order = np.argsort(area, kind="stable")
    bounds = np.searchsorted(area[order], np.arange(n_areas + 1))
    counts = np.diff(bounds)
    single = np.flatnonzero(counts == 1)
    first = order[bounds[single]]
    geoms[single] = _discs(x[first], y[first], params)
    multi = np.flatnonzero(counts > 1)
    multi = multi[np.argsort(-counts[multi], kind="stable")]  # largest first

    def union(a: int) -> None:
        rows = order[bounds[a] : bounds[a + 1]]
        geoms[a] = _disc_union(np.column_stack([x[rows], y[rows]]), params)

    def union_many(areas: npt.NDArray[np.intp]) -> None:
        for a in areas:
            union(a)

    workers = min(_UNION_THREADS, _workers(), max(len(multi), 1))
    if workers < 2 or int(counts[multi].sum()) < _THREADED_UNION_POINTS:
        union_many(multi)
        return geoms
    # large areas one task each, the many small ones in a few batches
    large = multi[counts[multi] >= _SIEVE_MIN_POINTS]
    small = multi[counts[multi] < _SIEVE_MIN_POINTS]
    with ThreadPoolExecutor(workers) as pool:
        jobs = [pool.submit(union, int(a)) for a in large]
        jobs += [pool.submit(union_many, small[k :: 2 * workers]) for k in range(2 * workers)]
        for job in jobs:
            job.result()
    return geoms


def _discs(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], params: GapParams
) -> npt.NDArray[np.object_]:
    return shapely.buffer(shapely.points(x, y), params.radius_m, quad_segs=params.quad_segs)


def _disc_union(pts: npt.NDArray[np.float64], params: GapParams) -> shapely.Geometry:
    """``union_all`` of the discs around distinct points, from the discs that can matter.

    Small sets, and discs too small for the sieve, take the plain union. Otherwise the
    union ``U'`` of the discs that :func:`_boundary_discs` keeps has the boundary of the
    full union ``U`` inside it, and :func:`_fill_holes` fills the holes of ``U'`` that lie
    inside ``U`` (see the module docstring for why that is exact).
    """
    radius, quad_segs = params.radius_m, params.quad_segs
    # a regular 4 * quad_segs-gon with vertices on the radius holds the circle of ``inner``
    inner = radius * math.cos(math.pi / (4 * quad_segs))
    cell = radius / _CELLS_PER_RADIUS
    if pts.shape[0] < _SIEVE_MIN_POINTS or not inner > 2 * cell:
        return shapely.union_all(_discs(pts[:, 0], pts[:, 1], params))
    keep = _boundary_discs(pts, radius, inner, cell)
    partial = shapely.union_all(_discs(pts[keep, 0], pts[keep, 1], params))
    if keep.all():
        return partial
    return _fill_holes(partial, _InUnion(pts, params, inner))


def _boundary_discs(
    pts: npt.NDArray[np.float64], radius: float, inner: float, cell: float
) -> npt.NDArray[np.bool_]:
    """Mask of the points whose disc may reach the boundary of the union of all discs.

    On a raster of ``cell``-metre squares: a square is *covered* when all four of its
    corners lie within ``inner`` of one point (the square is then inside that point's
    disc, in the interior of the union); a point is dropped when every square meeting the
    circle of ``radius`` around it is covered (its disc then lies in the interior of the
    union). Both tests are exact for the squares, with ``_EPS_M`` to spare, so the mask
    errs only towards keeping. They run per point and raster row: the squares of a row
    that a circle holds, or meets, form one run of columns. The cell grows when the raster
    would exceed its budget.
    """
    n = pts.shape[0]
    keep_all = np.ones(n, dtype=bool)
    lo = pts.min(axis=0)
    span = pts.max(axis=0) - lo + 2 * radius
    cell = max(cell, math.sqrt(float(span[0] * span[1]) / min(_MAX_CELLS, _CELLS_PER_POINT * n)))
    if not inner > 2 * cell:
        return keep_all
    margin = math.ceil(radius / cell) + 2  # rows and columns beyond the reach of any disc
    origin = lo - margin * cell
    u = (pts[:, 0] - origin[0]) / cell  # coordinates in cells
    v = (pts[:, 1] - origin[1]) / cell
    row = v.astype(np.intp)
    shape = (int(row.max()) + margin + 1, int(u.max()) + margin + 1)
    order = np.argsort(row * shape[1] + u.astype(np.intp))  # raster order: local memory access
    u, v, row = u[order], v[order], row[order]
    covered = _covered_squares(u, v, row, (inner - _EPS_M) / cell, shape)
    if not covered.any():
        return keep_all
    keep = np.empty(n, dtype=bool)
    keep[order] = ~_on_covered(u, v, row, (radius + _EPS_M) / cell, covered)
    return keep


def _covered_squares(
    u: npt.NDArray[np.float64],
    v: npt.NDArray[np.float64],
    row: npt.NDArray[np.intp],
    r: float,
    shape: tuple[int, int],
) -> npt.NDArray[np.bool_]:
    """Raster of the squares lying inside the circle of radius ``r`` (cells) of a point.

    In row ``i`` a square fits when its columns lie within ``sqrt(r^2 - f^2)`` of the
    point, ``f`` the row's farther edge. Each point adds +1 at the first such column and
    -1 after the last; a running sum along the row counts the circles holding a square.
    """
    rows, cols = shape
    width = cols + 1  # one spare column for the -1 after a run ending in the last column
    starts, stops = [], []
    reach = math.ceil(r) + 1
    for di in range(-reach, reach + 1):
        i = row + di
        far = np.maximum(np.abs(v - i), np.abs(i + 1 - v))
        half = np.sqrt(np.maximum(r * r - far * far, 0.0))
        first = np.ceil(u - half).astype(np.intp)
        last = np.floor(u + half).astype(np.intp) - 1
        ok = (far <= r) & (first <= last)
        starts.append(i[ok] * width + first[ok])
        stops.append(i[ok] * width + last[ok] + 1)
    count = np.bincount(np.concatenate(starts), minlength=rows * width)
    count -= np.bincount(np.concatenate(stops), minlength=rows * width)
    return np.cumsum(count.reshape(rows, width), axis=1)[:, :cols] > 0


def _on_covered(
    u: npt.NDArray[np.float64],
    v: npt.NDArray[np.float64],
    row: npt.NDArray[np.intp],
    r: float,
    covered: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bool_]:
    """Per point: every square meeting its circle of radius ``r`` (cells) is covered.

    In row ``i`` the squares met are the columns within ``sqrt(r^2 - e^2)`` of the point,
    ``e`` the distance to the row's nearer edge; a prefix count of uncovered squares along
    the row tells whether that run holds none.
    """
    rows, cols = covered.shape
    width = cols + 1
    uncovered = np.zeros((rows, width), dtype=np.int32)
    np.cumsum(~covered, axis=1, out=uncovered[:, 1:])
    uncovered = uncovered.ravel()
    inside = np.ones(u.size, dtype=bool)
    reach = math.ceil(r) + 1
    for di in range(-reach, reach + 1):
        i = row + di
        near = np.maximum(np.maximum(i - v, v - (i + 1)), 0.0)
        ok = near <= r
        half = np.sqrt(np.maximum(r * r - near * near, 0.0))
        base = np.where(ok, i, 0) * width
        first = base + np.floor(u - half).astype(np.intp)
        last = base + np.floor(u + half).astype(np.intp)
        inside &= ~ok | (uncovered[last + 1] == uncovered[first])
    return inside


class _InUnion:
    """Whether points lie in the union of the discs around ``pts`` (never on its boundary)."""

    def __init__(self, pts: npt.NDArray[np.float64], params: GapParams, inner: float) -> None:
        self.pts, self.params, self.inner = pts, params, inner
        self.tree = cKDTree(pts, balanced_tree=False, compact_nodes=False)

    def __call__(self, xy: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        dist, _ = self.tree.query(xy)
        inside = dist <= self.inner - _EPS_M  # within the circle every disc holds
        unsure = np.flatnonzero(~inside & (dist <= self.params.radius_m + _EPS_M))
        if unsure.size:
            near = self.tree.query_ball_point(xy[unsure], self.params.radius_m + _EPS_M)
            for k, rows in zip(unsure, near, strict=True):
                discs = _discs(self.pts[rows, 0], self.pts[rows, 1], self.params)
                inside[k] = bool(shapely.intersects_xy(discs, xy[k, 0], xy[k, 1]).any())
        return inside


def _fill_holes(
    partial: shapely.Geometry,
    in_union: Callable[[npt.NDArray[np.float64]], npt.NDArray[np.bool_]],
) -> shapely.Geometry:
    """``partial`` with its holes that lie inside the full union filled.

    Each hole's ring bounds a connected piece of the complement of ``partial`` (minus any
    parts of ``partial`` nested in it), wholly inside or wholly outside the full union;
    one interior point of each piece decides. Filling a hole merges the parts nested in
    it into the part around it. Built from the rings as they are (no overlay), except in
    the rare case of a hole split by nested parts into pieces that disagree.
    """
    parts = shapely.get_parts(partial)
    n_holes = shapely.get_num_interior_rings(parts)
    if not n_holes.any():
        return partial
    owner = np.repeat(np.arange(parts.size), n_holes)
    ring_no = np.arange(owner.size) - np.repeat(np.cumsum(n_holes) - n_holes, n_holes)
    rings = shapely.get_interior_ring(parts[owner], ring_no)
    holes = shapely.polygons(rings)
    shells = shapely.get_exterior_ring(parts)
    # parts nested in holes: the innermost (smallest) hole around each part
    parent = np.full(parts.size, -1, dtype=np.intp)
    if parts.size > 1:
        hole_of, part_of = shapely.STRtree(shapely.point_on_surface(parts)).query(
            holes, predicate="contains"
        )
        by_size = np.lexsort((shapely.area(holes)[hole_of], part_of))
        part_of, hole_of = part_of[by_size], hole_of[by_size]
        innermost = np.ones(part_of.size, dtype=bool)  # first (smallest) hole per part
        innermost[1:] = part_of[1:] != part_of[:-1]
        parent[part_of[innermost]] = hole_of[innermost]
    nested = np.flatnonzero(parent >= 0)
    plain = np.ones(holes.size, dtype=bool)
    plain[parent[nested]] = False
    filled = np.zeros(holes.size, dtype=bool)
    filled[plain] = in_union(shapely.get_coordinates(shapely.point_on_surface(holes[plain])))
    pieces = []  # of holes with nested parts
    split = False
    for h in np.flatnonzero(~plain):
        kids = shapely.polygons(shells[nested[parent[nested] == h]])
        piece = shapely.get_parts(shapely.difference(holes[h], shapely.union_all(kids)))
        inside = in_union(shapely.get_coordinates(shapely.point_on_surface(piece)))
        filled[h] = bool(inside.all())
        split |= bool(inside.any()) and not filled[h]
        pieces.extend(piece[inside])
    if split:  # fill what is inside by overlay
        return shapely.union_all(np.concatenate([[partial], holes[plain & filled], pieces]))
    # a part nested in a filled hole joins the part around that hole
    root = np.arange(parts.size)
    absorbed = nested[filled[parent[nested]]]
    root[absorbed] = owner[parent[absorbed]]
    while not np.array_equal(root, root[root]):
        root = root[root]
    keep = np.flatnonzero(~filled)
    keep = keep[np.argsort(root[owner[keep]], kind="stable")]
    kept_by = np.searchsorted(root[owner[keep]], np.arange(parts.size + 1))
    out = [
        shapely.Polygon(shells[k], rings[keep[kept_by[k] : kept_by[k + 1]]])
        for k in np.flatnonzero(root == np.arange(parts.size))
    ]
    return out[0] if len(out) == 1 else shapely.MultiPolygon(out)
