"""Join + classify alone (the stages "join" and "classify" of ``gapmap run`` in one process),
this checkout against a baseline checkout, on the same inputs in the same run.

    python bench/classify.py [--addresses 1000000] [--data /tmp/gapmap-e2e] [--keep /tmp/gapmap-classify]
                             [--profile de-gigabit] [--baseline /work/main] [--no-baseline]

Inputs: the first ``--addresses`` addresses of ``addresses_hilbert.parquet`` (the demo's ~5.0M
addresses, spatially sorted, as ``bench/e2e.py`` writes them) against the dense coverage
(``coverage_dense.parquet``: 20,000 polygons, ~32 covering polygons per address), read once
through the run's own readers and kept in ``<keep>/inputs-<n>.pkl``. Both checkouts run
``pair_chunks`` + ``classify_in_chunks`` (the run's chunk size) on them; the baseline in its
own virtual environment, in a child process. Prints seconds per stage, the ratio
baseline / this checkout, and whether every result column is equal (a difference stops the
bench with exit code 1). Each checkout runs twice (after a warm-up that compiles its loops);
the shortest time of each stage counts, as wall seconds and as CPU seconds of the process
(the latter hardly change with the load of a shared machine).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any

from checkout import result_in

ROOT = Path(__file__).resolve().parents[1]


def prepare(data: Path, keep: Path, n: int) -> Path:
    """The run's inputs of join + classify for the first ``n`` addresses, read once."""
    keep.mkdir(parents=True, exist_ok=True)
    cache = keep / f"inputs-{n}.pkl"
    if cache.exists():
        return cache
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    from coverage.pipeline import LayerSpec
    from coverage.profiles import load_profile
    from coverage.run_inputs import load_addresses, load_coverage, region_for_profile

    source = data / "addresses_hilbert.parquet"
    head = keep / f"addresses-{n}.parquet"
    if not head.exists():
        table = pq.ParquetFile(source).read()
        pq.write_table(table.slice(0, n), head)
        del table
    as_of = json.loads((data / "scale-13.2.json").read_text())["as_of"]
    profile = load_profile("de-gigabit", _date(as_of))
    region = region_for_profile(None, profile)
    addresses, _, _ = load_addresses(LayerSpec(head), region)
    offers, _, _ = load_coverage([LayerSpec(data / "coverage_dense.parquet")], region)
    kept = {
        "x": np.asarray(addresses.geometry.values.x),
        "y": np.asarray(addresses.geometry.values.y),
        "attributes": pd.DataFrame(addresses.drop(columns="geometry")),
        "offer_table": pd.DataFrame(offers.drop(columns="geometry")),
        "polygons": np.asarray(offers.geometry.values, dtype=object),
        "as_of": as_of,
    }
    with cache.open("wb") as fh:
        pickle.dump(kept, fh, protocol=5)
    return cache


def _date(text: str) -> Any:
    from datetime import date

    return date.fromisoformat(text)


class _Tracker:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def stage(self, name: str, within: float = 0.0) -> None:
        pass


def measure(cache: Path, profile_id: str, out: Path, repeat: int = 2) -> dict[str, float]:
    """join + classify of this interpreter's ``coverage`` on the kept inputs, ``repeat``
    times; the results go to ``out`` (pickle); returns the shortest seconds of each stage
    (wall, and CPU seconds of this process, which a loaded machine disturbs less)."""
    from coverage.memory import release_free_memory
    from coverage.pipeline import RunOptions
    from coverage.profiles import load_profile
    from coverage.run_classify import classify_in_chunks
    from coverage.run_pairs import pair_chunks

    with cache.open("rb") as fh:
        inputs = pickle.load(fh)
    as_of = _date(inputs["as_of"])
    profile = load_profile(profile_id, as_of)
    options = RunOptions(as_of=as_of, profile=profile_id)
    # compile the compiled loops outside the timing, on a few addresses (in one chunk, as
    # the timed run: neighbours share offer lists, so every path of the run is taken)
    tiny = slice(0, 20_000)
    warm = pair_chunks(inputs["x"][tiny], inputs["y"][tiny], inputs["polygons"], [], [], 20_000)
    classify_in_chunks(
        inputs["attributes"].iloc[tiny], inputs["offer_table"], warm, profile, as_of, options,
        _Tracker(),
    )  # fmt: skip
    import coverage.run_classify as run_classify

    best: dict[str, float] = {}
    classify_cpu = [0.0]
    original = run_classify.classify

    def counted(*args: Any, **kwargs: Any) -> Any:
        c = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            classify_cpu[0] += time.process_time() - c

    run_classify.classify = counted
    try:
        for _ in range(repeat):
            tracker, classify_cpu[0] = _Tracker(), 0.0
            release_free_memory()
            t, c = time.perf_counter(), time.process_time()
            chunks = pair_chunks(
                inputs["x"], inputs["y"], inputs["polygons"], [], [], options.classify_chunk
            )
            results, n_pairs = classify_in_chunks(
                inputs["attributes"], inputs["offer_table"], chunks, profile, as_of, options,
                tracker,
            )  # fmt: skip
            cpu = time.process_time() - c
            seconds = {
                **tracker.timings,
                "join + classify": time.perf_counter() - t,
                "CPU join": cpu - classify_cpu[0],
                "CPU classify": classify_cpu[0],
                "CPU join + classify": cpu,
            }
            best = {k: min(v, best.get(k, v)) for k, v in seconds.items()}
            del chunks
    finally:
        run_classify.classify = original
    with out.open("wb") as fh:
        pickle.dump(results, fh, protocol=5)
    return {**best, "pairs": float(n_pairs)}


def baseline(checkout: Path, cache: Path, profile_id: str, out: Path) -> dict[str, float] | None:
    """:func:`measure` with another checkout's code (its own venv), in a child process."""
    return result_in(
        checkout,
        "import classify as bench; from pathlib import Path; "
        "s = bench.measure(Path(sys.argv[3]), sys.argv[4], Path(sys.argv[5]))",
        str(cache), profile_id, str(out),
    )  # fmt: skip


def differences(a: Any, b: Any) -> list[str]:
    """The result columns that differ (values and dtypes; empty: identical)."""
    import pandas as pd

    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return ["columns or length"]
    bad = []
    for col in a.columns:
        try:
            pd.testing.assert_series_equal(a[col], b[col], check_categorical=False)
        except AssertionError:
            bad.append(col)
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--addresses", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=Path("/tmp/gapmap-e2e"))
    parser.add_argument("--keep", type=Path, default=Path("/tmp/gapmap-classify"))
    parser.add_argument("--profile", default="de-gigabit")
    parser.add_argument("--baseline", type=Path, default=Path("/work/main"))
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    cache = prepare(args.data, args.keep, args.addresses)
    print(f"{args.addresses:,} addresses (first of {args.data / 'addresses_hilbert.parquet'}) x "
          f"dense coverage, profile {args.profile}; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} (shared machine)", flush=True)  # fmt: skip
    ours_out, base_out = args.keep / "results-new.pkl", args.keep / "results-baseline.pkl"
    base = None
    if not args.no_baseline:
        base = baseline(args.baseline, cache, args.profile, base_out)
    ours = measure(cache, args.profile, ours_out)
    print(f"  pairs {int(ours['pairs']):,} ({ours['pairs'] / args.addresses:.1f} per address)")
    print(f"  {'stage':<16} {'baseline':>9} {'this':>9} {'ratio':>7}")
    for key in ("join", "classify", "join + classify", "CPU join", "CPU classify",
                "CPU join + classify"):  # fmt: skip
        if base is None:
            print(f"  {key:<16} {'-':>9} {ours[key]:9.2f}")
        else:
            print(f"  {key:<16} {base[key]:9.2f} {ours[key]:9.2f} {base[key] / ours[key]:6.2f}x")
    if base is None:
        return 0
    with ours_out.open("rb") as fh:
        a = pickle.load(fh)
    with base_out.open("rb") as fh:
        b = pickle.load(fh)
    bad = differences(a, b)
    print(
        "  results: " + ("identical (every column)" if not bad else "DIFFER in " + ", ".join(bad))
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
