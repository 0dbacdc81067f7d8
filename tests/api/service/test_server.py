"""A real uvicorn server in a subprocess: smoke test over HTTP, kill -9 restart, GDAL OGC API."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.api.service.conftest import (
    ADMIN_KEY,
    database_url,
    start_run,
    start_server,
    upload,
    wait_run,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh catalog per test."""
    yield from database_url(request.param, tmp_path)


def _upload_demo(client: Any, demo_inputs: Any) -> dict[str, str]:
    return {
        "addresses": upload(client, demo_inputs.addresses, "addresses")["id"],
        "coverage": upload(client, demo_inputs.coverage, "coverage")["id"],
        "boundaries": upload(client, demo_inputs.boundaries, "boundaries")["id"],
    }


def test_smoke_upload_run_report_lookup_export(
    tmp_path: Path, fresh_db: str, demo_inputs: Any
) -> None:
    server = start_server(tmp_path / "ws", fresh_db)
    try:
        with server.client() as c:
            analyst = c.post("/keys", json={"role": "analyst"}).json()["key"]
            ids = _upload_demo(c, demo_inputs)
            run = start_run(c, ids, analyst, as_of=demo_inputs.as_of.isoformat())
            done = wait_run(c, run["id"], analyst)
            assert done["state"] == "succeeded", done
            h = {"X-API-Key": analyst}
            kreis = c.get(f"/runs/{run['id']}/summary", params={"level": "kreis"}, headers=h).json()
            assert sum(r["addresses"] for r in kreis["items"]) == done["counts"]["addresses"]
            csv_text = c.get(
                f"/runs/{run['id']}/summary", params={"level": "gemeinde", "f": "csv"}, headers=h
            ).text
            assert csv_text.startswith("ags,")
            a0 = c.get(f"/runs/{run['id']}/addresses", params={"limit": 1}, headers=h).json()[
                "items"
            ][0]
            hit = c.get("/lookup", params={"lon": a0["lon"], "lat": a0["lat"]}, headers=h).json()
            assert hit["address_id"] == a0["address_id"]
            export = c.get(f"/runs/{run['id']}/files/addresses.parquet", headers=h)
            assert export.status_code == 200
            (tmp_path / "export.parquet").write_bytes(export.content)
            assert (
                pq.read_metadata(tmp_path / "export.parquet").num_rows
                == done["counts"]["addresses"]
            )
    finally:
        server.stop()


def test_kill9_restart_marks_run_interrupted(
    tmp_path: Path, fresh_db: str, demo_inputs: Any
) -> None:
    ws = tmp_path / "ws"
    server = start_server(ws, fresh_db, GAPMAP_RUN_STEP_DELAY_S="0.4")
    try:
        with server.client() as c:
            ids = _upload_demo(c, demo_inputs)
            first = wait_run(c, start_run(c, ids, ADMIN_KEY)["id"], ADMIN_KEY)
            assert first["state"] == "succeeded"
            slow = start_run(c, ids, ADMIN_KEY)
            deadline = time.monotonic() + 30
            while (
                c.get(f"/runs/{slow['id']}").json()["state"] != "running"
                and time.monotonic() < deadline
            ):
                time.sleep(0.05)
            time.sleep(0.5)
            assert c.get(f"/runs/{slow['id']}").json()["state"] == "running"
    finally:
        server.kill()
    assert not (ws / "runs" / slow["id"]).exists()  # nothing half-written under the run's name

    server = start_server(ws, fresh_db)
    try:
        with server.client() as c:
            again = c.get(f"/runs/{slow['id']}").json()
            assert again["state"] == "failed" and again["error"] == "interrupted by service restart"
            assert c.get(f"/runs/{slow['id']}/summary").json()["code"] == "run_not_ready"
            kept = c.get(f"/runs/{first['id']}/summary").json()
            assert sum(r["addresses"] for r in kept["items"]) == first["counts"]["addresses"]
            redo = c.post(f"/runs/{slow['id']}/resubmit").json()
            assert redo["resubmitted_from"] == slow["id"]
            assert wait_run(c, redo["id"], ADMIN_KEY)["state"] == "succeeded"
    finally:
        server.stop()


@pytest.mark.skipif(
    shutil.which("ogrinfo") is None, reason="ogrinfo not on PATH (CI installs gdal-bin)"
)
def test_gdal_reads_ogc_api(tmp_path: Path, demo_inputs: Any) -> None:
    server = start_server(tmp_path / "ws", f"sqlite:///{tmp_path / 'cat.db'}")
    try:
        with server.client() as c:
            ids = _upload_demo(c, demo_inputs)
            run = wait_run(
                c,
                start_run(c, ids, ADMIN_KEY, as_of=demo_inputs.as_of.isoformat())["id"],
                ADMIN_KEY,
            )
            assert run["state"] == "succeeded"
            names = [col["id"] for col in c.get("/ogc/collections").json()["collections"]]
            layer = "gap-areas" if "gap-areas" in names else "municipalities"
            expected = c.get(f"/ogc/collections/{layer}/items", params={"limit": 1}).json()[
                "numberMatched"
            ]
        # HTTP Basic authentication, any user, the key as password: what QGIS's "Basic"
        # authentication method sends (issue 21)
        gdal = ["ogrinfo", "--config", "GDAL_HTTP_AUTH", "BASIC",
                "--config", "GDAL_HTTP_USERPWD", f"qgis:{ADMIN_KEY}", "-ro"]  # fmt: skip
        url = f"OAPIF:{server.url}/ogc"
        listing = subprocess.run([*gdal, "-so", url], capture_output=True, text=True, timeout=120)
        assert listing.returncode == 0, listing.stderr
        for name in names:
            assert name in listing.stdout
        info = subprocess.run(
            [*gdal, "-al", "-so", url, layer], capture_output=True, text=True, timeout=120
        )
        assert info.returncode == 0, info.stderr
        assert f"Feature Count: {expected}" in info.stdout, info.stdout
        feats = subprocess.run(
            [*gdal, "--debug", "on", "-oo", "PAGE_SIZE=1000", "-al", "-q", url, layer],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert feats.returncode == 0 and feats.stdout.count("OGRFeature(") == expected
        # GDAL 3.6 pages by 10 unless told (-oo PAGE_SIZE, documented in the README); the
        # service serves pages of 1,000, so a layer comes in a few requests
        pages = [
            line for line in feats.stderr.splitlines() if "Fetch(" in line and "/items" in line
        ]
        assert pages and all("limit=1000" in line for line in pages)
        assert len(pages) <= 2 + expected // 1000
    finally:
        server.stop()


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _unauthenticated_post(url: str, path: str, size: int, ctype: str) -> tuple[float, bytes]:
    """POST ``size`` bytes without a key over a raw socket (the body streams from a thread
    while the answer is awaited); returns the seconds to the answer and its first bytes."""
    import socket
    import threading

    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {ctype}\r\n"
        f"Content-Length: {size}\r\n\r\n"
    )
    chunk = b"x" * (1 << 20)

    def body() -> None:
        sent = 0
        try:
            while sent < size:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:  # the server answered and closed: what we want
            pass

    t0 = time.monotonic()
    sock.sendall(head.encode())
    sender = threading.Thread(target=body, daemon=True)
    sender.start()
    answer = sock.recv(4096)
    elapsed = time.monotonic() - t0
    sock.close()
    sender.join(timeout=10)
    return elapsed, answer


def test_unauthenticated_300_mb_posts_are_refused_at_once(tmp_path: Path) -> None:
    """The issue's acceptance: 401 in under 0.5 s, server RSS grows by less than 50 MB."""
    server = start_server(tmp_path / "ws", f"sqlite:///{tmp_path / 'ws' / 'gapmap.db'}")
    try:
        before = _rss_kib(server.proc.pid)
        for path, ctype in (("/runs", "application/json"),
                            ("/datasets", "multipart/form-data; boundary=b")):  # fmt: skip
            elapsed, answer = _unauthenticated_post(server.url, path, 300 << 20, ctype)
            assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
            assert b"application/problem+json" in answer
            assert elapsed < 0.5, elapsed
        grown_mib = (_rss_kib(server.proc.pid) - before) / 1024
        assert grown_mib < 50, grown_mib
        assert not list((tmp_path / "ws" / "tmp").glob("upload-*"))
    finally:
        server.stop()


def test_two_processes_share_a_workspace_with_run_leases(tmp_path: Path, demo_inputs: Any) -> None:
    """A run started by one process is served by the other; the other marks a run failed
    only after the lease of its (killed) process has expired, never while it is renewed."""
    ws = tmp_path / "ws"
    db = f"sqlite:///{tmp_path / 'catalog.db'}"
    a = start_server(ws, db, GAPMAP_LEASE_S="3", GAPMAP_RUN_STEP_DELAY_S="0.5")
    b = start_server(ws, db, GAPMAP_LEASE_S="3")
    try:
        with a.client() as ca, b.client() as cb:
            ids = _upload_demo(cb, demo_inputs)
            done = wait_run(cb, start_run(cb, ids, ADMIN_KEY)["id"], ADMIN_KEY)
            assert done["state"] == "succeeded"
            summary = ca.get(f"/runs/{done['id']}/summary", params={"level": "kreis"})
            assert summary.status_code == 200  # served by the process that did not run it
            assert done["id"] in ca.get("/ogc/collections/municipalities").json()["description"]
            slow = start_run(ca, ids, ADMIN_KEY)
            deadline = time.monotonic() + 60
            while cb.get(f"/runs/{slow['id']}").json()["state"] != "running":
                assert time.monotonic() < deadline
                time.sleep(0.1)
            time.sleep(7)  # more than two leases: a renewed lease is never taken for dead
            assert cb.get(f"/runs/{slow['id']}").json()["state"] == "running"
            a.kill()
            killed = time.monotonic()
            while (state := cb.get(f"/runs/{slow['id']}").json())["state"] == "running":
                assert time.monotonic() - killed < 30, state
                time.sleep(0.2)
            assert time.monotonic() - killed >= 2  # not before the lease ran out
            assert state["state"] == "failed" and "lease" in state["error"]
    finally:
        a.stop()
        b.stop()
