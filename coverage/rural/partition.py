"""The gap areas' heavy parts as tasks on a ``concurrent.futures.Executor``, by position.

Three steps of the rural analysis go out as tasks (ARCHITECTURE.md, "The rural step in
partitions"): the linkage forest per vertical strip of eligible locations, widened by the
link distance (:mod:`coverage.rural.linkage`), the disc union of each area
(:mod:`coverage.rural.disc_union`) and the cuts of non-members (:mod:`coverage.rural.cut`).
Areas go to the task of the strip holding their leftmost point and are computed there whole,
by the same code as in one process; the strip forests are merged into one forest by the
caller. So the result does not depend on the strips or on where the tasks run.

Any executor works: a thread pool (GEOS and the kd-trees release the GIL), a process pool,
or a Dask cluster's ``client.get_executor()``. Task functions are module-level and their
arguments arrays and geometries, so they pickle. Without an executor the tasks run in the
calling thread, one after the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T")

#: Addresses per batch of areas whose non-members are cut in one task.
CUT_POINTS = 250_000
#: Distinct eligible locations per strip of disc unions.
UNION_POINTS = 100_000


def run(
    executor: Executor | None,
    fn: Callable[..., T],
    jobs: Sequence[tuple[Any, ...]],
    sizes: Sequence[float] | None = None,
) -> list[T]:
    """``fn(*job)`` for every job, results in the order of ``jobs``.

    On an executor, the jobs are submitted largest first (``sizes``), so a long job does
    not start last; without one they run here in order.
    """
    if executor is None:
        return [fn(*job) for job in jobs]
    order = np.argsort(-np.asarray(sizes, dtype=float), kind="stable") if sizes else None
    submit = range(len(jobs)) if order is None else order
    futures = {int(k): executor.submit(fn, *jobs[int(k)]) for k in submit}
    return [futures[k].result() for k in range(len(jobs))]


def area_batches(
    bounds: npt.NDArray[np.float64],
    x: npt.NDArray[np.float64],
    points: int | None = None,
) -> list[npt.NDArray[np.intp]]:
    """Areas grouped by the vertical strip (of about ``points`` addresses ``x``) holding
    the left edge of their box; each group's area numbers in ascending order."""
    points = CUT_POINTS if points is None else points
    finite = np.sort(x[np.isfinite(x)])
    n_strips = max(1, -(-finite.size // max(points, 1)))
    edges = finite[np.linspace(0, finite.size, n_strips + 1).astype(np.intp)[1:-1]]
    strip = np.searchsorted(edges, bounds[:, 0], side="right")
    order = np.argsort(strip, kind="stable")
    cuts = np.flatnonzero(np.diff(strip[order])) + 1
    return [part for part in np.split(order, cuts) if part.size]
