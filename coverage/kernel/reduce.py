"""Reductions over (point, polygon) pairs, and the brute-force oracle of the kernel.

Re-exported by :mod:`coverage.kernel.join`; see there for the pair semantics.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

_INT = np.int64
_EMPTY = np.empty(0, dtype=_INT)


def _as_geometry_array(polygons: np.ndarray | Sequence[shapely.Geometry]) -> np.ndarray:
    """A 1-D object array of geometries (None allowed) without copying geometries."""
    if isinstance(polygons, np.ndarray) and polygons.dtype == object and polygons.ndim == 1:
        return polygons
    items = list(polygons)
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def brute_force_pairs(
    x: np.ndarray, y: np.ndarray, polygons: np.ndarray | Sequence[shapely.Geometry]
) -> tuple[np.ndarray, np.ndarray]:
    """Reference oracle for :func:`points_in_polygons`: one exact GEOS test per pair.

    ``shapely.intersects_xy`` for a point equals ``covered_by`` (edges and vertices count).
    O(points x polygons) apart from a bounding-box prefilter; for tests and benchmarks.
    Returns int64 (point_idx, polygon_idx) sorted by point then polygon (compare values,
    not dtypes, with :func:`points_in_polygons`).
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    geoms = _as_geometry_array(polygons)
    pts: list[np.ndarray] = [_EMPTY]
    pls: list[np.ndarray] = [_EMPTY]
    for j, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            continue
        x0, y0, x1, y1 = geom.bounds
        cand = np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
        hit = cand[shapely.intersects_xy(geom, x[cand], y[cand])]
        pts.append(hit.astype(_INT))
        pls.append(np.full(len(hit), j, dtype=_INT))
    p = np.concatenate(pts)
    q = np.concatenate(pls)
    order = np.lexsort((q, p))
    return p[order], q[order]


def reduce_max_per_point(
    point_idx: np.ndarray,
    values: np.ndarray,
    n_points: int,
    *,
    fill: float = np.nan,
    value_idx: np.ndarray | None = None,
) -> np.ndarray:
    """Maximum of ``values`` per point over its pairs.

    Parameters
    ----------
    point_idx : ndarray of int
        Point index of each pair (any order), in [0, n_points).
    values : ndarray of float
        Value of each pair (e.g. down_mbps of the pair's polygon, Mbit/s); or, with
        ``value_idx``, a table read as ``values[value_idx]``. NaN values are ignored like
        ``pandas.groupby().max()`` does; a point whose values are all NaN gets NaN.
    n_points : int
        Number of points (length of the result).
    fill : float, default NaN
        Result for points without any pair.
    value_idx : ndarray of int, optional
        Per pair, the row of ``values`` (e.g. the polygon index of the pair). Saves
        building the per-pair value array: 8 bytes per pair, ~0.5 GB at 60M pairs.

    Returns
    -------
    ndarray of float64, length n_points
    """
    point_idx = _as_index(point_idx)
    values = np.asarray(values, dtype=np.float64)
    out = np.full(n_points, fill, dtype=np.float64)
    n = len(point_idx)
    if n == 0:
        return out
    if value_idx is not None:
        value_idx = _as_index(value_idx)
    elif len(values) != n:
        raise ValueError(f"values has {len(values)} entries for {n} pairs")
    if not (np.isnan(values) | (values == -np.inf)).any():
        # Every value beats -inf: a running maximum per point (np.maximum.at, in any
        # order) leaves -inf exactly where a point has no pair. In blocks, with the
        # indices as intp (numpy's fast path; int32 would be cast on every call) and the
        # gathered values in reused, cache-sized buffers.
        best = np.full(n_points, -np.inf)
        block = min(n, _REDUCE_BLOCK)
        p_buf = np.empty(block, dtype=np.intp)
        i_buf = np.empty(block, dtype=np.intp)
        v_buf = np.empty(block, dtype=np.float64)
        for a in range(0, n, block):
            m = min(block, n - a)
            p = p_buf[:m]
            p[:] = point_idx[a : a + m]
            if value_idx is None:
                v = values[a : a + m]
            else:
                i_buf[:m] = value_idx[a : a + m]
                v = np.take(values, i_buf[:m], out=v_buf[:m])
            np.maximum.at(best, p, v)
        return np.where(best > -np.inf, best, out)
    if n > 1 and np.diff(point_idx).min() < 0:
        order = np.argsort(point_idx, kind="stable")
        point_idx = point_idx[order]
        if value_idx is None:
            values = values[order]
        else:
            value_idx = value_idx[order]
    # NaN (ignored) or -inf among the values: sorted, one segment per point, reduced in
    # C with fmax (NaN-ignoring); in blocks so the temporaries stay cache-sized. A point
    # cut by a block border is combined with fmax across blocks (its slot holds `fill`
    # only before its first block).
    seen = np.zeros(n_points, dtype=bool)
    for a in range(0, n, _REDUCE_BLOCK):
        p = point_idx[a : a + _REDUCE_BLOCK]
        v = (
            values[a : a + _REDUCE_BLOCK]
            if value_idx is None
            else values[value_idx[a : a + _REDUCE_BLOCK]]
        )
        starts = np.flatnonzero(p[1:] != p[:-1])
        starts += 1
        starts = np.r_[0, starts]
        pts, best = p[starts], np.fmax.reduceat(v, starts)
        if seen[pts[0]]:  # continues the previous block's last point
            best[0] = np.fmax(best[0], out[pts[0]])
        out[pts] = best
        seen[pts[-1]] = True
    return out


#: pairs per block in :func:`reduce_max_per_point`
_REDUCE_BLOCK = 1 << 18


def _as_index(a: np.ndarray) -> np.ndarray:
    """An integer index array, without copying int32/int64 input."""
    a = np.asarray(a)
    return a if a.dtype.kind in "iu" else a.astype(_INT)


def _ascending_sort_keys(key: np.ndarray) -> list[np.ndarray]:
    """Keys for an ascending sort in which NaN/NaT rank lowest (they lose)."""
    key = np.asarray(key)
    if key.dtype.kind == "f":
        missing = np.isnan(key)
        return [~missing, np.where(missing, -np.inf, key)]
    if key.dtype.kind in "mM":
        missing = np.isnat(key)
        return [~missing, np.where(missing, np.zeros(1, key.dtype)[0], key)]
    if key.dtype.kind == "b":
        return [key.astype(np.int8)]
    return [key]


def argbest_per_point(
    point_idx: np.ndarray, keys: Sequence[np.ndarray], n_points: int
) -> np.ndarray:
    """Position of each point's best pair by lexicographically largest keys.

    Parameters
    ----------
    point_idx : ndarray of int
        Point index of each pair, in [0, n_points).
    keys : sequence of ndarray
        Sort keys, one value per pair; ``keys[0]`` is the most significant. Larger wins;
        NaN/NaT lose against any value. Booleans rank True above False.
    n_points : int
        Number of points.

    Returns
    -------
    ndarray of int64, length n_points
        Position into the pair arrays of the best pair, ties broken by the smallest
        position (deterministic); -1 for points without pairs.
    """
    point_idx = np.asarray(point_idx, dtype=_INT)
    out = np.full(n_points, -1, dtype=_INT)
    n = len(point_idx)
    if n == 0:
        return out
    # Ascending by (point, keys..., -position): the last row of each point is the best
    # pair, and among equal keys the smallest position (its -position is largest).
    sort_keys: list[np.ndarray] = [np.arange(n, 0, -1, dtype=_INT)]
    for key in reversed(list(keys)):
        sort_keys.extend(reversed(_ascending_sort_keys(key)))
    sort_keys.append(point_idx)
    order = np.lexsort(sort_keys)
    p = point_idx[order]
    last = np.flatnonzero(np.r_[p[1:] != p[:-1], True])
    out[p[last]] = order[last]
    return out


def count_distinct_per_point(point_idx: np.ndarray, group: np.ndarray, n_points: int) -> np.ndarray:
    """Number of distinct ``group`` codes per point (e.g. distinct providers or networks).

    Parameters
    ----------
    point_idx : ndarray of int
        Point index of each pair, in [0, n_points).
    group : ndarray of int
        Integer code of each pair's group (any values, negatives allowed).
    n_points : int
        Number of points.

    Returns
    -------
    ndarray of int64, length n_points; 0 for points without pairs.
    """
    point_idx = np.asarray(point_idx, dtype=_INT)
    group = np.asarray(group)
    if len(point_idx) == 0:
        return np.zeros(n_points, dtype=_INT)
    order = np.lexsort((group, point_idx))
    p = point_idx[order]
    g = group[order]
    first = np.r_[True, (p[1:] != p[:-1]) | (g[1:] != g[:-1])]
    return np.bincount(p[first], minlength=n_points).astype(_INT)
