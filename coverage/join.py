"""The kernel: points x polygons -> (point_idx, polygon_idx) pairs, and reductions per point.

Semantics
---------
A point matches a polygon when the polygon *covers* it: a point on an edge or a vertex
counts (``covered_by``; for a point this is the same as ``intersects``). Coordinates are
metres in the run's projected working CRS (EPSG:25832 for Germany); points and polygons
must share it. Empty or missing polygons match nothing; points with non-finite
coordinates match nothing.

Method (grid-cell decomposition)
--------------------------------
The plane is cut into horizontal strips of height ``cell_size`` (the grid rows). Points are
sorted by (strip, x), so the points of any x-interval of one strip are one contiguous
slice. Every polygon is cut along the same strips, vectorised over all edges of a block of
polygons at once: each edge contributes, per strip it touches, its exact x-extent there
(padded by a tolerance far above rounding error). Overlapping extents of one polygon and
strip merge into *boundary pieces*, the only places where points need an exact test.
Between two boundary pieces of a strip lies a cell the boundary does not touch, so it is
wholly inside or wholly outside; which one follows from the parity of the polygon's edge
crossings of the strip's centre line to its left (even-odd rule, equal to containment for
valid polygons). Inside cells accept all their points without any test. Points in boundary
pieces are tested exactly with GEOS (prepared polygons, ``shapely.intersects_xy``), so edge
and vertex hits follow exactly the same rules as ``shapely.covered_by``. Compared with
square cells, the exact-width pieces halve both the points that need a test and the cells
a polygon is cut into.

Everything is integer bookkeeping over numpy arrays; there is no Python loop per point or
per polygon (only per block of ~65k vertices and per block of ~1M output pairs). Points
are processed in chunks (contiguous slices of the input order) so temporary arrays stay
bounded, and the pairs come out sorted by point index.

Polygons are expected to be valid (``schema.validate_offers`` repairs them with
``make_valid``). Geometry types other than Polygon/MultiPolygon (e.g. a GeometryCollection)
are handled by testing every point inside their bounding box exactly.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import shapely

__all__ = [
    "argbest_per_point",
    "brute_force_pairs",
    "choose_cell_size",
    "count_distinct_per_point",
    "points_in_polygons",
    "reduce_max_per_point",
]

_INT = np.int64
_EMPTY = np.empty(0, dtype=_INT)

#: Upper bound on the number of strips; guards against a cell size absurdly small for the
#: extent (the packed keys must fit 64 bits).
_MAX_STRIPS = 1 << 22


def _as_geometry_array(polygons: np.ndarray | Sequence[shapely.Geometry]) -> np.ndarray:
    """A 1-D object array of geometries (None allowed) without copying geometries."""
    if isinstance(polygons, np.ndarray) and polygons.dtype == object and polygons.ndim == 1:
        return polygons
    items = list(polygons)
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expand half-open integer ranges [lo, hi) into (range number, value) arrays.

    Vectorised replacement for ``concatenate([arange(a, b) for a, b in zip(lo, hi)])``.
    Empty ranges (hi <= lo) contribute nothing.
    """
    counts = np.maximum(hi - lo, 0)
    total = int(counts.sum())
    if total == 0:
        return _EMPTY, _EMPTY
    which = np.repeat(np.arange(len(lo), dtype=_INT), counts)
    # offset of each element inside its range: global position minus the range's start
    starts = np.cumsum(counts) - counts
    values = np.arange(total, dtype=_INT) - np.repeat(starts - lo, counts)
    return which, values


def choose_cell_size(x: np.ndarray, y: np.ndarray, bounds: np.ndarray) -> float:
    """Pick the strip height (grid cell size) in metres from point density and polygon sizes.

    Lower strips put fewer points next to polygon edges (fewer exact tests) but cut every
    polygon into more pieces (work proportional to its height / cell size, and to its
    number of edges). The rule aims at roughly two points per boundary strip piece in the
    dense parts of the data, bounded by the typical polygon size, and clamped to
    [5 m, 2 km]. The choice only affects speed, never the result.

    Parameters
    ----------
    x, y : ndarray
        Finite point coordinates, metres (projected working CRS).
    bounds : ndarray
        (n, 4) polygon bounds (minx, miny, maxx, maxy) in metres; rows of NaN are ignored.

    Returns
    -------
    float
        Strip height in metres.
    """
    n = len(x)
    ok = np.isfinite(bounds).all(axis=1)
    if n == 0 or not ok.any():
        return 100.0
    b = bounds[ok]
    typical_poly = float(np.median(np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])))
    # Density where the points are: points per occupied 200 m cell of a coarse histogram,
    # so that empty forest does not dilute the estimate; weighted by points (the dense
    # cells are where exact tests would pile up).
    coarse = 200.0
    ix = ((x - x.min()) // coarse).astype(_INT)
    iy = ((y - y.min()) // coarse).astype(_INT)
    _, per_cell = np.unique(iy * (int(ix.max()) + 1) + ix, return_counts=True)
    density = float((per_cell.astype(np.float64) ** 2).sum() / n) / (coarse * coarse)
    size = np.sqrt(4.0 / max(density, 1e-12))
    size = float(np.clip(size, typical_poly / 50.0, typical_poly / 3.0))
    return float(np.clip(size, 5.0, 2000.0))


class _Strips:
    """Horizontal strips over the points' extent and the packed integer keys built on them.

    Coordinates are shifted to the grid origin before any arithmetic so cell maths works
    on numbers ~1e5 instead of ~5e6. A point's key is ``strip << xbits | xbin`` where
    ``xbin`` quantises x very finely (a fraction of a millimetre); polygon pieces use
    ``(poly * n_strips + strip) << xbits | xbin``. Sorting points by key makes any
    x-interval of one strip a contiguous slice of the sorted points.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, cell_size: float, n_polygons: int) -> None:
        h = float(cell_size)
        if not np.isfinite(h) or h <= 0:
            raise ValueError(f"cell_size must be a positive number of metres, got {cell_size!r}")
        self.x0 = float(x.min())
        self.y0 = float(y.min())
        width = float(x.max()) - self.x0
        height = float(y.max()) - self.y0
        self.h = max(h, height / (_MAX_STRIPS - 1))
        self.ns = int(height // self.h) + 1
        # The one tolerance. Polygon pieces are widened by it (and by its slope-scaled
        # version) so a point that touches an edge can never land in an untested run,
        # whatever the rounding of the cell arithmetic: ~5000 ulps of the coordinates,
        # ~0.1 mm in UTM, negligible for speed.
        scale = max(abs(self.x0), abs(self.y0), width, height, 1.0)
        self.pad = scale * 2.0**-36
        group_bits = (max(n_polygons, 1) * self.ns).bit_length()
        self.xbits = 62 - group_bits
        if self.xbits < 20:
            raise ValueError(
                f"{n_polygons} polygons x {self.ns} strips do not fit 64-bit keys; use a larger cell_size"
            )
        nbins = 1 << self.xbits
        # points use at most a quarter of the bin range; the rest is headroom for
        # polygon pieces beyond the points' extent (clamped at the ends)
        self.q = max((width + 1.0) / (nbins // 4), scale * 2.0**-50)
        self.maxbin = nbins - 1

    def point_keys(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``strip << xbits | xbin`` for points (bins start at 2: 0 and 1 are margins)."""
        s = np.clip(np.floor((y - self.y0) / self.h), 0, self.ns - 1).astype(_INT)
        b = np.clip(np.floor((x - self.x0) / self.q) + 2, 2, self.maxbin).astype(_INT)
        return (s << self.xbits) | b


def _concat3(items: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b, c = (np.concatenate(column) for column in zip(*items, strict=True))
    return a, b, c


class _Decomposition:
    """Every polygon cut into strip pieces: inside runs (accept) and boundary pieces (test).

    Both are stored as inclusive ranges of point keys (see :class:`_Strips`) with the
    polygon index, so the points of a piece are found by two binary searches.
    """

    #: polygons are decomposed in blocks of about this many vertices, so the temporary
    #: arrays stay cache-sized and allocation (page faults) stays cheap
    BLOCK_VERTICES = 1 << 16

    def __init__(self, st: _Strips, geoms: np.ndarray, fast: np.ndarray, slow: np.ndarray) -> None:
        self.st = st
        runs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        tests: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        which = np.flatnonzero(fast)
        if len(which):
            nv = np.cumsum(shapely.get_num_coordinates(geoms[which]))
            cuts = np.searchsorted(
                nv, np.arange(self.BLOCK_VERTICES, int(nv[-1]), self.BLOCK_VERTICES)
            )
            bounds = np.unique(np.concatenate([[0], cuts + 1, [len(which)]]))
            for a, b in itertools.pairwise(bounds):
                edges = self._edges(geoms, which[a:b])
                if len(edges[0]):
                    run, test = self._decompose_block(*edges)
                    runs.append(run)
                    tests.append(test)
        if slow.any():
            tests.append(self._bbox_tests(geoms, np.flatnonzero(slow)))
        empty3 = (_EMPTY, _EMPTY, _EMPTY)
        # polygon index and inclusive point-key range of inside runs / boundary pieces
        self.run_poly, self.run_lo, self.run_hi = _concat3(runs) if runs else empty3
        self.test_poly, self.test_lo, self.test_hi = _concat3(tests) if tests else empty3

    def _edges(self, geoms: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, ...]:
        """All ring edges (shells and holes) of the polygons ``which``, in local coords."""
        st = self.st
        parts, part_poly = shapely.get_parts(geoms[which], return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
        same = coord_ring[:-1] == coord_ring[1:]  # consecutive vertices of one ring
        poly = which[part_poly[ring_part[coord_ring[:-1][same]]]].astype(_INT)
        xa = coords[:-1, 0][same] - st.x0
        ya = coords[:-1, 1][same] - st.y0
        xb = coords[1:, 0][same] - st.x0
        yb = coords[1:, 1][same] - st.y0
        # Edges wholly above or below the strips neither touch a strip nor cross a centre
        # line; edges left or right of the points are kept (their crossings count).
        top = st.ns * st.h
        keep = (np.maximum(ya, yb) >= -st.pad) & (np.minimum(ya, yb) <= top + st.pad)
        return poly[keep], xa[keep], ya[keep], xb[keep], yb[keep]

    def _decompose_block(
        self, poly: np.ndarray, xa: np.ndarray, ya: np.ndarray, xb: np.ndarray, yb: np.ndarray
    ) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """Runs and boundary pieces of the (whole) polygons owning these edges."""
        st = self.st
        h, pad, ns, q, xbits, maxbin = st.h, st.pad, st.ns, st.q, st.xbits, st.maxbin
        exmin, exmax = np.minimum(xa, xb), np.maximum(xa, xb)
        eymin, eymax = np.minimum(ya, yb), np.maximum(ya, yb)
        dx, dy = xb - xa, yb - ya

        # --- 1. pieces: the x-extent of each edge inside each strip it touches ----------
        s_lo = np.clip(np.floor((eymin - pad) / h), 0, ns - 1).astype(_INT)
        s_hi = np.clip(np.floor((eymax + pad) / h), 0, ns - 1).astype(_INT)
        e, s = _ranges(s_lo, s_hi + 1)
        lo = exmin[e] - pad
        hi = exmax[e] + pad
        # An edge inside one strip contributes its whole x-extent; an edge spanning
        # several strips only the part inside each (plus pad).
        multi = np.flatnonzero((s_lo != s_hi)[e] & (dy[e] != 0))
        if len(multi):
            em, sm = e[multi], s[multi]
            inv = dx[em] / dy[em]
            yb0 = np.maximum(sm * h - pad, eymin[em])
            yb1 = np.minimum((sm + 1) * h + pad, eymax[em])
            xs0 = xa[em] + (yb0 - ya[em]) * inv
            xs1 = xa[em] + (yb1 - ya[em]) * inv
            # a flat edge amplifies y rounding by |dx/dy|: widen accordingly
            xpad = pad * (1.0 + np.abs(inv))
            lo[multi] = np.maximum(np.minimum(xs0, xs1) - xpad, exmin[em]) - pad
            hi[multi] = np.minimum(np.maximum(xs0, xs1) + xpad, exmax[em]) + pad
        group = (poly[e] * ns + s) << xbits
        # bins of points start at 2; pieces get one extra bin each side so the integer
        # comparison is conservative whatever the rounding of floor()
        key_lo = group | np.clip(np.floor(lo / q) + 1, 0, maxbin).astype(_INT)
        key_hi = group | np.clip(np.floor(hi / q) + 3, 0, maxbin).astype(_INT)
        del e, s, lo, hi, multi, group

        # --- 2. crossings of each strip's centre line (even-odd rule) -------------------
        # Strip s's centre line is y = (s + 0.5) * h. "Vertex at or above the line" is
        # decided by T(v) = ceil(v / h - 0.5), a function of the vertex alone, so the two
        # edges meeting at a vertex always agree (a consistent symbolic perturbation):
        # every ring crosses every line an even number of times, even through vertices.
        ta = np.ceil(ya / h - 0.5)
        tb = np.ceil(yb / h - 0.5)
        c_lo = np.clip(np.minimum(ta, tb), 0, ns).astype(_INT)
        c_hi = np.clip(np.maximum(ta, tb), 0, ns).astype(_INT)
        e, s = _ranges(c_lo, c_hi)
        xc = xa[e] + ((s + 0.5) * h - ya[e]) * (dx[e] / dy[e])  # dy != 0 when crossing
        xc = np.clip(xc, exmin[e], exmax[e])
        cross = ((poly[e] * ns + s) << xbits) | np.clip(np.floor(xc / q) + 2, 0, maxbin).astype(
            _INT
        )
        del e, s, xc, ta, tb, c_lo, c_hi

        # --- 3. merge overlapping pieces of one (polygon, strip); runs between them -----
        order = np.argsort(key_lo)
        key_lo = key_lo[order]
        reach = np.maximum.accumulate(key_hi[order])
        # a new piece starts where it leaves at least one bin free after all before it;
        # the strip lives in the high bits, so a new strip always starts a new piece
        first = np.flatnonzero(np.r_[True, key_lo[1:] > reach[:-1] + 1])
        m_lo = key_lo[first]
        m_hi = reach[np.r_[first[1:] - 1, len(key_lo) - 1]]
        del order, key_lo, reach, first
        at = np.searchsorted(m_lo, cross, side="right") - 1
        if len(cross) and ((at < 0).any() or (cross > m_hi[at]).any()):
            # a crossing lies on its own edge, hence inside one of the edge's pieces
            raise RuntimeError("join kernel invariant broken: a crossing outside every piece")
        # Every (polygon, strip) has an even number of crossings, so a running count over
        # the whole block has the right parity at the start of each strip.
        odd = (np.cumsum(np.bincount(at, minlength=len(m_lo))) & 1).astype(bool)
        g = m_lo >> xbits  # poly * ns + strip
        p = g // ns
        offset = (p * ns) << xbits  # keys minus this are point keys (strip << xbits | bin)
        gap = np.flatnonzero(odd[:-1] & (g[1:] == g[:-1]))
        runs = (p[gap], m_hi[gap] + 1 - offset[gap], m_lo[gap + 1] - 1 - offset[gap])
        tests = (p, m_lo - offset, m_hi - offset)
        return runs, tests

    def _bbox_tests(self, geoms: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, ...]:
        """Geometries without a parity decomposition: test every point in their bbox."""
        st = self.st
        b = shapely.bounds(geoms[which])
        y_lo = (b[:, 1] - st.y0 - st.pad) / st.h
        y_hi = (b[:, 3] - st.y0 + st.pad) / st.h
        s_lo = np.clip(np.floor(y_lo), 0, st.ns).astype(_INT)
        s_hi = np.clip(np.floor(y_hi), -1, st.ns - 1).astype(_INT)
        k, s = _ranges(s_lo, s_hi + 1)
        xl = np.clip(np.floor((b[k, 0] - st.x0 - st.pad) / st.q) + 1, 0, st.maxbin).astype(_INT)
        xh = np.clip(np.floor((b[k, 2] - st.x0 + st.pad) / st.q) + 3, 0, st.maxbin).astype(_INT)
        return which[k].astype(_INT), (s << st.xbits) | xl, (s << st.xbits) | xh


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
    point_idx, polygon_idx : ndarray of int64
        Equal-length arrays, sorted by point index then polygon index.

    Notes
    -----
    Boundary semantics are ``covered_by``: a point on an edge or vertex (of a shell or a
    hole) matches, exactly as ``shapely.intersects_xy(polygon, x, y)``. Polygons are
    assumed valid (``schema.validate_offers`` repairs them); inside/outside away from the
    boundary is decided with the even-odd rule, which equals containment for valid
    polygons, and every point near an edge gets the exact GEOS test.
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
    if n == 0 or not finite.any() or not present.any():
        return _EMPTY.copy(), _EMPTY.copy()
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
    st = _Strips(xf, yf, cell_size, m)
    del xf, yf
    dec = _Decomposition(st, geoms, fast, slow)

    # Prepare only the polygons that get exact tests, and undo what we prepared so the
    # caller's geometries are left as they came.
    to_prepare = np.unique(dec.test_poly)
    was_prepared = shapely.is_prepared(geoms[to_prepare])
    shapely.prepare(geoms[to_prepare])
    try:
        out_p: list[np.ndarray] = []
        out_q: list[np.ndarray] = []
        for start in range(0, n, chunk_size):
            stop = min(start + chunk_size, n)
            p, q = _join_chunk(x[start:stop], y[start:stop], finite[start:stop], st, dec, geoms)
            out_p.append(p + start if start else p)
            out_q.append(q)
    finally:
        shapely.destroy_prepared(geoms[to_prepare[~was_prepared]])
    if len(out_p) == 1:
        return out_p[0], out_q[0]
    return np.concatenate(out_p), np.concatenate(out_q)


def _join_chunk(
    x: np.ndarray,
    y: np.ndarray,
    finite: np.ndarray,
    st: _Strips,
    dec: _Decomposition,
    geoms: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs for one chunk of points (indices local to the chunk), sorted."""
    idx = np.flatnonzero(finite)
    if len(idx) == 0:
        return _EMPTY, _EMPTY
    key = st.point_keys(x[idx], y[idx])
    # sorted by (strip, x): every piece is one contiguous slice; neighbouring points
    # also hit the same polygon edges in the exact tests (cache friendly)
    order = np.argsort(key)
    sorted_key = key[order]
    point_of = idx[order]  # sorted position -> chunk-local point index
    del key, order
    pbits = max(len(geoms) - 1, 1).bit_length()  # pair key = point << pbits | polygon

    lower_bound = _LowerBound(sorted_key, st)

    # boundary pieces: exact GEOS test of every point in them
    lo = lower_bound(dec.test_lo)
    hi = lower_bound(dec.test_hi + 1)
    k, pos = _ranges(lo, hi)
    cand_point = point_of[pos]
    cand_poly = dec.test_poly[k]
    del k, pos, lo, hi
    hit = shapely.intersects_xy(geoms[cand_poly], x[cand_point], y[cand_point])
    tested = (cand_point[hit] << pbits) | cand_poly[hit]
    del cand_point, cand_poly, hit

    # inside runs: every point in the slice matches, no test. Written straight into the
    # output buffer, a block of runs at a time, so temporaries stay small.
    lo = lower_bound(dec.run_lo)
    hi = lower_bound(dec.run_hi + 1)
    counts = np.maximum(hi - lo, 0)
    ends = np.cumsum(counts)
    n_acc = int(ends[-1]) if len(ends) else 0
    out = np.empty(n_acc + len(tested), dtype=_INT)
    out[n_acc:] = tested
    del tested
    block = 1 << 20
    cuts = np.searchsorted(ends, np.arange(block, n_acc, block))
    run_bounds = np.unique(np.concatenate([[0], cuts, [len(lo)]]))
    for a, b in itertools.pairwise(run_bounds):
        c = counts[a:b]
        base = int(ends[a] - counts[a])
        total = int(c.sum())
        # positions lo..hi-1 of every run in this block, flattened
        pos = np.arange(total, dtype=_INT) + np.repeat(lo[a:b] - (np.cumsum(c) - c), c)
        out[base : base + total] = (point_of[pos] << pbits) | np.repeat(dec.run_poly[a:b], c)
    # A polygon's runs and boundary pieces are disjoint and a point has one key, so no
    # pair occurs twice; one sort gives point-then-polygon order.
    out.sort()
    poly = out & ((1 << pbits) - 1)
    out >>= pbits  # in place: a second 8-byte-per-pair array costs real time (page faults)
    return out, poly


class _LowerBound:
    """``np.searchsorted(sorted_key, queries, side="left")``, mostly by table lookup.

    Binary searches over a million keys miss the cache on most levels. A table of the
    first position of every (strip, column) cell, columns as wide as strips, answers
    exactly for queries on a column start or in an empty cell (most polygon pieces lie
    where there are no points); only the rest are searched.
    """

    #: at most this many cells in the table (int32/int64 entries)
    MAX_CELLS = 1 << 24

    def __init__(self, sorted_key: np.ndarray, st: _Strips) -> None:
        self.sorted_key = sorted_key
        self.xbits = st.xbits
        self.mask = (1 << st.xbits) - 1
        # point bins run from 2 to 2 + width_bins - 1
        width_bins = max(int(np.max(sorted_key & self.mask)) - 1, 1)
        per_col = max(int(st.h / st.q), 1)
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


def brute_force_pairs(
    x: np.ndarray, y: np.ndarray, polygons: np.ndarray | Sequence[shapely.Geometry]
) -> tuple[np.ndarray, np.ndarray]:
    """Reference oracle for :func:`points_in_polygons`: one exact GEOS test per pair.

    ``shapely.intersects_xy`` for a point equals ``covered_by`` (edges and vertices count).
    O(points x polygons) apart from a bounding-box prefilter; for tests and benchmarks.
    Returns int64 (point_idx, polygon_idx) sorted by point then polygon.
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    geoms = _as_geometry_array(polygons)
    pts: list[np.ndarray] = [_EMPTY]
    pls: list[np.ndarray] = [_EMPTY]
    for j, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            continue
        x0, y0, x1, y1 = geom.bounds
        cand = np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
        hit = cand[shapely.intersects_xy(geom, x[cand], y[cand])]
        pts.append(hit.astype(_INT))
        pls.append(np.full(len(hit), j, dtype=_INT))
    p = np.concatenate(pts)
    q = np.concatenate(pls)
    order = np.lexsort((q, p))
    return p[order], q[order]


def reduce_max_per_point(
    point_idx: np.ndarray, values: np.ndarray, n_points: int, *, fill: float = np.nan
) -> np.ndarray:
    """Maximum of ``values`` per point over its pairs.

    Parameters
    ----------
    point_idx : ndarray of int
        Point index of each pair (any order), in [0, n_points).
    values : ndarray of float
        Value of each pair (e.g. down_mbps of the pair's polygon, Mbit/s). NaN values are
        ignored like ``pandas.groupby().max()`` does; a point whose values are all NaN
        gets NaN.
    n_points : int
        Number of points (length of the result).
    fill : float, default NaN
        Result for points without any pair.

    Returns
    -------
    ndarray of float64, length n_points
    """
    point_idx = np.asarray(point_idx, dtype=_INT)
    values = np.asarray(values, dtype=np.float64)
    out = np.full(n_points, fill, dtype=np.float64)
    if len(point_idx) == 0:
        return out
    if len(point_idx) > 1 and not (point_idx[1:] >= point_idx[:-1]).all():
        order = np.argsort(point_idx, kind="stable")
        point_idx, values = point_idx[order], values[order]
    # sorted: one segment per point, reduced in C with fmax (NaN-ignoring)
    starts = np.flatnonzero(np.r_[True, point_idx[1:] != point_idx[:-1]])
    out[point_idx[starts]] = np.fmax.reduceat(values, starts)
    return out


def _ascending_sort_keys(key: np.ndarray) -> list[np.ndarray]:
    """Keys for an ascending sort in which NaN/NaT rank lowest (they lose)."""
    key = np.asarray(key)
    if key.dtype.kind == "f":
        missing = np.isnan(key)
        return [~missing, np.where(missing, -np.inf, key)]
    if key.dtype.kind in "mM":
        missing = np.isnat(key)
        return [~missing, np.where(missing, np.zeros(1, key.dtype)[0], key)]
    if key.dtype.kind == "b":
        return [key.astype(np.int8)]
    return [key]


def argbest_per_point(
    point_idx: np.ndarray, keys: Sequence[np.ndarray], n_points: int
) -> np.ndarray:
    """Position of each point's best pair by lexicographically largest keys.

    Parameters
    ----------
    point_idx : ndarray of int
        Point index of each pair, in [0, n_points).
    keys : sequence of ndarray
        Sort keys, one value per pair; ``keys[0]`` is the most significant. Larger wins;
        NaN/NaT lose against any value. Booleans rank True above False.
    n_points : int
        Number of points.

    Returns
    -------
    ndarray of int64, length n_points
        Position into the pair arrays of the best pair, ties broken by the smallest
        position (deterministic); -1 for points without pairs.
    """
    point_idx = np.asarray(point_idx, dtype=_INT)
    out = np.full(n_points, -1, dtype=_INT)
    n = len(point_idx)
    if n == 0:
        return out
    # Ascending by (point, keys..., -position): the last row of each point is the best
    # pair, and among equal keys the smallest position (its -position is largest).
    sort_keys: list[np.ndarray] = [np.arange(n, 0, -1, dtype=_INT)]
    for key in reversed(list(keys)):
        sort_keys.extend(reversed(_ascending_sort_keys(key)))
    sort_keys.append(point_idx)
    order = np.lexsort(sort_keys)
    p = point_idx[order]
    last = np.flatnonzero(np.r_[p[1:] != p[:-1], True])
    out[p[last]] = order[last]
    return out


def count_distinct_per_point(point_idx: np.ndarray, group: np.ndarray, n_points: int) -> np.ndarray:
    """Number of distinct ``group`` codes per point (e.g. distinct providers or networks).

    Parameters
    ----------
    point_idx : ndarray of int
        Point index of each pair, in [0, n_points).
    group : ndarray of int
        Integer code of each pair's group (any values, negatives allowed).
    n_points : int
        Number of points.

    Returns
    -------
    ndarray of int64, length n_points; 0 for points without pairs.
    """
    point_idx = np.asarray(point_idx, dtype=_INT)
    group = np.asarray(group)
    if len(point_idx) == 0:
        return np.zeros(n_points, dtype=_INT)
    order = np.lexsort((group, point_idx))
    p = point_idx[order]
    g = group[order]
    first = np.r_[True, (p[1:] != p[:-1]) | (g[1:] != g[:-1])]
    return np.bincount(p[first], minlength=n_points).astype(_INT)
