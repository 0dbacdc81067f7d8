"""The kernel's decisions for points in boundary pieces: a ray test against the piece's own
edges, GEOS for the few points too close to an edge to decide in floating point, and the
lower-bound search that finds each piece's points in the sorted point keys.

Used by :mod:`coverage.kernel.join`; see its docstring for the method and its exactness.
"""

from __future__ import annotations

import numpy as np
import shapely

from coverage.kernel.decompose import Decomposition, Pieces, Strips
from coverage.kernel.jit import njit

_INT = np.int64

#: boundary pieces built from more edges than this go to GEOS instead of the ray test
#: (bounds the candidate x edge pairs; such pieces are rare)
_MAX_RAY_EDGES = 48


#: decisions of :func:`ray_decisions` per candidate (int8)
OUTSIDE, INSIDE, UNSURE = 0, 1, 2


def candidate_starts(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per piece, the number of candidates (points of pieces) before it."""
    counts = np.maximum(hi - lo, 0)
    return np.cumsum(counts) - counts


def ray_decisions(
    lx: np.ndarray, ly: np.ndarray, lo: np.ndarray, hi: np.ndarray, pc: Pieces, dec: Decomposition
) -> np.ndarray:
    """OUTSIDE, INSIDE or UNSURE for every point of every boundary piece (int8).

    Points at local coordinates ``lx, ly`` (sorted by strip and x); piece ``i`` holds the
    sorted positions ``lo[i] .. hi[i] - 1``, and its candidates come one after the other
    in piece order (the order of ``decompose.ranges(lo, hi)``). Pieces with too many edges
    (and bbox tests, item_count -1) are left to GEOS: UNSURE.
    """
    st = dec.st
    tol_y = st.pad + float(np.abs(ly).max(initial=0.0)) * 2.0**-44
    ya, yb, xa, inv = (np.ascontiguousarray(a) for a in dec.items)
    return _ray_decisions(
        np.ascontiguousarray(lx),
        np.ascontiguousarray(ly),
        np.ascontiguousarray(lo, dtype=np.int64),
        np.ascontiguousarray(hi, dtype=np.int64),
        pc.item_start.astype(np.int64, copy=False),
        pc.item_count.astype(np.int64, copy=False),
        pc.left_in,
        ya,
        yb,
        xa,
        inv,
        st.pad,
        tol_y,
        _MAX_RAY_EDGES,
    )


@njit
def _ray_decisions(
    lx: np.ndarray,
    ly: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    item_start: np.ndarray,
    item_count: np.ndarray,
    left_in: np.ndarray,
    ya: np.ndarray,
    yb: np.ndarray,
    xa: np.ndarray,
    inv: np.ndarray,
    pad: float,
    tol_y: float,
    max_edges: int,
) -> np.ndarray:  # pragma: no cover (compiled)
    """:func:`ray_test`, candidate by candidate: one loop over its piece's edges."""
    total = 0
    for i in range(len(lo)):
        total += max(hi[i] - lo[i], 0)
    out = np.empty(total, dtype=np.int8)
    c = 0
    for i in range(len(lo)):
        count = item_count[i]
        first = item_start[i]
        for s in range(lo[i], hi[i]):
            if count < 0 or count > max_edges:  # to GEOS
                out[c] = 2
                c += 1
                continue
            yy, xx = ly[s], lx[s]
            crossings = 0
            near = False
            for it in range(first, first + count):
                below = yb[it] - yy
                above = yy - ya[it]
                if above < -tol_y or below < -tol_y:
                    continue  # the edge does not span the point's height
                if above <= tol_y or below <= tol_y:
                    near = True
                    continue
                slope = inv[it]
                x0 = xa[it]
                xi = x0 + above * slope
                tol_x = pad * (1.0 + abs(slope)) + (abs(x0) + abs(xi)) * 2.0**-44
                if abs(xx - xi) <= tol_x:
                    near = True
                if xi < xx:
                    crossings += 1
            if near:
                out[c] = 2
            else:
                out[c] = 1 if left_in[i] ^ (crossings & 1 == 1) else 0
            c += 1
    return out


def geos_tests(geoms: np.ndarray, poly: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``shapely.intersects_xy(geoms[poly], x, y)``, exact (covered_by for points)."""
    # prepare the polygons with many tests (bbox geometries), then undo it
    polys, n_tests = np.unique(poly, return_counts=True)
    many = polys[n_tests >= 16]
    many = many[~shapely.is_prepared(geoms[many])]
    shapely.prepare(geoms[many])
    try:
        return shapely.intersects_xy(geoms[poly], x, y)
    finally:
        shapely.destroy_prepared(geoms[many])


def ray_test(
    lx: np.ndarray,
    ly: np.ndarray,
    start: np.ndarray,
    count: np.ndarray,
    left_in: np.ndarray,
    edges: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    pad: float,
    tol_y: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(inside, unsure) for points at local coords (lx, ly) in their boundary pieces.

    The vectorised numpy form of the compiled :func:`ray_decisions` (its reference in the
    tests; the same arithmetic, candidate by candidate there). A point's piece has the edges ``start .. start + count`` of ``edges`` = (ya, yb, xa,
    inv): lower and upper end height (ya <= yb), x at ya and dx/dy; and the status
    ``left_in`` left of it. Inside = that status XOR the parity of the piece's edges
    crossed by the ray from the point to the left. Unsure where the point is within the
    tolerance of a vertex's height (``tol_y``) or of an edge's crossing (``pad``, scaled
    with the slope): there the float arithmetic could err, and the caller asks GEOS.
    """
    ya, yb, xa, inv = edges
    # (candidate, edge) pairs: edge = start of the candidate's edges + position in them
    ends = np.cumsum(count)
    ci = np.repeat(np.arange(len(count)), count)
    it = np.take(start - ends + count, ci)
    it += np.arange(len(ci))
    yy = np.take(ly, ci)
    below = np.take(yb, it) - yy  # how far the edge's upper end is above the point
    above = yy - np.take(ya, it)  # how far the point is above its lower end
    # only edges spanning the point's height (with the tolerance) matter
    j = np.flatnonzero((above >= -tol_y) & (below >= -tol_y))
    ci, it, above = np.take(ci, j), np.take(it, j), np.take(above, j)
    near = (above <= tol_y) | (np.take(below, j) <= tol_y)
    # the rest lies strictly between the edge's end heights: the ray crosses its line
    k = np.flatnonzero(~near)
    ck, ik = np.take(ci, k), np.take(it, k)
    slope = np.take(inv, ik)
    x0 = np.take(xa, ik)
    xi = x0 + np.take(above, k) * slope
    xx = np.take(lx, ck)
    # rounding of xi grows with the slope |dx/dy| and with the magnitudes involved
    tol_x = pad * (1.0 + np.abs(slope)) + (np.abs(x0) + np.abs(xi)) * 2.0**-44
    near[k] |= np.abs(xx - xi) <= tol_x
    n = len(lx)
    crossings = np.bincount(np.compress(xi < xx, ck), minlength=n)
    unsure = np.zeros(n, dtype=bool)
    unsure[np.compress(near, ci)] = True
    inside = left_in ^ (crossings & 1).astype(bool)
    return inside, unsure


class LowerBound:
    """``np.searchsorted(sorted_key, queries, side="left")``, by table lookup.

    Binary searches over a million keys miss the cache on most levels. A table of the
    first position of every (strip, column) cell, columns half a strip wide, answers
    exactly for queries on a column start or in an empty cell (most polygon pieces lie
    where there are no points); the rest are searched only within their cell (a few
    keys), by a vectorised binary search over all of them at once.
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
        # first[c] = number of keys in cells before c (the cells are sorted with the
        # keys: cells after the previous occupied one up to an occupied one start where
        # its keys do); one spare strip of entries: an inclusive upper bound + 1 may
        # carry into strip ns
        self.first = np.empty(n_cells + self.ncols + 2, dtype=dtype)
        starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
        occupied = cell[starts]
        top = int(occupied[-1]) + 1
        self.first[:top] = np.repeat(starts.astype(dtype), np.diff(occupied, prepend=-1))
        self.first[top:] = len(sorted_key)

    def __call__(self, queries: np.ndarray) -> np.ndarray:
        cell, inside = self._cells(queries)
        pos = np.take(self.first, cell).astype(_INT)
        return self._search(queries, inside, pos, np.take(self.first, cell + 1))

    def ranges(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sorted positions [start, stop) of the keys in each inclusive range lo..hi.

        Same as ``self(lo), self(hi + 1)``, but a range whose cells hold no key at all
        (most polygon pieces) is answered from two table entries.
        """
        hi = hi + 1
        c0, in0 = self._cells(lo)
        c1, in1 = self._cells(hi)
        start = np.take(self.first, c0).astype(_INT)
        after = np.take(self.first, c1 + 1)  # keys up to the end of hi's cell
        stop = start.copy()
        # no key in the cells from lo's to hi's: both bounds are the first entry
        full = np.flatnonzero(after > start)
        if len(full):
            c0, c1 = np.take(c0, full), np.take(c1, full)
            s0 = np.take(start, full)
            np.put(
                start,
                full,
                self._search(
                    np.take(lo, full), np.take(in0, full), s0, np.take(self.first, c0 + 1)
                ),
            )
            s1 = np.take(self.first, c1).astype(_INT)
            np.put(
                stop,
                full,
                self._search(np.take(hi, full), np.take(in1, full), s1, np.take(after, full)),
            )
        return start, stop

    def _cells(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(cell, whether the query lies past the first bin of its column) per query."""
        rel = (queries & self.mask) - 2
        # column of the query (bins before the first column count as column 0, bins
        # after the last one as column ncols = column 0 of the next strip)
        col = np.minimum(np.maximum(rel, 0) // self.per_col, self.ncols)
        inside = rel > col * self.per_col
        inside &= col < self.ncols
        return (queries >> self.xbits) * self.ncols + col, inside

    def _search(
        self, queries: np.ndarray, inside: np.ndarray, pos: np.ndarray, end: np.ndarray
    ) -> np.ndarray:
        """Lower bounds, given the first (pos, int64, updated) and end entry of the cells."""
        # Keys of earlier cells are smaller than the query, keys of later cells larger:
        # the answer lies in [pos, end]. It is pos when the query is at (or before) its
        # column's start or the cell is empty; the rest search their cell.
        need = np.flatnonzero(inside & (end > pos))
        lo, hi, q = np.take(pos, need), np.take(end, need).astype(_INT), np.take(queries, need)
        last = len(self.sorted_key) - 1
        while len(need):
            # one bisection step for all; the finished ones leave once they are many
            mid = (lo + hi) >> 1
            less = np.take(self.sorted_key, np.minimum(mid, last)) < q
            less &= lo < hi
            lo = np.where(less, mid + 1, lo)
            hi = np.where(less, hi, mid)
            going = lo < hi
            n_going = int(np.count_nonzero(going))
            if n_going <= len(need) // 2:
                np.put(pos, need, lo)
                going = np.flatnonzero(going)
                need, lo, hi, q = (np.take(a, going) for a in (need, lo, hi, q))
        return pos
