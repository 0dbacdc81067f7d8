"""Writing the kernel's pairs in their final order without sorting them (compiled with numba).

The pairs of a chunk come from boundary pieces (points that passed the ray or GEOS test)
and inside runs (every point of a slice of the points sorted by strip and x). Both are
produced piece by piece, and pieces are ordered by polygon. Written in that order into
slots (a counting sort: each sorted position's slots start at the running sum of the
pair counts before it), the pairs of every point come out by polygon, as every (point,
polygon) pair occurs once; a second pass moves each point's block of polygons to its
place in point order. Two passes over the pairs instead of a sort of 64-bit keys (the
sort was half the join on coverage with ~32 polygons per address); slots by sorted
position first, because an inside run then writes one ascending stream. numba compiles
the loops on first use in a process (about a second; no cache files: the kernel writes
no files).

numba looks for the coverage.py measurement tool with ``import coverage`` when it is
first imported, and this package is called ``coverage`` too: :func:`_import_numba` hides
it from that one probe, so numba sees no coverage.py (which gapmap never installs).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import numpy as np

_lock = threading.Lock()


def _import_numba() -> Any:
    """numba, imported with ``coverage`` hidden from its coverage.py probe."""
    if "numba" in sys.modules:
        return sys.modules["numba"]
    with _lock:
        saved = sys.modules.get("coverage")
        sys.modules["coverage"] = None  # type: ignore[assignment]  # "import coverage" fails
        try:
            import numba
        finally:
            if saved is None:
                del sys.modules["coverage"]
            else:
                sys.modules["coverage"] = saved
    return numba


_numba = _import_numba()


@_numba.njit(nogil=True, cache=False)
def _count_pairs(
    n_sorted: int, lo: np.ndarray, hi: np.ndarray, run_after: np.ndarray, hit_pos: np.ndarray
) -> np.ndarray:  # pragma: no cover (compiled)
    """Pairs per sorted position: one per inside run over it, one per boundary hit."""
    counts = np.zeros(n_sorted + 1, dtype=np.int64)
    for i in range(len(lo) - 1):
        if run_after[i] and lo[i + 1] > hi[i]:
            counts[hi[i]] += 1
            counts[lo[i + 1]] -= 1
    running = 0
    for s in range(n_sorted):
        running += counts[s]
        counts[s] = running
    for k in range(len(hit_pos)):
        counts[hit_pos[k]] += 1
    return counts[:n_sorted]


@_numba.njit(nogil=True, cache=False)
def _write_pairs(
    slot: np.ndarray,
    order: np.ndarray,
    poly: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    run_after: np.ndarray,
    hit_start: np.ndarray,
    hit_pos: np.ndarray,
    out_poly: np.ndarray,
) -> None:  # pragma: no cover (compiled)
    """Every pair's polygon into its sorted position's next slot, pieces in ``order``.

    The slots of neighbouring sorted positions are neighbours: an inside run writes one
    ascending stream (cache-friendly), unlike writing by point index directly.
    """
    for i in order:
        g = poly[i]
        for k in range(hit_start[i], hit_start[i + 1]):
            s = hit_pos[k]
            out_poly[slot[s]] = g
            slot[s] += 1
        if run_after[i]:
            for s in range(hi[i], lo[i + 1]):
                out_poly[slot[s]] = g
                slot[s] += 1


@_numba.njit(nogil=True, cache=False)
def _to_point_order(
    by_sorted: np.ndarray,
    start: np.ndarray,
    counts: np.ndarray,
    point_of: np.ndarray,
    point_start: np.ndarray,
    out: np.ndarray,
) -> None:  # pragma: no cover (compiled)
    """Each sorted position's block of polygons to its point's place in ``out``."""
    for s in range(len(point_of)):
        a = start[s]
        b = point_start[point_of[s]]
        for k in range(counts[s]):
            out[b + k] = by_sorted[a + k]


def emit_pairs(
    n_points: int,
    point_of: np.ndarray,
    poly: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    run_after: np.ndarray,
    hit_piece: np.ndarray,
    hit_pos: np.ndarray,
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
    hit_piece, hit_pos : ndarray of int
        Boundary hits: piece (non-decreasing) and sorted position of the point.
    index_dtype : numpy integer type
        Of both results (int32 while indices fit).
    """
    lo = np.ascontiguousarray(lo, dtype=np.int64)
    hi = np.ascontiguousarray(hi, dtype=np.int64)
    point_of = np.ascontiguousarray(point_of, dtype=np.int64)
    hit_pos = np.ascontiguousarray(hit_pos, dtype=np.int64)
    run_after = np.ascontiguousarray(run_after, dtype=np.bool_)
    counts = _count_pairs(len(point_of), lo, hi, run_after, hit_pos)
    start = np.cumsum(counts)
    total = int(start[-1]) if len(start) else 0
    start -= counts  # first slot of every sorted position
    hit_start = np.searchsorted(hit_piece, np.arange(len(poly) + 1, dtype=np.int64))
    # pieces by polygon: fast polygons come first, in order; geometries tested in their
    # bounding box are appended after them
    if len(poly) > 1 and bool((poly[1:] < poly[:-1]).any()):
        order = np.argsort(poly, kind="stable").astype(np.int64)
    else:
        order = np.arange(len(poly), dtype=np.int64)
    by_sorted = np.empty(total, dtype=index_dtype)
    _write_pairs(
        start.copy(),
        order,
        np.ascontiguousarray(poly).astype(index_dtype, copy=False),
        lo,
        hi,
        run_after,
        hit_start.astype(np.int64),
        hit_pos,
        by_sorted,
    )
    # then by point: a point's polygons are one block, moved whole
    per_point = np.zeros(n_points, dtype=np.int64)
    per_point[point_of] = counts
    point_start = np.cumsum(per_point)
    point_start -= per_point
    out_poly = np.empty(total, dtype=index_dtype)
    _to_point_order(by_sorted, start, counts, point_of, point_start, out_poly)
    del by_sorted
    point_idx = np.repeat(np.arange(n_points, dtype=index_dtype), per_point)
    return point_idx, out_poly
