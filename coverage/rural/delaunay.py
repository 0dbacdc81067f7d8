"""Delaunay triangulation of distinct points and Kruskal's forest, compiled with numba.

:func:`triangulate` is the sweep-hull algorithm of *delaunator* (mapbox/delaunator, ISC
licence, notice below), ported to numba: the points are added in order of their
distance from the circumcentre of a small seed triangle, each joined to the hull edges it
sees, and every new edge is legalised by Lawson flips. Two changes make it safe to use
without checking each result against another library:

* Orientation is exact (:func:`coverage.rural.predicates.orient`): a floating-point filter with Shewchuk's error
  bound, and below it the determinant summed exactly as an expansion of error-free
  products and sums. The convex hull walks, and so the set of triangles, never rest on a
  rounded sign. (The in-circle test stays in floating point, as in GEOS and Qhull.)
* A flip is only made where both new triangles are positively oriented (exactly), so no
  rounded in-circle answer can fold a triangle over. An edge whose quadrilateral is not
  strictly convex is locally Delaunay anyway, so exact arithmetic would not flip it.

Every triangle stays positively oriented and the hull convex, so the result is a
triangulation of the points as long as every point was inserted. Should the sweep skip a
point (one that a rounded distance sorted into the hull), find the seed triangle flat, or
the triangle count differ from ``2n - 2 - hull``, :func:`triangulate` says so and the
caller triangulates with GEOS instead; collinear input is left to the caller as well.

:func:`kruskal` takes a minimum spanning forest of given edges with a union-find.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from coverage.kernel.jit import njit
from coverage.rural.predicates import orient as _orient

# The sweep-hull code below is a port of delaunator (https://github.com/mapbox/delaunator):
#
# ISC License
#
# Copyright (c) 2026, Mapbox
#
# Permission to use, copy, modify, and/or distribute this software for any purpose
# with or without fee is hereby granted, provided that the above copyright notice
# and this permission notice appear in all copies.
#
# THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH
# REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND
# FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR ANY SPECIAL, DIRECT,
# INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES WHATSOEVER RESULTING FROM LOSS
# OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER
# TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE USE OR PERFORMANCE OF
# THIS SOFTWARE.

_NEAR = 2.0**-52  # delaunator's near-duplicate distance (distinct doubles are apart)

#: :func:`triangulate`'s verdicts.
OK, FAILED = 0, 1


@njit
def _hash_key(x: float, y: float, cx: float, cy: float, size: int) -> int:
    dx, dy = x - cx, y - cy
    s = abs(dx) + abs(dy)
    p = dx / s if s > 0.0 else 0.0
    a = (3.0 - p) / 4.0 if dy > 0.0 else (1.0 + p) / 4.0  # pseudo-angle in [0, 1]
    return math.floor(a * size) % size


@njit
def _add_triangle(tri, half, t, i0, i1, i2, a, b, c) -> int:  # type: ignore[no-untyped-def]
    """Triangle ``t`` (its first half-edge) of points ``i0, i1, i2`` whose half-edges are
    the twins of ``a, b, c`` (-1: none); returns the next free half-edge."""
    tri[t], tri[t + 1], tri[t + 2] = i0, i1, i2
    for k, twin in enumerate((a, b, c)):
        half[t + k] = twin
        if twin != -1:
            half[twin] = t + k
    return t + 3


@njit
def _legalize(a, x, y, tri, half, hull_tri, hull_prev, hull_start, stack):  # type: ignore[no-untyped-def]
    """delaunator's ``_legalize`` (flips only into positively oriented triangles);
    returns ``(ar, stack)``, the stack grown if it had to be."""
    i = 0
    ar = 0
    while True:
        b = half[a]
        a0 = a - a % 3
        ar = a0 + (a + 2) % 3
        if b == -1:
            if i == 0:
                break
            i -= 1
            a = stack[i]
            continue
        b0 = b - b % 3
        al = a0 + (a + 1) % 3
        bl = b0 + (b + 2) % 3
        p0, pr, pl, p1 = tri[ar], tri[a], tri[al], tri[bl]
        # is p1 inside the circle through p0, pr, pl? (floating point, as in GEOS, Qhull)
        dx, dy = x[p0] - x[p1], y[p0] - y[p1]
        ex, ey = x[pr] - x[p1], y[pr] - y[p1]
        fx, fy = x[pl] - x[p1], y[pl] - y[p1]
        ap, bp, cp = dx * dx + dy * dy, ex * ex + ey * ey, fx * fx + fy * fy
        illegal = (
            dx * (ey * cp - bp * fy) - dy * (ex * cp - bp * fx) + ap * (ex * fy - ey * fx) < 0.0
        )
        if illegal:  # flip only into (p1, pl, p0) and (p0, pr, p1), both positive
            illegal = (
                _orient(x[p1], y[p1], x[pl], y[pl], x[p0], y[p0]) > 0.0
                and _orient(x[p0], y[p0], x[pr], y[pr], x[p1], y[p1]) > 0.0
            )
        if illegal:
            tri[a] = p1
            tri[b] = p0
            hbl = half[bl]
            if hbl == -1:  # edge swapped on the other side of the hull (rare)
                e = hull_start
                while True:
                    if hull_tri[e] == bl:
                        hull_tri[e] = a
                        break
                    e = hull_prev[e]
                    if e == hull_start:
                        break
            har = half[ar]
            half[a], half[b], half[ar], half[bl] = hbl, har, bl, ar  # the twins after the flip
            if hbl != -1:
                half[hbl] = a
            if har != -1:
                half[har] = b
            br = b0 + (b + 1) % 3
            if i == stack.size:
                grown = np.empty(2 * stack.size, np.int64)
                for k in range(stack.size):
                    grown[k] = stack[k]
                stack = grown
            stack[i] = br
            i += 1
        else:
            if i == 0:
                break
            i -= 1
            a = stack[i]
    return ar, stack


def _seed(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> tuple[int, int, int, float, float]:
    """delaunator's seed triangle ``(i0, i1, i2)``, positively oriented (:func:`_orient`),
    and its circumcentre: the point nearest the middle of the box, the point nearest to it,
    and the third point with the smallest circumcircle; ``i0 = -1`` where the points are
    (nearly) collinear."""
    i0 = int(np.argmin((x - (x.min() + x.max()) / 2) ** 2 + (y - (y.min() + y.max()) / 2) ** 2))
    d = (x - x[i0]) ** 2 + (y - y[i0]) ** 2
    d[i0] = np.inf
    i1 = int(np.argmin(d))
    dx, dy = x[i1] - x[i0], y[i1] - y[i0]
    ex, ey = x - x[i0], y - y[i0]
    bl, cl = dx * dx + dy * dy, ex * ex + ey * ey
    with np.errstate(divide="ignore", invalid="ignore"):
        half_inv = 0.5 / (dx * ey - dy * ex)
        r = ((ey * bl - dy * cl) * half_inv) ** 2 + ((dx * cl - ex * bl) * half_inv) ** 2
    r[[i0, i1]] = np.inf
    r[np.isnan(r)] = np.inf
    i2 = int(np.argmin(r))
    if not np.isfinite(r[i2]):
        return -1, -1, -1, 0.0, 0.0
    o = _orient(x[i0], y[i0], x[i1], y[i1], x[i2], y[i2])
    if o == 0.0:
        return -1, -1, -1, 0.0, 0.0
    if o < 0.0:
        i1, i2 = i2, i1
    dx, dy = x[i1] - x[i0], y[i1] - y[i0]
    ex, ey = x[i2] - x[i0], y[i2] - y[i0]
    bl, cl = dx * dx + dy * dy, ex * ex + ey * ey
    den = dx * ey - dy * ex
    if den == 0.0:
        return -1, -1, -1, 0.0, 0.0
    ccx = x[i0] + (ey * bl - dy * cl) * 0.5 / den
    ccy = y[i0] + (dx * cl - ex * bl) * 0.5 / den
    return i0, i1, i2, float(ccx), float(ccy)


@njit
def _sweep(x, y, i0, i1, i2, ccx, ccy, tri, half, hull, hull_hash, stack):  # type: ignore[no-untyped-def]
    """delaunator's ``update`` from the seed triangle, the points in order of distance
    from its circumcentre ``ccx, ccy``: fills ``tri`` and ``half`` (room for ``2n - 5``
    triangles), returns ``(half-edges, verdict)``. ``hull`` (3 x n) and ``hull_hash``
    (-1 throughout) are working arrays (allocated by the caller: each numpy function a
    compiled loop uses is compiled on first use, too)."""
    n = x.size
    hash_size = hull_hash.size
    hull_prev, hull_next, hull_tri = hull[0], hull[1], hull[2]

    hull_start = i0
    hull_size = 3
    hull_next[i0] = i1
    hull_prev[i2] = i1
    hull_next[i1] = i2
    hull_prev[i0] = i2
    hull_next[i2] = i0
    hull_prev[i1] = i0
    hull_tri[i0], hull_tri[i1], hull_tri[i2] = 0, 1, 2
    hull_hash[_hash_key(x[i0], y[i0], ccx, ccy, hash_size)] = i0
    hull_hash[_hash_key(x[i1], y[i1], ccx, ccy, hash_size)] = i1
    hull_hash[_hash_key(x[i2], y[i2], ccx, ccy, hash_size)] = i2
    t_len = _add_triangle(tri, half, 0, i0, i1, i2, -1, -1, -1)
    skipped = 0
    xp, yp = 0.0, 0.0
    for k in range(n):
        i = k
        px, py = x[i], y[i]
        if k > 0 and abs(px - xp) <= _NEAR and abs(py - yp) <= _NEAR:
            skipped += 1
            continue
        xp, yp = px, py
        if i in (i0, i1, i2):
            continue
        start = 0
        key = _hash_key(px, py, ccx, ccy, hash_size)
        for j in range(hash_size):
            start = hull_hash[(key + j) % hash_size]
            if start != -1 and start != hull_next[start]:
                break
        start = hull_prev[start]
        e = start
        while True:
            q = hull_next[e]
            if _orient(px, py, x[e], y[e], x[q], y[q]) < 0.0:
                break
            e = q
            if e == start:
                e = -1
                break
        if e == -1:  # inside the hull: a rounded distance sorted it too late
            skipped += 1
            continue
        t = t_len
        t_len = _add_triangle(tri, half, t, e, i, hull_next[e], -1, -1, hull_tri[e])
        ar, stack = _legalize(t + 2, x, y, tri, half, hull_tri, hull_prev, hull_start, stack)
        hull_tri[i] = ar
        hull_tri[e] = t
        hull_size += 1
        nn = hull_next[e]
        while True:
            q = hull_next[nn]
            if not _orient(px, py, x[nn], y[nn], x[q], y[q]) < 0.0:
                break
            t = t_len
            t_len = _add_triangle(tri, half, t, nn, i, q, hull_tri[i], -1, hull_tri[nn])
            ar, stack = _legalize(t + 2, x, y, tri, half, hull_tri, hull_prev, hull_start, stack)
            hull_tri[i] = ar
            hull_next[nn] = nn  # removed
            hull_size -= 1
            nn = q
        if e == start:
            while True:
                q = hull_prev[e]
                if not _orient(px, py, x[q], y[q], x[e], y[e]) < 0.0:
                    break
                t = t_len
                t_len = _add_triangle(tri, half, t, q, i, e, -1, hull_tri[e], hull_tri[q])
                _, stack = _legalize(t + 2, x, y, tri, half, hull_tri, hull_prev, hull_start, stack)
                hull_tri[q] = t
                hull_next[e] = e  # removed
                hull_size -= 1
                e = q
        hull_start = e
        hull_prev[i] = e
        hull_next[e] = i
        hull_prev[nn] = i
        hull_next[i] = nn
        hull_hash[_hash_key(px, py, ccx, ccy, hash_size)] = i
        hull_hash[_hash_key(x[e], y[e], ccx, ccy, hash_size)] = e
    if skipped or t_len != 3 * (2 * n - 2 - hull_size):
        return 0, FAILED
    return t_len, OK


@njit
def _short_edges(x, y, tri, half, max_edge, w, longest, ei, ej):  # type: ignore[no-untyped-def]
    """The edges that may be in a minimum spanning forest, no longer than ``max_edge``:
    ``(ei, ej, w)`` in their first ``count`` places, each once; returns ``count``.
    ``w`` and ``longest`` (False throughout) are working arrays, all of ``tri``'s size.

    An edge that is the strictly longest side of a triangle is in no minimum spanning
    forest (it closes a cycle of shorter edges), so it is left out; a pair of points is
    still joined by a path of edges no longer than before (each edge left out by two
    strictly shorter ones, and so on down).
    """
    m = tri.size
    for e in range(m):
        t = half[e]
        if -1 < t < e:
            w[e] = w[t]
        else:
            a = tri[e]
            b = tri[e - e % 3 + (e + 1) % 3]
            w[e] = math.hypot(x[a] - x[b], y[a] - y[b])
    for t in range(0, m, 3):
        a, b, c = w[t], w[t + 1], w[t + 2]
        if a > b and a > c:
            longest[t] = True
        elif b > a and b > c:
            longest[t + 1] = True
        elif c > a and c > b:
            longest[t + 2] = True
    k = 0
    for e in range(m):
        t = half[e]
        if t > e or w[e] > max_edge or longest[e] or (t > -1 and longest[t]):
            continue
        ei[k], ej[k], w[k] = tri[e], tri[e - e % 3 + (e + 1) % 3], w[e]
        k += 1
    return k


def triangulate(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], int]:
    """Delaunay triangles (``3 t`` vertex numbers, counter-clockwise in the ``y``-down
    sense of delaunator), their half-edge twins (``-1`` on the hull) and the verdict
    (:data:`OK` or :data:`FAILED`) of at least 3 distinct points."""
    x, y = np.ascontiguousarray(x, float), np.ascontiguousarray(y, float)
    if x.size < 3:
        return np.empty(0, np.int64), np.empty(0, np.int64), FAILED
    i0, i1, i2, ccx, ccy = _seed(x, y)
    if i0 < 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), FAILED
    ids = np.argsort((x - ccx) ** 2 + (y - ccy) ** 2)
    rank = np.empty(ids.size, np.int64)
    rank[ids] = np.arange(ids.size)
    # in sweep order: the hull's arrays and the coordinates are then read near each other
    n = x.size
    tri = np.empty(3 * max(2 * n - 5, 1), np.int64)
    half = np.empty_like(tri)
    hull_hash = np.full(math.ceil(math.sqrt(n)), -1, np.int64)
    size, verdict = _sweep(
        x[ids], y[ids], rank[i0], rank[i1], rank[i2], ccx, ccy,
        tri, half, np.zeros((3, n), np.int64), hull_hash, np.empty(1024, np.int64),
    )  # fmt: skip
    return ids[tri[:size]], half[:size], int(verdict)


def delaunay_short_edges(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], max_edge: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]] | None:
    """Distinct Delaunay edges no longer than ``max_edge``, ``(i, j, length)``; ``None``
    where :func:`triangulate` fails (collinear or degenerate input)."""
    x, y = np.ascontiguousarray(x, float), np.ascontiguousarray(y, float)
    tri, half, verdict = triangulate(x, y)
    if verdict != OK:
        return None
    m = tri.size
    i, j, w = np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m)
    k = _short_edges(x, y, tri, half, float(max_edge), w, np.zeros(m, np.bool_), i, j)
    return i[:k], j[:k], w[:k]


@njit
def _kruskal(i, j, order, parent, size, keep):  # type: ignore[no-untyped-def]
    """Kruskal's forest of the edges ``(i, j)`` taken in ``order``; ``parent`` (each node
    its own), ``size`` (ones) and ``keep`` (room for the forest) are working arrays.
    Returns the count of edges put in ``keep``."""
    k = 0
    for e in order:
        if k == keep.size:
            break
        a, b = i[e], j[e]
        while parent[a] != a:  # the roots, halving the paths on the way
            parent[a] = parent[parent[a]]
            a = parent[a]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a == b:
            continue
        if size[a] < size[b]:
            a, b = b, a
        parent[b] = a
        size[a] += size[b]
        keep[k] = e
        k += 1
    return k


def kruskal(
    i: npt.NDArray[np.int64],
    j: npt.NDArray[np.int64],
    w: npt.NDArray[np.float64],
    n: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Minimum spanning forest ``(i, j, length)`` of the graph on ``n`` nodes with edges
    ``(i, j)`` of lengths ``w`` (repeated edges allowed), shortest edges first.

    Ties are taken in any order: the forest's components and its multiset of lengths per
    component are those of every minimum spanning forest.
    """
    if w.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64)
    keep = np.empty(min(w.size, max(n - 1, 0)), np.int64)
    k = _kruskal(
        np.ascontiguousarray(i, np.int64), np.ascontiguousarray(j, np.int64), np.argsort(w),
        np.arange(n), np.ones(n, np.int64), keep,
    )  # fmt: skip
    keep = keep[:k]
    return i[keep].astype(np.int64), j[keep].astype(np.int64), w[keep].astype(np.float64)
