"""Benchmark the interactive maps at full demo scale: HTML size and render time in Chromium.

    .venv/bin/python bench/maps.py [--run RUN_DIR] [--scale 1.0]

Without ``--run`` a demo run is built at ``--scale`` in a temporary directory. Prints, for the
whole region and for Warstein (05974044): address-layer kind, build time, HTML size and the
time headless Chromium needs until ``load`` and until every layer is added (the page sets
``window.gapmapReady`` after its last layer). Needs /usr/bin/chromium and playwright.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# this script is called maps.py: keep its own directory from shadowing the maps package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from coverage.io.rundir import load_run  # noqa: E402
from maps.assets import cdn_references  # noqa: E402
from maps.builders import address_layer_kind, build_run_map  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def render_times(pages: list[Path], repeats: int = 3) -> dict[Path, tuple[float, float, int]]:
    """Median (load ms, all-layers-added ms) and page-error count per page."""
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        for path in pages:
            loads, readies, errors = [], [], 0
            for _ in range(repeats):
                page = ctx.new_page()
                errs: list[str] = []
                page.on("pageerror", lambda e, errs=errs: errs.append(str(e)))
                page.goto(path.as_uri(), wait_until="load", timeout=120_000)
                page.wait_for_function("window.gapmapReady !== undefined", timeout=120_000)
                nav = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
                loads.append(nav)
                readies.append(max(nav, page.evaluate("window.gapmapReady")))
                errors += len(errs)
                page.close()
            out[path] = (sorted(loads)[len(loads) // 2], sorted(readies)[len(readies) // 2], errors)
        ctx.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="existing run directory")
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = args.run
        if run_dir is None:
            gapmap = Path(sys.executable).with_name("gapmap")
            subprocess.run(
                [str(gapmap), "demo", "--out", tmp, "--scale", str(args.scale)],
                check=True,
                capture_output=True,
            )
            run_dir = Path(tmp) / "run"
        pages = []
        for label, ags in (("region", None), ("Warstein", "05974044")):
            t0 = time.perf_counter()
            run = load_run(run_dir, ags=ags)
            t1 = time.perf_counter()
            html = build_run_map(run).get_root().render()
            t2 = time.perf_counter()
            path = Path(tmp) / f"bench_{label}.html"
            path.write_text(html, encoding="utf-8")
            pages.append(path)
            kind = address_layer_kind(len(run.addresses))
            print(
                f"{label:9s} {len(run.addresses):>8,} addresses -> {kind:7s} "
                f"load_run {t1 - t0:5.2f} s  build+render {t2 - t1:5.2f} s  "
                f"HTML {len(html.encode()) / 1e6:5.2f} MB  CDN refs {len(cdn_references(html))}"
            )
        for path, (load, ready, errors) in render_times(pages).items():
            print(
                f"{path.stem:18s} chromium: load {load / 1000:5.2f} s  all layers {ready / 1000:5.2f} s  page errors {errors}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
