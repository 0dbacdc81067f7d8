"""The sieve of :mod:`coverage.rural.disc_union`: which discs, and which of their edges, can
reach the boundary of the union of all discs. Loops compiled with numba (through
:mod:`coverage.kernel.jit`: no Python objects, the GIL released, compiled on first use).

Two passes, both erring only towards keeping:

1. a raster of squares: a square is *covered* when its four corners lie within ``inner``
   of one point; a disc all of whose squares met by its circumcircle are covered lies in
   the interior of the union (:func:`raster_sieve`, cheap, drops most discs of a dense area);
2. the edges of the discs left, exactly: each edge is cut into ``SUBSEGMENTS`` pieces, and a
   piece is covered when both its ends lie within ``inner`` (less a rounding allowance) of
   one other point: the piece then lies in that point's inscribed circle, in the interior of
   its disc. An edge with a piece not so covered is *open* (:func:`has_open_edge`). A disc with
   no open edge has its boundary, hence itself, in the interior of the union.

Every boundary point of the union lies on an open edge of some disc: a boundary point lies
in some disc, on its boundary (the disc's interior is interior to the union), on an edge
that the test cannot find covered.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from coverage.kernel.jit import njit

#: Pieces each disc edge is cut into for the exact test (finer keeps fewer discs).
SUBSEGMENTS = 4
#: Points a grid cell of the exact test holds on average, at most (the cell grows beyond).
_GRID_CELLS_PER_POINT = 4


@njit
def _covered_squares(u, v, row, r, rows, cols):  # pragma: no cover - compiled
    """Raster of the squares lying inside the circle of radius ``r`` (cells) of a point.

    In row ``i`` a square fits when its columns lie within ``sqrt(r^2 - f^2)`` of the
    point, ``f`` the row's farther edge; each point marks its run of columns (+1 at the
    first, -1 after the last), a running sum along the row counts the circles holding it.
    """
    width = cols + 1
    count = np.zeros(rows * width, dtype=np.int32)
    reach = math.ceil(r) + 1
    for p in range(u.size):
        for di in range(-reach, reach + 1):
            i = row[p] + di
            far = max(abs(v[p] - i), abs(i + 1 - v[p]))
            if far > r:
                continue
            half = math.sqrt(max(r * r - far * far, 0.0))
            first = math.ceil(u[p] - half)
            last = math.floor(u[p] + half) - 1
            if first > last:
                continue
            count[i * width + first] += 1
            count[i * width + last + 1] -= 1
    covered = np.empty((rows, cols), dtype=np.bool_)
    for i in range(rows):
        run = 0
        for j in range(cols):
            run += count[i * width + j]
            covered[i, j] = run > 0
    return covered


@njit
def _on_covered(u, v, row, r, covered):  # pragma: no cover - compiled
    """Per point: every square meeting its circle of radius ``r`` (cells) is covered.

    In row ``i`` the squares met are the columns within ``sqrt(r^2 - e^2)`` of the point,
    ``e`` the distance to the row's nearer edge; a prefix count of uncovered squares along
    the row tells whether that run holds none.
    """
    rows, cols = covered.shape
    uncovered = np.zeros((rows, cols + 1), dtype=np.int32)
    for i in range(rows):
        for j in range(cols):
            uncovered[i, j + 1] = uncovered[i, j] + (0 if covered[i, j] else 1)
    inside = np.ones(u.size, dtype=np.bool_)
    reach = math.ceil(r) + 1
    for p in range(u.size):
        for di in range(-reach, reach + 1):
            i = row[p] + di
            near = max(i - v[p], v[p] - (i + 1), 0.0)
            if near > r:
                continue
            half = math.sqrt(max(r * r - near * near, 0.0))
            first = math.floor(u[p] - half)
            last = math.floor(u[p] + half)
            if uncovered[i, last + 1] != uncovered[i, first]:
                inside[p] = False
                break
    return inside


def raster_sieve(
    u: npt.NDArray[np.float64],
    v: npt.NDArray[np.float64],
    row: npt.NDArray[np.intp],
    r_in: float,
    r_out: float,
    shape: tuple[int, int],
) -> npt.NDArray[np.bool_]:
    """Per point (coordinates ``u, v`` in cells, ``row`` = floor ``v``): whether every
    square its circle of ``r_out`` cells meets is covered by a circle of ``r_in`` cells."""
    covered = _covered_squares(u, v, row, r_in, shape[0], shape[1])
    if not covered.any():
        return np.zeros(u.size, dtype=bool)
    return _on_covered(u, v, row, r_out, covered)


@njit
def _open_edges(
    px, py, cand, offx, offy, pieces, r, x0, y0, g, gcols, grows, start, sx, sy, sid
):  # pragma: no cover - compiled
    """Whether each disc ``cand`` has an open edge: see :func:`has_open_edge`."""
    n_vert = offx.size
    r2 = r * r
    reach = math.ceil(r / g) + 1
    open_edge = np.zeros(cand.size, dtype=np.bool_)
    for c in range(cand.size):
        p = cand[c]
        for k in range(n_vert):
            k1 = (k + 1) % n_vert
            ax0, ay0 = px[p] + offx[k], py[p] + offy[k]
            dx, dy = px[p] + offx[k1] - ax0, py[p] + offy[k1] - ay0
            for s in range(pieces):
                ax, ay = ax0 + dx * (s / pieces), ay0 + dy * (s / pieces)
                bx, by = ax0 + dx * ((s + 1) / pieces), ay0 + dy * ((s + 1) / pieces)
                cx = math.floor(((ax + bx) / 2 - x0) / g)
                cy = math.floor(((ay + by) / 2 - y0) / g)
                found = False
                for ring in range(reach + 1):  # cells in rings around the piece's middle
                    if found:
                        break
                    for jy in range(cy - ring, cy + ring + 1):
                        if found or jy < 0 or jy >= grows:
                            continue
                        edge_row = jy == cy - ring or jy == cy + ring
                        step = 1 if edge_row else 2 * ring
                        jx = cx - ring
                        while jx <= cx + ring:
                            if 0 <= jx < gcols:
                                cell = jy * gcols + jx
                                for q in range(start[cell], start[cell + 1]):
                                    if sid[q] == p:
                                        continue
                                    ex, ey = ax - sx[q], ay - sy[q]
                                    fx, fy = bx - sx[q], by - sy[q]
                                    if ex * ex + ey * ey <= r2 and fx * fx + fy * fy <= r2:
                                        found = True
                                        break
                                if found:
                                    break
                            jx += step
                if not found:
                    open_edge[c] = True
                    break
            if open_edge[c]:
                break
    return open_edge


def has_open_edge(
    pts: npt.NDArray[np.float64],
    cand: npt.NDArray[np.intp],
    offsets: npt.NDArray[np.float64],
    r: float,
) -> npt.NDArray[np.bool_]:
    """Whether the disc of each point ``pts[cand]`` has an open edge, given the vertex
    ``offsets`` of a disc (edge ``k`` runs from vertex ``k`` to ``k + 1``).

    Edge ``k`` is open unless each of its ``SUBSEGMENTS`` pieces has both ends within ``r``
    of one other point of ``pts``; the points are found on a grid of cells of about ``r/4``
    metres, searched in rings around the piece's middle (a point within ``r`` of both ends
    lies within ``r`` of the middle).
    """
    if not cand.size:
        return np.zeros(0, dtype=bool)
    lo = pts.min(axis=0)
    span = pts.max(axis=0) - lo
    g = max(r / 4.0, math.sqrt(float(span[0] * span[1]) / (_GRID_CELLS_PER_POINT * len(pts))))
    gcols = int(span[0] // g) + 1
    grows = int(span[1] // g) + 1
    ix = np.minimum(((pts[:, 0] - lo[0]) // g).astype(np.intp), gcols - 1)
    iy = np.minimum(((pts[:, 1] - lo[1]) // g).astype(np.intp), grows - 1)
    key = iy * gcols + ix
    order = np.argsort(key, kind="stable")
    start = np.searchsorted(key[order], np.arange(gcols * grows + 1))
    return _open_edges(
        pts[:, 0],
        pts[:, 1],
        cand.astype(np.intp),
        np.ascontiguousarray(offsets[:, 0]),
        np.ascontiguousarray(offsets[:, 1]),
        SUBSEGMENTS,
        r,
        float(lo[0]),
        float(lo[1]),
        g,
        gcols,
        grows,
        start,
        pts[order, 0],
        pts[order, 1],
        order,
    )
