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
polygon is cut along the same strips (:mod:`coverage.kernel.decompose`), vectorised over all
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

Everything but the writing of the pairs is integer bookkeeping over numpy arrays; there
is no Python loop per point or per polygon (only per block of ~16k vertices or ~32k
ray-tested points, so temporaries stay cache-sized). Points are processed in chunks
(contiguous slices of the input order) so temporary arrays stay bounded; a chunk only
looks at the pieces of the strips its points occupy (few, when the input is spatially
sorted). The pairs are written straight into their final order, sorted by point and then
polygon, by two compiled loops (:mod:`coverage.kernel.emit`, a counting sort: pieces come
in polygon order), not sorted afterwards.

Speed notes (numpy 2.x): ``np.take``/``np.compress`` instead of fancy and boolean
indexing on large arrays (boolean indexing of a million elements is several times
slower), unsigned 64-bit sorts (faster than signed ones), and value sorts of packed keys
instead of argsorts where the keys leave room for an index.

Polygons are expected to be valid (``schema.validate_offers`` repairs them with
``make_valid``). Geometry types other than Polygon/MultiPolygon (e.g. a GeometryCollection)
are handled by testing every point inside their bounding box exactly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import shapely

from coverage.kernel.boundary import (
    UNSURE,
    LowerBound,
    candidate_starts,
    geos_tests,
    ray_decisions,
)
from coverage.kernel.decompose import Decomposition, Strips, choose_cell_size
from coverage.kernel.emit import emit_pairs
from coverage.kernel.reduce import (
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
    "merge_pairs",
    "points_in_polygons",
    "reduce_max_per_point",
]

_INT = np.int64


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


def merge_pairs(
    p: np.ndarray, q: np.ndarray, more_p: np.ndarray, more_q: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(p, q)`` plus ``(more_p, more_q)``, sorted by point then polygon (int64);
    ``(p, q)`` unchanged when there are no more."""
    if not len(more_p):
        return p, q
    p = np.concatenate([p.astype(np.int64), more_p])
    q = np.concatenate([q.astype(np.int64), more_q])
    order = np.lexsort((q, p))
    return p[order], q[order]


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
    join = ChunkedJoin(x, y, polygons, chunk_size=chunk_size, cell_size=cell_size)
    for start, stop in join.chunks:
        yield start, stop, *join.pairs(start, stop)


class ChunkedJoin:
    """The join of :func:`iter_points_in_polygons`, prepared once (strips and the polygons'
    decomposition), its chunks computed on demand: ``pairs(start, stop)`` for each of
    ``chunks``. ``pairs`` only reads the prepared tables, so several threads may compute
    different chunks at once (the compiled loops and numpy's large operations release
    the GIL).
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        polygons: np.ndarray | Sequence[shapely.Geometry],
        *,
        chunk_size: int = 1_000_000,
        cell_size: float | None = None,
    ) -> None:
        x = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
        y = np.ascontiguousarray(y, dtype=np.float64).reshape(-1)
        if x.shape != y.shape:
            raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        geoms = _as_geometry_array(polygons)
        n, m = len(x), len(geoms)
        self.x, self.y, self.geoms = x, y, geoms
        self.chunks = [(a, min(a + chunk_size, n)) for a in range(0, n, chunk_size)]
        self.finite = finite = np.isfinite(x) & np.isfinite(y)
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if m else np.zeros(0, bool)
        # 4-byte indices while they fit: half the memory (and page faults) of int64
        self.index_dtype = np.int32 if max(n, m) < 2**31 else _INT
        self.dec: Decomposition | None = None
        if n == 0 or not finite.any() or not present.any():
            return  # every chunk is empty

        types = shapely.get_type_id(geoms)
        polygonal = (types == shapely.GeometryType.POLYGON) | (
            types == shapely.GeometryType.MULTIPOLYGON
        )
        fast = present & polygonal
        slow = present & ~polygonal

        all_finite = bool(finite.all())
        xf, yf = (x, y) if all_finite else (np.compress(finite, x), np.compress(finite, y))
        if cell_size is None:
            # Every chunk looks up the pieces of the strips its points occupy, so the density
            # that matters is that of one chunk's points (a fifth of all of them in every
            # strip for 5 chunks of unsorted addresses; all of a region's for sorted ones).
            first = finite[:chunk_size]
            cell_size = choose_cell_size(
                x[:chunk_size] if all_finite else np.compress(first, x[:chunk_size]),
                y[:chunk_size] if all_finite else np.compress(first, y[:chunk_size]),
                shapely.bounds(geoms[present]),
            )
        st = Strips(xf, yf, cell_size, m)
        del xf, yf
        self.dec = Decomposition(st, geoms, fast, slow)

    def pairs(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """The pairs of the points ``start:stop`` (point indices local to them), sorted."""
        if self.dec is None:
            empty = np.empty(0, self.index_dtype)
            return empty, empty.copy()
        return _join_chunk(
            self.x[start:stop],
            self.y[start:stop],
            self.finite[start:stop],
            self.dec,
            self.geoms,
            self.index_dtype,
        )


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
    xf, yf = (x, y) if len(idx) == len(x) else (np.take(x, idx), np.take(y, idx))
    lx, ly = xf - st.x0, yf - st.y0  # local coordinates of the finite points
    del xf, yf
    key = st.local_keys(lx, ly)
    # sorted by (strip, x): every piece is one contiguous slice
    order = np.argsort(key)
    sorted_key = np.take(key, order)
    # sorted position -> chunk-local point index
    point_of = order if len(idx) == len(x) else np.take(idx, order)
    lx, ly = np.take(lx, order), np.take(ly, order)
    del key, order
    # only the pieces of the strips these points occupy
    pc = dec.pieces(int(sorted_key[0] >> st.xbits), int(sorted_key[-1] >> st.xbits))
    lo, hi = LowerBound(sorted_key, st).ranges(pc.lo, pc.hi)

    # boundary pieces: ray test, GEOS where unsure
    decision = ray_decisions(lx, ly, lo, hi, pc, dec)
    del lx, ly
    cand_start = candidate_starts(lo, hi)
    u = np.flatnonzero(decision == UNSURE)
    if len(u):
        piece = np.searchsorted(cand_start, u, side="right") - 1
        point = np.take(point_of, np.take(lo, piece) + (u - np.take(cand_start, piece)))
        # (GEOS gets the coordinates as given)
        decision[u] = geos_tests(geoms, np.take(pc.poly, piece), x[point], y[point])
    # boundary hits and inside runs (from a piece to the next one of its polygon and
    # strip: every point in the slice matches, no test), written straight into their
    # final order (point, then polygon)
    return emit_pairs(
        len(x),
        point_of,
        pc.poly,
        lo,
        hi,
        pc.run_after,
        cand_start,
        decision,
        index_dtype,
    )
