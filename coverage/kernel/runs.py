"""Reductions per point over its run of pairs, all in one compiled pass (numba).

The pairs are grouped by point (``bounds``: point ``p`` owns pairs ``bounds[p]:bounds[p+1]``)
and each pair names a row of per-polygon tables (``poly_idx``). One pass over the pairs
computes, per point, several maxima, distinct counts and "any" flags of those tables: the
per-pair values are never gathered into arrays of their own (8 bytes per pair and table
each, at ~30 pairs per address).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from coverage.kernel.jit import njit


@njit
def _reduce_runs(
    bounds: np.ndarray,
    poly_idx: np.ndarray,
    scores: np.ndarray,
    codes: np.ndarray,
    flags: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover (compiled)
    n = len(bounds) - 1
    n_max, n_codes, n_flags = scores.shape[0], codes.shape[0], flags.shape[0]
    maxima = np.full((n_max, n), -1, dtype=np.int64)
    counts = np.zeros((n_codes, n), dtype=np.int32)
    anys = np.zeros((n_flags, n), dtype=np.bool_)
    width = 0
    for j in range(n_codes):
        for v in codes[j]:
            width = max(width, v + 1)
    # last point that counted each code: a code counts once per point (any number of codes)
    stamp = np.full((n_codes, max(width, 1)), -1, dtype=np.int64)
    for p in range(n):
        for k in range(bounds[p], bounds[p + 1]):
            o = poly_idx[k]
            for j in range(n_max):
                if scores[j, o] > maxima[j, p]:
                    maxima[j, p] = scores[j, o]
            for j in range(n_codes):
                c = codes[j, o]
                if c >= 0 and stamp[j, c] != p:
                    stamp[j, c] = p
                    counts[j, p] += 1
            for j in range(n_flags):
                if flags[j, o]:
                    anys[j, p] = True
    return maxima, counts, anys


class RunReductions(NamedTuple):
    """:func:`reduce_runs`: per point (columns) and table (rows)."""

    #: int64 (len(scores), n_points): highest score of the point's polygons, -1 if none
    maxima: np.ndarray
    #: int32 (len(codes), n_points): distinct non-negative codes among the point's polygons
    counts: np.ndarray
    #: bool (len(flags), n_points): whether any of the point's polygons has the flag set
    anys: np.ndarray


def reduce_runs(
    bounds: np.ndarray,
    poly_idx: np.ndarray,
    scores: list[np.ndarray],
    codes: list[np.ndarray],
    flags: list[np.ndarray],
) -> RunReductions:
    """Maxima, distinct counts and flags per point over its pairs, in one pass.

    Parameters
    ----------
    bounds : ndarray of int64, length n_points + 1
        The pairs of point ``p`` are ``bounds[p]:bounds[p + 1]`` (any order inside a run).
    poly_idx : ndarray of int
        Polygon (table row) of each pair.
    scores : list of ndarray of int
        Per-polygon scores, -1 and below = not a candidate; the maximum per point is taken
        (-1 where no polygon of the point has a score of 0 or more).
    codes : list of ndarray of int
        Per-polygon group codes, negative = none; the number of distinct codes per point.
    flags : list of ndarray of bool
        Per-polygon flags; per point, whether any of its polygons has it.
    """
    m = max((len(t) for t in (*scores, *codes, *flags)), default=0)

    def table(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
        out = np.empty((len(arrays), m), dtype=dtype)
        for j, a in enumerate(arrays):
            out[j] = a
        return out

    maxima, counts, anys = _reduce_runs(
        np.ascontiguousarray(bounds, dtype=np.int64),
        np.ascontiguousarray(poly_idx),
        table(scores, np.int64),
        table(codes, np.int64),
        table(flags, np.bool_),
    )
    return RunReductions(maxima, counts, anys)
