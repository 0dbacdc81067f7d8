"""Points with the same pairs: one group per distinct list of polygons (compiled with numba).

On dense coverage neighbouring addresses are covered by the same polygons: at ~32 pairs
per address, a million addresses (spatially sorted) hold about a quarter million distinct
lists. Anything
that depends on a point's pairs alone (a classification, its reason sentence) needs to be
computed once per group and gathered.

Groups are exact: two points share a group only if their pair lists are equal element by
element (and so is their ``extra`` code). A 64-bit hash per point (a sum of random words
per polygon, one pass over the pairs) only finds candidates in a hash table; every point is
compared with a group's first point before it joins the group.
"""

from __future__ import annotations

import numpy as np

from coverage.kernel.jit import njit

#: fixed seed of the per-polygon hash words (any seed gives the same groups)
_SEED = 20261206


@njit
def _bounds_and_hashes(
    point_idx: np.ndarray, poly_idx: np.ndarray, n_points: int, words: np.ndarray, extra: np.ndarray
) -> tuple[np.ndarray, np.ndarray, bool]:  # pragma: no cover (compiled)
    """Run bounds of every point's pairs, a hash of each run and whether ``point_idx`` is
    sorted (when not, the bounds and hashes mean nothing)."""
    bounds = np.zeros(n_points + 1, dtype=np.int64)
    hashes = np.empty(n_points, dtype=np.uint64)
    prev = 0
    for k in range(len(point_idx)):
        p = point_idx[k]
        if p < prev:
            return bounds, hashes, False
        prev = p
        bounds[p + 1] += 1
    for p in range(n_points):
        bounds[p + 1] += bounds[p]
    mix = np.uint64(0x9E3779B97F4A7C15)
    for p in range(n_points):
        h = np.uint64(extra[p]) * mix
        for k in range(bounds[p], bounds[p + 1]):
            h += words[poly_idx[k]]
        hashes[p] = h
    return bounds, hashes, True


@njit
def _assign(
    hashes: np.ndarray, bounds: np.ndarray, poly_idx: np.ndarray, extra: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover (compiled)
    """Group of every point and the first point of every group: points in index order look
    up their hash in an open-addressing table (linear probing) and join the group of the
    first entry whose first point has the same extra code and an equal pair list."""
    n = len(hashes)
    size = 1
    while size < 2 * n + 2:
        size *= 2
    table = np.full(size, -1, dtype=np.int64)  # group, -1: empty slot
    group = np.empty(n, dtype=np.int64)
    first = np.empty(n, dtype=np.int64)
    g = 0
    for a in range(n):
        h = hashes[a]
        slot = np.int64(h & np.uint64(size - 1))
        lo, hi = bounds[a], bounds[a + 1]
        while True:
            r = table[slot]
            if r < 0:
                table[slot] = g
                first[g] = a
                group[a] = g
                g += 1
                break
            b = first[r]
            if hashes[b] == h and extra[b] == extra[a] and bounds[b + 1] - bounds[b] == hi - lo:
                same = True
                off = bounds[b] - lo
                for s in range(lo, hi):
                    if poly_idx[s] != poly_idx[s + off]:
                        same = False
                        break
                if same:
                    group[a] = r
                    break
            slot = (slot + 1) & (size - 1)
    return group, first[:g]


def pair_groups(
    point_idx: np.ndarray,
    poly_idx: np.ndarray,
    n_points: int,
    n_polys: int,
    extra: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Points grouped by equal pair lists.

    Parameters
    ----------
    point_idx, poly_idx : ndarray of int
        The pairs, sorted by point (within a point, lists in a different order count as
        different: sort by polygon too, as the kernel does, to group equal sets).
    n_points, n_polys : int
        Point indices lie in [0, n_points), polygon indices in [0, n_polys).
    extra : ndarray of int, optional
        A code per point that must also be equal within a group (e.g. a site type).

    Returns
    -------
    (group, first, bounds) or None when ``point_idx`` is not sorted.
        ``group``: int64 per point, groups numbered in the order of their first point;
        ``first``: int64 per group, its first (lowest) point, ascending; ``bounds``: int64, length
        ``n_points + 1``, the pairs of point ``p`` are ``bounds[p]:bounds[p + 1]``.
    """
    point_idx = np.ascontiguousarray(point_idx)
    poly_idx = np.ascontiguousarray(poly_idx)
    extra = (
        np.zeros(n_points, dtype=np.int64)
        if extra is None
        else np.ascontiguousarray(extra, dtype=np.int64)
    )
    words = np.random.default_rng(_SEED).integers(
        0, np.iinfo(np.uint64).max, size=max(n_polys, 1), dtype=np.uint64, endpoint=True
    )
    bounds, hashes, ok = _bounds_and_hashes(point_idx, poly_idx, n_points, words, extra)
    if not ok:
        return None
    group, first = _assign(hashes, bounds, poly_idx, extra)
    return group, first, bounds


@njit
def _gather_runs(
    bounds: np.ndarray, rows: np.ndarray, poly_idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover (compiled)
    out_bounds = np.zeros(len(rows) + 1, dtype=np.int64)
    for i in range(len(rows)):
        out_bounds[i + 1] = out_bounds[i] + bounds[rows[i] + 1] - bounds[rows[i]]
    total = out_bounds[len(rows)]
    out_point = np.empty(total, dtype=np.int32)
    out_poly = np.empty(total, dtype=poly_idx.dtype)
    k = 0
    for i in range(len(rows)):
        for s in range(bounds[rows[i]], bounds[rows[i] + 1]):
            out_point[k] = i
            out_poly[k] = poly_idx[s]
            k += 1
    return out_point, out_poly, out_bounds


def take_points(
    bounds: np.ndarray, rows: np.ndarray, poly_idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of points ``rows`` (in that order, renumbered 0 .. len(rows) - 1), with
    ``bounds`` from :func:`pair_groups`: point indices (int32), polygons (as given) and
    their bounds (int64, length ``len(rows) + 1``)."""
    return _gather_runs(
        np.ascontiguousarray(bounds, dtype=np.int64),
        np.ascontiguousarray(rows, dtype=np.int64),
        np.ascontiguousarray(poly_idx),
    )
