"""Spatial partitions of points along a Hilbert curve, for the tasks of the client-held paths
(:mod:`coverage.cluster.classify`, :mod:`coverage.cluster.join`).

The client cuts the points into partitions of about equal size (~250k points) along a
Hilbert curve over their extent, so each is a run of grid cells; a partition holds its point
indices in ascending order (so the kernel's pairs of a partition are sorted by global point).
:class:`Partitions` also knows which cells each partition occupies, so the shipper
(:mod:`coverage.cluster.ship`) sends a partition only the polygons whose bounding box meets
one of its cells.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

__all__ = [
    "PARTITION_POINTS",
    "Partitions",
    "hilbert_keys",
    "partition",
    "partition_count",
    "row_slice",
    "spatial_partitions",
]

#: Hilbert curve order for partitioning: 2**8 x 2**8 cells over the points' extent
#: (uint16 keys; partitions and the polygons they need are decided per cell, and finer
#: cells would ship hardly fewer polygons: 21.4k instead of 21.5k with 2**10 on 2M x 20k)
_HILBERT_ORDER = 8
#: default target number of points per partition: the kernel is fastest on partitions of
#: this size (2M addresses x 20k polygons: 1.18 s in 8 partitions, 1.27 s in 4, 1.43 s in
#: 2), and the 8 of them keep two workers within 5 % of each other
PARTITION_POINTS = 250_000


def partition_count(n: int, workers: int, partitions: int | None) -> int:
    """``partitions``, or by default enough for ~:data:`PARTITION_POINTS` points each and
    at least two per worker (of at least one)."""
    return partitions or max(2 * max(1, workers), math.ceil(n / PARTITION_POINTS))


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


class Partitions(NamedTuple):
    """Point indices of each partition, and the cells of the grid each one occupies."""

    parts: list[np.ndarray]
    grid: _Grid
    cell_part: np.ndarray  # (side, side): partition of each cell with points, else -1

    def box_cells(self, bounds: np.ndarray) -> tuple[np.ndarray, ...]:
        """The cells of bounding boxes (rows of minx, miny, maxx, maxy) for :meth:`meets`:
        (first column, first row, last column + 1, last row + 1). NaN boxes get cells
        too; the caller excludes them (they meet nothing)."""
        col0, row0 = self.grid.cells(*np.nan_to_num(bounds[:, :2]).T)
        col1, row1 = self.grid.cells(*np.nan_to_num(bounds[:, 2:]).T)
        return col0, row0, col1 + 1, row1 + 1

    def meets(self, j: int, box_cells: tuple[np.ndarray, ...]) -> np.ndarray:
        """Which boxes (their :meth:`box_cells`) hold one of partition ``j``'s cells.

        A box holding a point always holds the point's cell; the cells of a Hilbert run
        fill its bounding box only partly, so this is a sharper test than the partition's
        bounding box (a quarter fewer polygons to ship, decode and decompose on 2M x 20k).
        """
        col0, row0, col1, row1 = box_cells
        # the partition's cells in any box of cells, by a summed-area table
        cells = np.zeros((self.grid.side + 1,) * 2, dtype=np.int32)
        np.cumsum(np.cumsum(self.cell_part == j, axis=0), axis=1, out=cells[1:, 1:])
        in_box = cells[row1, col1] - cells[row0, col1] - cells[row1, col0] + cells[row0, col0]
        return in_box > 0


def spatial_partitions(x: np.ndarray, y: np.ndarray, partitions: int) -> list[np.ndarray]:
    """Point indices of up to ``partitions`` spatially compact groups of about equal size.

    Each group is a run of whole cells along a Hilbert curve over the points' extent
    (:func:`hilbert_keys`) holding about ``1 / partitions`` of the points, so sizes differ
    by at most about one cell's points. Points with non-finite coordinates belong to no
    group. Each group's indices ascend, so the kernel's pairs of a group (sorted by
    position in the group) are sorted by point index.
    """
    found = partition(x, y, partitions)
    return [part for part in found.parts if len(part)] if found else []


def partition(x: np.ndarray, y: np.ndarray, partitions: int) -> Partitions | None:
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
    return Partitions(np.split(order, bounds), grid, cell_part)


def row_slice(idx: np.ndarray) -> slice | np.ndarray:
    """Ascending, distinct indices ``idx`` as a slice where they are one run (always for
    spatially sorted input): views and block copies instead of gathers and scatters."""
    if len(idx) and int(idx[-1]) - int(idx[0]) + 1 == len(idx):
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return idx
