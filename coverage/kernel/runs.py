"""Reductions per point over its run of pairs, all in one compiled pass (numba).

The pairs are grouped by point (``bounds``: point ``p`` owns pairs ``bounds[p]:bounds[p+1]``)
and each pair names a row of per-polygon tables (``poly_idx``). One pass over the pairs
computes, per point, the best of two scores, distinct codes among the polygons in either
of two subsets and in both together, and whether any polygon is in the first subset: the
per-pair values are never gathered into arrays of their own (8 bytes per pair and table
each, at ~30 pairs per address). One compiled function with fixed arguments that only
loops (the arrays are allocated by numpy outside): numba compiles every function on first
use after an install, and allocations inside made that five times slower (~1 s instead of 0.2 s).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from coverage.kernel.jit import njit


@njit
def _reduce_runs(
    bounds: np.ndarray,
    poly_idx: np.ndarray,
    score_a: np.ndarray,
    score_b: np.ndarray,
    code: np.ndarray,
    in_a: np.ndarray,
    in_b: np.ndarray,
    best_a: np.ndarray,
    best_b: np.ndarray,
    counts: np.ndarray,
    any_a: np.ndarray,
    stamp: np.ndarray,
) -> None:  # pragma: no cover (compiled)
    """Fills ``best_a``, ``best_b``, ``counts`` (zeros), ``any_a`` (False); ``stamp``
    (3 x codes, -1): the last point that counted each code, per subset."""
    for p in range(len(bounds) - 1):
        top_a = -1
        top_b = -1
        for k in range(bounds[p], bounds[p + 1]):
            o = poly_idx[k]
            if score_a[o] > top_a:
                top_a = score_a[o]
            if score_b[o] > top_b:
                top_b = score_b[o]
            a = in_a[o]
            b = in_b[o]
            if a:
                any_a[p] = True
            c = code[o]
            if c < 0:
                continue
            if a and stamp[0, c] != p:
                stamp[0, c] = p
                counts[0, p] += 1
            if b and stamp[1, c] != p:
                stamp[1, c] = p
                counts[1, p] += 1
            if (a or b) and stamp[2, c] != p:
                stamp[2, c] = p
                counts[2, p] += 1
        best_a[p] = top_a
        best_b[p] = top_b


class RunReductions(NamedTuple):
    """:func:`reduce_runs`, per point."""

    #: int64: highest ``score_a`` of the point's polygons, -1 if none is 0 or more
    best_a: np.ndarray
    #: int64: the same for ``score_b``
    best_b: np.ndarray
    #: int32 (3, n_points): distinct non-negative codes among the point's polygons in
    #: subset a, in subset b, in either
    counts: np.ndarray
    #: bool: whether any of the point's polygons is in subset a
    any_a: np.ndarray


def reduce_runs(
    bounds: np.ndarray,
    poly_idx: np.ndarray,
    score_a: np.ndarray,
    score_b: np.ndarray,
    code: np.ndarray,
    in_a: np.ndarray,
    in_b: np.ndarray,
) -> RunReductions:
    """Best scores, distinct codes and a flag per point over its pairs, in one pass.

    Parameters
    ----------
    bounds : ndarray of int64, length n_points + 1
        The pairs of point ``p`` are ``bounds[p]:bounds[p + 1]`` (any order inside a run).
    poly_idx : ndarray of int
        Polygon (table row) of each pair.
    score_a, score_b : ndarray of int, per polygon
        Scores; -1 and below = not a candidate.
    code : ndarray of int, per polygon
        Group code (e.g. a network), negative = none.
    in_a, in_b : ndarray of bool, per polygon
        Two subsets of the polygons (e.g. existing and planned offers).
    """
    n = len(bounds) - 1
    code = np.ascontiguousarray(code, dtype=np.int64)
    out = RunReductions(
        np.empty(n, dtype=np.int64),
        np.empty(n, dtype=np.int64),
        np.zeros((3, n), dtype=np.int32),
        np.zeros(n, dtype=np.bool_),
    )
    _reduce_runs(
        np.ascontiguousarray(bounds, dtype=np.int64),
        np.ascontiguousarray(poly_idx),
        np.ascontiguousarray(score_a, dtype=np.int64),
        np.ascontiguousarray(score_b, dtype=np.int64),
        code,
        np.ascontiguousarray(in_a, dtype=np.bool_),
        np.ascontiguousarray(in_b, dtype=np.bool_),
        *out,
        np.full((3, max(int(code.max(initial=-1)) + 1, 1)), -1, dtype=np.int64),
    )
    return out
