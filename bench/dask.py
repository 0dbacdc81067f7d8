"""Throughput of the distributed join: 1 vs 2 local Dask workers (and the local kernel).

    python bench/dask.py [--addresses 2000000] [--polygons 20000] [--partitions 8] [--quick]

Data: bench/kernel_data.py. Each worker count gets its own LocalCluster (processes with one
thread each, started once and warmed up); every call of
``points_in_polygons_distributed(..., scheduler=cluster.scheduler_address)`` is timed whole:
Hilbert partitioning, shipping points and per-partition polygons, the kernels on the
workers, and the merge into globally ordered pairs. Worker counts alternate, best of
``--repeat`` counts. The pairs must be identical to the local kernel's.

The machine is shared with other jobs: with 2 cores, 2 workers only get 2 cores when
nothing else runs, and the client's own work (partitioning, merging) is serial.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--addresses", type=int, default=2_000_000)
    parser.add_argument("--polygons", type=int, default=20_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="1M addresses, 2 runs each")
    args = parser.parse_args(argv)
    if args.quick:
        args.addresses, args.repeat = 1_000_000, 2
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("skipped: dask.distributed is not installed (pip install 'dask[distributed]')")
        return 0

    x, y, polys, _ = make_dataset(args.addresses, args.polygons, args.seed)
    n = len(x)
    print(
        f"{n:,} addresses x {len(polys):,} polygons, {args.partitions} partitions; "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before start",
        flush=True,
    )
    t_local = np.inf
    for _ in range(args.repeat):
        t = time.perf_counter()
        p, q = points_in_polygons(x, y, polys)
        t_local = min(t_local, time.perf_counter() - t)
    print(f"local kernel (1 process) : {t_local:6.2f} s  {n / t_local:>12,.0f} addresses/s")

    clusters = {w: dist.local_cluster(w) for w in (1, 2)}
    best = dict.fromkeys(clusters, np.inf)
    same = True
    try:
        for cluster in clusters.values():  # warm up: imports, first allocations
            dist.points_in_polygons_distributed(
                x[:1000], y[:1000], polys[:100], scheduler=cluster.scheduler_address
            )
        for _ in range(args.repeat):
            for w, cluster in clusters.items():
                t = time.perf_counter()
                dp, dq = dist.points_in_polygons_distributed(
                    x, y, polys, scheduler=cluster.scheduler_address, partitions=args.partitions
                )
                best[w] = min(best[w], time.perf_counter() - t)
                same = same and np.array_equal(dp, p) and np.array_equal(dq, q)
                del dp, dq
    finally:
        for cluster in clusters.values():
            cluster.close()
    for w, t in best.items():
        print(
            f"dask, {w} worker{'s' if w > 1 else ' '}         : {t:6.2f} s  {n / t:>12,.0f} addresses/s"
        )
    print(f"identical results: {'yes' if same else 'no'}")
    print(f"2 workers vs 1 worker: {best[1] / best[2]:.2f}x throughput")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
