"""Getting data to the workers: one item to every worker, or partitions with the polygons
near them, each as its worker becomes free.

Polygons always travel as :class:`coverage.cluster.polygons.Polygons`, in one of two ways:

* **per partition** (:class:`Shipper`, :class:`Tasks`), when the client holds the points
  (``gapmap run --workers``: :mod:`coverage.cluster.classify`, :mod:`coverage.cluster.join`):
  each partition's batch carries the polygons whose bounding box meets the partition's
  points' box *and* one of its Hilbert cells, so a worker receives, decodes and decomposes
  only those;
* **to every worker once** (:func:`broadcast_polygons`), when the points stay on the cluster
  (:mod:`coverage.cluster.frames`, ``gapmap cluster-run``): the client cannot know which
  polygons a partition needs, so each task takes those near its points from the copy its
  worker holds.

Either way the task calls :meth:`~coverage.cluster.polygons.Polygons.join` on what it got.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from coverage.cluster.partitions import Partitions, row_slice
from coverage.cluster.polygons import PolygonSet

__all__ = ["Shipper", "Tasks", "broadcast", "broadcast_polygons", "narrowest"]

#: partitions a worker holds at most: the one it works on and the next one
_QUEUED = 2


def broadcast(client: Any, value: Any) -> Any:
    """The future of ``value``, sent once to every worker of ``client``."""
    # as one item (a tuple on its own would be scattered element by element)
    [future] = client.scatter([value], broadcast=True, hash=False)
    return future


def broadcast_polygons(client: Any, polygons: PolygonSet) -> Any:
    """Every present polygon of ``polygons`` (WKB, each converted once, and bounding box)
    on every worker: the future of their :class:`~coverage.cluster.polygons.Polygons`."""
    return broadcast(client, polygons.payload())


def narrowest(values: np.ndarray) -> np.dtype:
    """The smallest unsigned dtype holding every value of ``values`` (non-negative ints)."""
    return np.min_scalar_type(int(values.max()) if len(values) else 0)


class Shipper:
    """Ships partitions to workers, one task each: ``task(batch, *args)`` with the
    partition's points and the polygons near them.

    ``batch`` is (x, y, point ids or None without ``point_ids``, polygons) plus
    ``extra(partition number, point ids)``: whatever else the task needs of its points.
    ``polygons`` are the :class:`~coverage.cluster.polygons.Polygons` whose bounding box
    meets the partition's and one of the partition's cells (:meth:`Partitions.meets`).
    Polygons go as WKB, converted once each, whenever a partition first needs them. The
    batch is scattered straight to the chosen worker (not through the task graph) and the
    task is placed there (left to itself, the scheduler may move a whole partition to an
    idle worker).
    """

    def __init__(
        self,
        client: Any,
        x: np.ndarray,
        y: np.ndarray,
        polygons: PolygonSet,
        found: Partitions | None,
        task: Callable[..., Any],
        args: tuple[Any, ...],
        extra: Callable[[int, np.ndarray], tuple[Any, ...]] | None = None,
        point_ids: bool = True,
    ) -> None:
        self.client, self.x, self.y, self.polygons = client, x, y, polygons
        self.found, self.task, self.args, self.extra = found, task, args, extra
        #: the partitions to ship: (partition number, point indices), none empty
        self.todo = [(j, idx) for j, idx in enumerate(found.parts) if len(idx)] if found else []
        n = len(x)
        self.point_dtype = (np.int32 if n < 2**31 else np.int64) if point_ids else None
        if found is not None:
            self.box_cells = found.box_cells(polygons.bounds)

    def ship(self, k: int, worker: str | None) -> tuple[Any, dict[str, Any]]:
        """The task of partition ``todo[k]`` on ``worker`` (None: where the scheduler
        puts the data): (future, placement)."""
        j, idx = self.todo[k]
        x, y = self.x[row_slice(idx)], self.y[row_slice(idx)]
        assert self.found is not None
        near = self.polygons.near(x, y, self.found.meets(j, self.box_cells))
        ids = None if self.point_dtype is None else idx.astype(self.point_dtype)
        batch: tuple[Any, ...] = (x, y, ids, self.polygons.payload(near))
        if self.extra:
            batch += self.extra(j, idx)
        target = [worker] if worker else None
        # as one item (a tuple on its own would be scattered element by element)
        [data] = self.client.scatter([batch], workers=target, hash=False)
        where = {"workers": target, "allow_other_workers": True} if target else {}
        return self.client.submit(self.task, data, *self.args, pure=False, **where), where


class Tasks:
    """The partitions' tasks, shipped as workers become free; iterating gives (result,
    point indices) of each task as it completes.

    Each worker gets :data:`_QUEUED` partitions at first (one to work on, the next one's
    data already there); then every finished task brings its worker the next partition.
    So a worker that is faster (its partitions are sparser, or it shares its core with
    the client less) does more of them, and the workers finish together; partitions
    dealt out round robin at once left one worker up to a task's time behind the other.
    Without known workers, everything is shipped at once.
    """

    def __init__(self, shipper: Shipper, workers: list[str]) -> None:
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
