"""Benchmark the kernel against geopandas, PostGIS and DuckDB spatial on realistic data.

    python bench/kernel.py --quick          # 1M addresses x 20k polygons (make bench)
    python bench/kernel.py                  # 100k, 1M and 5M addresses, all engines
    python bench/kernel.py --addresses 1000000 --no-postgis --no-duckdb

Data: bench/kernel_data.py (deterministic, seeded; ~12 coverage polygons per address).

The task, timed on one core per engine in the same run (methods alternate, best of
``--repeat`` counts; load from other processes hits all alike):
(1) gapmap: ``points_in_polygons`` + ``reduce_max_per_point`` (best down_mbps per address);
(2) baseline: ``geopandas.sjoin(points, polygons, predicate="within")`` +
    ``groupby(level=0)["down_mbps"].max()``;
(3) PostGIS 3 / PostgreSQL 15 (started here as a throwaway cluster when run as root) and
(4) DuckDB spatial (threads = 1): ``max(down) ... JOIN ... ON ST_Intersects GROUP BY``,
    query time only (loading and GiST indexes are reported separately).
Every result must equal gapmap's exactly (NaN for uncovered addresses).
"""

from __future__ import annotations

import os

# single core for every library that would otherwise start a thread pool
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402 (thread limits must be set before numpy loads)
import platform  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from kernel_data import CRS, make_dataset  # noqa: E402
from kernel_sql import DuckDB, PostGIS  # noqa: E402

from coverage.kernel.join import brute_force_pairs, points_in_polygons, reduce_max_per_point  # noqa: E402


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _same(a: np.ndarray, b: np.ndarray) -> int:
    """Number of addresses whose best value differs (NaN equals NaN)."""
    return int((~((a == b) | (np.isnan(a) & np.isnan(b)))).sum())


def bench_size(n: int, m: int, args: argparse.Namespace, engines: dict) -> dict:
    t = time.perf_counter()
    x, y, polys, down = make_dataset(n, m, args.seed)
    nv = shapely.get_num_coordinates(polys)
    print(
        f"\n== {n:,} addresses x {len(polys):,} polygons (seed {args.seed}, built in "
        f"{time.perf_counter() - t:.1f} s); vertices per polygon min {nv.min()}, median "
        f"{int(np.median(nv))}, max {nv.max()}, total {nv.sum():,}",
        flush=True,
    )

    def run_gapmap() -> tuple[float, float, np.ndarray, np.ndarray]:
        t = time.perf_counter()
        p, q = points_in_polygons(x, y, polys, cell_size=args.cell_size)
        t_join = time.perf_counter() - t
        best = reduce_max_per_point(p, down, n, value_idx=q)
        return time.perf_counter() - t, t_join, p, best

    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=CRS)
    areas = gpd.GeoDataFrame({"down_mbps": down}, geometry=polys, crs=CRS)

    def run_geopandas() -> tuple[float, np.ndarray]:
        t = time.perf_counter()
        joined = gpd.sjoin(points, areas, predicate="within")
        base = joined.groupby(level=0)["down_mbps"].max()
        elapsed = time.perf_counter() - t
        return elapsed, base.reindex(pd.RangeIndex(n)).to_numpy(np.float64)

    repeat = max(args.repeat, 1)
    base_repeat = 1 if (n >= 5_000_000 and not args.quick) else repeat
    t_g = t_j = t_b = np.inf
    base_best = None
    for i in range(repeat):
        tg, tj, p, best = run_gapmap()
        t_g, t_j = min(t_g, tg), min(t_j, tj)
        if not args.skip_baseline and i < base_repeat:
            tb, base_best = run_geopandas()
            t_b = min(t_b, tb)
    out = {"n": n, "gapmap": t_g, "pairs": len(p)}
    print(
        f"gapmap    : {t_g:7.2f} s  ({n / t_g:,.0f} addresses/s; join {t_j:.2f} s, "
        f"{len(p):,} pairs, {int(np.isfinite(best).sum()):,} addresses covered)",
        flush=True,
    )
    sample = np.random.default_rng(args.seed + 1).choice(n, min(2000, n), replace=False)
    sample.sort()
    bp, bq = brute_force_pairs(x[sample], y[sample], polys)
    sb = reduce_max_per_point(bp, down[bq], len(sample))
    oracle_ok = _same(sb, best[sample]) == 0
    print(f"oracle check on {len(sample):,} sampled addresses: {'ok' if oracle_ok else 'MISMATCH'}")
    out["ok"] = oracle_ok
    if base_best is not None:
        diff = _same(best, base_best)
        out["geopandas"], out["ok"] = t_b, out["ok"] and diff == 0
        print(f"geopandas : {t_b:7.2f} s  ({n / t_b:,.0f} addresses/s), best of {base_repeat}")
        print(f"identical results: {'yes' if diff == 0 else 'no'} ({diff} differences)")
        print(f"speedup vs geopandas sjoin: {t_b / t_g:.1f}x", flush=True)
    for name, engine in engines.items():
        t_load = engine.load(x, y, polys, down)
        t_q, got = engine.run_query(n)
        diff = _same(best, got)
        out[name], out["ok"] = t_q, out["ok"] and diff == 0
        print(
            f"{name:<10}: {t_q:7.2f} s  ({n / t_q:,.0f} addresses/s; load + index "
            f"{t_load:.1f} s); identical results: {'yes' if diff == 0 else 'no'}; "
            f"gapmap is {t_q / t_g:.1f}x faster",
            flush=True,
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--addresses", type=int, nargs="+", default=[100_000, 1_000_000, 5_000_000])
    parser.add_argument("--polygons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cell-size", type=float, default=None, help="metres (default: auto)")
    parser.add_argument(
        "--quick", action="store_true", help="1M x 20k only, all engines available (make bench)"
    )
    parser.add_argument("--skip-baseline", action="store_true", help="no geopandas run")
    parser.add_argument("--no-postgis", action="store_true")
    parser.add_argument("--no-duckdb", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs per method, best counts")
    args = parser.parse_args(argv)
    if args.quick:  # PostGIS and DuckDB still run where available (both take ~1 min at 1M)
        args.addresses = [1_000_000]

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} (other jobs share this machine); "
        f"shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), "
        f"geopandas {gpd.__version__}, numpy {np.__version__}"
    )
    engines: dict = {}
    try:
        for name, cls, skip in (
            ("PostGIS", PostGIS, args.no_postgis),
            ("DuckDB", DuckDB, args.no_duckdb),
        ):
            if skip:
                continue
            engine = cls.start()
            if isinstance(engine, str):
                print(engine)
            else:
                engines[name] = engine
                print(f"{name} {engine.version()} ready (one core)")
        results = [bench_size(n, args.polygons, args, engines) for n in args.addresses]
    finally:
        for engine in engines.values():
            engine.stop()

    print("\nsummary (seconds, best of runs; ratio = engine time / gapmap time)")
    cols = ["gapmap", "geopandas", *engines]
    print(f"{'addresses':>11} {'pairs':>12} " + " ".join(f"{c:>16}" for c in cols))
    for r in results:
        cells = [
            f"{r[c]:7.2f} ({r[c] / r['gapmap']:5.1f}x)" if c in r else f"{'-':>16}" for c in cols
        ]
        print(f"{r['n']:>11,} {r['pairs']:>12,} " + " ".join(f"{c:>16}" for c in cells))
    ok = all(r["ok"] for r in results)
    print(f"identical results: {'yes' if ok else 'no'}; peak RSS {_peak_rss_mib():,.0f} MiB")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
