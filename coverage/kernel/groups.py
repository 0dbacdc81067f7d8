"""Points with the same pairs: one group per distinct list of polygons (compiled with numba).

On dense coverage neighbouring addresses are covered by the same polygons: at ~32 pairs
per address, a million addresses (spatially sorted) hold about a quarter million distinct
lists. Anything
that depends on a point's pairs alone (a classification, its reason sentence) needs to be
computed once per group and gathered.

Groups are exact: two points share a group only if their pair lists are equal element by
element (and so is their ``extra`` code). A 64-bit hash per point (a sum of random words
per polygon, one pass over the pairs) only finds candidates in a hash table; every point is
compared with a group's first point before it joins the group. The compiled function
only loops; numpy allocates its arrays (numba compiles it on first use after an install, and
allocations inside compile several times slower).
"""

from __future__ import annotations

import numpy as np

from coverage.kernel.jit import njit

#: fixed seed of the per-polygon hash words (any seed gives the same groups)
_SEED = 20261206


@njit
def _same(
    a: int, b: int, bounds: np.ndarray, poly_idx: np.ndarray, extra: np.ndarray
) -> bool:  # pragma: no cover (compiled)
    """Whether points ``a`` and ``b`` have the same extra code and pair list."""
    lo = bounds[a]
    hi = bounds[a + 1]
    if extra[a] != extra[b] or bounds[b + 1] - bounds[b] != hi - lo:
        return False
    off = bounds[b] - lo
    for s in range(lo, hi):  # noqa: SIM110 (a compiled loop, not a generator)
        if poly_idx[s] != poly_idx[s + off]:
            return False
    return True


@njit
def _group_points(
    point_idx: np.ndarray,
    poly_idx: np.ndarray,
    words: np.ndarray,
    extra: np.ndarray,
    bounds: np.ndarray,
    hashes: np.ndarray,
    table: np.ndarray,
    group: np.ndarray,
    first: np.ndarray,
) -> int:  # pragma: no cover (compiled)
    """Fills ``bounds`` (zeros, n + 1), ``hashes`` (holding each point's extra code times
    an odd constant), ``group`` and ``first`` (n each) and returns the number of groups;
    -1 when ``point_idx`` is not sorted.

    The pairs of each point are hashed (the sum of the words of its polygons and a multiple
    of its extra code); points in index order look the hash up in an open-addressing
    ``table`` (a power of two > n slots, -1: empty; linear probing) and join the group of
    the first entry whose first point has the same hash, extra code and pair list
    (compared element by element), else start a group.
    """
    n = len(hashes)
    prev = 0
    for k in range(len(point_idx)):  # one pass: run lengths and hashes
        p = point_idx[k]
        if p < prev:
            return -1
        prev = p
        bounds[p + 1] += 1
        hashes[p] += words[poly_idx[k]]
    for p in range(n):
        bounds[p + 1] += bounds[p]
    mask = np.uint64(len(table) - 1)
    g = 0
    for a in range(n):
        h = hashes[a]
        # neighbours (points sorted in space) often share a list: try the previous point's
        # group before the table
        if a > 0 and hashes[a - 1] == h and _same(a, first[group[a - 1]], bounds, poly_idx, extra):
            group[a] = group[a - 1]
            continue
        slot = h & mask
        while True:
            r = table[slot]
            if r < 0:
                table[slot] = g
                first[g] = a
                group[a] = g
                g += 1
                break
            if hashes[first[r]] == h and _same(a, first[r], bounds, poly_idx, extra):
                group[a] = r
                break
            slot = (slot + np.uint64(1)) & mask
    return g


def pair_groups(
    point_idx: np.ndarray,
    poly_idx: np.ndarray,
    n_points: int,
    n_polys: int,
    extra: np.ndarray | None = None,
    words: np.ndarray | None = None,
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
    words : ndarray of uint64, optional
        The hash word of every polygon (default: random words from a fixed seed; the
        groups do not depend on them, only how often lists are compared).

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
    if words is None:
        words = np.random.default_rng(_SEED).integers(
            0, np.iinfo(np.uint64).max, size=max(n_polys, 1), dtype=np.uint64, endpoint=True
        )
    bounds = np.zeros(n_points + 1, dtype=np.int64)
    group = np.empty(n_points, dtype=np.int64)
    first = np.empty(n_points, dtype=np.int64)
    table = np.full(1 << int(2 * n_points + 1).bit_length(), -1, dtype=np.int64)
    hashes = extra.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)  # wraps around
    g = _group_points(point_idx, poly_idx, words, extra, bounds, hashes, table, group, first)
    if g < 0:
        return None
    first = first[:g]
    return group, first, bounds


def take_points(
    bounds: np.ndarray, rows: np.ndarray, poly_idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of points ``rows`` (in that order, renumbered 0 .. len(rows) - 1), with
    ``bounds`` from :func:`pair_groups`: point indices (int32), polygons (as given) and
    their bounds (int64, length ``len(rows) + 1``)."""
    rows = np.asarray(rows, dtype=np.int64)
    starts = bounds[rows]
    lengths = bounds[rows + 1] - starts
    out_bounds = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=out_bounds[1:])
    # position of every taken pair: its run's start, plus its place in the run
    at = np.repeat(starts - out_bounds[:-1], lengths)
    at += np.arange(len(at), dtype=np.int64)
    out_point = np.repeat(np.arange(len(rows), dtype=np.int32), lengths)
    return out_point, np.take(poly_idx, at), out_bounds
