"""The classification step of ``gapmap run``: every address classified over its pairs, on
this machine chunk by chunk as the kernel yields them, or on a Dask cluster (same results);
and where the rural step's tasks run (:func:`rural_executor`)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from coverage.classify import classify, concat_results
from coverage.profiles import Profile
from coverage.run_pairs import PairChunks, chunked_join, offer_list_pairs, with_list_pairs
from coverage.rural.linkage import usable_cpus

if TYPE_CHECKING:
    from coverage.pipeline import RunOptions
    from coverage.pipeline import _Progress as Progress


def classify_on_dask(
    xy: tuple[np.ndarray, np.ndarray],
    polygons: np.ndarray,
    attributes: pd.DataFrame,
    offer_table: pd.DataFrame,
    list_tables: list[pd.DataFrame],
    list_pairs: list[tuple[np.ndarray, np.ndarray]],
    profile: Profile,
    as_of: date,
    options: RunOptions,
    tracker: Progress,
) -> tuple[pd.DataFrame, int]:
    """Join and classify on a Dask cluster (``coverage.cluster.classify``); same results.

    The join runs inside the workers' classification tasks: its time is booked under
    "classify", and "join" is 0.
    """
    from coverage.cluster.classify import classify_distributed

    t = time.perf_counter()
    results, n_pairs = classify_distributed(
        *xy,
        polygons,
        attributes,
        offer_table,
        profile,
        as_of=as_of,
        include_planned=options.include_planned,
        list_pairs=offer_list_pairs(polygons, list_tables, list_pairs),
        scheduler=options.scheduler,
        workers=options.workers,
    )
    results.index = attributes.index
    tracker.timings["join"] = 0.0
    tracker.timings["classify"] = round(time.perf_counter() - t, 3)
    tracker.stage("classify", 1.0)
    return results, n_pairs


def classify_in_chunks(
    attributes: pd.DataFrame,
    offer_table: pd.DataFrame,
    chunks: PairChunks,
    profile: Profile,
    as_of: date,
    options: RunOptions,
    tracker: Progress,
) -> tuple[pd.DataFrame, int]:
    """Classify addresses chunk by chunk as their pairs arrive; returns results and pair count.

    Every address's result depends only on its own pairs, so chunking changes memory, not
    results. The time of the kernel is booked as stage "join", the rest as "classify".
    """
    n = len(attributes)
    parts, n_pairs, classify_s = [], 0, 0.0
    for start, stop, p, q in chunks:
        n_pairs += len(p)
        t = time.perf_counter()
        parts.append(
            classify(
                attributes.iloc[start:stop].reset_index(drop=True),
                offer_table,
                p,
                q,
                profile,
                as_of=as_of,
                include_planned=options.include_planned,
            )
        )
        classify_s += time.perf_counter() - t
        tracker.stage("join", stop / max(n, 1))
    t = time.perf_counter()
    results = concat_results(parts)
    results.index = attributes.index
    tracker.timings["join"] = round(chunks.join_s, 3)
    tracker.timings["classify"] = round(classify_s + time.perf_counter() - t, 3)
    tracker.stage("classify", 1.0)
    return results, n_pairs


def classify_in_threads(
    xy: tuple[np.ndarray, np.ndarray],
    polygons: np.ndarray,
    attributes: pd.DataFrame,
    offer_table: pd.DataFrame,
    list_tables: list[pd.DataFrame],
    list_pairs: list[tuple[np.ndarray, np.ndarray]],
    profile: Profile,
    as_of: date,
    options: RunOptions,
    tracker: Progress,
    threads: int,
) -> tuple[pd.DataFrame, int]:
    """Join and classify chunk by chunk on ``threads`` threads of this process (``gapmap run
    --workers N``): the polygons are decomposed once, and each task joins one chunk of
    addresses and classifies it (the kernel's loops and numpy's large operations release
    the GIL). Same results as :func:`classify_in_chunks`; the join's time is booked under
    "classify", and "join" is 0.
    """
    t = time.perf_counter()
    n = len(attributes)
    # a few chunks per thread, so the last ones are short: at most the run's chunk size
    chunk = max(1, min(options.classify_chunk, -(-n // (4 * threads))))
    join = chunked_join(*xy, polygons, chunk)
    lists = offer_list_pairs(polygons, list_tables, list_pairs)

    def one(bounds: tuple[int, int]) -> tuple[pd.DataFrame, int]:
        start, stop = bounds
        p, q = with_list_pairs(start, stop, *join.pairs(start, stop), lists)
        part = attributes.iloc[start:stop].reset_index(drop=True)
        result = classify(part, offer_table, p, q, profile, as_of=as_of,
                          include_planned=options.include_planned)  # fmt: skip
        return result, len(p)

    parts, n_pairs = [], 0
    with ThreadPoolExecutor(threads, thread_name_prefix="gapmap-classify") as pool:
        for (_, stop), (result, k) in zip(join.chunks, pool.map(one, join.chunks), strict=True):
            parts.append(result)
            n_pairs += k
            tracker.stage("join", stop / max(n, 1))
    results = concat_results(parts)
    results.index = attributes.index
    tracker.timings["join"] = 0.0
    tracker.timings["classify"] = round(time.perf_counter() - t, 3)
    tracker.stage("classify", 1.0)
    return results, n_pairs


@contextlib.contextmanager
def rural_executor(options: RunOptions) -> Iterator[Executor | None]:
    """The executor of the rural step's tasks (``analyse_rural(executor=...)``).

    ``--scheduler``: the cluster's, through ``client.get_executor()``; otherwise a pool of
    threads in this process, ``--workers N`` of them or one per usable CPU (the tasks'
    work is GEOS, numba loops and kd-tree queries, which release the GIL: threads share
    the strips without copying them, where a pool of processes was slower on 2 cores,
    docs/performance.md); one CPU: none (the step runs in this thread).
    """
    if options.scheduler:
        from coverage.cluster.connect import connect

        with connect(options.scheduler, None) as client:
            yield client.get_executor()
        return
    threads = local_threads(options)
    if threads > 1:
        with ThreadPoolExecutor(threads, thread_name_prefix="gapmap-rural") as pool:
            yield pool
    else:
        yield None


def local_threads(options: RunOptions) -> int:
    """Threads of this process for a run's rural step: ``--workers N``, else one per CPU."""
    return options.workers or usable_cpus()
