"""End to end: ``coverage.pipeline.run`` on ~5M addresses, with stage timings and peak memory.

    python bench/e2e.py [--scale 13.2] [--data /tmp/gapmap-e2e] [--unsorted] [--quick]
                        [--workers N] [--cluster-run]

Inputs: the Suedwestfalen demo scaled up (``write_demo_inputs(scale=13.2)``: ~5.0M
addresses on 14k coverage polygons of the real Gemeinde boundaries), generated once into
``--data`` and reused. The addresses are rewritten in Hilbert order (order 16 over their
extent) to ``addresses_hilbert.parquet``, the layout a producer of a national address
file should write (``--unsorted`` runs on the generator's order instead).

Measured in this process: wall time, ``manifest["timings_s"]`` per stage, and peak memory
(RSS sampled every 20 ms by a thread, per stage through the run's progress callback, and
``ru_maxrss``). ``--workers N`` joins and classifies on a local Dask cluster (started inside
the run, so its start-up counts); the sampled RSS then includes the worker processes.
``--cluster-run`` then times ``gapmap cluster-run`` on the same inputs (1 and 2 local
workers; the addresses stay with the workers) and checks its tables against the run's.
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

#: end-to-end targets for 5M addresses on the 2-core machine
TARGET_S, TARGET_BYTES = 60, 4 * 2**30


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=13.2)
    parser.add_argument("--data", type=Path, default=Path("/tmp/gapmap-e2e"))
    parser.add_argument("--out", type=Path, default=None, help="run directory (default: tmp)")
    parser.add_argument("--unsorted", action="store_true", help="addresses in generator order")
    parser.add_argument("--quick", action="store_true", help="scale 1.0 (~380k addresses)")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="join and classify on a local Dask cluster of N workers (peak RSS includes them)",
    )
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
    if args.unsorted:
        addresses = args.data / "addresses.parquet"
    out = args.out or args.data / "run"
    n = pq.ParquetFile(addresses).metadata.num_rows
    print(
        f"{n:,} addresses ({'generator order' if args.unsorted else 'Hilbert order'}), "
        f"{pq.ParquetFile(cover).metadata.num_rows:,} coverage polygons; {os.cpu_count()} "
        f"cores, load average {os.getloadavg()[0]:.1f} (shared machine)"
        + (f"; Dask: {args.workers} local workers" if args.workers else ""),
        flush=True,
    )
    inputs = RunInputs(
        addresses=LayerSpec(addresses), coverage=(LayerSpec(cover),), boundaries=LayerSpec(bounds)
    )
    with PeakRSS() as rss:
        t = time.perf_counter()
        options = RunOptions(as_of=as_of, workers=args.workers)
        result = run(inputs, out, options, progress=rss.progress)
        wall = time.perf_counter() - t
    timings = result.manifest["timings_s"]
    counts = result.manifest["counts"]
    print(f"gapmap run: {wall:.1f} s wall, peak RSS {_mib(rss.peak)} (sampled)")
    for stage, sec in timings.items():
        peak = (
            f"  RSS at start {_mib(rss.at_start[stage])}, peak {_mib(rss.by_stage[stage])}"
            if stage in rss.by_stage
            else ""
        )
        print(f"  {stage:<16} {sec:8.2f} s{peak}")
    print(
        f"  pairs {counts['address_offer_pairs']:,} ({counts['address_offer_pairs'] / n:.1f} "
        f"per address), eligible {counts['eligible']:,}, gap areas {counts['gap_areas']:,}"
    )
    print(f"  ru_maxrss {_mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)}")
    print(f"projection for 22.6M addresses (linear): {wall * 22.6e6 / n:.0f} s")
    if n >= 4_500_000:  # the targets are for 5M addresses
        ok_time, ok_mem = wall <= TARGET_S, rss.peak <= TARGET_BYTES
        print(
            f"targets for 5M: <= {TARGET_S} s: {'met' if ok_time else 'NOT met'} ({wall:.1f} s); "
            f"peak <= 4 GiB: {'met' if ok_mem else 'NOT met'} ({_mib(rss.peak)})"
        )
    if args.cluster_run:
        del result  # the cluster runs' peak RSS is theirs alone
        release_free_memory()
        cluster_runs(addresses, cover, bounds, as_of, out)
    return 0


def cluster_runs(addresses: Path, cover: Path, bounds: Path, as_of: date, run_dir: Path) -> None:
    """``gapmap cluster-run`` (``coverage.cluster.run``) on the run's inputs: 1 and 2 local
    workers alternating, each call whole (cluster start, reading the coverage, the
    workers reading, classifying and writing the parts, the tables); its tables must equal
    the run's (``run_dir``) in every column they share."""
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


if __name__ == "__main__":
    raise SystemExit(main())
