"""Benchmark the web face: vector-tile latency (uncached and cached) and page sizes.

    python bench/web.py --workspace WS [--scale 0.1] [--clients 50] [--requests 3000]

``WS`` is a service workspace with a succeeded run, as ``gapmap demo-workspace --workspace
WS`` makes one (the bench makes it at ``--scale`` when the workspace has none). The bench
starts ``gapmap serve`` on a free loopback port, takes the newest succeeded run, and:

* index: the first address tile of the process (loads the run's addresses and sorts them
  by quadkey) - a one-off per run and process, reported separately;
* uncached: every distinct address-level tile (z15/z16 around sampled addresses, plus the
  z9 Gemeinde tiles) requested once with the disk cache emptied first (``WS/tiles/<run>``
  is the bench's own cache, rebuilt on demand), ``--clients`` at a time;
* cached: ``--requests`` requests spread over the same tiles, ``--clients`` at a time;
* baseline: ``/health`` under the same load (what this machine and client give at all);
* pages: HTML size of sign-in, runs, report, Gemeinde and map pages, and the report's time.

Prints p50/p99 (ms), requests per second and errors per scenario, and the targets of
issue 22 (address tile p99 < 50 ms cached, < 300 ms uncached, 0 errors; pages < 300 KB;
report < 1 s). Client and server share the machine (httpx costs CPU too): figures are
pessimistic. Everything is bounded: a fixed number of requests and a 60 s timeout each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    from api.service.tile_index import lonlat_to_unit

    u, v = lonlat_to_unit(np.array([lon]), np.array([lat]))
    return int(u[0] * 2**z), int(v[0] * 2**z)


async def _load(urls: list[str], base: str, headers: dict[str, str], clients: int) -> dict:
    latencies: list[float] = []
    errors = 0
    kinds: dict[str, int] = {}
    queue = list(reversed(urls))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as c:

        async def worker() -> None:
            nonlocal errors
            while queue:
                url = queue.pop()
                t0 = time.perf_counter()
                try:
                    r = await c.get(url)
                    kind = "" if r.status_code == 200 else f"HTTP {r.status_code}"
                except httpx.HTTPError as exc:
                    kind = type(exc).__name__
                latencies.append((time.perf_counter() - t0) * 1000)
                if kind:
                    errors += 1
                    kinds[kind] = kinds.get(kind, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - started
    lat = sorted(latencies)
    return {
        "n": len(lat),
        "p50": statistics.median(lat),
        "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        "rps": len(lat) / wall,
        "errors": errors,
        "kinds": kinds,
    }


def _ensure_workspace(ws: Path, scale: float) -> None:
    if (ws / "gapmap.db").is_file():
        return
    subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "demo-workspace",
            "--workspace",
            str(ws),
            "--scale",
            str(scale),
        ],
        cwd=ROOT,
        check=True,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workspace", type=Path, required=True)
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--sample", type=int, default=300, help="addresses whose tiles are cut")
    args = ap.parse_args()
    ws = args.workspace.resolve()
    _ensure_workspace(ws, args.scale)
    admin = "gm_bench-" + secrets.token_hex(12)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GAPMAP_BOOTSTRAP_ADMIN_KEY": admin}
    log = ws / "bench-web-server.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "api.cli",
                "serve",
                "--workspace",
                str(ws),
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    headers = {"X-API-Key": admin}
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise SystemExit(f"server did not start; see {log}")
        api = httpx.Client(base_url=base, headers=headers, timeout=120)
        runs = api.get("/runs", params={"state": "succeeded"}).json()["items"]
        if not runs:
            raise SystemExit(f"{ws} has no succeeded run; make one with gapmap demo-workspace")
        run = runs[0]
        run_id = run["id"]
        total = (run.get("counts") or {}).get("addresses")
        shutil.rmtree(ws / "tiles" / run_id, ignore_errors=True)
        gemeinden = api.get(f"/runs/{run_id}/summary", params={"level": "gemeinde"}).json()["items"]
        sample = []
        for g in gemeinden[:: max(1, len(gemeinden) // 25)]:
            sample += api.get(
                f"/runs/{run_id}/addresses", params={"ags": g["ags"], "limit": 40}
            ).json()["items"]
        rng = np.random.default_rng(1)
        picks = [
            sample[i] for i in rng.choice(len(sample), min(args.sample, len(sample)), replace=False)
        ]
        tiles = sorted({(z, *_tile(a["lon"], a["lat"], z)) for a in picks for z in (15, 16)})
        urls = [f"/runs/{run_id}/tiles/addresses/{z}/{x}/{y}.mvt" for z, x, y in tiles]
        first = urls.pop()
        t0 = time.perf_counter()
        api.get(first).raise_for_status()
        index_s = time.perf_counter() - t0
        gem = sorted({_tile(a["lon"], a["lat"], 11) for a in picks})
        gem_urls = [f"/runs/{run_id}/tiles/gemeinden/11/{x}/{y}.mvt" for x, y in gem]
        api.get(gem_urls[0]).raise_for_status()  # builds the Gemeinde index
        results = {
            "baseline: /health": asyncio.run(
                _load(["/health"] * min(args.requests, 1000), base, headers, args.clients)
            ),
            "address tiles, uncached": asyncio.run(_load(urls, base, headers, args.clients)),
            "address tiles, cached": asyncio.run(
                _load(
                    [urls[i % len(urls)] for i in range(args.requests)], base, headers, args.clients
                )
            ),
            "Gemeinde tiles z11, uncached": asyncio.run(
                _load(gem_urls[1:], base, headers, args.clients)
            ),
        }
        sizes = [len(api.get(u).content) for u in urls[:200]]
        # pages, through a signed-in browser session
        browser = httpx.Client(base_url=base, timeout=120, follow_redirects=True)
        token = re.search(r'name="csrf" value="([^"]+)"', browser.get("/ui/login").text).group(1)
        browser.post("/ui/login", data={"key": admin, "csrf": token})
        pages = {}
        for name, url in (
            ("sign-in", "/ui/login"),
            ("runs", "/ui/runs"),
            ("report", f"/ui/runs/{run_id}"),
            ("report (again)", f"/ui/runs/{run_id}"),
            ("Gemeinde", f"/ui/runs/{run_id}/gemeinde/05974044"),
            ("map", f"/ui/runs/{run_id}/map"),
        ):
            t0 = time.perf_counter()
            r = browser.get(url)
            pages[name] = (r.status_code, len(r.content), (time.perf_counter() - t0) * 1000)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(
        f"run {run_id}: {total:,} addresses; {len(urls) + 1} address tiles (z15/z16), "
        f"mean {statistics.mean(sizes) / 1024:.1f} KB; {args.clients} clients on loopback"
    )
    print(f"first address tile (loads and indexes the run's addresses): {index_s * 1000:.0f} ms")
    print(f"{'scenario':32} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'errors':>7}")
    for name, r in results.items():
        print(
            f"{name:32} {r['n']:6d} {r['p50']:8.1f} {r['p99']:8.1f} {r['rps']:8.0f} {r['errors']:7d}"
        )
    print(f"{'page':16} {'status':>6} {'KB':>8} {'ms':>8}")
    for name, (status, size, ms) in pages.items():
        print(f"{name:16} {status:6d} {size / 1024:8.1f} {ms:8.0f}")
    cached, uncached = results["address tiles, cached"], results["address tiles, uncached"]
    print(
        "targets: cached p99 < 50 ms: {}; uncached p99 < 300 ms: {}; 0 errors: {}; pages < 300 KB: {}; report < 1 s: {}".format(
            cached["p99"] < 50,
            uncached["p99"] < 300,
            all(r["errors"] == 0 for r in results.values()),
            all(size < 300 * 1024 for _, size, _ in pages.values()),
            pages["report (again)"][2] < 1000,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
