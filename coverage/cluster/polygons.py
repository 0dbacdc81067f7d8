"""The coverage polygons in the one form every Dask task gets them.

Every path of the room joins points with polygons on a worker, and they all ship the
polygons the same way:

* on the client, a :class:`PolygonSet` holds the call's polygons, which of them are present
  (not missing, not empty), their bounding boxes and their WKB, each polygon converted at
  most once and kept for the next call over the same geometry objects
  (:func:`_polygon_wkb`); :meth:`PolygonSet.near` picks the polygons whose bounding box
  meets that of some points (optionally sharpened by the caller, e.g. to a partition's
  cells) and :meth:`PolygonSet.payload` packs any of them as :class:`Polygons`;
* on the worker, a task's :class:`Polygons` (its numbers in the caller's sequence, bounding
  boxes, WKB in one buffer) gives, by :meth:`Polygons.join`, the pairs of the task's points
  with the polygons near them, with the polygons' numbers in the caller's sequence.

Whether a task's ``Polygons`` hold just the polygons near its partition (the client holds
the points and ships each partition itself) or every present polygon, broadcast once to
every worker (the points stay on the cluster), is the caller's choice of payload; the task
code is the same (:mod:`coverage.cluster.ship`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import shapely

from coverage.kernel.join import points_in_polygons
from coverage.kernel.reduce import _as_geometry_array

__all__ = ["PolygonSet", "Polygons"]


class Polygons(NamedTuple):
    """Polygons as a task gets them (from :meth:`PolygonSet.payload`).

    WKB travels as one uint8 buffer and the items' sizes: Dask sends numpy buffers without
    copying them, while an object array of 10k byte strings is pickled one by one (2-3x
    the CPU on both ends for the same bytes).
    """

    ids: np.ndarray  # each polygon's number in the caller's sequence, ascending
    bounds: np.ndarray  # (len(ids), 4): minx, miny, maxx, maxy
    wkb: np.ndarray  # uint8: the polygons' WKB, one after the other
    sizes: np.ndarray  # int64: bytes of each polygon's WKB

    @classmethod
    def empty(cls) -> Polygons:
        """No polygons (points that can match nothing)."""
        return cls(np.empty(0, np.uint8), np.empty((0, 4)), *_pack_wkb([]))

    def near(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The numbers of the polygons whose bounding box meets that of the finite points
        of ``x, y``, and those polygons (decoded); none without finite points."""
        finite = np.isfinite(x) & np.isfinite(y)
        which = np.empty(0, dtype=np.int64)
        if finite.all() and len(x):
            which = np.flatnonzero(_boxes_meet(self.bounds, x, y))
        elif finite.any():
            which = np.flatnonzero(_boxes_meet(self.bounds, x[finite], y[finite]))
        return self.ids[which], _unpack_wkb(self.wkb, self.sizes, which)

    def join(
        self, x: np.ndarray, y: np.ndarray, *, dtype: Any = None, **kernel: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        """:func:`coverage.kernel.join.points_in_polygons` of the points ``x, y`` and the
        polygons near them (:meth:`near`): pairs sorted by point, then polygon, each
        polygon as its number in the caller's sequence (in ``dtype``, default that of
        :attr:`ids`). ``kernel``: ``chunk_size``, ``cell_size`` for the kernel."""
        ids, geoms = self.near(x, y)
        p, q = points_in_polygons(x, y, geoms, **kernel)
        return p, np.take(ids if dtype is None else ids.astype(dtype), q)


class PolygonSet:
    """The polygons of one call on the client: presence, bounding boxes and WKB.

    Polygon ``j`` is item ``j`` of ``polygons``; missing and empty polygons are never near
    any point (as in the local kernel, they match nothing) and never shipped.
    """

    def __init__(self, polygons: np.ndarray | Sequence[shapely.Geometry]) -> None:
        self.geoms = geoms = _as_geometry_array(polygons)
        m = len(geoms)
        self.present = (
            ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if m else np.zeros(0, bool)
        )
        self.bounds = shapely.bounds(geoms)  # NaN for missing and empty polygons
        #: the narrowest type for polygon numbers (what travels)
        self.id_dtype = np.min_scalar_type(max(m - 1, 0))
        self._wkb = _polygon_wkb(geoms)

    def __len__(self) -> int:
        return len(self.geoms)

    def near(self, x: np.ndarray, y: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        """Numbers (ascending) of the present polygons whose bounding box meets that of the
        points ``x, y`` (finite, at least one), and (if given) where ``where`` holds."""
        meet = self.present & _boxes_meet(self.bounds, x, y)  # NaN bounds compare False
        if where is not None:
            meet &= where
        return np.flatnonzero(meet)

    def payload(self, which: np.ndarray | None = None) -> Polygons:
        """The polygons ``which`` (ascending numbers of present ones; default every present
        one) as a task gets them, each converted to WKB at most once."""
        if which is None:
            which = np.flatnonzero(self.present)
        items = _wkb_items(self.geoms, which, self._wkb)
        return Polygons(which.astype(self.id_dtype), self.bounds[which], *_pack_wkb(items))


def _boxes_meet(bounds: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Which bounding boxes (rows of minx, miny, maxx, maxy; NaN never meets) meet the
    bounding box of the points ``x, y`` (finite, at least one)."""
    return (
        (bounds[:, 0] <= x.max())
        & (bounds[:, 2] >= x.min())
        & (bounds[:, 1] <= y.max())
        & (bounds[:, 3] >= y.min())
    )


def _pack_wkb(items: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """WKB byte strings as one uint8 buffer and their sizes."""
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
