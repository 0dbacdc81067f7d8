"""Throughput of the distributed join: 1 vs 2 local Dask workers (and the local kernel).

    python bench/dask.py [--addresses 2000000] [--polygons 20000] [--repeat 5] [--quick]

Data: bench/kernel_data.py (addresses in file order, i.e. not spatially sorted). One
LocalCluster per worker count (``coverage.distributed.local_cluster``: processes with one
thread each, the scheduler in this process), both started before timing and warmed up with
one full-size call each. Every call of
``points_in_polygons_distributed(..., scheduler=cluster.scheduler_address)`` is timed
whole: connecting, Hilbert partitioning, shipping points and per-partition polygons, the
kernels, and the merge into globally ordered pairs. The local kernel, 1 worker and 2
workers alternate call by call, so load from other jobs hits all alike; the best of
``--repeat`` calls counts (load only ever slows a call), the median is printed too. Every
call's pairs must equal the local kernel's.

Throughput is addresses per second of the whole call. "CPU" is this process (client and
scheduler) and the workers, per call: with 2 cores, client, scheduler and both workers
share them, so 2 workers reach 2x only if the client's share is small.
"""

from __future__ import annotations

import os

# one thread for every library that would otherwise start a pool (the workers get the
# same from distributed's nanny)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import logging  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

# This file is called dask.py: drop its folder from the path so `import dask` finds the
# real package, and load the data module by path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))
_spec = importlib.util.spec_from_file_location("kernel_data", _HERE / "kernel_data.py")
kernel_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(kernel_data)
make_dataset = kernel_data.make_dataset

from coverage import distributed as dist  # noqa: E402
from coverage.join import points_in_polygons  # noqa: E402

WORKERS = (1, 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--addresses", type=int, default=2_000_000)
    parser.add_argument("--polygons", type=int, default=20_000)
    parser.add_argument(
        "--partitions",
        type=int,
        default=None,
        help="default: the function's (~250k points each, at least 2 per worker)",
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="1M addresses, 2 runs each")
    args = parser.parse_args(argv)
    if args.quick:
        args.addresses, args.repeat = 1_000_000, 2
    try:
        from distributed import Client
    except ImportError:
        print("skipped: dask.distributed is not installed (pip install 'dask[distributed]')")
        return 0

    # two clusters in one process: the second one's HTTP server takes another port
    warnings.filterwarnings("ignore", message="Port .* is already in use")
    x, y, polys, _ = make_dataset(args.addresses, args.polygons, args.seed)
    n = len(x)
    print(
        f"{n:,} addresses x {len(polys):,} polygons; partitions: "
        f"{args.partitions or 'default'}; {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f} before start",
        flush=True,
    )
    p, q = points_in_polygons(x, y, polys)
    print(f"{len(p):,} pairs", flush=True)

    times: dict[str, list[float]] = {"local": []}
    cpu: dict[int, list[tuple[float, float]]] = {}
    same = True
    clusters = {w: dist.local_cluster(w) for w in WORKERS}
    clients = {w: Client(c.scheduler_address) for w, c in clusters.items()}  # CPU counters
    try:
        for w, cluster in clusters.items():  # warm up: imports, worker heaps, connections
            dist.points_in_polygons_distributed(
                x, y, polys, scheduler=cluster.scheduler_address, partitions=args.partitions
            )
            times[f"{w}"], cpu[w] = [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            points_in_polygons(x, y, polys)
            times["local"].append(time.perf_counter() - t)
            for w, cluster in clusters.items():
                before = clients[w].run(time.process_time)
                c, t = time.process_time(), time.perf_counter()
                dp, dq = dist.points_in_polygons_distributed(
                    x, y, polys, scheduler=cluster.scheduler_address, partitions=args.partitions
                )
                times[f"{w}"].append(time.perf_counter() - t)
                client_cpu = time.process_time() - c
                after = clients[w].run(time.process_time)
                cpu[w].append((client_cpu, sum(after[a] - before[a] for a in before)))
                same = same and np.array_equal(dp, p) and np.array_equal(dq, q)
                del dp, dq
    finally:
        logging.getLogger("distributed").setLevel(logging.ERROR)  # no INFO lines on close
        for client in clients.values():
            client.close()
        for cluster in clusters.values():
            cluster.close()

    def line(label: str, ts: list[float], extra: str = "") -> None:
        best, median = min(ts), statistics.median(ts)
        print(
            f"{label:<24}: best {best:5.2f} s {n / best:>11,.0f} addresses/s, "
            f"median {median:5.2f} s{extra}"
        )

    line("local kernel (1 process)", times["local"])
    for w in WORKERS:
        client_cpu = min(c for c, _ in cpu[w])
        worker_cpu = min(c for _, c in cpu[w])
        line(
            f"dask, {w} worker{'s' if w > 1 else ''}",
            times[f"{w}"],
            f"; CPU per call: client+scheduler {client_cpu:.2f} s, workers {worker_cpu:.2f} s",
        )
    best = {w: min(times[f"{w}"]) for w in WORKERS}
    median = {w: statistics.median(times[f"{w}"]) for w in WORKERS}
    print(f"identical results: {'yes' if same else 'no'}")
    print(
        f"2 workers vs 1 worker: {best[1] / best[2]:.2f}x throughput "
        f"(best of {args.repeat}; medians: {median[1] / median[2]:.2f}x)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"load average after: {os.getloadavg()[0]:.1f}; peak memory of this process {peak:,.0f} MB"
    )
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
