"""The gap-area disc unions alone (``coverage.rural.disc_union.area_polygons``), against a
baseline checkout's, on arguments kept from a rural run.

    python bench/disc_union.py --inputs /tmp/union_inputs.pkl [--baseline /work/main] [--rounds 2]

``--inputs``: a pickle of ``(args, kwargs)`` of one ``area_polygons`` call (``args`` =
``(x, y, area, n_areas, params)``), as ``bench/rural.py`` runs reach it. The baseline is
the ``disc_union.py`` of the checkout ``--baseline``, loaded beside this checkout's (both
on this checkout's other modules). Measured in this run, alternating baseline and new:

* ``serial``: one thread (``threads=False``), CPU seconds of the process and wall seconds;
* ``threaded``: the default (up to four threads), wall and CPU seconds.

Then every area's polygon is compared with the baseline's (relative symmetric difference)
and checked valid; the largest areas also against plain ``shapely.union_all`` of all their
discs. A difference beyond 1e-9 stops the bench.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import pickle
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coverage.rural import disc_union  # noqa: E402


def _baseline(checkout: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "baseline_disc_union", checkout / "coverage" / "rural" / "disc_union.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(module: ModuleType, args: tuple, threads: bool) -> tuple[float, float, Any]:
    cpu, wall = time.process_time(), time.perf_counter()
    out = module.area_polygons(*args, threads=threads)
    return time.process_time() - cpu, time.perf_counter() - wall, out


def _relative_difference(a: Any, b: Any) -> float:
    return float(shapely.area(shapely.symmetric_difference(a, b)) / max(shapely.area(b), 1e-12))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=Path, required=True)
    parser.add_argument("--baseline", type=Path, default=Path("/work/main"))
    parser.add_argument("--rounds", type=int, default=2)
    opts = parser.parse_args()
    with opts.inputs.open("rb") as f:
        args, _ = pickle.load(f)
    x, y, area, n_areas, params = args
    counts = np.bincount(area[area >= 0], minlength=n_areas)
    print(
        f"{x.size:,} points in {n_areas:,} areas (largest {counts.max():,}); "
        f"radius {params.radius_m:.1f} m, quad_segs {params.quad_segs}; "
        f"load {os.getloadavg()[0]:.2f}"
    )
    base = _baseline(opts.baseline)
    # compile the sieve's loops once (numba, on first use in a process)
    cpu = time.process_time()
    warm = np.argsort(-counts)[min(30, n_areas - 1)]
    rows = np.flatnonzero(area == warm)
    disc_union._disc_union(np.column_stack([x[rows], y[rows]]), params)
    print(f"first call (compiles the sieve): {time.process_time() - cpu:.2f} s CPU")

    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    results: dict[str, Any] = {}
    for _ in range(opts.rounds):
        for name, module in (("baseline", base), ("new", disc_union)):
            for mode, threads in (("serial", False), ("threaded", True)):
                cpu_s, wall_s, out = _run(module, args, threads)
                times.setdefault((name, mode), []).append((cpu_s, wall_s))
                results[name] = out
    print(f"{'run':<10}{'mode':<10}{'CPU s':>8}{'wall s':>8}{'CPU ratio':>11}{'wall ratio':>11}")
    for mode in ("serial", "threaded"):
        b_cpu, b_wall = (min(t[i] for t in times[("baseline", mode)]) for i in (0, 1))
        for name in ("baseline", "new"):
            cpu_s, wall_s = (min(t[i] for t in times[(name, mode)]) for i in (0, 1))
            print(
                f"{name:<10}{mode:<10}{cpu_s:>8.2f}{wall_s:>8.2f}"
                f"{b_cpu / cpu_s:>11.2f}{b_wall / wall_s:>11.2f}"
            )
    print(f"load {os.getloadavg()[0]:.2f} (best of {opts.rounds} rounds)")

    new, old = results["new"], results["baseline"]
    worst = max(_relative_difference(a, b) for a, b in zip(new, old, strict=True) if b is not None)
    valid = bool(shapely.is_valid(new[np.not_equal(new, None)]).all())
    print(f"against the baseline: largest relative symmetric difference {worst:.1e}; valid {valid}")
    kept = np.zeros(2, dtype=np.int64)
    inner = params.radius_m * math.cos(math.pi / (4 * params.quad_segs))
    cell = params.radius_m / disc_union._CELLS_PER_RADIUS
    offsets = disc_union._offsets(params)
    order = np.argsort(area, kind="stable")
    bounds = np.searchsorted(area[order], np.arange(n_areas + 1))
    sieved = np.flatnonzero(counts >= disc_union._SIEVE_MIN_POINTS)
    for a in sieved:
        rows = order[bounds[a] : bounds[a + 1]]
        pts = np.column_stack([x[rows], y[rows]])
        raster = disc_union._boundary_discs(pts, params.radius_m, inner, cell)
        keep = disc_union._sieve(pts, offsets, params.radius_m, inner, cell)
        kept += [int(raster.sum()), int(keep.sum())]
    print(
        f"{sieved.size} sieved areas, {counts[sieved].sum():,} discs: the raster keeps "
        f"{kept[0]:,}, the edge test {kept[1]:,} of those"
    )
    for a in np.argsort(-counts)[1:4]:
        rows = np.flatnonzero(area == a)
        plain = shapely.union_all(disc_union._discs(x[rows], y[rows], params))
        diff = _relative_difference(new[a], plain)
        print(f"area of {rows.size:,} points against plain union_all: {diff:.1e}")
        worst = max(worst, diff)
    if worst > 1e-9 or not valid:
        raise SystemExit("the disc unions differ")


if __name__ == "__main__":
    main()
