"""Strip decomposition of polygons for the join kernel (see :mod:`coverage.kernel.join`).

Every polygon is cut along horizontal strips into *boundary pieces* (the x-intervals of a
strip its edges touch, padded) and *inside runs* (the cells between two pieces that lie
inside the polygon). Each boundary piece keeps the edges that formed it, so a point in it
can be decided by counting crossings of a horizontal ray (:mod:`coverage.kernel.join`); only
points within a rounding tolerance of an edge or a vertex go to GEOS.

Coordinates are metres in the projected working CRS, shifted to the grid origin.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np
import shapely

_INT = np.int64
_EMPTY = np.empty(0, dtype=_INT)

#: Upper bound on the number of strips; guards against a cell size absurdly small for the
#: extent (the packed keys must fit 64 bits).
_MAX_STRIPS = 1 << 22

#: :func:`ranges` with fewer values than this uses np.repeat (fewer numpy calls)
_RANGES_REPEAT = 1 << 16


def ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expand half-open integer ranges [lo, hi) into (range number, value) arrays.

    Vectorised replacement for ``concatenate([arange(a, b) for a, b in zip(lo, hi)])``.
    Empty ranges (hi <= lo) contribute nothing.
    """
    counts = np.maximum(hi - lo, 0)
    ends = np.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    if total == 0:
        return _EMPTY, _EMPTY
    if total < _RANGES_REPEAT:  # small (cache-sized) inputs: fewest calls
        which = np.repeat(np.arange(len(lo), dtype=_INT), counts)
        return which, np.arange(total, dtype=_INT) - np.repeat(ends - counts - lo, counts)
    # Both outputs are running sums of their steps: +0 (range number) and +1 (value)
    # inside a range, a jump where the next non-empty range starts. Two passes each,
    # cheaper than np.repeat on large inputs.
    nz = np.flatnonzero(counts)
    starts = np.take(ends, nz[1:]) - np.take(counts, nz[1:])
    which = np.zeros(total, dtype=_INT)
    which[0] = nz[0]
    np.put(which, starts, np.diff(nz))
    np.cumsum(which, out=which)
    values = np.ones(total, dtype=_INT)
    values[0] = lo[nz[0]]
    np.put(values, starts, np.take(lo, nz[1:]) - np.take(hi, nz[:-1]) + 1)
    np.cumsum(values, out=values)
    return which, values


def choose_cell_size(x: np.ndarray, y: np.ndarray, bounds: np.ndarray) -> float:
    """Pick the strip height (grid cell size) in metres from point density and polygon sizes.

    Lower strips put fewer points next to polygon edges (fewer ray tests) but cut every
    polygon into more pieces (work proportional to its height / cell size, and to its
    number of edges). The rule aims at roughly twenty points per boundary strip piece (the
    ray test is cheap) in the dense parts of the data, bounded by the typical polygon
    size, and clamped to [5 m, 2 km]. The choice only affects speed, never the result.

    Parameters
    ----------
    x, y : ndarray
        Finite point coordinates, metres (projected working CRS): the points joined
        together (one chunk of :func:`coverage.kernel.join.iter_points_in_polygons`).
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
    ix = ((x - x.min()) * (1.0 / coarse)).astype(_INT)  # (non-negative: truncation floors)
    iy = ((y - y.min()) * (1.0 / coarse)).astype(_INT)
    per_cell = np.bincount(iy * (int(ix.max()) + 1) + ix)
    density = float((per_cell.astype(np.float64) ** 2).sum() / n) / (coarse * coarse)
    size = np.sqrt(40.0 / max(density, 1e-12))
    size = float(np.clip(size, typical_poly / 50.0, typical_poly / 3.0))
    return float(np.clip(size, 5.0, 2000.0))


class Strips:
    """Horizontal strips over the points' extent and the packed integer keys built on them.

    Coordinates are shifted to the grid origin before any arithmetic so cell maths works
    on numbers ~1e5 instead of ~5e6. A point's key is ``strip << xbits | xbin`` where
    ``xbin`` quantises x very finely (a fraction of a millimetre); polygon pieces use
    ``(poly * n_strips + strip) << xbits | xbin`` while they are built. Sorting points by
    key makes any x-interval of one strip a contiguous slice of the sorted points.
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
        # version), and a ray test closer than it to an edge or a vertex goes to GEOS, so
        # rounding of the cell arithmetic can never decide a point that touches an edge:
        # ~5000 ulps of the coordinates, ~0.1 mm in UTM, negligible for speed.
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
        return self.local_keys(x - self.x0, y - self.y0)

    def local_keys(self, lx: np.ndarray, ly: np.ndarray) -> np.ndarray:
        """:meth:`point_keys` of points given in local coordinates (shifted to x0, y0)."""
        s = np.clip(np.floor(ly / self.h), 0, self.ns - 1).astype(_INT)
        b = np.clip(np.floor(lx / self.q) + 2, 2, self.maxbin).astype(_INT)
        return (s << self.xbits) | b


def _ring_sizes(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices per ring of non-empty (Multi)Polygons, in ``shapely.get_coordinates`` order.

    Returns ``(sizes, owner)``: the number of coordinates of every ring (shells and holes,
    part by part) and the index into ``geoms`` of the geometry it belongs to. Only the
    parts of MultiPolygons and the rings of polygons with holes become shapely objects
    (creating one per ring costs more than reading all coordinates).
    """
    n_parts = shapely.get_num_geometries(geoms)
    multi = shapely.get_type_id(geoms) == shapely.GeometryType.MULTIPOLYGON
    part_owner = np.repeat(np.arange(len(geoms), dtype=_INT), n_parts)
    if multi.any():
        parts = np.empty(len(part_owner), dtype=object)
        in_multi = multi[part_owner]
        parts[~in_multi] = geoms[~multi]
        parts[in_multi] = shapely.get_parts(geoms[multi])
    else:
        parts = geoms
    n_holes = shapely.get_num_interior_rings(parts)
    n_rings = n_holes + 1
    first_ring = np.cumsum(n_rings) - n_rings
    sizes = np.empty(int(n_rings.sum()), dtype=_INT)
    plain = n_holes == 0
    sizes[first_ring[plain]] = shapely.get_num_coordinates(parts[plain])
    holed = np.flatnonzero(~plain)
    if len(holed):
        _, ring_pos = ranges(first_ring[holed], first_ring[holed] + n_rings[holed])
        sizes[ring_pos] = shapely.get_num_coordinates(shapely.get_rings(parts[holed]))
    return sizes, np.repeat(part_owner, n_rings)


class Pieces(NamedTuple):
    """Boundary pieces (one row each); see :class:`Decomposition`."""

    poly: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    left_in: np.ndarray
    run_after: np.ndarray
    item_start: np.ndarray
    item_count: np.ndarray


class Decomposition:
    """Every polygon cut into strip pieces, ordered by polygon, strip and x.

    Per piece (:class:`Pieces`): ``poly``, inclusive point-key range ``lo``..``hi``, the
    inside status left of it (``left_in``), whether the cell after it up to the next piece
    is an inside run (``run_after``; the next piece then belongs to the same polygon and
    strip), and its edges: rows ``item_start .. item_start + item_count`` of ``items``.
    ``item_count`` is -1 for geometries without a parity decomposition (tested with GEOS
    in their bounding box).
    """

    #: polygons are decomposed in blocks of about this many vertices, so the temporary
    #: arrays stay cache-sized and allocation (page faults) stays cheap
    BLOCK_VERTICES = 1 << 14

    def __init__(self, st: Strips, geoms: np.ndarray, fast: np.ndarray, slow: np.ndarray) -> None:
        self.st = st
        blocks: list[tuple[np.ndarray, ...]] = []
        which = np.flatnonzero(fast)
        if len(which):
            g = geoms[which]
            coords = shapely.get_coordinates(g)
            x = coords[:, 0] - st.x0
            y = coords[:, 1] - st.y0
            del coords
            sizes, owner = _ring_sizes(g)
            # every vertex but the last of its ring starts an edge (an empty ring sets
            # the spare slot at the end)
            ring_last = np.zeros(len(x) + 1, dtype=bool)
            ring_last[np.cumsum(sizes) - 1] = True
            vertex_poly = np.repeat(which[owner], sizes)
            del sizes, owner
            # blocks of whole polygons
            nv = np.cumsum(shapely.get_num_coordinates(g))
            cuts = np.searchsorted(
                nv, np.arange(self.BLOCK_VERTICES, int(nv[-1]), self.BLOCK_VERTICES)
            )
            bounds = np.unique(np.concatenate([[0], cuts + 1, [len(which)]]))
            # The items' edge data, written block by block into one table (no copy at
            # the end). An edge has about one item per strip it touches: estimated from
            # consecutive vertices (a few percent spare), grown if ever needed.
            steps = np.abs(np.diff(np.floor(np.clip(y, 0.0, st.ns * st.h) * (1.0 / st.h))))
            steps[ring_last[: len(steps)]] = 0.0  # (from one ring to the next: no edge)
            table = np.empty((4, int(1.03 * (steps.sum() + len(x))) + 1024))
            del steps
            n_items = 0
            for v0, v1 in itertools.pairwise(np.r_[0, nv][bounds].tolist()):
                edges = self._edges(x[v0:v1], y[v0:v1], ring_last[v0:v1], vertex_poly[v0:v1])
                if len(edges[0]):
                    *columns, item_edge, edge_data = self._decompose_block(*edges)
                    end = n_items + len(item_edge)
                    if end > table.shape[1]:
                        grown = np.empty((4, end + end // 4))
                        grown[:, :n_items] = table[:, :n_items]
                        table = grown
                    for row, data in zip(table, edge_data, strict=True):
                        np.take(data, item_edge, out=row[n_items:end])
                    n_items = end
                    blocks.append(tuple(columns))
            table = table[:, :n_items]
            del x, y, ring_last, vertex_poly
        else:
            table = np.empty((4, 0))
        if slow.any():
            blocks.append(self._bbox_tests(geoms, np.flatnonzero(slow)))
        cols = [np.concatenate(c) for c in zip(*blocks, strict=True)] if blocks else [_EMPTY] * 6
        poly, lo, hi, left_in, run_after, item_count = cols
        counts = np.maximum(item_count, 0)
        item_start = np.cumsum(counts) - counts
        # pieces in block order: by polygon, strip, x (the next piece of a (polygon,
        # strip) is always the next row)
        self.all = Pieces(poly, lo, hi, left_in, run_after, item_start, item_count)
        #: per item (the edges of the pieces, local coordinates, oriented ya <= yb): lower
        #: and upper end height, x at the lower end and dx/dy (inf or nan when flat)
        self.items = tuple(table)

    def pieces(self, s0: int, s1: int) -> Pieces:
        """The pieces of strips s0..s1 (all of them without a copy when that is all)."""
        if s0 <= 0 and s1 >= self.st.ns - 1:
            return self.all
        # whole (polygon, strip) groups are kept, so "next row" still means next piece
        strip = self.all.lo >> self.st.xbits
        sel = np.flatnonzero((strip >= s0) & (strip <= s1))
        return Pieces(*(column[sel] for column in self.all))

    def _edges(
        self, x: np.ndarray, y: np.ndarray, ring_last: np.ndarray, vertex_poly: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        """(poly, xa, ya, xb, yb) of the ring edges of a block of vertices (whole rings).

        Every vertex but the block's last starts an edge to the next one; the last vertex
        of a ring (equal to its first) gets a zero-length edge instead, which crosses
        nothing and lies within the ring's own first and last edges: harmless, and
        cheaper than leaving it out. Edges wholly above or below the strips are dropped:
        they neither touch a strip nor cross a centre line (edges left or right of the
        points are kept: their crossings count). Edges are oriented upwards, ya <= yb
        (orientation never matters here).
        """
        st = self.st
        closing = np.flatnonzero(ring_last[: len(x) - 1])
        x0, y0 = x[:-1], y[:-1]
        x1, y1 = x[1:].copy(), y[1:].copy()
        x1[closing], y1[closing] = x0[closing], y0[closing]
        up = y0 <= y1
        edges = (
            vertex_poly[:-1],
            np.where(up, x0, x1),
            np.minimum(y0, y1),
            np.where(up, x1, x0),
            np.maximum(y0, y1),
        )
        top = st.ns * st.h + st.pad
        if float(y0.min(initial=0.0)) < -st.pad or float(y0.max(initial=0.0)) > top:
            keep = np.flatnonzero((edges[4] >= -st.pad) & (edges[2] <= top))
            edges = tuple(np.take(column, keep) for column in edges)
        return edges

    def _decompose_block(
        self, poly: np.ndarray, xa: np.ndarray, ya: np.ndarray, xb: np.ndarray, yb: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        """Pieces of the (whole) polygons owning these edges.

        Returns the :class:`Pieces` columns but ``item_start``, then each item's edge
        (rows of these arrays) and the edge data of :attr:`items` (ya, yb, xa, dx/dy).
        """
        st = self.st
        h, pad, ns, q, xbits, maxbin = st.h, st.pad, st.ns, st.q, st.xbits, st.maxbin
        exmin, exmax = np.minimum(xa, xb), np.maximum(xa, xb)
        with np.errstate(divide="ignore", invalid="ignore"):  # flat edges: inf or nan
            inv = (xb - xa) / (yb - ya)

        # --- 1. items: the x-extent of each edge inside each strip it touches -----------
        s_lo = np.clip(np.floor((ya - pad) / h), 0, ns - 1).astype(_INT)
        s_hi = np.clip(np.floor((yb + pad) / h), 0, ns - 1).astype(_INT)
        # Strip c's centre line is y = (c + 0.5) * h. "Vertex at or above the line" is
        # decided by T(v) = ceil(v / h - 0.5), a function of the vertex alone, so the two
        # edges meeting at a vertex always agree (a consistent symbolic perturbation):
        # every ring crosses every line an even number of times, even through vertices.
        # An edge (ya <= yb, so T(ya) <= T(yb)) crosses the centre lines c_lo..c_hi-1,
        # all in its own strips (the guard below only matters if rounding ever disagreed;
        # c_lo >= s_lo holds for any edge, as T(ya) >= floor(ya / h)).
        c_lo = np.clip(np.ceil(ya / h - 0.5), 0, ns).astype(_INT)
        c_hi = np.clip(np.ceil(yb / h - 0.5), 0, ns).astype(_INT)
        np.minimum(s_lo, c_lo, out=s_lo)
        np.maximum(s_hi, c_hi - 1, out=s_hi)
        # An edge inside one strip is one item with its whole x-extent; an edge spanning
        # several strips has one item per strip with only the part inside it (+ pad).
        span = s_hi - s_lo
        single = np.flatnonzero(span == 0)
        n1 = len(single)
        two = np.flatnonzero(span == 1)  # most others: one item in each of two strips
        more = np.flatnonzero(span > 1)
        em, sm = ranges(np.take(s_lo, more), np.take(s_hi, more) + 1)
        em = np.concatenate([two, two, np.take(more, em)])
        s_two = np.take(s_lo, two)
        sm = np.concatenate([s_two, s_two + 1, sm])
        n = n1 + len(em)
        e, s = np.empty(n, dtype=_INT), np.empty(n, dtype=_INT)
        e[:n1], e[n1:] = single, em
        s[:n1], s[n1:] = np.take(s_lo, single), sm
        lo, hi = np.empty(n), np.empty(n)
        np.take(exmin, single, out=lo[:n1])
        np.take(exmax, single, out=hi[:n1])
        if len(em):
            yam, invm, xam = np.take(ya, em), np.take(inv, em), np.take(xa, em)
            with np.errstate(invalid="ignore"):  # flat edges: inf - inf, 0 * inf
                xs0 = xam + (np.maximum(sm * h - pad, yam) - yam) * invm
                xs1 = xam + (np.minimum((sm + 1) * h + pad, np.take(yb, em)) - yam) * invm
                # a flat edge amplifies y rounding by |dx/dy|: widen accordingly
                xpad = pad * (1.0 + np.abs(invm))
                # (fmin/fmax skip NaN: a flat edge, inv = inf or nan, gets its extent)
                np.fmax(np.fmin(xs0, xs1) - xpad, np.take(exmin, em), out=lo[n1:])
                np.fmin(np.fmax(xs0, xs1) + xpad, np.take(exmax, em), out=hi[n1:])
            del yam, invm, xam, xs0, xs1, xpad
        lo -= pad
        hi += pad
        # an item holds a crossing when its strip's centre line crosses its edge
        crosses = np.empty(n, dtype=bool)
        crosses[:n1] = np.take(c_hi > c_lo, single)
        crosses[n1:] = (sm >= np.take(c_lo, em)) & (sm < np.take(c_hi, em))
        del single, two, more, em, sm, span
        # bins of points start at 2; pieces get one extra bin each side so the integer
        # comparison is conservative whatever the rounding of floor()
        bin_lo = np.clip(np.floor(lo / q) + 1, 0, maxbin).astype(_INT)
        bin_hi = np.clip(np.floor(hi / q) + 3, 0, maxbin).astype(_INT)
        del lo, hi, c_lo, c_hi

        # --- 2. merge overlapping items of one (polygon, strip) into pieces -------------
        # Items sorted by (polygon, strip, x) as one packed integer: group (polygon and
        # strip, numbered within the block), x-bin and item number, sorted as values
        # (3x faster than an argsort). When the three do not fit 63 bits the x-bins are
        # coarsened by k bits, rounding outwards: pieces then grow by at most 2^k bins (a
        # millimetre or so), which only puts a few more points to the ray test. Coarse
        # bins count from 1, so the last piece of a group never touches the first of the
        # next one.
        p0 = int(poly.min())
        group = (np.take(poly, e) - p0) * ns + s
        n = len(e)
        group_bits = ((int(poly.max()) - p0 + 1) * ns - 1).bit_length()
        item_bits = max(n - 1, 1).bit_length()
        k = max(0, group_bits + xbits + 1 + item_bits - 63)
        bin_bits = xbits + 1 - k
        group <<= bin_bits
        key = ((group | ((bin_lo >> k) + 1)) << item_bits) | np.arange(n, dtype=_INT)
        key.view(np.uint64).sort()  # (non-negative: same order as signed)
        order = key & ((1 << item_bits) - 1)
        key_lo = key >> item_bits
        reach = np.maximum.accumulate(np.take(group | ((bin_hi >> k) + 1), order))
        del key, group, bin_lo, bin_hi
        # a new piece starts where it leaves at least one bin free after all before it;
        # the group lives in the high bits, so a new strip always starts a new piece
        first = np.flatnonzero(np.r_[True, key_lo[1:] > reach[:-1] + 1])
        last = np.r_[first[1:] - 1, n - 1]
        m_lo = np.take(key_lo, first)
        m_hi = np.take(reach, last)
        del key_lo, reach
        # Every (polygon, strip) has an even number of crossings, so a running count over
        # the whole block has the parity of the cell right of each piece at its last item.
        odd = (np.take(np.cumsum(np.take(crosses, order)), last) & 1).astype(bool)
        item_edge = np.take(e, order)
        del crosses, e, s, order

        # --- 3. per piece: status on both sides, key range in point-key space ------------
        g = m_lo >> bin_bits  # (poly - p0) * ns + strip
        p = g // ns
        strip = g - p * ns
        bin_mask = (1 << bin_bits) - 1
        same_next = np.r_[g[1:] == g[:-1], False]
        run_after = odd & same_next
        left_in = np.r_[False, run_after[:-1]]
        return (
            p + p0,
            (strip << xbits) | (((m_lo & bin_mask) - 1) << k),
            (strip << xbits) | (((m_hi & bin_mask) << k) - 1),
            left_in,
            run_after,
            last - first + 1,
            item_edge,
            (ya, yb, xa, inv),
        )

    def _bbox_tests(self, geoms: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, ...]:
        """Geometries without a parity decomposition: test every point in their bbox."""
        st = self.st
        b = shapely.bounds(geoms[which])
        y_lo = (b[:, 1] - st.y0 - st.pad) / st.h
        y_hi = (b[:, 3] - st.y0 + st.pad) / st.h
        s_lo = np.clip(np.floor(y_lo), 0, st.ns).astype(_INT)
        s_hi = np.clip(np.floor(y_hi), -1, st.ns - 1).astype(_INT)
        k, s = ranges(s_lo, s_hi + 1)
        xl = np.clip(np.floor((b[k, 0] - st.x0 - st.pad) / st.q) + 1, 1, st.maxbin).astype(_INT)
        xh = np.clip(np.floor((b[k, 2] - st.x0 + st.pad) / st.q) + 3, 0, st.maxbin).astype(_INT)
        n = len(k)
        false = np.zeros(n, dtype=bool)
        return (
            which[k].astype(_INT),
            (s << st.xbits) | xl,
            (s << st.xbits) | xh,
            false,
            false,
            np.full(n, -1, dtype=_INT),
        )
