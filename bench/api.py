"""Benchmark the HTTP service under bounded concurrent load on loopback.

    python bench/api.py [--inputs runs/demo/inputs] [--scale 0.1] [--clients 50]
                        [--duration 10] [--repeat 1] [--workspace DIR] [--python-client]

Starts ``gapmap serve`` (the command a user runs) in a subprocess on a free loopback port
(a fresh workspace with an SQLite catalog, or ``--workspace DIR`` to keep it between bench
runs), uploads the demo inputs (the full demo under ``runs/demo/inputs`` when present,
written by ``make demo``; otherwise generated at ``--scale``), runs the analysis through
the API (skipped when the workspace already holds a succeeded run), then drives each
scenario with ``--clients`` concurrent keep-alive connections:

* lookup by coordinates (nearest address, cKDTree) at addresses of the run,
* lookup by text ("street number, place"),
* the Gemeinde summary (JSON).

The load generator is ``wrk`` (``apt-get install wrk``; one thread, a Lua script cycling
through fixed URLs, ``--duration`` seconds per scenario). wrk is a C program that costs far
less CPU than a Python client, which matters when client and server share a small machine.
Without wrk on PATH (or with ``--python-client``) the bench falls back to httpx AsyncClient
workers sharing ``--requests`` requests; that client eats about a core itself, so its
latencies are pessimistic - the table says which generator produced the figures.

Prints p50/p99 latency (ms), requests per second, non-2xx/socket errors and the server's CPU
time per request (from /proc) per scenario and repetition, and whether the target (p99 below
``--target-p99-ms`` at this concurrency) is met. Requests that build the per-run indexes are
made before timing (warm-up).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: A wrk Lua script: read the URL paths (one per line) from the file given after ``--`` and
#: cycle through them; the key header comes from ``-H``.
WRK_LUA = """
local paths = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
end
function request()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
"""


@dataclass
class Result:
    """Figures of one scenario run."""

    requests: int
    p50_ms: float
    p99_ms: float
    rps: float
    errors: int
    cpu_ms: float = float("nan")  # server CPU time per request


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_command() -> list[str]:
    """``gapmap serve`` from the same environment (the console script), else ``-m api.cli.commands``."""
    script = Path(sys.executable).with_name("gapmap")
    if script.is_file():
        return [str(script), "serve"]
    found = shutil.which("gapmap")
    return [found, "serve"] if found else [sys.executable, "-m", "api.cli.commands", "serve"]


def _start(workspace: Path, key: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GAPMAP_BOOTSTRAP_ADMIN_KEY": key}
    cmd = [
        *_serve_command(),
        "--port",
        str(port),
        "--workspace",
        str(workspace),
        "--log-level",
        "warning",
    ]
    with log.open("wb") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    return proc, wait_until_up(proc, port, log)


def wait_until_up(proc: subprocess.Popen[bytes], port: int, log: Path) -> str:
    """The server's URL once ``/health`` answers 200 (up to a minute; exits with its log
    when it stops or never answers)."""
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc); NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


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
        done = c.get("/runs", params={"state": "succeeded", "limit": 1}).json()["items"]
        if done:  # a kept --workspace: reuse its run
            return done[0]["id"], int(done[0]["counts"]["addresses"]), float("nan")
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


def _server_stack() -> str:
    """What uvicorn's "auto" loop and HTTP parser pick in this environment."""
    import importlib.util

    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"{loop} + {http}"


# -- load generators --------------------------------------------------------------------------
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not m:
        raise ValueError(f"cannot read wrk latency {text!r}")
    return float(m[1]) * _UNITS[m[2]]


def parse_wrk(out: str) -> Result:
    """p50/p99 (``--latency``), requests, req/s and errors from wrk's report."""
    pct = {int(p): _ms(v) for p, v in re.findall(r"^\s+(\d+)%\s+(\S+)\s*$", out, re.M)}
    total = re.search(r"^\s*(\d+) requests in", out, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    if not (total and rps and 50 in pct and 99 in pct):
        raise ValueError(f"cannot parse wrk output:\n{out}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors += int(non2xx[1]) if non2xx else 0
    return Result(int(total[1]), pct[50], pct[99], float(rps[1]), errors)


def _wrk(
    wrk: str, url: str, key: str, paths: list[str], clients: int, duration: float, tmp: Path
) -> Result:
    script, listing = tmp / "paths.lua", tmp / "paths.txt"
    script.write_text(WRK_LUA)
    listing.write_text("\n".join(paths) + "\n")
    cmd = [
        wrk,
        "-t1",
        f"-c{clients}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "--latency",
        "-H",
        f"X-API-Key: {key}",
        "-s",
        str(script),
        url,
        "--",
        str(listing),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


async def _python_load(url: str, key: str, paths: list[str], clients: int, total: int) -> Result:
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
                t0 = time.perf_counter()
                try:
                    r = await client.get(paths[i % len(paths)])
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
    return Result(len(latencies), q[49] * 1000, q[98] * 1000, len(latencies) / wall, errors)


def _warm_up(url: str, key: str, paths: list[str]) -> None:
    """Build the run's indexes and caches before timing; every warm-up request must succeed."""
    with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=600) as c:
        for path in paths[:20]:
            r = c.get(path)
            if r.status_code != 200:
                raise SystemExit(f"warm-up GET {path} -> {r.status_code}: {r.text[:300]}")


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
    parser.add_argument("--clients", type=int, default=50, help="concurrent connections")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario (wrk)")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per scenario")
    parser.add_argument(
        "--requests", type=int, default=3000, help="requests per scenario (Python client only)"
    )
    parser.add_argument("--target-p99-ms", type=float, default=50.0)
    parser.add_argument(
        "--workspace", type=Path, help="keep the service workspace here (reuses its run)"
    )
    parser.add_argument(
        "--python-client", action="store_true", help="use the httpx client even with wrk"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    wrk = None if args.python_client else shutil.which("wrk")
    key = "gm_bench-" + secrets.token_hex(12)
    with tempfile.TemporaryDirectory(prefix="gapmap-bench-") as tmp_name:
        tmp = Path(tmp_name)
        files, as_of, what = _inputs(args, tmp)
        workspace = args.workspace or tmp / "ws"
        proc, url = _start(workspace, key, tmp / "server.log")
        try:
            run_id, n_addr, run_s = _prepare(url, key, files, as_of)
            sample = _samples(url, key, run_id, 1000, args.seed)
            points = [(a["lon"], a["lat"]) for a in sample]
            texts = [
                f"{a['street']} {a['house_number']}{a.get('suffix') or ''}, {a['place']}"
                for a in sample
                if a.get("street") and a.get("house_number")
            ]
            scenarios: dict[str, list[str]] = {
                "lookup lon/lat": [
                    "/lookup?" + urlencode({"lon": lon, "lat": lat}) for lon, lat in points
                ],
                "lookup text": ["/lookup?" + urlencode({"q": t}) for t in texts],
                "summary gemeinde": [f"/runs/{run_id}/summary?level=gemeinde"],
            }
            how = "reused run" if run_s != run_s else f"analysed via the API in {run_s:.1f} s"
            print(f"gapmap service bench: {what}; run {run_id}: {n_addr:,} addresses, {how}")
            if wrk:
                gen = f"wrk -t1 -c{args.clients} -d{max(1, round(args.duration))}s ({wrk})"
            else:
                gen = (
                    f"Python httpx client, {args.clients} connections, {args.requests} requests"
                    " (NOTE: wrk not used; the client competes with the server for CPU, so"
                    " latencies are pessimistic)"
                )
            print(
                f"loopback, `{' '.join(_serve_command())}` (one process, {_server_stack()}); load: {gen}\n"
            )
            header = f"{'scenario':<18} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'errors':>6} {'cpu ms/req':>10}"
            print(header)
            p99s: dict[str, list[float]] = {}
            for name, paths in scenarios.items():
                _warm_up(url, key, paths)
                for _ in range(args.repeat):
                    cpu0 = _cpu_s(proc.pid)
                    if wrk:
                        res = _wrk(wrk, url, key, paths, args.clients, args.duration, tmp)
                    else:
                        res = asyncio.run(
                            _python_load(url, key, paths, args.clients, args.requests)
                        )
                    res.cpu_ms = (_cpu_s(proc.pid) - cpu0) * 1000 / max(res.requests, 1)
                    p99s.setdefault(name, []).append(res.p99_ms)
                    print(
                        f"{name:<18} {res.requests:>8d} {res.p50_ms:>8.1f} {res.p99_ms:>8.1f} {res.rps:>8.0f} {res.errors:>6d} {res.cpu_ms:>10.2f}",
                        flush=True,
                    )
            print()
            for name, values in p99s.items():
                worst = max(values)
                ok = worst < args.target_p99_ms
                print(
                    f"target p99 < {args.target_p99_ms:g} ms at {args.clients} clients, {name}: "
                    f"{'met' if ok else 'NOT met'} (p99 {min(values):.1f}-{worst:.1f} ms)"
                )
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
