"""Writing the kernel's pairs in their final order without sorting them (compiled with numba).

The pairs of a chunk come from boundary pieces (points that passed the ray or GEOS test)
and inside runs (every point of a slice of the points sorted by strip and x). Both are
produced piece by piece, and pieces are ordered by polygon. Written in that order into
per-point slots (a counting sort by point: each point's slots start at the running sum
of the pair counts of the points before it), the pairs come out sorted by point and, as
every (point, polygon) pair occurs once, by polygon within each point. That is two passes
(count, write) instead of a sort of 64-bit keys (the sort was half the join on coverage
with ~32 polygons per address). numba compiles the loops on their first use after an
install (about a second) and keeps them in its cache (:mod:`coverage.kernel.jit`).
"""

from __future__ import annotations

import numpy as np

from coverage.kernel.jit import njit


@njit
def _count_pairs(
    n_points: int,
    point_of: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    run_after: np.ndarray,
    cand_start: np.ndarray,
    decision: np.ndarray,
) -> np.ndarray:  # pragma: no cover (compiled)
    """Pairs per point: one per inside run over the point, one per boundary hit."""
    n_sorted = len(point_of)
    diff = np.zeros(n_sorted + 1, dtype=np.int64)
    for i in range(len(lo) - 1):
        if run_after[i] and lo[i + 1] > hi[i]:
            diff[hi[i]] += 1
            diff[lo[i + 1]] -= 1
    counts = np.zeros(n_points, dtype=np.int64)
    running = 0
    for s in range(n_sorted):
        running += diff[s]
        counts[point_of[s]] = running
    for i in range(len(lo)):
        c = cand_start[i]
        for s in range(lo[i], hi[i]):
            if decision[c] == 1:
                counts[point_of[s]] += 1
            c += 1
    return counts


@njit
def _write_pairs(
    slot: np.ndarray,
    point_of: np.ndarray,
    order: np.ndarray,
    poly: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    run_after: np.ndarray,
    cand_start: np.ndarray,
    decision: np.ndarray,
    out_poly: np.ndarray,
) -> None:  # pragma: no cover (compiled)
    """Every pair's polygon into its point's next slot, pieces taken in ``order``."""
    for i in order:
        g = poly[i]
        c = cand_start[i]
        for s in range(lo[i], hi[i]):
            if decision[c] == 1:
                pt = point_of[s]
                out_poly[slot[pt]] = g
                slot[pt] += 1
            c += 1
        if run_after[i]:
            for s in range(hi[i], lo[i + 1]):
                pt = point_of[s]
                out_poly[slot[pt]] = g
                slot[pt] += 1


def emit_pairs(
    n_points: int,
    point_of: np.ndarray,
    poly: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    run_after: np.ndarray,
    cand_start: np.ndarray,
    decision: np.ndarray,
    index_dtype: type[np.signedinteger],
) -> tuple[np.ndarray, np.ndarray]:
    """(point_idx, polygon_idx) of a chunk, sorted by point then polygon.

    Parameters
    ----------
    n_points : int
        Points of the chunk (point indices are 0 .. n_points - 1).
    point_of : ndarray of int
        Sorted position (by strip and x) -> point index.
    poly, lo, hi, run_after : ndarray
        Per piece: polygon, sorted positions [lo, hi) of its points, and whether the slice
        up to the next piece's ``lo`` is an inside run (the next piece then belongs to the
        same polygon and strip).
    cand_start, decision : ndarray
        Per piece, the position of its first point in ``decision``; per point of a piece
        (piece by piece), 1 where the polygon covers it (``boundary.INSIDE``).
    index_dtype : numpy integer type
        Of both results (int32 while indices fit).
    """
    lo = np.ascontiguousarray(lo, dtype=np.int64)
    hi = np.ascontiguousarray(hi, dtype=np.int64)
    point_of = np.ascontiguousarray(point_of, dtype=np.int64)
    cand_start = np.ascontiguousarray(cand_start, dtype=np.int64)
    run_after = np.ascontiguousarray(run_after, dtype=np.bool_)
    counts = _count_pairs(n_points, point_of, lo, hi, run_after, cand_start, decision)
    slot = np.cumsum(counts)
    total = int(slot[-1]) if n_points else 0
    slot -= counts  # first slot of every point
    point_idx = np.repeat(np.arange(n_points, dtype=index_dtype), counts)
    del counts
    out_poly = np.empty(total, dtype=index_dtype)
    # pieces by polygon: fast polygons come first, in order; geometries tested in their
    # bounding box are appended after them
    if len(poly) > 1 and bool((poly[1:] < poly[:-1]).any()):
        order = np.argsort(poly, kind="stable").astype(np.int64)
    else:
        order = np.arange(len(poly), dtype=np.int64)
    _write_pairs(
        slot,
        point_of,
        order,
        np.ascontiguousarray(poly).astype(index_dtype, copy=False),
        lo,
        hi,
        run_after,
        cand_start,
        decision,
        out_poly,
    )
    return point_idx, out_poly
