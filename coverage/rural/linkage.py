"""Single-linkage clusters of points: the Euclidean minimum spanning tree cut at a distance.

:func:`linkage_forest` gives the EMST edges no longer than ``max_edge`` (the clusters of
:mod:`coverage.rural.gaps` and their trench lengths); :func:`emst_edges` the whole EMST (Qhull).

:func:`linkage_forest` is exact. The EMST lies in the Delaunay graph, and only its edges of
at most the link distance ``L`` matter. The distinct points, sorted by x, are cut into
strips of equal counts, each widened to the right by ``L``, so both ends of every pair
within ``L`` share the strip of the left one. Each strip is triangulated on its own (on
threads; the compiled triangulation of :mod:`coverage.rural.delaunay` releases the GIL,
as GEOS does, which triangulates smaller sets and where the compiled one declines), its
edges longer than ``L`` dropped, and (compiled) so is every edge that is the strictly
longest side of a triangle; the spanning forest of what is left is taken (Kruskal's
union-find, or scipy), and the forest of all those strip forests is the result. Why it is the cut
EMST: for any two points ``p, q`` of one Delaunay triangulation ``T``, ``T`` joins them by
a path of edges no longer than ``|pq|`` (take the shortest pair where this fails; ``pq`` is
not in ``T``, so the closed circle on diameter ``pq`` holds another point ``r``, with
``|pr|, |rq| < |pq|``, and those pairs do not fail). An edge dropped as the strictly longest
side of a triangle is replaced by the two shorter sides (and those, if dropped, by shorter
ones still), so the path stays. So every pair within ``L`` is joined in the strip graph by
edges no longer than the pair, the graph is a subgraph of the complete one, and its minimum
spanning forest has the same components and the same total length per component as the
EMST cut at ``L`` (Kruskal merges the same sets at the same lengths). The triangulations'
orientation tests are exact; their in-circle test is floating point, as GEOS's and Qhull's
are: a flip it gets wrong joins four nearly cocircular points, where the diagonal in
question is, to rounding, the longest side of a triangle it closes, so no length changes
beyond rounding. :func:`emst_edges` (Qhull) still gives the whole EMST.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import Executor, ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from scipy.spatial import Delaunay, QhullError

from coverage.rural import delaunay, partition

#: Linkage forests of this many points run on strips in parallel, about this many a strip.
_PARALLEL_POINTS = 50_000
#: Linkage forests of at least this many distinct points use the compiled triangulation and
#: Kruskal (:mod:`coverage.rural.delaunay`): about 5 us of CPU less a point than GEOS and
#: scipy, but the first call in a process compiles them for about 2 s of CPU.
_COMPILED_POINTS = 400_000
_STRIP_POINTS = 100_000


def usable_cpus() -> int:
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
    pts: npt.NDArray[np.float64], max_edge: float, compiled: bool = True
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Minimum spanning forest of the Delaunay edges no longer than ``max_edge`` of
    distinct points sorted by (x, y).

    ``compiled``: the sweep-hull triangulation of :mod:`coverage.rural.delaunay` gives the
    edges by point number, and Kruskal's union-find takes the forest of the short ones;
    where that triangulation declines (collinear or degenerate input), GEOS triangulates
    (:func:`_geos_edges`). Otherwise GEOS and scipy's minimum spanning tree.
    """
    n = pts.shape[0]
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64)
    edges = delaunay.delaunay_short_edges(pts[:, 0], pts[:, 1], max_edge) if compiled else None
    if edges is None:
        i, j = _geos_edges(pts)
        w = np.hypot(pts[i, 0] - pts[j, 0], pts[i, 1] - pts[j, 1])
        short = w <= max_edge
        edges = i[short], j[short], w[short]
    if compiled:
        return delaunay.kruskal(*edges, n)
    i, j, w = _mst(*edges, n)
    return i.astype(np.int64), j.astype(np.int64), w


def _geos_edges(
    pts: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Delaunay edges of >= 2 distinct points sorted by (x, y), by GEOS.

    ``shapely.delaunay_triangles`` chains collinear input itself; its edges carry the input
    coordinates unchanged, so each end is found again by a binary search of the
    (x, y)-sorted points viewed as complex numbers (numpy orders those by real, then
    imaginary part). Should an end not be found, Qhull triangulates instead.
    """
    n = pts.shape[0]
    lines = shapely.delaunay_triangles(shapely.multipoints(pts), only_edges=True)
    ends = np.ascontiguousarray(shapely.get_coordinates(lines)).view(np.complex128).ravel()
    keys = np.ascontiguousarray(pts).view(np.complex128).ravel()
    pos = np.minimum(np.searchsorted(keys, ends), n - 1)
    if ends.size and np.array_equal(keys[pos], ends):
        return pos[0::2].astype(np.int64), pos[1::2].astype(np.int64)
    return _qhull_edges(pts[:, 0], pts[:, 1])  # not expected: GEOS returned new coordinates


def strip_forest(
    pts: npt.NDArray[np.float64], max_edge: float, offset: int = 0, compiled: bool = True
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """:func:`_strip_forest` of one strip, its point numbers shifted by ``offset`` (a task)."""
    i, j, w = _strip_forest(pts, max_edge, compiled)
    return i + offset, j + offset, w


def linkage_forest(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    max_edge: float,
    *,
    executor: Executor | None = None,
    strip_points: int | None = None,
    compiled: bool | None = None,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """The Euclidean minimum spanning tree cut at ``max_edge``: edges ``(i, j, length_m)``.

    Same components and same total length per component as the edges of
    :func:`emst_edges` no longer than ``max_edge`` (see the module docstring for why),
    computed on overlapping vertical strips, in parallel above ``_PARALLEL_POINTS``
    points. Repeated points are tied to their first copy by edges of length 0. Fewer than
    2 points: no edges.

    With an ``executor`` every strip (of about ``strip_points`` points) is one task on it;
    without one, strips run on this process's threads. The forest has the same clusters
    and the same multiset of edge lengths per cluster either way.

    ``compiled`` (default: from ``_COMPILED_POINTS`` distinct points on) picks the compiled
    triangulation and Kruskal over GEOS and scipy (:func:`_strip_forest`); the clusters and
    their lengths are the same either way, to rounding.
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
    if strip_points is not None:
        n_strips = max(1, -(-m // max(strip_points, 1)))
    elif executor is not None:
        n_strips = max(1, -(-m // _STRIP_POINTS))
    else:
        n_strips = max(1, min(-(-m // _STRIP_POINTS), 64)) if m >= _PARALLEL_POINTS else 1
    cuts = np.linspace(0, m, n_strips + 1).astype(np.intp)
    pad = 1.01 * max_edge
    spans = [
        (int(a), int(np.searchsorted(pts[:, 0], pts[b - 1, 0] + pad, "right")))
        for a, b in itertools.pairwise(cuts)
        if b > a
    ]
    if strip_points is None and sum(b - a for a, b in spans) > 2 * m:
        spans = [(0, m)]  # links as long as the data are wide
    if compiled is None:
        compiled = m >= _COMPILED_POINTS
    jobs = [(pts[a:b], max_edge, a, compiled) for a, b in spans]
    workers = min(usable_cpus(), len(spans))
    if executor is None and workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            forests = partition.run(pool, strip_forest, jobs, [b - a for a, b in spans])
    else:
        forests = partition.run(executor, strip_forest, jobs, [b - a for a, b in spans])
    if len(forests) <= 1:
        i, j, w = forests[0] if forests else _strip_forest(pts, max_edge, compiled)
    else:  # the forest of the union of the strip forests (an edge may be in two strips)
        i, j, w = (np.concatenate([f[k] for f in forests]) for k in range(3))
        if compiled:
            i, j, w = delaunay.kruskal(i, j, w, m)
        else:
            lo, hi = _distinct_edges(i, j, m)
            i, j, w = _mst(lo, hi, np.hypot(pts[lo, 0] - pts[hi, 0], pts[lo, 1] - pts[hi, 1]), m)
    # back to input rows; repeats join their first copy at length 0
    run = np.cumsum(new) - 1
    dup = np.flatnonzero(~new)
    i = np.concatenate([order[first[i]], order[first[run[dup]]]])
    j = np.concatenate([order[first[j]], order[dup]])
    return i.astype(np.intp), j.astype(np.intp), np.concatenate([w, np.zeros(dup.size)])


def forest_clusters(
    i: npt.NDArray[np.integer],
    j: npt.NDArray[np.integer],
    w: npt.NDArray[np.float64],
    n: int,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]]:
    """Per point its cluster (the connected components of the forest ``(i, j, w)`` on ``n``
    points), and per cluster its trench: the lengths of its edges summed shortest first,
    so the sum is the same however the forest was cut into strips."""
    _, comp = connected_components(
        sparse.coo_matrix((np.ones(i.size), (i, j)), shape=(n, n)), directed=False
    )
    by_length = np.lexsort((w, comp[i]))
    trench = np.bincount(
        comp[i][by_length], weights=w[by_length], minlength=int(comp.max(initial=-1)) + 1
    )
    return comp, trench
