"""The join kernel on a Dask cluster: spatial partitions of the points, one task each.

``points_in_polygons_distributed`` returns exactly what :func:`coverage.kernel.join.points_in_polygons`
returns (same pairs, same order, same dtype):

1. the client cuts the points into partitions of about equal size (~250k points) along a
   Hilbert curve over their extent, so each is a run of grid cells; a partition holds its
   point indices in ascending order;
2. partitions are scattered straight to the workers, round robin, each as soon as it is
   ready: the points, their indices and only the coverage polygons whose bounding box
   meets one of the partition's cells (WKB in one buffer, each polygon converted once);
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

import contextlib
import functools
import itertools
import logging
import math
import operator
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import shapely

from coverage.classify import (
    ADDRESS_COLUMNS,
    OFFER_COLUMNS,
    RESULT_COLUMNS,
    OfferColumns,
    classify,
    classify_offers,
)
from coverage.errors import GapmapError, SourceReadError
from coverage.kernel.join import _as_geometry_array, merge_pairs, points_in_polygons
from coverage.profiles import Profile

__all__ = [
    "classify_distributed",
    "hilbert_keys",
    "local_cluster",
    "points_in_polygons_distributed",
    "spatial_partitions",
]

#: Hilbert curve order for partitioning: 2**8 x 2**8 cells over the points' extent
#: (uint16 keys; partitions and the polygons they need are decided per cell, and finer
#: cells would ship hardly fewer polygons: 21.4k instead of 21.5k with 2**10 on 2M x 20k)
_HILBERT_ORDER = 8
#: default target number of points per partition: the kernel is fastest on partitions of
#: this size (2M addresses x 20k polygons: 1.18 s in 8 partitions, 1.27 s in 4, 1.43 s in
#: 2), and the 8 of them keep two workers within 5 % of each other
_PARTITION_POINTS = 250_000
#: integer result columns that travel in the narrowest dtype and arrive as int32
_NETWORK_COLUMNS = ("networks_now", "networks_planned")
#: partitions a worker holds at most: the one it works on and the next one
_QUEUED = 2
#: seconds to wait for an existing scheduler
_CONNECT_TIMEOUT = "10s"

_INSTALL_HINT = "pip install 'dask[distributed]>=2024.1'"


class _Grid(NamedTuple):
    """``side`` x ``side`` square cells over the extent of some points."""

    x0: float
    y0: float
    scale: float  # cells per metre
    side: int

    @classmethod
    def over(cls, x: np.ndarray, y: np.ndarray, order: int) -> _Grid:
        """The 2**order x 2**order grid over the extent of (finite) x, y."""
        side = 1 << order
        x0, x1 = float(x.min()), float(x.max())
        y0, y1 = float(y.min()), float(y.max())
        return cls(x0, y0, side / max(x1 - x0, y1 - y0, 1e-9), side)

    def cells(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Column and row of the cell of each point, clipped into the grid.

        Monotone in x and y, so the cells of the corners of a box bound the cells of
        every point in the box.
        """
        top = self.side - 1
        col = np.clip((x - self.x0) * self.scale, 0, top).astype(np.int32)
        row = np.clip((y - self.y0) * self.scale, 0, top).astype(np.int32)
        return col, row


def hilbert_keys(x: np.ndarray, y: np.ndarray, order: int = _HILBERT_ORDER) -> np.ndarray:
    """Hilbert curve index of each point on a 2**order grid over the points' extent.

    Coordinates must be finite (metres, any projected CRS). Returns uint32 (uint16 for
    order <= 8) keys; neighbouring keys are neighbouring cells.
    """
    return _keys(_Grid.over(x, y, order), x, y)


def _keys(grid: _Grid, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """:func:`hilbert_keys` of the points on ``grid``."""
    col, row = grid.cells(x, y)
    if grid.side <= 1 << 10:  # a table over the cells: one lookup per point
        row *= grid.side
        row += col
        return _hilbert_table(grid.side)[row]
    return _hilbert(col, row, grid.side).astype(np.uint32)


@functools.lru_cache(maxsize=4)
def _hilbert_table(side: int) -> np.ndarray:
    """Hilbert index of every cell of a side x side grid, by ``row * side + column``."""
    row, col = np.divmod(np.arange(side * side, dtype=np.int32), side)
    table = _hilbert(col, row, side).astype(np.uint16 if side <= 1 << 8 else np.uint32)
    table.flags.writeable = False
    return table


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


class _Partitions(NamedTuple):
    """Point indices of each partition, and the cells of the grid each one occupies."""

    parts: list[np.ndarray]
    grid: _Grid
    cell_part: np.ndarray  # (side, side): partition of each cell with points, else -1


def spatial_partitions(x: np.ndarray, y: np.ndarray, partitions: int) -> list[np.ndarray]:
    """Point indices of up to ``partitions`` spatially compact groups of about equal size.

    Each group is a run of whole cells along a Hilbert curve over the points' extent
    (:func:`hilbert_keys`) holding about ``1 / partitions`` of the points, so sizes differ
    by at most about one cell's points. Points with non-finite coordinates belong to no
    group. Each group's indices ascend, so the kernel's pairs of a group (sorted by
    position in the group) are sorted by point index.
    """
    found = _partition(x, y, partitions)
    return [part for part in found.parts if len(part)] if found else []


def _partition(x: np.ndarray, y: np.ndarray, partitions: int) -> _Partitions | None:
    """:func:`spatial_partitions` with their cells; None without finite points."""
    finite = np.isfinite(x) & np.isfinite(y)
    idx = None if finite.all() else np.flatnonzero(finite)
    n = len(x) if idx is None else len(idx)
    if n == 0:
        return None
    if idx is not None:
        x, y = x[idx], y[idx]
    grid = _Grid.over(x, y, _HILBERT_ORDER)
    keys = _keys(grid, x, y)
    k = max(1, partitions)
    per_cell = np.bincount(keys, minlength=grid.side * grid.side)
    # a cell joins the group where the middle of its points falls along the curve
    middle = np.cumsum(per_cell) - per_cell / 2
    part_of_key = (middle * (k / n)).astype(np.min_scalar_type(k))
    group = part_of_key[keys]
    # stable, so indices ascend within a group; radix sort for 8/16-bit group numbers
    order = np.argsort(group, kind="stable")
    if idx is not None:
        order = idx[order]
    bounds = np.cumsum(np.bincount(group, minlength=k))[:-1]
    table = _hilbert_table(grid.side)
    cell_part = np.where(per_cell > 0, part_of_key, -1)[table].reshape(grid.side, grid.side)
    return _Partitions(np.split(order, bounds), grid, cell_part)


def _rows(idx: np.ndarray) -> slice | np.ndarray:
    """Ascending, distinct indices ``idx`` as a slice where they are one run (always for
    spatially sorted input): views and block copies instead of gathers and scatters."""
    if len(idx) and int(idx[-1]) - int(idx[0]) + 1 == len(idx):
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return idx


def _join_partition(
    batch: tuple[np.ndarray, ...], cuts: list[int], chunk_size: int, cell_size: float | None
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Worker task: the local kernel on one partition, cut into the output's point ranges.

    ``batch`` is (x, y, global point ids, global polygon ids, polygon WKB as one buffer,
    WKB sizes) of the partition's points (ascending ids) and of the polygons near them.
    Since the ids ascend, the kernel's pairs are sorted by global point, then polygon, and
    each range ``cuts[r] <= id < cuts[r + 1]`` is one slice. Returns, per range, the ids
    of the partition's points in it, their pair counts and the global polygon ids of their
    pairs (counts and polygon ids in the narrowest unsigned dtype: a fraction of the bytes).
    """
    x, y, point_ids, polygon_ids, wkb, wkb_sizes = batch
    geoms = _unpack_wkb(wkb, wkb_sizes)
    p, q = points_in_polygons(x, y, geoms, chunk_size=chunk_size, cell_size=cell_size)
    counts = _run_lengths(p, len(x))
    ends = np.concatenate([[0], np.cumsum(counts)])  # pairs before each point
    counts = counts.astype(_narrowest(counts))
    polygons = np.take(polygon_ids, q)
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


def _pack_wkb(items: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """WKB byte strings as one uint8 buffer and their sizes.

    Dask sends numpy buffers without copying them; an object array of 10k byte strings is
    pickled one by one (2-3x the CPU on both ends for the same bytes).
    """
    sizes = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
    return np.frombuffer(b"".join(items), dtype=np.uint8), sizes


def _unpack_wkb(
    buffer: np.ndarray, sizes: np.ndarray, which: np.ndarray | None = None
) -> np.ndarray:
    """The geometries of :func:`_pack_wkb`'s buffer (only items ``which``, if given)."""
    data = buffer.tobytes()
    ends = np.cumsum(sizes)
    starts = ends - sizes
    if which is not None:
        starts, ends = starts[which], ends[which]
    return shapely.from_wkb(
        [data[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    )


def _boxes_meet(bounds: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Which bounding boxes (rows of minx, miny, maxx, maxy; NaN never meets) meet the
    bounding box of the points ``x, y`` (finite, at least one)."""
    return (
        (bounds[:, 0] <= x.max())
        & (bounds[:, 2] >= x.min())
        & (bounds[:, 1] <= y.max())
        & (bounds[:, 3] >= y.min())
    )


def _narrowest(values: np.ndarray) -> np.dtype:
    """The smallest unsigned dtype holding every value of ``values`` (non-negative ints)."""
    return np.min_scalar_type(int(values.max()) if len(values) else 0)


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


@contextlib.contextmanager
def _connect(scheduler: Any, workers: int | None) -> Iterator[Any]:
    """A client of ``scheduler`` (an address, or a ``distributed.Client`` that stays open)
    or of a LocalCluster with ``workers`` processes started for the call."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise GapmapError(
            f"the distributed join needs dask.distributed, which is not installed ({exc}); "
            f"install it with {_INSTALL_HINT}, or run without --scheduler/--workers"
        ) from exc
    if isinstance(scheduler, Client):  # the caller's: one connection for many calls
        yield scheduler
        return
    if scheduler:
        try:
            client = Client(scheduler, timeout=_CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SourceReadError(
                f"cannot reach the Dask scheduler at {scheduler!r} ({exc}); check the address "
                "(e.g. tcp://host:8786), that `dask scheduler` runs there and that the port is "
                "open, or use --workers N for a local cluster"
            ) from exc
        with client:
            yield client
        return
    n = workers or 2
    if n < 1:
        raise GapmapError(f"workers must be >= 1, got {n}")
    try:
        cluster = local_cluster(n)
    except Exception as exc:  # distributed raises many types when processes cannot start
        raise GapmapError(f"cannot start a local Dask cluster with {n} workers ({exc})") from exc
    # its workers are on this machine: data goes to and comes from them directly, not
    # through the scheduler (which would copy every byte once more, in this process)
    with cluster, Client(cluster, direct_to_workers=True) as client:
        yield client


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
    geoms = _as_geometry_array(polygons)
    n, m = len(x), len(geoms)
    index_dtype = np.int32 if max(n, m) < 2**31 else np.int64
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if m else np.zeros(0, bool)

    with _connect(scheduler, workers) as client:
        addresses = sorted(client.scheduler_info().get("workers", {}))
        n_workers = max(1, len(addresses))
        k = partitions or max(2 * n_workers, math.ceil(n / _PARTITION_POINTS))
        found = _partition(x, y, k) if present.any() else None
        parts = [part for part in found.parts if len(part)] if found else []
        # the output is merged on the workers, one range of point ids each
        cuts = np.linspace(0, n, min(n_workers, len(parts)) + 1).astype(np.int64).tolist()
        shipper = _Shipper(
            client, x, y, geoms, present, found, _join_partition, (cuts, chunk_size, cell_size)
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
        results = _gather(client, ranges, scheduler) if parts else []
        del joined, ranges
    if not results:
        return np.empty(0, index_dtype), np.empty(0, index_dtype)
    counts = np.concatenate([c for c, _ in results])
    point = np.repeat(np.arange(n, dtype=index_dtype), counts)
    poly = np.concatenate([q for _, q in results], dtype=index_dtype, casting="unsafe")
    return point, poly


def classify_distributed(
    x: np.ndarray,
    y: np.ndarray,
    polygons: np.ndarray | Sequence[shapely.Geometry],
    addresses: pd.DataFrame,
    offers: pd.DataFrame,
    profile: Profile,
    *,
    as_of: date,
    include_planned: bool = True,
    list_pairs: tuple[np.ndarray, np.ndarray] | None = None,
    scheduler: str | Any | None = None,
    workers: int | None = None,
    partitions: int | None = None,
    chunk_size: int = 1_000_000,
    cell_size: float | None = None,
) -> tuple[pd.DataFrame, int]:
    """The classification step on a Dask cluster: each address classified over its pairs.

    Equal, row for row, to :func:`coverage.classify.classify` of ``addresses`` over the
    pairs of :func:`coverage.kernel.join.points_in_polygons` (polygon ``j`` is row ``j`` of
    ``offers``) merged with ``list_pairs``, which is what ``gapmap run`` computes locally.
    The points are cut into spatial partitions as in :func:`points_in_polygons_distributed`;
    each partition's task joins *and* classifies its addresses on the worker, so only
    compact result rows come back (about 20 bytes per address, the offer columns as the
    two offer rows they come from, instead of 2-3 bytes per pair), and the client only
    writes them into place as they arrive and takes the offer columns from the offer rows.

    Parameters
    ----------
    x, y, polygons
        As for :func:`points_in_polygons_distributed`.
    addresses
        One row per point; only :data:`~coverage.classify.ADDRESS_COLUMNS` travel.
    offers
        The canonical offer table: the coverage polygons' rows first (in order), then any
        offer-list rows. Sent once to every worker.
    profile, as_of, include_planned
        As for :func:`coverage.classify.classify`.
    list_pairs
        (address positions, ``offers`` rows) matched by key rather than location.
    scheduler, workers, partitions, chunk_size, cell_size
        As for :func:`points_in_polygons_distributed`.

    Returns
    -------
    results, pairs
        :data:`~coverage.classify.RESULT_COLUMNS` with a RangeIndex aligned to
        ``addresses``, and the number of address-offer pairs classified.
    """
    x = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    y = np.ascontiguousarray(y, dtype=np.float64).reshape(-1)
    geoms = _as_geometry_array(polygons)
    n = len(x)
    if len(y) != n or len(addresses) != n:
        raise ValueError(f"x, y and addresses differ in length: {n}, {len(y)}, {len(addresses)}")
    if len(offers) < len(geoms):
        raise ValueError(f"offers has {len(offers)} rows, fewer than the {len(geoms)} polygons")
    # text columns travel as categories: codes, not one Python string per address
    attrs = pd.DataFrame(
        {c: addresses[c].astype("category").array for c in ADDRESS_COLUMNS if c in addresses},
        index=pd.RangeIndex(n),
    )
    list_addr, list_offer = (np.asarray(a, dtype=np.int64) for a in (list_pairs or ([], [])))
    options = {"as_of": as_of, "include_planned": include_planned}
    if n == 0:
        return classify(attrs, offers, list_addr, list_offer, profile, **options), 0
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))

    with _connect(scheduler, workers) as client:
        worker_list = sorted(client.scheduler_info().get("workers", {}))
        k = partitions or max(2 * len(worker_list), 2, math.ceil(n / _PARTITION_POINTS))
        found = _partition(x, y, k)
        parts = list(found.parts) if found else []
        # points with non-finite coordinates are in no partition: one more group
        unplaced = np.flatnonzero(~(np.isfinite(x) & np.isfinite(y)))
        extra = _partition_extras(n, [*parts, unplaced], attrs, list_addr, list_offer)
        offers_data = client.scatter(offers, broadcast=True, hash=False)
        args = (offers_data, profile, options, chunk_size, cell_size)
        shipper = _Shipper(
            client,
            x,
            y,
            geoms,
            present,
            found,
            _classify_partition,
            args,
            extra,
            point_ids=False,  # the client keeps them
        )
        tasks = _Tasks(shipper, worker_list)
        if len(unplaced):  # classified over their offer-list pairs only
            empty = np.empty(0, dtype=np.uint8)
            batch = (x[unplaced], y[unplaced], None, empty, empty, np.empty(0, np.int64))
            batch += extra(len(parts), unplaced)
            tasks.add(client.submit(_classify_partition, batch, *args, pure=False), unplaced)
        results = _Results(n, OfferColumns(offers))
        with _cluster_errors(scheduler):
            for (rows, pairs), group in tasks:
                results.add(group, rows, pairs)
        del tasks, offers_data
    return results.frame(), results.pairs


class _Results:
    """The result rows of :func:`classify_distributed`, written into place as the tasks'
    compact rows arrive (so only the last task's share of this work is left once every
    worker is done).

    Each column of an arriving group is written straight into place, the offer columns
    taken from the group's offer rows. Categorical codes go through one growing list of
    categories per column, and are renumbered at the end only where that list is not
    sorted. The result is what :func:`coverage.classify.concat_results` of the rows, put
    back in address order, gives.
    """

    def __init__(self, n: int, offer_columns: OfferColumns) -> None:
        self.n, self.pairs, self.offer_columns = n, 0, offer_columns
        self.offer_values = offer_columns.empty(n)
        self.values: dict[str, np.ndarray] = {}
        self.categories: dict[str, pd.Index] = {}

    def add(self, idx: np.ndarray, rows: pd.DataFrame, pairs: int) -> None:
        """The compact rows of the addresses ``idx`` (see :func:`_classify_partition`)."""
        self.pairs += pairs
        where = _rows(idx)
        best, planned = rows["best"].to_numpy(), rows["planned"].to_numpy()
        self.offer_columns.fill(self.offer_values, where, best, planned)
        for col in rows.columns.drop(["best", "planned"]):
            column = rows[col]
            if isinstance(column.dtype, pd.CategoricalDtype):
                values, codes = self._codes(col, column.array), column.cat.codes.to_numpy()
            else:
                values, codes = None, column.to_numpy()
            if col not in self.values:
                dtype = np.int32 if values is not None or col in _NETWORK_COLUMNS else codes.dtype
                self.values[col] = np.empty(self.n, dtype=dtype)
            self.values[col][where] = codes if values is None else values[codes]

    def _codes(self, col: str, values: pd.Categorical) -> np.ndarray:
        """This column's codes for each of ``values``' categories, then -1 (missing)."""
        categories = values.categories
        known = self.categories.setdefault(col, categories)
        where = known.get_indexer(categories)
        if (where < 0).any():  # new categories go to the end
            known = self.categories[col] = known.append(categories[where < 0])
            where = known.get_indexer(categories)
        return np.append(where, -1).astype(np.int32)

    def frame(self) -> pd.DataFrame:
        """All rows, in address order, columns :data:`RESULT_COLUMNS`."""
        columns = dict(self.offer_columns.frame(self.offer_values).items())
        for col, values in self.values.items():
            if col in self.categories:
                categories = self.categories[col]
                order = categories.argsort()
                if (np.diff(order) < 0).any():  # renumber in sorted order
                    renumber = np.empty(len(order) + 1, dtype=np.int32)
                    renumber[order] = np.arange(len(order))
                    renumber[-1] = -1
                    values = renumber[values]
                    categories = categories[order]
                codes = values.astype(np.min_scalar_type(-max(len(categories), 1)))
                columns[col] = pd.Categorical.from_codes(codes, categories, validate=False)
            else:
                columns[col] = values
        frame = pd.DataFrame(columns, index=pd.RangeIndex(self.n), copy=False)
        return frame[list(RESULT_COLUMNS)]


def _partition_extras(
    n: int,
    groups: list[np.ndarray],
    attrs: pd.DataFrame,
    list_addr: np.ndarray,
    list_offer: np.ndarray,
) -> Callable[[int, np.ndarray], tuple[Any, ...]]:
    """``extra`` of :class:`_Shipper` for :func:`_classify_partition`: group ``j``'s address
    columns and its offer-list pairs, with addresses as positions in the group."""
    group_of = np.zeros(n, dtype=np.int32)
    position = np.zeros(n, dtype=np.int64)
    for j, idx in enumerate(groups):
        group_of[idx] = j
        position[idx] = np.arange(len(idx))
    owner = group_of[list_addr]
    by_group = np.argsort(owner, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=len(groups)))])

    def extra(j: int, idx: np.ndarray) -> tuple[Any, ...]:
        rows = by_group[bounds[j] : bounds[j + 1]]
        part = attrs.iloc[_rows(idx)].reset_index(drop=True)
        return part, position[list_addr[rows]], list_offer[rows]

    return extra


def _classify_partition(
    batch: tuple[Any, ...],
    offers: pd.DataFrame,
    profile: Profile,
    options: dict[str, Any],
    chunk_size: int,
    cell_size: float | None,
) -> tuple[pd.DataFrame, int]:
    """Worker task: join and classify one partition's addresses (see
    :func:`classify_distributed`).

    Returns their result rows in the partition's order, and the number of pairs. The rows
    travel compact: the columns taken from offers (:data:`OFFER_COLUMNS`, 56 of about 70
    bytes per address) are replaced by the two offer rows they come from, ``best`` and
    ``planned`` (both, like the network counts, in the narrowest integer type).
    """
    x, y, _, polygon_ids, wkb, wkb_sizes, attrs, list_addr, list_offer = batch
    p, q = points_in_polygons(
        x, y, _unpack_wkb(wkb, wkb_sizes), chunk_size=chunk_size, cell_size=cell_size
    )
    q = np.take(polygon_ids.astype(np.int32), q)  # the polygon's row in `offers`
    p, q = merge_pairs(p, q, list_addr, list_offer)  # ordered as in the local run
    found = classify_offers(attrs, offers, p, q, profile, **options)
    rows = found.results.drop(columns=list(OFFER_COLUMNS))
    for col in _NETWORK_COLUMNS:
        rows[col] = rows[col].astype(_narrowest(rows[col].to_numpy()))
    rows_dtype = np.min_scalar_type(-len(offers))  # offer rows and -1 (none)
    rows["best"] = found.best.astype(rows_dtype)
    rows["planned"] = found.planned.astype(rows_dtype)
    return rows, len(p)


class _Shipper:
    """Ships partitions to workers, one task each: ``task(batch, *args)`` with the
    partition's points and the polygons near them.

    ``batch`` is (x, y, point ids or None without ``point_ids``, polygon ids, polygon WKB
    buffer, WKB sizes) plus ``extra(partition number, point ids)``: whatever else the task
    needs of its points.

    A polygon is near a partition when its bounding box meets the partition's and one of
    the partition's cells (a box holding a point always holds the point's cell; the cells
    of a Hilbert run fill its bounding box only partly: a quarter fewer polygons to ship,
    decode and decompose on 2M x 20k). Polygons go as WKB, converted once each, whenever
    a partition first needs them. The batch is scattered straight to the chosen worker
    (not through the task graph) and the task is placed there (left to itself, the
    scheduler may move a whole partition to an idle worker).
    """

    def __init__(
        self,
        client: Any,
        x: np.ndarray,
        y: np.ndarray,
        geoms: np.ndarray,
        present: np.ndarray,
        found: _Partitions | None,
        task: Callable[..., Any],
        args: tuple[Any, ...],
        extra: Callable[[int, np.ndarray], tuple[Any, ...]] | None = None,
        point_ids: bool = True,
    ) -> None:
        self.client, self.x, self.y, self.geoms, self.present = client, x, y, geoms, present
        self.found, self.task, self.args, self.extra = found, task, args, extra
        #: the partitions to ship: (partition number, point indices), none empty
        self.todo = [(j, idx) for j, idx in enumerate(found.parts) if len(idx)] if found else []
        n, m = len(x), len(geoms)
        self.point_dtype = (np.int32 if n < 2**31 else np.int64) if point_ids else None
        self.poly_dtype = np.min_scalar_type(max(m - 1, 0))
        self.bounds = bounds = shapely.bounds(geoms)
        if found is not None:
            # cells of the polygons' bounding box corners (missing polygons: not `present`)
            col0, row0 = found.grid.cells(*np.nan_to_num(bounds[:, :2]).T)
            col1, row1 = found.grid.cells(*np.nan_to_num(bounds[:, 2:]).T)
            self.box_cells = (col0, row0, col1 + 1, row1 + 1)
        self.wkb = _polygon_wkb(geoms)

    def ship(self, k: int, worker: str | None) -> tuple[Any, dict[str, Any]]:
        """The task of partition ``todo[k]`` on ``worker`` (None: where the scheduler
        puts the data): (future, placement)."""
        j, idx = self.todo[k]
        x, y = self.x[_rows(idx)], self.y[_rows(idx)]
        col0, row0, col1, row1 = self.box_cells
        # the partition's cells in any box of cells, by a summed-area table
        assert self.found is not None
        cells = np.zeros((self.found.grid.side + 1,) * 2, dtype=np.int32)
        np.cumsum(np.cumsum(self.found.cell_part == j, axis=0), axis=1, out=cells[1:, 1:])
        in_box = cells[row1, col1] - cells[row0, col1] - cells[row1, col0] + cells[row0, col0]
        bounds = self.bounds  # NaN bounds (missing polygons) compare False
        near = np.flatnonzero(self.present & (in_box > 0) & _boxes_meet(bounds, x, y))
        ids = None if self.point_dtype is None else idx.astype(self.point_dtype)
        batch = (
            x,
            y,
            ids,
            near.astype(self.poly_dtype),
            *_pack_wkb(_wkb_items(self.geoms, near, self.wkb)),
        )
        if self.extra:
            batch += self.extra(j, idx)
        target = [worker] if worker else None
        # as one item (a tuple on its own would be scattered element by element)
        [data] = self.client.scatter([batch], workers=target, hash=False)
        where = {"workers": target, "allow_other_workers": True} if target else {}
        return self.client.submit(self.task, data, *self.args, pure=False, **where), where


class _Wkb(NamedTuple):
    """The WKB of a set of polygons, filled in as partitions need them."""

    polygons: np.ndarray  # the geometry objects (kept alive, so their ids stay theirs)
    ids: np.ndarray  # id() of each
    wkb: np.ndarray  # object array: WKB bytes where converted
    converted: np.ndarray  # bool


#: the WKB of the last set of polygons shipped, for the next call with the same geometry
#: objects (another profile, date or address set over the same coverage): converting
#: 20k polygons costs the client ~0.07 s per call, which on a small machine is CPU taken
#: from the workers. One set at a time; shapely geometries are immutable, so the same
#: objects always have the same WKB.
_last_wkb: list[_Wkb] = []
_wkb_lock = threading.Lock()


def _wkb_items(
    geoms: np.ndarray, which: np.ndarray, memo: tuple[np.ndarray, np.ndarray]
) -> list[bytes]:
    """The WKB of the polygons ``which`` (present ones), each converted once into
    ``memo`` (:func:`_polygon_wkb` of ``geoms``)."""
    wkb, converted = memo
    new = which[~converted[which]]
    wkb[new] = shapely.to_wkb(geoms[new])
    converted[new] = True
    return wkb[which].tolist()


def _polygon_wkb(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(WKB object array, converted mask) for ``geoms``, shared with earlier calls for the
    same geometry objects (:data:`_last_wkb`); fill both in place as polygons convert."""
    ids = np.fromiter(map(id, geoms), dtype=np.uintp, count=len(geoms))
    with _wkb_lock:
        if _last_wkb and np.array_equal(_last_wkb[0].ids, ids):
            return _last_wkb[0].wkb, _last_wkb[0].converted
        memo = _Wkb(
            geoms.copy(), ids, np.empty(len(geoms), dtype=object), np.zeros(len(geoms), bool)
        )
        _last_wkb[:] = [memo]
    return memo.wkb, memo.converted


def _gather(client: Any, futures: list[Any], scheduler: str | Any | None) -> list[Any]:
    """Results of the tasks; cluster failures become GapmapError."""
    with _cluster_errors(scheduler):
        return client.gather(futures)


class _Tasks:
    """The partitions' tasks, shipped as workers become free; iterating gives (result,
    point indices) of each task as it completes.

    Each worker gets :data:`_QUEUED` partitions at first (one to work on, the next one's
    data already there); then every finished task brings its worker the next partition.
    So a worker that is faster (its partitions are sparser, or it shares its core with
    the client less) does more of them, and the workers finish together; partitions
    dealt out round robin at once left one worker up to a task's time behind the other.
    Without known workers, everything is shipped at once.
    """

    def __init__(self, shipper: _Shipper, workers: list[str]) -> None:
        from distributed import as_completed

        self.shipper, self.next = shipper, 0
        # on the client's loop: the default client may be another one (two clusters)
        self.done = as_completed(loop=shipper.client.loop, with_results=True)
        self.tagged: dict[str, tuple[np.ndarray, str | None]] = {}
        for _ in range(_QUEUED):
            for worker in workers:
                self._ship(worker)
        while not workers and self.next < len(shipper.todo):
            self._ship(None)

    def _ship(self, worker: str | None) -> None:
        """The next partition, if any is left, to ``worker``."""
        if self.next < len(self.shipper.todo):
            future, _ = self.shipper.ship(self.next, worker)
            self.add(future, self.shipper.todo[self.next][1], worker)
            self.next += 1

    def add(self, future: Any, idx: np.ndarray, worker: str | None = None) -> None:
        """Another task, for the points ``idx``."""
        self.tagged[future.key] = (idx, worker)
        self.done.add(future)

    def __iter__(self) -> Iterator[tuple[Any, np.ndarray]]:
        for future, result in self.done:
            idx, worker = self.tagged.pop(future.key)
            if worker is not None:
                self._ship(worker)  # first: the worker's next data is on its way
            future.release()
            yield result, idx


@contextlib.contextmanager
def _cluster_errors(scheduler: str | Any | None) -> Iterator[None]:
    """Failures of the cluster or its workers as GapmapError with what to do."""
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    if scheduler is None:
        where = "the local Dask cluster"
    elif isinstance(scheduler, str):
        where = scheduler
    else:  # a Client
        where = f"the Dask scheduler at {scheduler.scheduler.address}"
    try:
        yield
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
