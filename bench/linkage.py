"""The gap areas' linkage alone: this checkout's ``linkage_forest`` against another revision's.

    python bench/linkage.py INPUTS.pkl [--baseline-ref main] [--repeat 2]

``INPUTS.pkl`` holds the ``(args, kwargs)`` of one ``linkage_forest`` call, as captured from
a run of the rural step (``args = (x, y, max_edge)``). The baseline is the module
``coverage/rural/linkage.py`` of the git revision ``--baseline-ref``, loaded next to this
checkout's, so both run in this process on the same arrays, one after the other.

Printed per variant (default strips on threads; one strip): wall seconds and CPU seconds
(all threads of the process), the best of ``--repeat`` runs, and the ratio baseline / this
checkout, also with the first call of this checkout's compiled loops (numba, on a few
points; once per process) added. The clusters and the trench length per cluster (forest
lengths summed shortest first, as ``coverage.rural.gaps`` does) of both are compared; a
difference stops the bench.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _baseline_module(ref: str) -> Any:
    """``coverage/rural/linkage.py`` of git revision ``ref`` as a module of its own."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:coverage/rural/linkage.py"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(source)
    spec = importlib.util.spec_from_file_location("baseline_linkage", fh.name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    Path(fh.name).unlink()
    return module


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best wall and best CPU seconds of ``repeat`` calls, and the last result."""
    wall, cpu, out = np.inf, np.inf, None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu, out


def _clusters(forest: tuple[Any, Any, Any], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per point the smallest point of its cluster; per cluster (in that order) its trench."""
    from coverage.rural.linkage import forest_clusters

    comp, trench = forest_clusters(*forest, n)
    first = np.full(trench.size, n)
    np.minimum.at(first, comp, np.arange(n))
    return first[comp], trench[np.argsort(first)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", type=Path)
    ap.add_argument("--baseline-ref", default="main")
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from coverage.rural import linkage

    old = _baseline_module(a.baseline_ref)
    with a.inputs.open("rb") as fh:
        args, kwargs = pickle.load(fh)
    n = args[0].size
    print(f"{n:,} points, link distance {args[2]:.6f} m, load {os.getloadavg()[0]:.2f}")

    w0, c0 = time.perf_counter(), time.process_time()
    tiny = np.array([0.0, 1.0, 0.0, 1.0])
    linkage.linkage_forest(tiny, np.array([0.0, 0.0, 1.0, 1.5]), 2.0, compiled=True)
    first = time.perf_counter() - w0, time.process_time() - c0
    print(f"first call on 4 points (compiles): {first[0]:.2f} s wall, {first[1]:.2f} s CPU")

    variants = {"strips on threads": {}, "one strip": {"strip_points": n}}
    print(f"{'variant':<20}{'code':<10}{'wall s':>9}{'CPU s':>9}{'CPU ratio':>11}")
    for name, extra in variants.items():
        kw = dict(kwargs, **extra)
        ow, oc, of = _timed(lambda kw=kw: old.linkage_forest(*args, **kw), a.repeat)
        nw, nc, nf = _timed(lambda kw=kw: linkage.linkage_forest(*args, **kw), a.repeat)
        print(f"{name:<20}{'baseline':<10}{ow:>9.2f}{oc:>9.2f}")
        print(f"{'':<20}{'this':<10}{nw:>9.2f}{nc:>9.2f}{oc / nc:>10.1f}x")
        print(f"{'':<20}{'+ compile':<10}{nw + first[0]:>9.2f}{nc + first[1]:>9.2f}"
              f"{oc / (nc + first[1]):>10.1f}x")  # fmt: skip
        (ol, ot), (nl, nt) = _clusters(of, n), _clusters(nf, n)
        if not np.array_equal(ol, nl):
            print("the clusters differ", file=sys.stderr)
            return 1
        worst = float(np.max(np.abs(ot - nt) / np.maximum(ot, 1.0), initial=0.0))
        print(f"{'':<20}same {ot.size:,} clusters; trench per cluster differs by <= {worst:.1e}")
        if worst > 1e-12:
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
