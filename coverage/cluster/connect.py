"""Reaching a Dask cluster: a client of a scheduler, a caller's client or a LocalCluster
started for the call, and the cluster's failures as :class:`coverage.errors.GapmapError`.

Dask is optional: ``distributed`` is imported only inside these functions, and a missing
install is a clear error that says how to install it (:data:`INSTALL_HINT`).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

from coverage.errors import GapmapError, SourceReadError

__all__ = ["INSTALL_HINT", "cluster_errors", "connect", "gather", "local_cluster"]

#: seconds to wait for an existing scheduler
_CONNECT_TIMEOUT = "10s"

INSTALL_HINT = "pip install 'dask[distributed]>=2024.1'"


@contextlib.contextmanager
def connect(scheduler: Any, workers: int | None) -> Iterator[Any]:
    """A client of ``scheduler`` (an address, or a ``distributed.Client`` that stays open)
    or of a LocalCluster with ``workers`` processes started for the call."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise GapmapError(
            f"the distributed join needs dask.distributed, which is not installed ({exc}); "
            f"install it with {INSTALL_HINT}, or run without --scheduler/--workers"
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


def gather(client: Any, futures: list[Any], scheduler: str | Any | None) -> list[Any]:
    """Results of the tasks; cluster failures become GapmapError."""
    with cluster_errors(scheduler):
        return client.gather(futures)


@contextlib.contextmanager
def cluster_errors(scheduler: str | Any | None) -> Iterator[None]:
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
