"""The kernel: points x polygons -> (point_idx, polygon_idx) pairs, and reductions per point.

Semantics
---------
A point matches a polygon when the polygon *covers* it: a point on an edge or a vertex
counts (``covered_by``; for a point this is the same as ``intersects``). Coordinates are
metres in the run's projected working CRS (EPSG:25832 for Germany); points and polygons
must share it. Empty or missing polygons match nothing; points with non-finite
coordinates match nothing.

Method (strip decomposition, ray tests, GEOS only at the edge)
-------------------------------------------------------------
The plane is cut into horizontal strips of height ``cell_size``. Points are sorted by
(strip, x), so the points of any x-interval of one strip are one contiguous slice. Every
polygon is cut along the same strips (:mod:`coverage.join_decompose`), vectorised over all
edges of a block of polygons: each edge contributes, per strip it touches, its exact
x-extent there (padded by a tolerance far above rounding error). Overlapping extents of
one polygon and strip merge into *boundary pieces*. Between two boundary pieces of a strip
lies a cell the boundary does not touch, so it is wholly inside or wholly outside; which
one follows from the parity of the polygon's edge crossings of the strip's centre line to
its left (even-odd rule, equal to containment for valid polygons). Inside cells accept all
their points without any test.

A point in a boundary piece is decided by a horizontal ray to the left: the status of the
cell left of the piece, flipped once per edge of the piece the ray crosses (only the
piece's own edges can cross it there). The arithmetic is plain floating point, so a
point closer than the tolerance to an edge (in x, scaled by the edge's slope) or to the
height of a vertex is *unsure* and gets the exact GEOS test (``shapely.intersects_xy``),
which is what decides edge and vertex hits exactly like ``shapely.covered_by``. Every
other decision is exact because rounding error stays far below the tolerance. On
realistic data under 1 % of the points near edges need GEOS.

Everything is integer bookkeeping over numpy arrays; there is no Python loop per point or
per polygon (only per block of ~65k vertices and per block of ~1M output pairs). Points
are processed in chunks (contiguous slices of the input order) so temporary arrays stay
bounded; a chunk only looks at the pieces of the strips its points occupy (few, when the
input is spatially sorted), and the pairs come out sorted by point index.

Polygons are expected to be valid (``schema.validate_offers`` repairs them with
``make_valid``). Geometry types other than Polygon/MultiPolygon (e.g. a GeometryCollection)
are handled by testing every point inside their bounding box exactly.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import numpy as np
import shapely

from coverage.join_decompose import Decomposition, Pieces, Strips, choose_cell_size, ranges
from coverage.join_reduce import (
    _as_geometry_array,
    argbest_per_point,
    brute_force_pairs,
    count_distinct_per_point,
    reduce_max_per_point,
)

__all__ = [
    "argbest_per_point",
    "brute_force_pairs",
    "choose_cell_size",
    "count_distinct_per_point",
    "iter_points_in_polygons",
    "points_in_polygons",
    "reduce_max_per_point",
]

_INT = np.int64

#: boundary pieces built from more edges than this go to GEOS instead of the ray test
#: (bounds the candidate x edge pairs; such pieces are rare)
_MAX_RAY_EDGES = 48

#: candidate points per block of ray tests
_RAY_BLOCK = 1 << 15


def points_in_polygons(
    x: np.ndarray,
    y: np.ndarray,
    polygons: np.ndarray | Sequence[shapely.Geometry],
    *,
    chunk_size: int = 1_000_000,
    cell_size: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """All (point_idx, polygon_idx) pairs where the polygon covers the point.

    Parameters
    ----------
    x, y : ndarray
        Point coordinates in metres, in the same projected CRS as ``polygons`` (the run's
        working CRS, EPSG:25832 in Germany). Points with NaN/inf coordinates match nothing.
    polygons : array or sequence of shapely geometries
        Coverage areas, normally valid Polygons/MultiPolygons. ``None`` and empty
        geometries match nothing; other geometry types are tested exactly in their bbox.
    chunk_size : int, default 1_000_000
        Points handled per chunk; bounds the temporary arrays (not the output).
    cell_size : float, optional
        Grid cell (strip) height in metres; chosen from point density and polygon sizes
        when None (see :func:`choose_cell_size`). It only affects speed, never the result.

    Returns
    -------
    point_idx, polygon_idx : ndarray of int32 (int64 from 2**31 points or polygons on)
        Equal-length arrays, sorted by point index then polygon index. Four-byte indices
        halve the memory of the pairs (~12 pairs per address on dense coverage).

    Notes
    -----
    Boundary semantics are ``covered_by``: a point on an edge or vertex (of a shell or a
    hole) matches, exactly as ``shapely.intersects_xy(polygon, x, y)``. Polygons are
    assumed valid (``schema.validate_offers`` repairs them); inside/outside away from the
    boundary is decided with the even-odd rule, which equals containment for valid
    polygons, and every point within the tolerance of an edge or vertex gets the exact
    GEOS test.
    """
    out_p: list[np.ndarray] = []
    out_q: list[np.ndarray] = []
    for start, _, p, q in iter_points_in_polygons(
        x, y, polygons, chunk_size=chunk_size, cell_size=cell_size
    ):
        if start:
            p += start
        out_p.append(p)
        out_q.append(q)
    if len(out_p) == 1:
        return out_p[0], out_q[0]
    if not out_p:  # no points
        return np.empty(0, np.int32), np.empty(0, np.int32)
    return np.concatenate(out_p), np.concatenate(out_q)


def iter_points_in_polygons(
    x: np.ndarray,
    y: np.ndarray,
    polygons: np.ndarray | Sequence[shapely.Geometry],
    *,
    chunk_size: int = 1_000_000,
    cell_size: float | None = None,
) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
    """:func:`points_in_polygons` one chunk of consecutive points at a time.

    The polygons are decomposed once; then, for every chunk ``x[start:stop]``, yields
    ``(start, stop, point_idx, polygon_idx)`` with ``point_idx`` local to the chunk
    (0 .. stop - start - 1), sorted by point then polygon. Every chunk is yielded, also
    those without pairs. A consumer that reduces each chunk (e.g. classifies its
    addresses) never holds all pairs at once: memory stays bounded by the chunk.
    Parameters, semantics and dtypes as :func:`points_in_polygons`.
    """
    x = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    y = np.ascontiguousarray(y, dtype=np.float64).reshape(-1)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    geoms = _as_geometry_array(polygons)
    n, m = len(x), len(geoms)
    finite = np.isfinite(x) & np.isfinite(y)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if m else np.zeros(0, bool)
    # 4-byte indices while they fit: half the memory (and page faults) of int64
    index_dtype = np.int32 if max(n, m) < 2**31 else _INT
    if n == 0 or not finite.any() or not present.any():
        for start in range(0, n, chunk_size):
            empty = np.empty(0, index_dtype)
            yield start, min(start + chunk_size, n), empty, empty.copy()
        return
    if m.bit_length() + max(n - 1, 1).bit_length() > 63:
        raise ValueError(f"{n} points x {m} polygons exceed 64-bit pair keys")

    types = shapely.get_type_id(geoms)
    polygonal = (types == shapely.GeometryType.POLYGON) | (
        types == shapely.GeometryType.MULTIPOLYGON
    )
    fast = present & polygonal
    slow = present & ~polygonal

    xf, yf = x[finite], y[finite]
    if cell_size is None:
        cell_size = choose_cell_size(xf, yf, shapely.bounds(geoms[present]))
    st = Strips(xf, yf, cell_size, m)
    del xf, yf
    dec = Decomposition(st, geoms, fast, slow)
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        p, q = _join_chunk(
            x[start:stop], y[start:stop], finite[start:stop], dec, geoms, index_dtype
        )
        yield start, stop, p, q


def _join_chunk(
    x: np.ndarray,
    y: np.ndarray,
    finite: np.ndarray,
    dec: Decomposition,
    geoms: np.ndarray,
    index_dtype: type[np.signedinteger],
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs for one chunk of points (indices local to the chunk), sorted."""
    st = dec.st
    idx = np.flatnonzero(finite)
    if len(idx) == 0:
        return np.empty(0, index_dtype), np.empty(0, index_dtype)
    key = st.point_keys(x[idx], y[idx])
    # sorted by (strip, x): every piece is one contiguous slice
    order = np.argsort(key)
    sorted_key = key[order]
    point_of = idx[order]  # sorted position -> chunk-local point index
    del key, order
    pbits = max(len(geoms) - 1, 1).bit_length()  # pair key = point << pbits | polygon

    # only the pieces of the strips these points occupy
    pc = dec.pieces(int(sorted_key[0] >> st.xbits), int(sorted_key[-1] >> st.xbits))
    lower_bound = _LowerBound(sorted_key, st)
    lo = lower_bound(pc.lo)
    hi = lower_bound(pc.hi + 1)

    # boundary pieces: ray test, GEOS where unsure
    piece, pos = ranges(lo, hi)
    cand_point = point_of[pos]
    del pos
    hit = _decide(x[cand_point], y[cand_point], piece, pc, dec, geoms)
    tested = (cand_point[hit] << pbits) | pc.poly[piece[hit]]
    del cand_point, piece, hit

    # inside runs (from a piece to the next one of its polygon and strip): every point
    # in the slice matches, no test. Written straight into the output buffer, a block of
    # runs at a time, so temporaries stay small.
    r = np.flatnonzero(pc.run_after)
    run_poly = pc.poly[r]
    lo, hi = hi[r], lo[r + 1]
    counts = np.maximum(hi - lo, 0)
    ends = np.cumsum(counts)
    n_acc = int(ends[-1]) if len(ends) else 0
    out = np.empty(n_acc + len(tested), dtype=_INT)
    out[n_acc:] = tested
    del tested
    shifted = point_of << pbits
    block = 1 << 20
    cuts = np.searchsorted(ends, np.arange(block, n_acc, block))
    run_bounds = np.unique(np.concatenate([[0], cuts, [len(lo)]]))
    for a0, b0 in itertools.pairwise(run_bounds):
        c = counts[a0:b0]
        base = int(ends[a0] - counts[a0])
        total = int(c.sum())
        # positions lo..hi-1 of every run in this block, flattened
        pos = np.arange(total, dtype=_INT) + np.repeat(lo[a0:b0] - (np.cumsum(c) - c), c)
        out[base : base + total] = shifted[pos] | np.repeat(run_poly[a0:b0], c)
    # A polygon's runs and boundary pieces are disjoint and a point has one key, so no
    # pair occurs twice; one sort gives point-then-polygon order.
    out.sort()
    mask = (1 << pbits) - 1
    if index_dtype == _INT:
        poly = out & mask
        out >>= pbits  # in place: a second 8-byte-per-pair array costs real time
        return out, poly
    # int32 results written straight from the keys: no 8-byte temporaries
    point = np.empty(len(out), dtype=index_dtype)
    poly = np.empty(len(out), dtype=index_dtype)
    np.right_shift(out, pbits, out=point, casting="unsafe")
    np.bitwise_and(out, mask, out=poly, casting="unsafe")
    return point, poly


def _decide(
    px: np.ndarray,
    py: np.ndarray,
    piece: np.ndarray,
    pc: Pieces,
    dec: Decomposition,
    geoms: np.ndarray,
) -> np.ndarray:
    """Whether each candidate point lies in (or on) the polygon of its boundary piece."""
    st = dec.st
    hit = np.zeros(len(piece), dtype=bool)
    count = pc.item_count[piece]
    ray = np.flatnonzero((count >= 0) & (count <= _MAX_RAY_EDGES))
    unsure = np.ones(len(piece), dtype=bool)
    # in blocks, so the (candidate, edge) temporaries stay cache-sized and their memory
    # is reused instead of freshly mapped (page faults cost more than the arithmetic)
    for a in range(0, len(ray), _RAY_BLOCK):
        r = ray[a : a + _RAY_BLOCK]
        hit[r], unsure[r] = _ray_test(px[r] - st.x0, py[r] - st.y0, piece[r], pc, dec)
    u = np.flatnonzero(unsure)
    if len(u):
        poly = pc.poly[piece[u]]
        # prepare the polygons with many unsure points (bbox geometries), then undo it
        polys, n_tests = np.unique(poly, return_counts=True)
        many = polys[n_tests >= 16]
        many = many[~shapely.is_prepared(geoms[many])]
        shapely.prepare(geoms[many])
        try:
            hit[u] = shapely.intersects_xy(geoms[poly], px[u], py[u])
        finally:
            shapely.destroy_prepared(geoms[many])
    return hit


def _ray_test(
    lx: np.ndarray, ly: np.ndarray, piece: np.ndarray, pc: Pieces, dec: Decomposition
) -> tuple[np.ndarray, np.ndarray]:
    """(inside, unsure) for points at local coords (lx, ly) in their boundary pieces.

    Inside = status left of the piece XOR the parity of the piece's edges crossed by the
    ray from the point to the left. Unsure where the point is within the tolerance of a
    vertex's height or of an edge's crossing: there the float arithmetic could err, and
    the caller asks GEOS.
    """
    st = dec.st
    start = pc.item_start[piece]
    ci, it = ranges(start, start + pc.item_count[piece])  # (candidate, edge) pairs
    ey = np.take(dec.item_y, it, axis=0)  # (ya, yb), ya <= yb
    yy = ly[ci]
    tol_y = st.pad + float(np.abs(ly).max(initial=0.0)) * 2.0**-44
    # only edges spanning the point's height (with the tolerance) matter
    j = np.flatnonzero((yy >= ey[:, 0] - tol_y) & (yy <= ey[:, 1] + tol_y))
    ci, it, yy, ey = ci[j], it[j], yy[j], ey[j]
    d0 = yy - ey[:, 0]
    near = (d0 <= tol_y) | (ey[:, 1] - yy <= tol_y)
    # the rest lies strictly between the edge's end heights: the ray crosses its line
    j = np.flatnonzero(~near)
    ex = np.take(dec.item_x, it[j], axis=0)
    xa, d0 = ex[:, 0], d0[j]
    inv = (ex[:, 1] - xa) / (ey[j, 1] - ey[j, 0])
    xi = xa + d0 * inv
    xx = lx[ci[j]]
    # rounding of xi grows with the slope |dx/dy| and with the magnitudes involved
    tol_x = st.pad * (1.0 + np.abs(inv)) + (np.abs(xa) + np.abs(xi)) * 2.0**-44
    near[j] |= np.abs(xx - xi) <= tol_x
    n = len(piece)
    crossings = np.bincount(ci[j[xi < xx]], minlength=n)
    unsure = np.bincount(ci[near], minlength=n) > 0
    inside = pc.left_in[piece] ^ (crossings & 1).astype(bool)
    return inside, unsure


class _LowerBound:
    """``np.searchsorted(sorted_key, queries, side="left")``, mostly by table lookup.

    Binary searches over a million keys miss the cache on most levels. A table of the
    first position of every (strip, column) cell, columns half a strip wide, answers
    exactly for queries on a column start or in an empty cell (most polygon pieces lie
    where there are no points); only the rest are searched.
    """

    #: at most this many cells in the table (int32/int64 entries)
    MAX_CELLS = 1 << 24

    def __init__(self, sorted_key: np.ndarray, st: Strips) -> None:
        self.sorted_key = sorted_key
        self.xbits = st.xbits
        self.mask = (1 << st.xbits) - 1
        # point bins run from 2 to 2 + width_bins - 1
        width_bins = max(int(np.max(sorted_key & self.mask)) - 1, 1)
        per_col = max(int(st.h / st.q) // 2, 1)  # columns half a strip wide
        per_col = max(per_col, -(-width_bins * st.ns // self.MAX_CELLS))
        self.per_col = per_col
        self.ncols = width_bins // per_col + 1
        cell = (sorted_key >> st.xbits) * self.ncols + ((sorted_key & self.mask) - 2) // per_col
        n_cells = st.ns * self.ncols
        dtype = np.int32 if len(sorted_key) < 2**31 else _INT
        # one spare strip of entries: an inclusive upper bound + 1 may carry into strip ns
        self.first = np.full(n_cells + self.ncols + 2, len(sorted_key), dtype=dtype)
        self.first[0] = 0
        np.cumsum(np.bincount(cell, minlength=n_cells), out=self.first[1 : n_cells + 1])

    def __call__(self, queries: np.ndarray) -> np.ndarray:
        rel = (queries & self.mask) - 2
        col = np.clip(rel // self.per_col, 0, self.ncols)
        cell = (queries >> self.xbits) * self.ncols + col
        pos = self.first[cell].astype(_INT)
        exact = (rel <= 0) | (col >= self.ncols) | (rel - col * self.per_col == 0)
        exact |= self.first[cell + 1] == pos  # empty cell: nothing to skip over
        need = np.flatnonzero(~exact)
        pos[need] = np.searchsorted(self.sorted_key, queries[need], side="left")
        return pos
