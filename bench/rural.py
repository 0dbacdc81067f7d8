"""The rural step alone: sub-stage timings, in one process and in partitions on 1 and 2 workers.

    python bench/rural.py [--dataset dense|demo] [--scale 13.2] [--data /tmp/gapmap-e2e] [--keep /tmp/gapmap-rural]
                          [--baseline /work/main] [--no-baseline]

Inputs: the demo scaled up as in ``bench/e2e.py`` (``write_demo_inputs(scale)``: 13.2 gives
~5.0M addresses on the real Suedwestfalen Gemeinden), read from ``--data`` when present
(``addresses_hilbert.parquet`` if there, else ``addresses.parquet``). The run is taken up to
the rural step once (read, join, classify) and the arguments of ``analyse_rural`` are kept
in ``<keep>/scale-<scale>/rural_inputs.pkl`` for the next call.

Measured in this run, on the same inputs:

* ``baseline``: ``analyse_rural`` of the checkout given by ``--baseline`` (the main branch,
  in its own virtual environment, in a child process);
* ``single``: ``analyse_rural`` without an executor;
* ``partitioned 1`` / ``partitioned 2``: with a process pool of 1 and 2 workers;
* ``threads 2``: the same tasks on a pool of 2 threads in this process.

Sub-stages are timed by wrapping the rural room's functions (linkage, disc unions, area
shapes, ...); the table prints each run's seconds and the ratio baseline / run. The results
of ``single`` and ``partitioned`` are compared (areas, flags, address ids): a difference
stops the bench.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from checkout import result_in

ROOT = Path(__file__).resolve().parents[1]

#: (module, function) pairs timed as sub-stages, when the checkout has them
TIMED = [
    ("coverage.rural.analysis", "classify_cells", "DEGURBA cells"),
    ("coverage.rural.analysis", "cell_municipality", "DEGURBA Gemeinden"),
    ("coverage.rural.analysis", "summarise_grid", "grid summaries"),
    ("coverage.rural.analysis", "inspire_cell_categorical", "INSPIRE cell ids"),
    ("coverage.rural.analysis", "find_gap_areas", "gap areas (all)"),
    ("coverage.rural.gaps", "linkage_forest", "  linkage"),
    ("coverage.rural.gaps", "area_polygons", "  disc unions"),
    ("coverage.rural.gaps", "partitioned_forest", "  linkage"),
    ("coverage.rural.gaps", "partitioned_polygons", "  disc unions"),
    ("coverage.rural.analysis", "finish_areas", "costs, remainders"),
    ("coverage.rural.analysis", "refine_area_polygons", "area shapes (all)"),
    ("coverage.rural.area_shape", "_clip", "  clip to Gemeinden"),
    ("coverage.rural.area_shape", "_cut_non_members", "  cut non-members"),
    ("coverage.rural.area_shape", "cut_non_members", "  cut non-members"),
    ("coverage.rural.analysis", "_projects", "project areas"),
]


def _timed(runs: dict[str, float], label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            runs[label] += time.perf_counter() - t

    return wrapper


def measure(inputs: dict[str, Any], executor: Any = None) -> tuple[dict[str, float], Any]:
    """``analyse_rural`` on ``inputs`` with sub-stage timings (seconds by label)."""
    import importlib

    from coverage.rural import analysis

    seconds: dict[str, float] = defaultdict(float)
    patched = []
    for module, name, label in TIMED:
        mod = importlib.import_module(module)
        if hasattr(mod, name):
            fn = getattr(mod, name)
            patched.append((mod, name, fn))
            setattr(mod, name, _timed(seconds, label, fn))
    kwargs = dict(inputs["kwargs"])
    kwargs.pop("executor", None)  # a baseline may not know it
    if executor is not None:
        kwargs["executor"] = executor
    try:
        t, cpu = time.perf_counter(), _cpu()
        result = analysis.analyse_rural(inputs["addresses"], inputs["gemeinden"], **kwargs)
        seconds["rural step (total)"] = time.perf_counter() - t
        seconds["CPU s (all processes)"] = _cpu() - cpu
    finally:
        for mod, name, fn in patched:
            setattr(mod, name, fn)
    return dict(seconds), result


def _cpu() -> float:
    """CPU seconds of this process (all threads) and of its finished children."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _workers_cpu(pool: ProcessPoolExecutor) -> float:
    """CPU seconds so far of a process pool's workers (from /proc: they are children of
    the fork server, not of this process, so no rusage of ours counts them)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in list(pool._processes):  # the pool's own worker ids
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


class _CapturedError(Exception):
    pass


def capture(data: Path, scale: float, keep: Path, dataset: str = "demo") -> Path:
    """Run the pipeline up to the rural step once; keep the arguments of ``analyse_rural``
    in ``keep`` (a directory). ``dataset`` "dense": against ``bench/dense_coverage.py``'s
    coverage, as ``bench/e2e.py`` runs it."""
    keep.mkdir(parents=True, exist_ok=True)
    cache = keep / "rural_inputs.pkl"
    if cache.exists():
        return cache
    import pyarrow.parquet as pq

    from coverage import pipeline
    from coverage.io.demo_files import write_demo_inputs
    from coverage.pipeline import LayerSpec, RunInputs, RunOptions

    data.mkdir(parents=True, exist_ok=True)
    marker = data / f"scale-{scale}.json"  # as bench/e2e.py keeps it
    if not marker.exists():
        demo = write_demo_inputs(data, scale=scale)
        marker.write_text(json.dumps({"as_of": demo.as_of.isoformat()}))
    as_of = json.loads(marker.read_text())["as_of"]
    addresses = data / "addresses_hilbert.parquet"
    if not addresses.exists():
        addresses = data / "addresses.parquet"
    print(f"capturing the rural inputs from {addresses} "
          f"({pq.ParquetFile(addresses).metadata.num_rows:,} addresses)", flush=True)  # fmt: skip
    kept: dict[str, Any] = {}

    def stop(addresses: Any, gemeinden: Any, **kwargs: Any) -> Any:
        # the columns the rural step reads (all of them would double the memory here)
        used = ["ags", "households", "site_type", "class", "eligible", "networks_now",
                "best_technology", "best_down_mbps"]  # fmt: skip
        kept.update(addresses=addresses[used].copy(), gemeinden=gemeinden, kwargs=kwargs)
        raise _CapturedError

    original = pipeline.analyse_rural
    pipeline.analyse_rural = stop
    try:
        options = RunOptions(as_of=_date(as_of)) if as_of else RunOptions()
        coverage = data / "coverage.parquet"
        if dataset == "dense":
            sys.path.insert(0, str(ROOT / "bench"))
            from e2e import dense_coverage

            coverage, described = dense_coverage(data, data / "addresses.parquet")
            print(described, flush=True)
        inputs = RunInputs(
            addresses=LayerSpec(addresses),
            coverage=(LayerSpec(coverage),),
            boundaries=LayerSpec(data / "boundaries.geojson"),
        )
        pipeline.run(inputs, keep / "run", options)
    except _CapturedError:
        pass
    finally:
        pipeline.analyse_rural = original
    with cache.open("wb") as fh:
        pickle.dump(kept, fh, protocol=5)
    return cache


def _date(text: str) -> Any:
    from datetime import date

    return date.fromisoformat(text)


def _load(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return pickle.load(fh)


def baseline(checkout: Path, cache: Path) -> dict[str, float] | None:
    """The sub-stage timings of another checkout (its own venv), in a child process."""
    return result_in(
        checkout, "import rural; s, _ = rural.measure(rural._load(rural.Path(sys.argv[3])))",
        str(cache),
    )  # fmt: skip


def _same(a: Any, b: Any) -> list[str]:
    """What differs between two rural results (empty: identical)."""
    import numpy as np
    import shapely

    problems = []
    if not a.address_columns.equals(b.address_columns):
        problems.append("address columns")
    ga, gb = a.gap_areas, b.gap_areas
    if list(ga.columns) != list(gb.columns) or len(ga) != len(gb):
        return [*problems, "gap area table shape"]
    if not ga.drop(columns="geometry").equals(gb.drop(columns="geometry")):
        problems.append("gap area attributes")
    wa = shapely.to_wkb(np.asarray(ga.geometry.values))
    wb = shapely.to_wkb(np.asarray(gb.geometry.values))
    if not np.array_equal(wa, wb):
        problems.append(f"gap area geometry ({int((wa != wb).sum())} differ)")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=("dense", "demo"), default="dense",
                        help="coverage: the dense set (as bench/e2e.py) or the demo's own")  # fmt: skip
    parser.add_argument("--scale", type=float, default=13.2)
    parser.add_argument("--data", type=Path, default=Path("/tmp/gapmap-e2e"))
    parser.add_argument("--keep", type=Path, default=Path("/tmp/gapmap-rural"),
                        help="where the rural step's inputs are kept between calls")  # fmt: skip
    parser.add_argument("--baseline", type=Path, default=Path("/work/main"))
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    if args.scale != 13.2 and args.data == Path("/tmp/gapmap-e2e"):
        args.data = Path(f"/tmp/gapmap-rural-{args.scale:g}")
    sys.path.insert(0, str(ROOT))
    name = f"scale-{args.scale:g}" + ("-dense" if args.dataset == "dense" else "")
    cache = capture(args.data, args.scale, args.keep / name, args.dataset)
    inputs = _load(cache)
    n = len(inputs["addresses"])
    eligible = int(inputs["addresses"]["eligible"].sum())
    print(f"{n:,} addresses, {eligible:,} eligible ({args.data}); {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} (shared machine)", flush=True)  # fmt: skip

    table: dict[str, dict[str, float]] = {}
    if not args.no_baseline:
        base = baseline(args.baseline, cache)
        if base:
            table["baseline"] = base
            print(f"baseline ({args.baseline}): {base['rural step (total)']:.1f} s", flush=True)
    table["single"], single = measure(inputs)
    print(f"single: {table['single']['rural step (total)']:.1f} s", flush=True)
    context = get_context("forkserver")
    for workers in (1, 2):
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            for _ in range(workers):  # workers started before the clock runs
                pool.submit(int).result()
            before = _workers_cpu(pool)
            seconds, result = measure(inputs, pool)
            # this process's CPU (measure) and the workers' (children of the fork server)
            seconds["CPU s (all processes)"] += _workers_cpu(pool) - before
        table[f"partitioned {workers}"] = seconds
        print(
            f"partitioned, {workers} worker(s): {seconds['rural step (total)']:.1f} s", flush=True
        )
        if problems := _same(single, result):
            print("DIFFERENT from the single-process result:", ", ".join(problems))
            return 1
    # the same tasks on 2 threads of this process (GEOS, numba and the kd-trees release the
    # GIL): no copies of the strips to other processes
    with ThreadPoolExecutor(2) as pool:
        table["threads 2"], result = measure(inputs, pool)
    print(f"threads 2: {table['threads 2']['rural step (total)']:.1f} s", flush=True)
    if problems := _same(single, result):
        print("DIFFERENT from the single-process result:", ", ".join(problems))
        return 1
    print("partitioned results equal the single-process result (areas, flags, address ids)")

    labels = list(dict.fromkeys(label for runs in table.values() for label in runs))
    last = ["rural step (total)", "CPU s (all processes)"]
    labels = [lb for lb in labels if lb not in last] + last
    runs = list(table)
    print()
    print(f"{'sub-stage':<24}" + "".join(f"{r:>16}" for r in runs)
          + ("".join(f"{'base/' + r.split()[-1]:>12}" for r in runs[1:]) if "baseline" in table else ""))  # fmt: skip
    for label in labels:
        cells = "".join(
            f"{table[r][label]:>15.2f}s" if label in table[r] else f"{'-':>16}" for r in runs
        )
        if "baseline" in table and label in table["baseline"]:
            b = table["baseline"][label]
            cells += "".join(
                f"{b / table[r][label]:>11.1f}x" if table[r].get(label) else f"{'-':>12}"
                for r in runs[1:]
            )
        print(f"{label:<24}{cells}")
    total = "rural step (total)"
    p1, p2 = table["partitioned 1"][total], table["partitioned 2"][total]
    print(f"\nscaling of the partitioned step: 1 worker {p1:.1f} s, 2 workers {p2:.1f} s "
          f"({p1 / p2:.2f}x)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
