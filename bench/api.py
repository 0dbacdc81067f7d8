"""Benchmark the HTTP service under bounded concurrent load on loopback.

    python bench/api.py [--scale 0.1] [--inputs runs/demo/inputs] [--clients 50] [--requests 3000]

Starts ``gapmap serve`` in a subprocess on a free loopback port (fresh workspace, SQLite
catalog), uploads the demo inputs (the full demo under ``runs/demo/inputs`` when present,
written by ``make demo``; otherwise generated at ``--scale``), runs the analysis through
the API, then drives each scenario with ``--clients`` concurrent httpx AsyncClient workers
sharing a bounded budget of ``--requests`` requests:

* lookup by coordinates (nearest address, cKDTree) at addresses of the run,
* lookup by text ("street number, place"),
* the Gemeinde summary (JSON).

Prints p50/p99 latency (ms), requests per second and errors per scenario. The first
requests that build the per-run indexes are made before timing (warm-up).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(workspace: Path, key: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GAPMAP_BOOTSTRAP_ADMIN_KEY": key}
    cmd = [
        sys.executable,
        "-m",
        "api.cli",
        "serve",
        "--port",
        str(port),
        "--workspace",
        str(workspace),
        "--log-level",
        "warning",
    ]
    with log.open("wb") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


def _inputs(args: argparse.Namespace, tmp: Path) -> tuple[dict[str, Path], str | None, str]:
    if args.inputs and (args.inputs / "addresses.parquet").is_file():
        files = {
            k: args.inputs / n
            for k, n in (
                ("addresses", "addresses.parquet"),
                ("coverage", "coverage.parquet"),
                ("boundaries", "boundaries.geojson"),
            )
        }
        return files, None, f"{args.inputs} (existing demo inputs)"
    from coverage.io.demo_files import write_demo_inputs

    demo = write_demo_inputs(tmp / "inputs", scale=args.scale)
    files = {"addresses": demo.addresses, "coverage": demo.coverage, "boundaries": demo.boundaries}
    return (
        files,
        demo.as_of.isoformat(),
        f"generated demo at scale {args.scale} ({demo.addresses_count:,} addresses)",
    )


def _prepare(
    url: str, key: str, files: dict[str, Path], as_of: str | None
) -> tuple[str, int, float]:
    with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=600) as c:
        ids = {}
        for kind, path in files.items():
            with path.open("rb") as fh:
                r = c.post("/datasets", files={"file": (path.name, fh)}, data={"kind": kind})
            r.raise_for_status()
            ids[kind] = r.json()["id"]
        body: dict[str, Any] = {
            "addresses": ids["addresses"],
            "coverage": [ids["coverage"]],
            "boundaries": ids["boundaries"],
        }
        if as_of:
            body["as_of"] = as_of
        t0 = time.perf_counter()
        run = c.post("/runs", json=body).json()
        while (state := c.get(f"/runs/{run['id']}").json())["state"] in ("queued", "running"):
            time.sleep(0.25)
        if state["state"] != "succeeded":
            raise SystemExit(f"run failed: {state}")
        return run["id"], int(state["counts"]["addresses"]), time.perf_counter() - t0


def _samples(url: str, key: str, run_id: str, n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=120) as c:
        items = c.get(f"/runs/{run_id}/addresses", params={"limit": 1000}).json()["items"]
    rng.shuffle(items)
    return items[:n]


async def _load(
    url: str, key: str, make: Callable[[int], tuple[str, dict[str, Any]]], clients: int, total: int
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)

    async def worker() -> None:
        nonlocal errors
        # one client (one keep-alive connection) per simulated user: a shared pool of 50
        # connections inside one httpx client is itself the bottleneck at this concurrency
        async with httpx.AsyncClient(
            base_url=url, headers={"X-API-Key": key}, limits=limits, timeout=60
        ) as client:
            await client.get("/health")
            await ready.wait()
            for i in counter:
                path, params = make(i)
                t0 = time.perf_counter()
                try:
                    r = await client.get(path, params=params)
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - t0)
                errors += not ok

    ready = asyncio.Event()
    tasks = [asyncio.create_task(worker()) for _ in range(clients)]
    await asyncio.sleep(0.5)  # connections opened before timing starts
    t0 = time.perf_counter()
    ready.set()
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
        "rps": len(latencies) / wall,
        "errors": errors,
    }


def main() -> None:
    """Parse arguments, start the server, prepare a run, drive the scenarios, print figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--inputs",
        type=Path,
        default=ROOT / "runs" / "demo" / "inputs",
        help="demo inputs directory (make demo)",
    )
    parser.add_argument(
        "--scale", type=float, default=0.1, help="demo scale when --inputs is absent"
    )
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--requests", type=int, default=3000, help="requests per scenario")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    key = "gm_bench-" + secrets.token_hex(12)
    with tempfile.TemporaryDirectory(prefix="gapmap-bench-") as tmp_name:
        tmp = Path(tmp_name)
        files, as_of, what = _inputs(args, tmp)
        proc, url = _start(tmp / "ws", key, tmp / "server.log")
        try:
            run_id, n_addr, run_s = _prepare(url, key, files, as_of)
            sample = _samples(url, key, run_id, 1000, args.seed)
            points = [(a["lon"], a["lat"]) for a in sample]
            texts = [
                f"{a['street']} {a['house_number']}{a.get('suffix') or ''}, {a['place']}"
                for a in sample
                if a.get("street") and a.get("house_number")
            ]
            scenarios: dict[str, Callable[[int], tuple[str, dict[str, Any]]]] = {
                "lookup lon/lat": lambda i: (
                    "/lookup",
                    {"lon": points[i % len(points)][0], "lat": points[i % len(points)][1]},
                ),
                "lookup text": lambda i: ("/lookup", {"q": texts[i % len(texts)]}),
                "summary gemeinde": lambda i: (f"/runs/{run_id}/summary", {"level": "gemeinde"}),
            }
            print(
                f"gapmap service bench: {what}; run {run_id}: {n_addr:,} addresses, analysed via the API in {run_s:.1f} s"
            )
            print(
                f"loopback, {args.clients} concurrent clients, {args.requests} requests per scenario, one uvicorn worker\n"
            )
            print(
                f"{'scenario':<18} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'errors':>6}"
            )
            for name, make in scenarios.items():
                asyncio.run(_load(url, key, make, 4, 20))  # warm-up: builds the run's indexes
                res = asyncio.run(_load(url, key, make, args.clients, args.requests))
                print(
                    f"{name:<18} {res['requests']:>8.0f} {res['p50_ms']:>8.1f} {res['p99_ms']:>8.1f} {res['rps']:>8.0f} {res['errors']:>6.0f}"
                )
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
