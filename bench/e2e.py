"""End to end: ``coverage.pipeline.run`` on ~5M addresses, with stage timings and peak memory.

    python bench/e2e.py [--dataset dense|demo] [--scale 13.2] [--data /tmp/gapmap-e2e]
                        [--workers 2] [--no-workers] [--unsorted] [--quick] [--cluster-run]

Data sets (the acceptance command ``python bench/e2e.py`` runs the first):

* ``dense`` (default): the demo's ~5.0M addresses (``write_demo_inputs(scale=13.2)``, real
  Gemeinde boundaries) against the dense coverage of ``bench/dense_coverage.py``
  (``write_dense_coverage``: 20,000 polygons, ~2.9M vertices, ~32 covering polygons per
  address, holes), written once to ``coverage_dense.parquet`` beside the demo inputs;
* ``demo``: the same addresses against the demo's own 14k coverage polygons (~30 pairs
  per address, few vertices).

Inputs are generated once into ``--data`` and reused; the addresses are rewritten in
Hilbert order (order 16 over their extent) to ``addresses_hilbert.parquet``, the layout a
producer of a national address file should write (``--unsorted``: generator order).

Each run is timed whole in this process: wall time, ``manifest["timings_s"]`` per stage,
and peak memory (RSS of this process and its children, cluster-run's Dask workers, sampled
every 20 ms by a thread; per stage through the run's progress callback). First one process,
then ``--workers N`` (default 2: the join and classification on N threads of the run's
process). ``--cluster-run`` then times ``gapmap cluster-run`` on the same inputs (1 and 2
local workers) and checks its tables against the run's. The end prints each target with
PASS or MISS and the figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coverage.cluster.partitions import hilbert_keys
from coverage.io.demo_files import write_demo_inputs
from coverage.memory import release_free_memory
from coverage.pipeline import LayerSpec, RunInputs, RunOptions, run

#: end-to-end targets for 5M addresses on the dense set, on the 2-core machine: one
#: process, ``--workers 2``, peak RSS with the workers, cluster-run vs run --workers 2
TARGET_S, TARGET_WORKERS_S, TARGET_BYTES, TARGET_CLUSTER_RATIO = 60, 40, 4 * 2**30, 1.3


class PeakRSS:
    """Samples the resident set size of this process and its children (the Dask workers
    of ``--workers``) in a background thread."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval, self.peak, self._stop = interval, 0, threading.Event()
        #: peak RSS per stage, the stage being set by :meth:`progress` (a run's progress callback)
        self.stage, self.by_stage, self.at_start = "start", {}, {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> int:
        rss = _rss(Path("/proc/self/status"))
        for child in Path("/proc/self/task").glob("*/children"):
            for pid in child.read_text().split():
                rss += _rss(Path(f"/proc/{pid}/status"))
        self.peak = max(self.peak, rss)
        self.by_stage[self.stage] = max(self.by_stage.get(self.stage, 0), rss)
        return rss

    def progress(self, stage: str, fraction: float) -> None:
        rss = self.sample()
        if stage != self.stage:
            self.at_start.setdefault(stage, rss)
        self.stage = stage

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRSS:
        self.start = self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _rss(status: Path) -> int:
    """VmRSS in bytes from a /proc status file (0 for a process that has ended)."""
    try:
        with status.open() as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _mib(b: float) -> str:
    return f"{b / 2**20:,.0f} MiB"


def prepare(data: Path, scale: float) -> tuple[Path, Path, Path, date]:
    """Demo inputs at ``scale`` (generated once) and a Hilbert-sorted copy of the addresses."""
    marker = data / f"scale-{scale}.json"
    if not marker.exists():
        t = time.perf_counter()
        demo = write_demo_inputs(data, scale=scale)
        marker.write_text(json.dumps({"as_of": demo.as_of.isoformat()}))
        print(f"generated {demo.addresses_count:,} addresses in {time.perf_counter() - t:.1f} s")
    as_of = date.fromisoformat(json.loads(marker.read_text())["as_of"])
    sorted_path = data / "addresses_hilbert.parquet"
    if not sorted_path.exists():
        t = time.perf_counter()
        table = pq.read_table(data / "addresses.parquet")
        meta = table.schema.metadata
        import shapely

        pts = shapely.from_wkb(table.column("geometry").to_numpy())
        xy = shapely.get_coordinates(pts)
        order = np.argsort(hilbert_keys(xy[:, 0], xy[:, 1], order=16), kind="stable")
        table = table.take(order).replace_schema_metadata(meta)  # keep the GeoParquet metadata
        pq.write_table(table, sorted_path, row_group_size=256_000)
        print(f"wrote Hilbert-sorted addresses in {time.perf_counter() - t:.1f} s")
    return sorted_path, data / "coverage.parquet", data / "boundaries.geojson", as_of


def dense_coverage(data: Path, addresses: Path) -> tuple[Path, str]:
    """The dense coverage over the demo addresses (generated once) and its statistics line."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from dense_coverage import write_dense_coverage
    from kernel_data import format_stats

    path, stats_path = data / "coverage_dense.parquet", data / "coverage_dense.json"
    if not (path.exists() and stats_path.exists()):
        t = time.perf_counter()
        stats = write_dense_coverage(path, addresses)
        tmp = stats_path.with_suffix(".partial")
        tmp.write_text(json.dumps(stats))
        tmp.replace(stats_path)
        print(f"generated the dense coverage in {time.perf_counter() - t:.1f} s")
    stats = json.loads(stats_path.read_text())
    line = format_stats("dense (demo addresses)", stats)
    return path, f"{line}; gigabit offer at {stats['gigabit_share']:.0%} of addresses (sample)"


def timed_run(
    inputs: RunInputs, out: Path, as_of: date, workers: int | None, n: int
) -> tuple[float, int]:
    """One whole ``run``: prints wall time, stages with RSS, counts; returns wall and peak
    RSS (workers included)."""
    label = f"--workers {workers}" if workers else "one process"
    with PeakRSS() as rss:
        t = time.perf_counter()
        result = run(inputs, out, RunOptions(as_of=as_of, workers=workers), progress=rss.progress)
        wall = time.perf_counter() - t
    manifest = result.manifest
    del result
    release_free_memory()
    counts = manifest["counts"]
    print(f"gapmap run, {label}: {wall:.1f} s wall, peak RSS {_mib(rss.peak)} (sampled)")
    for stage, sec in manifest["timings_s"].items():
        peak = (
            f"  RSS at start {_mib(rss.at_start[stage])}, peak {_mib(rss.by_stage[stage])}"
            if stage in rss.by_stage
            else ""
        )
        print(f"  {stage:<16} {sec:8.2f} s{peak}")
    print(
        f"  pairs {counts['address_offer_pairs']:,} ({counts['address_offer_pairs'] / n:.1f} "
        f"per address), eligible {counts['eligible']:,}, gap areas {counts['gap_areas']:,}, "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    return wall, rss.peak


def _verdict(name: str, ok: bool, figure: str) -> str:
    return f"  {'PASS' if ok else 'MISS'}  {name}: {figure}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=("dense", "demo"), default="dense")
    parser.add_argument("--dense", action="store_const", const="dense", dest="dataset")
    parser.add_argument("--scale", type=float, default=13.2)
    parser.add_argument("--data", type=Path, default=Path("/tmp/gapmap-e2e"))
    parser.add_argument("--out", type=Path, default=None, help="run directory (default: tmp)")
    parser.add_argument("--unsorted", action="store_true", help="addresses in generator order")
    parser.add_argument("--quick", action="store_true", help="scale 1.0 (~380k addresses)")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="after the one-process run, the same with --workers N: join and classify on N "
        "threads (default 2)",
    )
    parser.add_argument("--no-workers", action="store_true", help="the one-process run only")
    parser.add_argument(
        "--cluster-run",
        action="store_true",
        help="then also gapmap cluster-run on the same inputs, 1 and 2 local workers, twice each",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.scale, args.data = 1.0, args.data.with_name(args.data.name + "-quick")
    args.data.mkdir(parents=True, exist_ok=True)
    addresses, cover, bounds, as_of = prepare(args.data, args.scale)
    if args.dataset == "dense":
        cover, described = dense_coverage(args.data, args.data / "addresses.parquet")
    else:
        described = "data set demo (the demo's own coverage polygons)"
    if args.unsorted:
        addresses = args.data / "addresses.parquet"
    out = args.out or args.data / "run"
    n = pq.ParquetFile(addresses).metadata.num_rows
    print(described)
    print(
        f"{n:,} addresses ({'generator order' if args.unsorted else 'Hilbert order'}), "
        f"{pq.ParquetFile(cover).metadata.num_rows:,} coverage polygons ({cover.name}); "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (shared machine)",
        flush=True,
    )
    inputs = RunInputs(
        addresses=LayerSpec(addresses), coverage=(LayerSpec(cover),), boundaries=LayerSpec(bounds)
    )
    wall, peak = timed_run(inputs, out, as_of, None, n)
    print(f"  ru_maxrss {_mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)}")
    print(f"projection for 22.6M addresses (linear): {wall * 22.6e6 / n:.0f} s")
    walls = {"one process": (wall, peak)}
    if not args.no_workers and args.workers:
        walls[f"--workers {args.workers}"] = timed_run(inputs, out, as_of, args.workers, n)
    cluster_best = None
    if args.cluster_run:
        release_free_memory()
        cluster_best = cluster_runs(addresses, cover, bounds, as_of, out)
    print("totals: " + ", ".join(f"{k} {w:.1f} s (peak {_mib(p)})" for k, (w, p) in walls.items()))
    judged = n >= 4_500_000 and args.dataset == "dense" and not args.unsorted
    print(
        "targets (5M addresses, dense set):"
        + ("" if judged else " not judged here (they are for the dense set at 5M)")
    )
    if judged:
        print(_verdict(f"one process under {TARGET_S} s", wall < TARGET_S, f"{wall:.1f} s"))
        w2 = walls.get("--workers 2")
        if w2:
            print(_verdict(f"--workers 2 under {TARGET_WORKERS_S} s", w2[0] < TARGET_WORKERS_S,
                           f"{w2[0]:.1f} s"))  # fmt: skip
        top = max(p for _, p in walls.values())
        print(_verdict("peak under 4 GB (workers included)", top < TARGET_BYTES, _mib(top)))
        if cluster_best and w2:
            ratio = cluster_best / w2[0]
            print(_verdict(f"cluster-run (2 workers) within {TARGET_CLUSTER_RATIO}x of run "
                           "--workers 2", ratio <= TARGET_CLUSTER_RATIO,
                           f"{cluster_best:.1f} s, {ratio:.2f}x"))  # fmt: skip
    return 0


def cluster_runs(addresses: Path, cover: Path, bounds: Path, as_of: date, run_dir: Path) -> float:
    """``gapmap cluster-run`` (``coverage.cluster.run``) on the run's inputs: 1 and 2 local
    workers alternating, each call whole (cluster start, reading the coverage, the
    workers reading, classifying and writing the parts, the tables); its tables must equal
    the run's (``run_dir``) in every column they share. Returns the best 2-worker wall."""
    import pandas as pd

    from coverage.cluster.run import ClusterRunOptions, cluster_run

    out = run_dir.with_name(run_dir.name + "-cluster")
    walls: dict[int, list[float]] = {1: [], 2: []}
    same = True
    for workers in (1, 2, 1, 2):
        with PeakRSS() as rss:
            t = time.perf_counter()
            result = cluster_run(
                addresses,
                [LayerSpec(cover)],
                out,
                ClusterRunOptions(as_of=as_of, workers=workers),
                boundaries=LayerSpec(bounds),
            )
            walls[workers].append(time.perf_counter() - t)
        for name in ("summary_gemeinde.csv", "summary_kreis.csv"):
            mine = pd.read_csv(out / name, dtype={"ags": str})
            theirs = pd.read_csv(run_dir / name, dtype={"ags": str})
            same &= mine.equals(theirs[mine.columns])
        print(
            f"gapmap cluster-run, {workers} worker(s): {walls[workers][-1]:.1f} s wall, "
            f"{result.manifest['counts']['address_parts']} parts, peak RSS with workers "
            f"{_mib(rss.peak)} (sampled)",
            flush=True,
        )
    one, two = min(walls[1]), min(walls[2])
    print(f"cluster-run 2 workers vs 1: {one / two:.2f}x (best of 2, whole command)")
    print(f"cluster-run tables equal gapmap run's (shared columns): {'yes' if same else 'NO'}")
    return two


if __name__ == "__main__":
    raise SystemExit(main())
