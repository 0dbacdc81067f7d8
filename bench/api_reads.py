"""Benchmark the service's reads (OGC address items, summaries, /profiles) against a baseline.

    python bench/api_reads.py [--scale 1.0] [--workspace DIR] [--clients 50] [--duration 10]
                              [--processes 2] [--baseline /path/to/other/checkout]

Starts ``gapmap serve`` of this checkout on a loopback port (a fresh workspace with an
SQLite catalog, or ``--workspace DIR`` to keep it and its run between bench runs), uploads
the demo inputs generated at ``--scale`` (1.0: the synthetic Suedwestfalen, 378,386
addresses), runs the analysis through the API, then starts a second server of this checkout
with ``--processes`` processes (``gapmap serve --processes``; 1: none) and the baseline's
``gapmap serve`` (``--baseline``: another checkout with its own ``.venv``, e.g. the main
branch, one process; none: no baseline) on the same workspace and drives every scenario on
the servers in turn with ``wrk`` (``apt-get install wrk``; one thread, ``--clients`` keep-alive connections, a Lua
script cycling through URLs generated here with a fixed seed):

* OGC address items, ``limit=100`` at random offsets;
* OGC address items, ``limit=100`` in random boxes (350 m to 11 km wide) at random offsets
  0-300 (pages past the matches are answered too, empty);
* the Gemeinde and Kreis summaries as JSON, CSV and CSV for German Excel (analyst key),
  the Gemeinde summary as CSV for a public key (the perturbed table);
* ``/profiles``;
* and first, as the floor: ``/ogc/conformance`` (no key, a constant document), what the
  framework, the loopback and the machine's load cost without any read.

A server that answers nothing within a scenario's duration is shown with p50 = p99 = the
duration (a lower bound).

Before each timed run every server gets the same untimed warm-up (a few requests, then
two seconds of wrk: each process of a server opens its stores and builds its bodies).
Prints p50/p99 (ms), requests per second, errors and the server's CPU time per request
(from /proc, summed over the server's processes: until it has answered the requests in
flight when wrk stopped, divided by wrk's requests plus those) per scenario and server, the ratio of the p99s, and PASS/MISS
against the targets (p99 under 100 ms for OGC items, under 50 ms for summaries and
/profiles), with the machine's load average before each scenario. The latencies are those
of a closed loop (each connection waits for its answer), so on a shared machine they carry
the load of everything else that runs; the CPU time per request carries much less of it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api import (  # noqa: E402
    WRK_LUA,
    Result,
    _cpu_s,
    _free_port,
    _inputs,
    _prepare,
    _server_stack,
    parse_wrk,
    wait_until_up,
)

TARGETS_MS = {"ogc": 100.0, "summary": 50.0, "profiles": 50.0}


def _tree_cpu_s(pid: int) -> float:
    """CPU seconds of a process and all its descendants (a server's worker processes)."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += _cpu_s(p)
        with contextlib.suppress(OSError):
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
    return total


def _serve(
    checkout: Path, workspace: Path, key: str, log: Path, processes: int = 1
) -> tuple[subprocess.Popen[bytes], str]:
    """``gapmap serve`` of ``checkout`` (its own .venv) on a free loopback port."""
    gapmap = checkout / ".venv" / "bin" / "gapmap"
    if not gapmap.is_file():
        raise SystemExit(f"{gapmap} not found: run `make install` in {checkout}")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(checkout), "GAPMAP_BOOTSTRAP_ADMIN_KEY": key}
    cmd = [str(gapmap), "serve", "--port", str(port), "--workspace", str(workspace)]
    if processes > 1:
        cmd += ["--processes", str(processes)]
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [*cmd, "--log-level", "warning"],
            cwd=checkout,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    return proc, wait_until_up(proc, port, log)


def _succeeded(url: str, key: str) -> bool:
    r = httpx.get(
        f"{url}/runs", params={"state": "succeeded", "limit": 1}, headers={"X-API-Key": key}
    )
    r.raise_for_status()
    return bool(r.json()["items"])


def _public_key(url: str, admin: str) -> str:
    r = httpx.post(
        f"{url}/keys",
        json={"role": "public", "name": "bench public"},
        headers={"X-API-Key": admin},
        timeout=30,
    )
    r.raise_for_status()
    return str(r.json()["key"])


def _scenarios(url: str, key: str, run_id: str, seed: int) -> dict[str, list[str]]:
    """Scenario name -> URL paths (random offsets and boxes drawn here, seeded)."""
    rng = random.Random(seed)
    with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=600) as c:
        first = c.get("/ogc/collections/addresses/items", params={"limit": 1})
        first.raise_for_status()
        n = int(first.json()["numberMatched"])
        coll = c.get("/ogc/collections/addresses").json()
    minx, miny, maxx, maxy = coll["extent"]["spatial"]["bbox"][0]
    items = "/ogc/collections/addresses/items?"
    offsets = [
        items + urlencode({"limit": 100, "offset": rng.randrange(0, max(1, n - 100))})
        for _ in range(2000)
    ]
    boxes = []
    for _ in range(2000):
        w = rng.uniform(0.005, 0.15)
        h = w * 0.65
        x, y = rng.uniform(minx, maxx - w), rng.uniform(miny, maxy - h)
        bbox = f"{x:.6f},{y:.6f},{x + w:.6f},{y + h:.6f}"
        boxes.append(
            items + urlencode({"limit": 100, "offset": 100 * rng.randrange(4), "bbox": bbox})
        )
    summary = f"/runs/{run_id}/summary?"
    out = {"floor: ogc conformance": ["/ogc/conformance"]}
    out |= {"ogc items offset": offsets, "ogc items bbox": boxes}
    for level in ("gemeinde", "kreis"):
        out[f"summary {level} json"] = [summary + urlencode({"level": level})]
        out[f"summary {level} csv"] = [summary + urlencode({"level": level, "f": "csv"})]
        out[f"summary {level} csv de"] = [
            summary + urlencode({"level": level, "f": "csv", "dialect": "excel-de"})
        ]
    out["summary gemeinde csv public"] = [summary + urlencode({"level": "gemeinde", "f": "csv"})]
    out["profiles"] = ["/profiles"]
    return out


def _target(name: str) -> float | None:
    if name.startswith("floor"):
        return None  # the stack and the machine: what no read can go below
    return TARGETS_MS["ogc" if name.startswith("ogc") else name.split()[0]]


def _wrk(
    url: str, key: str, paths: list[str], args: argparse.Namespace, tmp: Path, seconds: int = 0
) -> Result:
    script, listing = tmp / "reads.lua", tmp / "reads.txt"
    script.write_text(WRK_LUA)
    listing.write_text("\n".join(paths) + "\n")
    cmd = [
        "wrk",
        "-t1",
        f"-c{args.clients}",
        f"-d{seconds or max(1, round(args.duration))}s",
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
    return parse_wrk(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


def _settle(pid: int, timeout_s: float = 120.0) -> None:
    """Wait until the server has worked off what wrk left queued when it stopped (a slow
    server keeps answering the last connections' requests for seconds): its CPU time grows
    by less than a tenth of the wall time over half a second."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        before = _tree_cpu_s(pid)
        time.sleep(0.5)
        if _tree_cpu_s(pid) - before < 0.05:
            return


def _warm(url: str, key: str, paths: list[str]) -> None:
    """Build what the server builds on first use (not timed); every answer must be 200."""
    with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=900) as c:
        for path in paths[:10]:
            r = c.get(path)
            if r.status_code != 200:
                raise SystemExit(f"warm-up GET {path} -> {r.status_code}: {r.text[:300]}")


def main() -> None:
    """Start the servers, prepare a run, drive the scenarios, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="demo scale (1.0: 378k)")
    parser.add_argument("--inputs", type=Path, help="existing demo inputs directory")
    parser.add_argument("--workspace", type=Path, help="keep the workspace (and its run) here")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument(
        "--baseline", type=Path, help="another checkout to compare with (its .venv serves)"
    )
    parser.add_argument(
        "--processes", type=int, default=2, help="processes of the second server (1: none)"
    )
    parser.add_argument("--only", help="run only scenarios whose name contains this")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install wrk")
    key = "gm_bench-" + secrets.token_hex(12)
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="gapmap-reads-") as tmp_name:
        tmp = Path(tmp_name)
        workspace = args.workspace or tmp / "ws"
        try:
            proc, url = _serve(ROOT, workspace, key, tmp / "new.log")
            procs.append(proc)
            if _succeeded(url, key):  # a kept --workspace: its run is reused
                files, as_of, what = {}, None, f"the run kept in {workspace}"
            else:
                files, as_of, what = _inputs(args, tmp)
            run_id, n_addr, run_s = _prepare(url, key, files, as_of)
            public = _public_key(url, key)
            servers = {"new": url}
            pids = {"new": proc.pid}
            if args.processes > 1:
                many = f"new x{args.processes}"
                proc_m, url_m = _serve(ROOT, workspace, key, tmp / "many.log", args.processes)
                procs.append(proc_m)
                servers[many] = url_m
                pids[many] = proc_m.pid
            if args.baseline:
                proc_b, url_b = _serve(args.baseline.resolve(), workspace, key, tmp / "base.log")
                procs.append(proc_b)
                servers["baseline"] = url_b
                pids["baseline"] = proc_b.pid
            scenarios = _scenarios(url, key, run_id, args.seed)
            how = "reused run" if run_s != run_s else f"analysed via the API in {run_s:.1f} s"
            print(f"gapmap service reads: {what}; run {run_id}: {n_addr:,} addresses, {how}")
            print(
                f"loopback; `gapmap serve` ({_server_stack()}): one process per server"
                + (f", {args.processes} for 'new x{args.processes}'" if args.processes > 1 else "")
                + f"; wrk -t1 -c{args.clients} "
                f"-d{max(1, round(args.duration))}s; {os.cpu_count()} CPUs"
                + (f"; baseline: {args.baseline}" if args.baseline else "")
            )
            print()
            cols = f"{'scenario':<28} {'server':<10} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>7} {'errors':>6} {'cpu ms':>7} {'load1':>6}"
            print(cols)
            verdicts = []
            for name, paths in scenarios.items():
                if args.only and args.only not in name:
                    continue
                k = public if name.endswith("public") else key
                p99 = {}
                for server, base in servers.items():
                    _warm(base, k, paths)
                    _wrk(base, k, paths, args, tmp, seconds=2)  # every process warm (untimed)
                    for pid in pids.values():
                        _settle(pid)
                    load = os.getloadavg()[0]
                    cpu0 = _tree_cpu_s(pids[server])
                    res = _wrk(base, k, paths, args, tmp)
                    _settle(pids[server])  # what wrk left queued is part of the cost
                    served = res.requests + args.clients  # + the ones in flight at the end
                    res.cpu_ms = (_tree_cpu_s(pids[server]) - cpu0) * 1000 / served
                    if res.requests == 0:  # nothing answered within the run: at least that
                        res.p50_ms = res.p99_ms = 1000 * max(1, round(args.duration))
                    p99[server] = res.p99_ms
                    print(
                        f"{name:<28} {server:<10} {res.p50_ms:>8.1f} {res.p99_ms:>8.1f} "
                        f"{res.rps:>7.0f} {res.errors:>6d} {res.cpu_ms:>7.2f} {load:>6.2f}",
                        flush=True,
                    )
                target = _target(name)
                if target is None:
                    continue
                for server in (s for s in servers if s != "baseline"):
                    ratio = (
                        f", baseline/{server} p99 {p99['baseline'] / p99[server]:.1f}x"
                        if "baseline" in p99
                        else ""
                    )
                    verdicts.append(
                        f"{'PASS' if p99[server] < target else 'MISS'}  {name} ({server}): "
                        f"p99 {p99[server]:.1f} ms (target < {target:g} ms){ratio}"
                    )
            print()
            print("\n".join(verdicts))
        finally:
            for p in procs:
                p.terminate()
                p.wait(30)


if __name__ == "__main__":
    main()
