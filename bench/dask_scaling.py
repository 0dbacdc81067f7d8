"""Throughput on 1 vs 2 local Dask workers: the classification step, the join alone, and
a dask-geopandas frame classified where it lies.

    python bench/dask_scaling.py [--addresses 2000000] [--polygons 20000] [--repeat 5] [--quick]

Data: bench/kernel_data.py (addresses in file order, i.e. not spatially sorted), with
synthetic offer rows for the polygons (providers, technologies, speeds, latencies, one in
eight planned) and one address in fifty a school, classified under ``de-gigabit-2023``.

Three steps are timed, each whole, per call:

* **classification step** (what ``gapmap run --workers N`` distributes):
  ``classify_distributed``, i.e. every address joined to the polygons and classified on
  the workers, result rows gathered back in address order. Locally the same as
  ``gapmap run`` does it: the kernel and ``classify`` one chunk of 1M addresses at a time.
* **join alone**: ``points_in_polygons_distributed``, the address-polygon pairs gathered
  back in global order (2-3 bytes per pair to ship and expand on the client).
* **dask-geopandas frame** (skipped without dask-geopandas):
  ``coverage.cluster.frames.classify_frame`` over GeoParquet parts written once; the workers
  read, classify and write Parquet, no address passes through the client (see
  ``_frame_step``).

The first two include Hilbert partitioning and shipping points and per-partition polygons. One
LocalCluster per worker count (``coverage.cluster.connect.local_cluster``: processes with one
thread each, the scheduler in this process), both started before timing, each with one
connected client that every call uses (as a long-lived service would; connecting costs
~30 ms) and that sends and fetches data straight to and from the workers, and warmed up with one full-size call of each step (which also converts the
polygons to WKB once: later calls over the same polygons reuse it). Local, 1 worker and 2 workers
alternate call by call, so load from other jobs hits all alike; the best of ``--repeat``
calls counts (load only ever slows a call), the median is printed too. Every result must
equal the local one (pairs; result frames row for row).

Throughput is addresses per second of the whole call. "CPU" is this process (client and
scheduler) and the workers, per call: with 2 cores, client, scheduler and both workers
share them, so 2 workers reach 2x only if the client's share is small. On 2 cores the script
prints that bound too: 1 worker's time over the CPU of workers and client with 2 workers
spread over both cores (what a perfectly overlapped call would take).
"""

from __future__ import annotations

import os

# one thread for every library that would otherwise start a pool (the workers get the
# same from distributed's nanny)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import itertools  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kernel_data import make_dataset, make_offers  # noqa: E402

from coverage.classify import classify, concat_results  # noqa: E402
from coverage.cluster.classify import classify_distributed  # noqa: E402
from coverage.cluster.connect import local_cluster  # noqa: E402
from coverage.cluster.join import points_in_polygons_distributed  # noqa: E402
from coverage.cluster.partitions import hilbert_keys  # noqa: E402
from coverage.kernel.join import iter_points_in_polygons, points_in_polygons  # noqa: E402
from coverage.profiles import load_profile  # noqa: E402

WORKERS = (1, 2)
FRAME_STEP = "dask-geopandas frame"
PROFILE, AS_OF = "de-gigabit-2023", date(2026, 11, 1)
#: addresses per chunk of the local classification (``RunOptions.classify_chunk``)
CHUNK = 1_000_000


def classify_locally(x, y, polys, attrs, offers, profile) -> pd.DataFrame:
    """The local classification step as ``gapmap run`` does it: chunk by chunk."""
    parts = []
    for start, stop, p, q in iter_points_in_polygons(x, y, polys, chunk_size=CHUNK):
        chunk = attrs.iloc[start:stop].reset_index(drop=True)
        parts.append(classify(chunk, offers, p, q, profile, as_of=AS_OF))
    return concat_results(parts)


def _frame_step(tmp, x, y, polys, attrs, offers, profile, expected, partitions):
    """(run, check) of the dask-geopandas step, or None without dask-geopandas.

    The addresses are written once as GeoParquet parts (``partitions`` or one per 250k,
    in the addresses' order: compact for Hilbert order). A call reads them, classifies
    them and writes the result rows as Parquet: on the workers with
    :func:`coverage.cluster.frames.classify_frame` (the client holds no address), locally
    with geopandas, the local kernel and ``classify`` chunk by chunk.
    """
    try:
        import dask_geopandas
        import geopandas as gpd

        from coverage.cluster.frames import classify_frame
    except ImportError as exc:
        print(f"{FRAME_STEP}: skipped ({exc}; pip install 'dask-geopandas')")
        return None
    n = len(x)
    points = gpd.GeoDataFrame(attrs, geometry=shapely.points(x, y), crs=25832)
    k = partitions or max(4, math.ceil(n / 250_000))
    dask_geopandas.from_geopandas(points, npartitions=k).to_parquet(tmp / "addresses")
    del points
    calls = itertools.count()

    def run(client):
        out = tmp / f"results-{next(calls)}"
        if client is None:
            read = gpd.read_parquet(tmp / "addresses")
            px, py = shapely.get_x(read.geometry.values), shapely.get_y(read.geometry.values)
            rows = classify_locally(px, py, polys, read[["site_type"]], offers, profile)
            rows.index = read.index
            out.mkdir()
            rows.to_parquet(out / "part.0.parquet")
        else:
            rows = classify_frame(
                tmp / "addresses", polys, offers, profile, as_of=AS_OF, keep=(), client=client
            )
            with client.as_current():  # the cluster holding the scattered polygons
                rows.to_parquet(out)
        return out

    def check(out) -> bool:
        """The rows written equal the local classification, by address and by value."""
        try:
            rows = pd.read_parquet(out).sort_index()
            if list(rows.columns) != list(expected.columns) or not rows.index.equals(
                expected.index
            ):
                return False
            for col in expected.columns:
                a, b = rows[col], expected[col]
                if isinstance(b.dtype, pd.CategoricalDtype):  # strings in a Dask frame
                    b = b.astype(a.dtype)
                if not a.equals(b):
                    return False
            return True
        finally:
            shutil.rmtree(out, ignore_errors=True)

    return run, check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--addresses", type=int, default=2_000_000)
    parser.add_argument("--polygons", type=int, default=20_000)
    parser.add_argument(
        "--partitions",
        type=int,
        default=None,
        help="default: the functions' (~250k points each, at least 2 per worker)",
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="1M addresses, 2 runs each")
    parser.add_argument(
        "--unsorted",
        action="store_true",
        help="addresses in generator order instead of Hilbert order",
    )
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
    x, y, polys, down = make_dataset(args.addresses, args.polygons, args.seed)
    if not args.unsorted:  # the layout of bench/e2e.py's addresses
        order = np.argsort(hilbert_keys(x, y, order=16), kind="stable")
        x, y = x[order], y[order]
    n = len(x)
    offers = make_offers(down, args.seed)
    site = np.where(np.arange(n) % 50 == 0, "school", "private")
    attrs = pd.DataFrame({"site_type": pd.array(site, dtype="string")})
    profile = load_profile(PROFILE)
    print(
        f"{n:,} addresses ({'generator' if args.unsorted else 'Hilbert'} order) x "
        f"{len(polys):,} polygons, profile {PROFILE}; partitions: "
        f"{args.partitions or 'default'}; {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f} before start",
        flush=True,
    )
    p, q = points_in_polygons(x, y, polys)
    expected = classify_locally(x, y, polys, attrs, offers, profile)
    print(f"{len(p):,} pairs", flush=True)

    def run_classify(scheduler: Client | None):
        if scheduler is None:
            return classify_locally(x, y, polys, attrs, offers, profile)
        frame, _ = classify_distributed(
            x,
            y,
            polys,
            attrs,
            offers,
            profile,
            as_of=AS_OF,
            scheduler=scheduler,
            partitions=args.partitions,
        )
        return frame

    def run_join(scheduler: Client | None):
        if scheduler is None:
            return points_in_polygons(x, y, polys)
        return points_in_polygons_distributed(
            x, y, polys, scheduler=scheduler, partitions=args.partitions
        )

    def same_classes(frame: pd.DataFrame) -> bool:
        """Same columns, dtypes (categories included) and values, NaN equal to NaN
        (``assert_frame_equal`` compares categoricals value by value: minutes at 5M)."""
        if list(frame.columns) != list(expected.columns):
            return False
        for col in frame.columns:
            a, b = frame[col], expected[col]
            if a.dtype != b.dtype:
                return False
            if isinstance(a.dtype, pd.CategoricalDtype):
                a, b = a.cat.codes, b.cat.codes
            a, b = a.to_numpy(), b.to_numpy()
            nan = a.dtype.kind in "fmM"
            if not np.array_equal(a, b, equal_nan=nan):
                return False
        return True

    def same_pairs(pairs) -> bool:
        return np.array_equal(pairs[0], p) and np.array_equal(pairs[1], q)

    steps = {
        "classification step": (run_classify, same_classes),
        "join alone": (run_join, same_pairs),
    }
    tmp = Path(tempfile.mkdtemp(prefix="gapmap-dask-scaling-"))
    frame_step = _frame_step(tmp, x, y, polys, attrs, offers, profile, expected, args.partitions)
    if frame_step:
        steps[FRAME_STEP] = frame_step
    times = {(s, w): [] for s in steps for w in (0, *WORKERS)}
    cpu = {(s, w): [] for s in steps for w in WORKERS}
    same = True
    clusters = {w: local_cluster(w) for w in WORKERS}
    # one connection per cluster, used by every call (as a long-lived service would)
    clients = {w: Client(c.scheduler_address, direct_to_workers=True) for w, c in clusters.items()}
    try:
        for w in clusters:  # warm up: imports, worker heaps, connections
            for run_step, _ in steps.values():
                run_step(clients[w])
        for _ in range(args.repeat):
            for step, (run_step, check) in steps.items():
                t = time.perf_counter()
                run_step(None)
                times[step, 0].append(time.perf_counter() - t)
                for w in clusters:
                    before = clients[w].run(time.process_time)
                    c, t = time.process_time(), time.perf_counter()
                    result = run_step(clients[w])
                    times[step, w].append(time.perf_counter() - t)
                    client_cpu = time.process_time() - c
                    after = clients[w].run(time.process_time)
                    cpu[step, w].append((client_cpu, sum(after[a] - before[a] for a in before)))
                    same = same and check(result)
                    del result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        logging.getLogger("distributed").setLevel(logging.ERROR)  # no INFO lines on close
        for client in clients.values():
            client.close()
        for cluster in clusters.values():
            cluster.close()

    def line(label: str, ts: list[float], extra: str = "") -> None:
        best, median = min(ts), statistics.median(ts)
        print(
            f"  {label:<10}: best {best:5.2f} s {n / best:>11,.0f} addresses/s, "
            f"median {median:5.2f} s{extra}"
        )

    ratios = {}
    for step in steps:
        print(f"{step}:")
        line("local", times[step, 0])
        for w in WORKERS:
            client_cpu = min(c for c, _ in cpu[step, w])
            worker_cpu = min(c for _, c in cpu[step, w])
            line(
                f"{w} worker{'s' if w > 1 else ''}",
                times[step, w],
                f"; CPU per call: client+scheduler {client_cpu:.2f} s, workers {worker_cpu:.2f} s",
            )
        best = {w: min(times[step, w]) for w in WORKERS}
        median = {w: statistics.median(times[step, w]) for w in WORKERS}
        ratios[step] = best[1] / best[2]
        print(
            f"  2 workers vs 1 worker: {ratios[step]:.2f}x throughput "
            f"(best of {args.repeat}; medians: {median[1] / median[2]:.2f}x)"
        )
    print(f"identical results: {'yes' if same else 'no'}")
    ratio = ratios["classification step"]
    # With client, scheduler and workers on the same cores, 2 workers take at least their
    # CPU plus the client's, spread over the cores, even with perfect overlap
    step = "classification step"
    cores = os.cpu_count() or 1
    if cores <= 2:
        least = (min(w for _, w in cpu[step, 2]) + min(c for c, _ in cpu[step, 2])) / cores
        print(
            f"bound on this machine: 1 worker's {min(times[step, 1]):.2f} s / "
            f"(CPU of workers and client with 2 workers / {cores} cores = {least:.2f} s) "
            f"= {min(times[step, 1]) / least:.2f}x with perfect overlap"
        )
    print(
        f"target, classification step on 2 workers >= 1.7x 1 worker: "
        f"{'met' if ratio >= 1.7 else 'not met'} ({ratio:.2f}x)"
    )
    if FRAME_STEP in ratios:
        print(
            f"target, {FRAME_STEP} (workers read, classify, write) on 2 workers >= 1.7x "
            f"1 worker: {'met' if ratios[FRAME_STEP] >= 1.7 else 'not met'} "
            f"({ratios[FRAME_STEP]:.2f}x)"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"load average after: {os.getloadavg()[0]:.1f}; peak memory of this process {peak:,.0f} MB"
    )
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
