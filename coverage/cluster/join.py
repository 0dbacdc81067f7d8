"""The join kernel on a Dask cluster: spatial partitions of the points, one task each.

``points_in_polygons_distributed`` returns exactly what
:func:`coverage.kernel.join.points_in_polygons` returns (same pairs, same order, same dtype):

1. the client cuts the points into partitions of about equal size (~250k points) along a
   Hilbert curve over their extent (:mod:`coverage.cluster.partitions`), so each is a run
   of grid cells; a partition holds its point indices in ascending order;
2. partitions are scattered straight to the workers, round robin, each as soon as it is
   ready (:class:`coverage.cluster.ship.Shipper`): the points, their indices and only the
   coverage polygons whose bounding box meets one of the partition's cells
   (:class:`coverage.cluster.polygons.Polygons`: WKB in one buffer, each polygon converted
   once);
3. each task runs the local kernel; as the indices ascend, its pairs are already sorted by
   global point, then polygon. It cuts them into one slice per output range of point
   indices (one range per worker), as pair counts per point and polygon ids, in the
   narrowest dtypes (about 2 bytes per pair instead of 8);
4. one task per range, one per worker, interleaves the slices of all partitions by point
   (each point's pairs are one run in one partition);
5. the client concatenates the ranges and expands the counts into point indices.

The client's share (Hilbert cut, WKB conversion, shipping, the final arrays) is serial and,
on one machine, shares the cores with the workers, so it is kept to what cannot move to
the workers; tasks stay (loosely) pinned where their data is.

Dask is optional: it is imported only when this function runs, and a clear
:class:`coverage.errors.GapmapError` says how to install it when it is missing.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

from coverage.cluster.connect import connect, gather
from coverage.cluster.partitions import partition, partition_count
from coverage.cluster.polygons import PolygonSet
from coverage.cluster.ship import Shipper, narrowest

__all__ = ["points_in_polygons_distributed"]


def points_in_polygons_distributed(
    x: np.ndarray,
    y: np.ndarray,
    polygons: np.ndarray | Sequence[shapely.Geometry],
    *,
    scheduler: str | Any | None = None,
    workers: int | None = None,
    partitions: int | None = None,
    chunk_size: int = 1_000_000,
    cell_size: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`coverage.kernel.join.points_in_polygons` on a Dask cluster; identical output.

    Parameters
    ----------
    x, y : ndarray
        Point coordinates in metres, same projected CRS as ``polygons`` (EPSG:25832 in
        Germany). Non-finite points match nothing.
    polygons : array or sequence of shapely geometries
        Coverage areas; ``None``/empty match nothing (as in the local kernel).
    scheduler : str or distributed.Client, optional
        Address of a running Dask scheduler (``tcp://host:8786``), or a connected
        ``distributed.Client`` (left open: one connection for many calls, as a service or a
        benchmark makes them). Its workers must have gapmap installed (same version). When
        None, a LocalCluster is started for the call with ``workers`` processes of one
        thread each, and closed afterwards.
    workers : int, optional
        Local worker processes when no scheduler is given (default 2).
    partitions : int, optional
        Number of spatial partitions (tasks); default: enough for ~250k points each and
        at least two per worker.
    chunk_size, cell_size
        Passed to the kernel on the workers (speed only, never the result).

    Returns
    -------
    point_idx, polygon_idx : ndarray
        Exactly as :func:`coverage.kernel.join.points_in_polygons`: sorted by point then
        polygon, covered_by semantics (edges and vertices count), same dtype.

    Raises
    ------
    GapmapError
        Dask is not installed, a local cluster cannot start, or a worker died.
    SourceReadError
        The scheduler cannot be reached.
    """
    x = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    y = np.ascontiguousarray(y, dtype=np.float64).reshape(-1)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    polygon_set = PolygonSet(polygons)
    n, m = len(x), len(polygon_set)
    index_dtype = np.int32 if max(n, m) < 2**31 else np.int64

    with connect(scheduler, workers) as client:
        addresses = sorted(client.scheduler_info().get("workers", {}))
        n_workers = max(1, len(addresses))
        k = partition_count(n, n_workers, partitions)
        found = partition(x, y, k) if polygon_set.present.any() else None
        parts = [part for part in found.parts if len(part)] if found else []
        # the output is merged on the workers, one range of point ids each
        cuts = np.linspace(0, n, min(n_workers, len(parts)) + 1).astype(np.int64).tolist()
        shipper = Shipper(
            client, x, y, polygon_set, found, _join_partition, (cuts, chunk_size, cell_size)
        )
        joined = [
            shipper.ship(k, addresses[k % len(addresses)] if addresses else None)
            for k in range(len(shipper.todo))
        ]
        ranges = []
        for r, (lo, hi) in enumerate(itertools.pairwise(cuts)):
            pieces = [
                client.submit(operator.getitem, f, r, pure=False, **where) for f, where in joined
            ]
            # one range per worker (the scheduler would put them all where most pieces are)
            where = {"workers": [addresses[r]], "allow_other_workers": True} if addresses else {}
            ranges.append(client.submit(_merge_range, lo, hi, *pieces, pure=False, **where))
        results = gather(client, ranges, scheduler) if parts else []
        del joined, ranges
    if not results:
        return np.empty(0, index_dtype), np.empty(0, index_dtype)
    counts = np.concatenate([c for c, _ in results])
    point = np.repeat(np.arange(n, dtype=index_dtype), counts)
    poly = np.concatenate([q for _, q in results], dtype=index_dtype, casting="unsafe")
    return point, poly


def _join_partition(
    batch: tuple[np.ndarray, ...], cuts: list[int], chunk_size: int, cell_size: float | None
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Worker task: the local kernel on one partition, cut into the output's point ranges.

    ``batch`` is (x, y, global point ids, :class:`~coverage.cluster.polygons.Polygons`) of
    the partition's points (ascending ids) and of the polygons near them.
    Since the ids ascend, the kernel's pairs are sorted by global point, then polygon, and
    each range ``cuts[r] <= id < cuts[r + 1]`` is one slice. Returns, per range, the ids
    of the partition's points in it, their pair counts and the global polygon ids of their
    pairs (counts and polygon ids in the narrowest unsigned dtype: a fraction of the bytes).
    """
    x, y, point_ids, near = batch
    # the polygons' global ids, in their narrowest type
    p, polygons = near.join(x, y, chunk_size=chunk_size, cell_size=cell_size)
    counts = _run_lengths(p, len(x))
    ends = np.concatenate([[0], np.cumsum(counts)])  # pairs before each point
    counts = counts.astype(narrowest(counts))
    at = np.searchsorted(point_ids, cuts)
    return [
        (point_ids[a:b], counts[a:b], polygons[ends[a] : ends[b]])
        for a, b in itertools.pairwise(at.tolist())
    ]


def _run_lengths(p: np.ndarray, n: int) -> np.ndarray:
    """Number of times each of 0..n-1 occurs in the sorted array ``p``.

    ``np.bincount`` of the same, in 2/3 of the time: no cast of ``p`` to int64, and one
    store per run instead of one increment per element.
    """
    counts = np.zeros(n, dtype=np.int64)
    edge = np.ones(len(p) + 1, dtype=bool)  # where a run starts (and the end)
    np.not_equal(p[1:], p[:-1], out=edge[1:-1])
    at = np.flatnonzero(edge)
    counts[p[at[:-1]]] = np.diff(at)
    return counts


def _merge_range(
    lo: int, hi: int, *pieces: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Worker task: the pairs of points ``lo <= id < hi`` from every partition's piece.

    Returns the pair count of every point of the range and the polygon ids of their pairs,
    sorted by point then polygon. A point belongs to one partition and each piece is
    sorted by point, then polygon, so the range's pairs are the points' runs of pairs in
    point order, each run copied from where it lies in its piece: one gather through an
    index that counts up within a run and jumps between runs (the same work for any
    number of partitions).
    """
    count_dtype = np.result_type(np.uint8, *(c.dtype for _, c, _ in pieces))
    counts = np.zeros(hi - lo, dtype=count_dtype)
    source = np.zeros(hi - lo, dtype=np.int64)  # where each point's run starts in `joined`
    total = 0
    for ids, c, q in pieces:
        counts[ids - lo] = c
        source[ids - lo] = np.cumsum(c, dtype=np.int64) - c + total
        total += len(q)
    polygons = [q for _, _, q in pieces]
    if sum(len(q) > 0 for q in polygons) <= 1:  # at most one piece has pairs: in order
        return counts, max(polygons, key=len)
    joined = np.concatenate(polygons)
    runs = np.flatnonzero(counts)
    start, length = source[runs], counts[runs].astype(np.int64)
    # +1 inside a run; at the first pair of run i, the step from the last pair of run i-1
    index = np.ones(total, dtype=np.int32 if total < 2**31 else np.int64)
    index[0] = start[0]
    index[np.cumsum(length[:-1])] = start[1:] - (start[:-1] + length[:-1] - 1)
    np.cumsum(index, out=index)
    return counts, joined[index]
