"""Fixtures of the service tests: catalog backends, an app with keys, a finished demo run,
and a real uvicorn server in a subprocess.

Backends: SQLite always; PostgreSQL when ``GAPMAP_TEST_DATABASE_URL`` is set (``.ci/services.sh``
starts one). Each test session gets a fresh PostgreSQL schema, dropped at the end.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

with warnings.catch_warnings():  # starlette's TestClient warns about httpx; used on purpose
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.service.app import create_app
from api.service.settings import Settings
from tests.paths import ROOT as _ROOT

ROOT = _ROOT
ADMIN_KEY = "gm_test-admin-" + secrets.token_hex(8)
PG_ENV = "GAPMAP_TEST_DATABASE_URL"


# -- databases --------------------------------------------------------------------------------
def _pg_schema_url(base: str) -> Iterator[str]:
    """A fresh schema in the test database; the URL pins search_path to it."""
    import sqlalchemy as sa

    schema = f"gm_{secrets.token_hex(5)}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.schema.CreateSchema(schema))
    url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.schema.DropSchema(schema, cascade=True))
        engine.dispose()


def database_url(kind: str, tmp: Path) -> Iterator[str]:
    """A fresh catalog URL of ``kind`` (sqlite or postgresql); skips PostgreSQL when unset."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'catalog.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(
            f'PostgreSQL tests skipped: set {PG_ENV} (eval "$(.ci/services.sh)" starts a throwaway server)'
        )
    yield from _pg_schema_url(base)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A catalog URL per backend (session-wide)."""
    yield from database_url(request.param, tmp_path_factory.mktemp(f"db-{request.param}"))


# -- in-process app ---------------------------------------------------------------------------
@dataclass
class Service:
    """A running app (TestClient) and its keys."""

    client: TestClient
    settings: Settings
    keys: dict[str, str] = field(default_factory=dict)

    def h(self, role: str) -> dict[str, str]:
        """Headers for a role: admin, analyst, public."""
        return {"X-API-Key": self.keys[role]}

    def get(self, url: str, role: str = "analyst", **kw: Any) -> httpx.Response:
        """GET as ``role``."""
        return self.client.get(url, headers=self.h(role), **kw)


@contextmanager
def own_service(tmp: Path) -> Iterator[Service]:
    """A service of one test module only (SQLite in ``tmp``), with its three keys."""
    settings = Settings(
        workspace=tmp / "ws",
        database_url=f"sqlite:///{tmp / 'catalog.db'}",
        bootstrap_admin_key=SecretStr(ADMIN_KEY),
        workers=1,
    )
    with TestClient(create_app(settings)) as client:
        yield Service(client, settings, make_keys(client, ADMIN_KEY))


def make_keys(client: TestClient, admin: str) -> dict[str, str]:
    """Create an analyst and a public key through the API."""
    keys = {"admin": admin}
    for role in ("analyst", "public"):
        r = client.post(
            "/keys", json={"role": role, "name": f"test {role}"}, headers={"X-API-Key": admin}
        )
        assert r.status_code == 201, r.text
        keys[role] = r.json()["key"]
    return keys


@pytest.fixture(scope="session")
def service(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The app on a fresh workspace and catalog, with admin, analyst and public keys."""
    settings = Settings(
        workspace=tmp_path_factory.mktemp("workspace"),
        database_url=db_url,
        bootstrap_admin_key=ADMIN_KEY,
        workers=2,
    )
    with TestClient(create_app(settings)) as client:
        yield Service(client, settings, make_keys(client, ADMIN_KEY))


def upload(
    client: TestClient | httpx.Client, path: Path, kind: str, key: str = ADMIN_KEY
) -> dict[str, Any]:
    """Upload one file as a dataset; returns the dataset JSON."""
    with path.open("rb") as fh:
        r = client.post(
            "/datasets",
            files={"file": (path.name, fh)},
            data={"kind": kind},
            headers={"X-API-Key": key},
        )
    assert r.status_code == 201, r.text
    return r.json()


def wait_run(
    client: TestClient | httpx.Client, run_id: str, key: str, timeout: float = 90
) -> dict[str, Any]:
    """Poll a run until it reaches a final state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/runs/{run_id}", headers={"X-API-Key": key}).json()
        if body["state"] in ("succeeded", "failed", "cancelled"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish within {timeout} s: {body}")


def start_run(
    client: TestClient | httpx.Client, ids: dict[str, Any], key: str, **options: Any
) -> dict[str, Any]:
    """POST /runs for uploaded demo datasets."""
    body = {
        "addresses": ids["addresses"],
        "coverage": [ids["coverage"]],
        "boundaries": ids["boundaries"],
        **options,
    }
    r = client.post("/runs", json=body, headers={"X-API-Key": key})
    assert r.status_code == 202, r.text
    return r.json()


@pytest.fixture(scope="session")
def demo_ids(service: Service, demo_inputs: Any) -> dict[str, str]:
    """The demo inputs uploaded as datasets."""
    return {
        "addresses": upload(service.client, demo_inputs.addresses, "addresses")["id"],
        "coverage": upload(service.client, demo_inputs.coverage, "coverage")["id"],
        "boundaries": upload(service.client, demo_inputs.boundaries, "boundaries")["id"],
    }


@pytest.fixture(scope="session")
def demo_run(service: Service, demo_ids: dict[str, str], demo_inputs: Any) -> dict[str, Any]:
    """A succeeded run on the demo inputs."""
    run = start_run(
        service.client, demo_ids, service.keys["analyst"], as_of=demo_inputs.as_of.isoformat()
    )
    done = wait_run(service.client, run["id"], service.keys["analyst"])
    assert done["state"] == "succeeded", done
    return done


# -- a real server ----------------------------------------------------------------------------
def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A ``gapmap serve`` subprocess."""

    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def client(self, key: str = ADMIN_KEY, timeout: float = 30) -> httpx.Client:
        """An httpx client with a key."""
        return httpx.Client(base_url=self.url, headers={"X-API-Key": key}, timeout=timeout)

    def kill(self) -> None:
        """kill -9."""
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM, then kill."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def start_server(workspace: Path, db: str, port: int | None = None, **env: str) -> Server:
    """Start ``python -m api.cli serve`` and wait until /health answers."""
    port = port or free_port()
    log = workspace.parent / f"server-{port}-{time.monotonic_ns()}.log"
    environ = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GAPMAP_DATABASE_URL": db,
        "GAPMAP_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY,
        **env,
    }
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
        proc = subprocess.Popen(cmd, cwd=ROOT, env=environ, stdout=fh, stderr=subprocess.STDOUT)
    server = Server(proc, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise AssertionError(f"server did not start:\n{log.read_text()}")
