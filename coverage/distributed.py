"""The join kernel on a Dask cluster: spatial partitions of the points, one task each.

``points_in_polygons_distributed`` returns exactly what :func:`coverage.join.points_in_polygons`
returns (same pairs, same order, same dtype). The points are cut into partitions of equal
size along a Hilbert curve over their extent, so each partition is spatially compact; each
task receives its points and only the coverage polygons whose bounding box meets the
partition's bounding box (as WKB, scattered straight to the workers), runs the local
kernel and keeps its pairs as sorted global ``point << bits | polygon`` keys. Then each
worker assembles the final pairs of one range of point indices from all partitions'
keys, and the client concatenates the ranges: the same arrays, in the same order, as the
local kernel.

Dask is optional: it is imported only when this function runs, and a clear
:class:`coverage.errors.GapmapError` says how to install it when it is missing.
"""

from __future__ import annotations

import itertools
import logging
import math
import operator
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

from coverage.errors import GapmapError, SourceReadError
from coverage.join import _as_geometry_array, points_in_polygons

__all__ = [
    "hilbert_keys",
    "local_cluster",
    "points_in_polygons_distributed",
    "spatial_partitions",
]

#: Hilbert curve order for partitioning: 2**8 x 2**8 cells over the points' extent
#: (uint16 keys, sorted by numpy's radix sort; partitions need no finer order)
_HILBERT_ORDER = 8
#: default target number of points per partition
_PARTITION_POINTS = 1_000_000
#: seconds to wait for an existing scheduler
_CONNECT_TIMEOUT = "10s"

_INSTALL_HINT = "pip install 'dask[distributed]>=2024.1'"


def hilbert_keys(x: np.ndarray, y: np.ndarray, order: int = _HILBERT_ORDER) -> np.ndarray:
    """Hilbert curve index of each point on a 2**order grid over the points' extent.

    Coordinates must be finite (metres, any projected CRS). Returns uint32 (uint16 for
    order <= 8) keys; neighbouring keys are neighbouring cells.
    """
    n_side = 1 << order
    x0, x1 = float(x.min()), float(x.max())
    y0, y1 = float(y.min()), float(y.max())
    scale = n_side / max(x1 - x0, y1 - y0, 1e-9)
    xi = np.clip(((x - x0) * scale).astype(np.int32), 0, n_side - 1)
    yi = np.clip(((y - y0) * scale).astype(np.int32), 0, n_side - 1)
    if order <= 10:  # a table over the cells: one lookup per point
        gy, gx = np.divmod(np.arange(n_side * n_side, dtype=np.int32), n_side)
        table = _hilbert(gx, gy, n_side)
        yi *= n_side
        yi += xi
        return table[yi].astype(np.uint16 if order <= 8 else np.uint32)
    return _hilbert(xi, yi, n_side).astype(np.uint32)


def _hilbert(xi: np.ndarray, yi: np.ndarray, n_side: int) -> np.ndarray:
    """Hilbert index of integer cells (xi, yi) in [0, n_side) (the classic xy2d)."""
    d = np.zeros(len(xi), dtype=np.int64)
    s = n_side >> 1
    while s > 0:
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        # rotate the quadrant so the curve stays continuous (only lower bits matter later)
        flip = ~ry & rx
        xi = np.where(flip, n_side - 1 - xi, xi)
        yi = np.where(flip, n_side - 1 - yi, yi)
        swap = ~ry
        xi, yi = np.where(swap, yi, xi), np.where(swap, xi, yi)
        s >>= 1
    return d


def spatial_partitions(x: np.ndarray, y: np.ndarray, partitions: int) -> list[np.ndarray]:
    """Point indices of ``partitions`` spatially compact groups of (nearly) equal size.

    Points with non-finite coordinates belong to no group. Indices are in Hilbert order.
    """
    finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if len(finite) == 0:
        return []
    keys = hilbert_keys(x[finite], y[finite])
    # stable: equal keys keep input order; uint16 keys sort by radix in linear time
    order = finite[np.argsort(keys, kind="stable")]
    return [part for part in np.array_split(order, max(1, partitions)) if len(part)]


def _join_partition(
    batch: tuple[np.ndarray, ...], pbits: int, chunk_size: int, cell_size: float | None
) -> np.ndarray:
    """Worker task: the local kernel on one partition, as sorted global pair keys.

    ``batch`` is (x, y, global point ids, global polygon ids, polygon WKB). Returns int64 ``point << pbits | polygon`` with global indices, sorted, so that any
    range of points is one slice (found by binary search in :func:`_assemble`).
    """
    x, y, point_ids, polygon_ids, wkb = batch
    geoms = shapely.from_wkb(wkb)
    p, q = points_in_polygons(x, y, geoms, chunk_size=chunk_size, cell_size=cell_size)
    keys = point_ids[p].astype(np.int64)
    keys <<= pbits
    keys |= polygon_ids[q]
    keys.sort()
    return keys


def _split(keys: np.ndarray, cuts: list[int]) -> list[np.ndarray]:
    """Worker task: sorted keys cut at the key values ``cuts`` (one slice per range)."""
    at = np.searchsorted(keys, cuts)
    return [keys[a:b] for a, b in itertools.pairwise(at)]


def _assemble(
    pbits: int, index_dtype: type[np.signedinteger], *pieces: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Worker task: the final pairs of one range of points from every partition's slice."""
    keys = np.concatenate(pieces) if pieces else np.empty(0, dtype=np.int64)
    keys.sort()
    point = np.empty(len(keys), dtype=index_dtype)
    poly = np.empty(len(keys), dtype=index_dtype)
    np.bitwise_and(keys, (1 << pbits) - 1, out=poly, casting="unsafe")
    np.right_shift(keys, pbits, out=point, casting="unsafe")
    return point, poly


def _client(scheduler: str | None, workers: int | None) -> tuple[Any, Any]:
    """(client, cluster or None): connect to ``scheduler`` or start a LocalCluster."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise GapmapError(
            f"the distributed join needs dask.distributed, which is not installed ({exc}); "
            f"install it with {_INSTALL_HINT}, or run without --scheduler/--workers"
        ) from exc
    if scheduler:
        try:
            return Client(scheduler, timeout=_CONNECT_TIMEOUT), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise SourceReadError(
                f"cannot reach the Dask scheduler at {scheduler!r} ({exc}); check the address "
                "(e.g. tcp://host:8786), that `dask scheduler` runs there and that the port is "
                "open, or use --workers N for a local cluster"
            ) from exc
    n = workers or 2
    if n < 1:
        raise GapmapError(f"workers must be >= 1, got {n}")
    try:
        cluster = local_cluster(n)
    except Exception as exc:  # distributed raises many types when processes cannot start
        raise GapmapError(f"cannot start a local Dask cluster with {n} workers ({exc})") from exc
    return Client(cluster), cluster


def local_cluster(workers: int) -> Any:
    """A ``distributed.LocalCluster`` for the kernel: ``workers`` processes, 1 thread each.

    Use it as a context manager and pass ``cluster.scheduler_address`` as ``scheduler``
    to reuse one cluster for many calls (benchmarks, a long-lived service).
    """
    from distributed import LocalCluster

    # distributed makes glibc hand freed memory back at once (MALLOC_TRIM_THRESHOLD_
    # 64 KiB); the kernel allocates and frees large temporaries all the time, and
    # refaulting them cost ~25 % of a worker's time here. Setting the trim threshold also
    # freezes glibc's mmap threshold at 128 KiB (it normally grows to 32 MiB), so every
    # larger temporary was still mapped and unmapped per use: 1.5x the kernel time on a
    # 250k-point partition, 1.25x on 1M. Up to 256 MiB they come from the heap instead.
    # The nanny takes these from os.environ before its pre-spawn config, and leaves its
    # own values there (64 KiB once any other cluster started in this process): so they
    # are set in os.environ while the workers spawn, and the old values restored.
    malloc = {"MALLOC_TRIM_THRESHOLD_": str(1 << 30), "MALLOC_MMAP_THRESHOLD_": str(1 << 28)}
    old = {name: os.environ.get(name) for name in malloc}
    os.environ.update(malloc)
    try:
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def points_in_polygons_distributed(
    x: np.ndarray,
    y: np.ndarray,
    polygons: np.ndarray | Sequence[shapely.Geometry],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    partitions: int | None = None,
    chunk_size: int = 1_000_000,
    cell_size: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`coverage.join.points_in_polygons` on a Dask cluster; identical output.

    Parameters
    ----------
    x, y : ndarray
        Point coordinates in metres, same projected CRS as ``polygons`` (EPSG:25832 in
        Germany). Non-finite points match nothing.
    polygons : array or sequence of shapely geometries
        Coverage areas; ``None``/empty match nothing (as in the local kernel).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``). Its workers must have
        gapmap installed (same version). When None, a LocalCluster is started for the
        call with ``workers`` processes of one thread each, and closed afterwards.
    workers : int, optional
        Local worker processes when no scheduler is given (default 2).
    partitions : int, optional
        Number of spatial partitions (tasks); default: enough for ~1M points each and
        at least two per worker.
    chunk_size, cell_size
        Passed to the kernel on the workers (speed only, never the result).

    Returns
    -------
    point_idx, polygon_idx : ndarray
        Exactly as :func:`coverage.join.points_in_polygons`: sorted by point then
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
    geoms = _as_geometry_array(polygons)
    n, m = len(x), len(geoms)
    index_dtype = np.int32 if max(n, m) < 2**31 else np.int64
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if m else np.zeros(0, bool)

    client, cluster = _client(scheduler, workers)
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or (workers or 1))
        k = partitions or max(2 * n_workers, math.ceil(n / _PARTITION_POINTS))
        parts = spatial_partitions(x, y, k) if present.any() else []
        bounds = shapely.bounds(geoms)
        wkb = shapely.to_wkb(geoms)
        pbits = max(m - 1, 1).bit_length()
        batches = []
        for idx in parts:
            px, py = x[idx], y[idx]
            # polygons whose bbox meets the partition's bbox (NaN bounds never do)
            near = np.flatnonzero(
                present
                & (bounds[:, 0] <= px.max())
                & (bounds[:, 2] >= px.min())
                & (bounds[:, 1] <= py.max())
                & (bounds[:, 3] >= py.min())
            )
            ids = idx.astype(index_dtype)
            batches.append((px, py, ids, near.astype(index_dtype), wkb[near]))
        # scattered straight to the workers (one round trip), not inside the task graph
        data = client.scatter(batches, hash=False) if batches else []
        futures = [
            client.submit(_join_partition, f, pbits, chunk_size, cell_size, pure=False)
            for f in data
        ]
        # The merge is parallel too: each worker assembles the pairs of one range of
        # point indices from the sorted keys of all partitions; the client concatenates.
        # Each partition's keys are cut into the ranges where they lie (on that worker),
        # so only the slices travel.
        cuts = [int(c) << pbits for c in np.linspace(0, n, len(futures) + 1).astype(np.int64)]
        sliced = [client.submit(_split, f, cuts, pure=False) for f in futures]
        ranges = [
            client.submit(
                _assemble,
                pbits,
                index_dtype,
                *(client.submit(operator.getitem, piece, r, pure=False) for piece in sliced),
                pure=False,
            )
            for r in range(len(cuts) - 1)
        ]
        results = _gather(client, ranges, scheduler)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    if not results:
        return np.empty(0, index_dtype), np.empty(0, index_dtype)
    point = np.concatenate([r[0] for r in results])
    poly = np.concatenate([r[1] for r in results])
    return point, poly


def _gather(client: Any, futures: list[Any], scheduler: str | None) -> list[Any]:
    """Results of the partition tasks; cluster failures become GapmapError."""
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    where = scheduler or "the local Dask cluster"
    try:
        return client.gather(futures)
    except KilledWorker as exc:
        raise GapmapError(
            f"a Dask worker of {where} died while joining a partition ({exc}); this is "
            "usually memory: give workers more memory or use more partitions"
        ) from exc
    except (FutureCancelledError, OSError, TimeoutError) as exc:
        raise GapmapError(f"the distributed join on {where} failed ({exc!r})") from exc
    except ModuleNotFoundError as exc:
        raise GapmapError(
            f"the workers of {where} cannot import gapmap ({exc}); install the same gapmap "
            "version on every worker"
        ) from exc
