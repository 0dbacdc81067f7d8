"""``gapmap serve --processes``: several server processes on one port and one workspace."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from api.service.serve import prepare_shared
from api.service.settings import Settings
from api.service.store import Store
from tests.api.service.conftest import ADMIN_KEY, ROOT, free_port


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.is_file() else []


def test_prepare_shared_creates_what_the_processes_read_once(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path / "ws", bootstrap_admin_key=ADMIN_KEY)
    prepare_shared(settings)
    secret = settings.secret_path().read_text()
    session = (tmp_path / "ws" / "session.key").read_bytes()
    prepare_shared(settings)  # a second start: nothing is made again
    assert settings.secret_path().read_text() == secret
    assert (tmp_path / "ws" / "session.key").read_bytes() == session
    store = Store(settings.workspace, settings.resolved_database_url())
    try:
        assert [k.role for k in store.list_keys()] == ["admin"]
    finally:
        store.close()


def test_two_processes_serve_one_workspace(tmp_path: Path) -> None:
    port = free_port()
    workspace = tmp_path / "ws"
    log = tmp_path / "serve.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GAPMAP_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY}
    env.pop("GAPMAP_DATABASE_URL", None)
    cmd = [sys.executable, "-m", "api.cli", "serve", "--port", str(port)]
    cmd += ["--workspace", str(workspace), "--log-level", "warning", "--processes", "2"]
    with log.open("wb") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        # uvicorn's supervisor with its two server processes (and multiprocessing's helper)
        workers = [
            pid
            for pid in _children(proc.pid)
            if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
        ]
        assert len(workers) == 2, log.read_text()
        for _ in range(8):  # new connections: whichever process accepts them answers
            r = httpx.get(f"{url}/profiles", headers={"X-API-Key": ADMIN_KEY}, timeout=30)
            assert r.status_code == 200 and r.json(), r.text
            assert httpx.get(f"{url}/profiles", timeout=30).status_code == 401
        keys = httpx.get(f"{url}/keys", headers={"X-API-Key": ADMIN_KEY}, timeout=30).json()
        assert [k["role"] for k in keys] == ["admin"]  # the bootstrap key, added once
    finally:
        proc.terminate()
        proc.wait(30)
    assert all(not Path(f"/proc/{pid}").exists() for pid in workers)
