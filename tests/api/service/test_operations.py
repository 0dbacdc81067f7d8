"""Operations: offline /docs, free space in /health, 507 on a full disk, start-up cleanup,
security headers."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.service.app import create_app
from api.service.settings import Settings
from tests.api.service.conftest import ADMIN_KEY, Service

H = {"X-API-Key": ADMIN_KEY}


def _settings(ws: Path, **over: object) -> Settings:
    return Settings(
        workspace=ws, database_url=f"sqlite:///{ws / 'c.db'}", bootstrap_admin_key=ADMIN_KEY,
        **over,  # type: ignore[arg-type]
    )  # fmt: skip


def test_docs_work_offline(service: Service) -> None:
    page = service.client.get("/docs")
    assert page.status_code == 200
    assert "/docs/static/swagger-ui-bundle.js" in page.text and "cdn" not in page.text.lower()
    js = service.client.get("/docs/static/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert service.client.get("/docs/static/swagger-ui.css").status_code == 200


def test_health_reports_free_space_and_degrades_when_low(tmp_path: Path) -> None:
    with TestClient(create_app(_settings(tmp_path))) as c:
        body = c.get("/health").json()
        assert body["status"] == "ok" and body["disk"] == "ok" and body["free_bytes"] > 0
    with TestClient(create_app(_settings(tmp_path, min_free_bytes=1 << 62))) as c:
        body = c.get("/health").json()
        assert body["status"] == "degraded" and body["disk"] == "low"


def test_a_full_disk_is_507(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import api.service.ingest as ingest

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ingest, "_copy_limited", full)
    with TestClient(create_app(_settings(tmp_path))) as c:
        r = c.post("/datasets", files={"file": ("a.csv", b"x,y\n1,2\n")},
                   data={"kind": "addresses"}, headers=H)  # fmt: skip
        assert r.status_code == 507 and r.headers["content-type"] == "application/problem+json"
        assert "disk is full" in r.json()["detail"]
        assert not list((tmp_path / "tmp").glob("upload-*"))  # the staging directory is gone


def test_start_up_removes_debris_of_killed_runs_and_uploads(tmp_path: Path) -> None:
    partial = tmp_path / "runs" / ".run_0123456789ab.x1y2.partial"
    old_upload = tmp_path / "tmp" / "upload-old"
    new_upload = tmp_path / "tmp" / "upload-new"
    for d in (partial, old_upload, new_upload):
        d.mkdir(parents=True)
        (d / "data.bin").write_bytes(b"x" * 100)
    hour_ago = time.time() - 3600
    os.utime(old_upload, (hour_ago, hour_ago))
    with TestClient(create_app(_settings(tmp_path))) as c:
        assert c.get("/health").status_code == 200
    assert not partial.exists() and not old_upload.exists()
    assert new_upload.exists()  # perhaps an upload of another process right now


def test_security_headers(service: Service, demo_run: dict) -> None:
    rid = demo_run["id"]
    assert service.client.get("/health").headers["x-content-type-options"] == "nosniff"
    for url in (f"/runs/{rid}/addresses", f"/runs/{rid}/files/manifest.json"):
        r = service.get(url)
        assert r.status_code == 200, url
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["x-content-type-options"] == "nosniff"
    summary = service.get(f"/runs/{rid}/summary", "public")
    assert summary.headers["x-content-type-options"] == "nosniff"
    assert "no-store" not in summary.headers.get("cache-control", "")


def test_host_header_must_be_allowed(tmp_path: Path) -> None:
    with TestClient(create_app(_settings(tmp_path, allowed_hosts=["gapmap.example.org"]))) as c:
        evil = c.get("/ogc", headers={"Host": "evil.example.com"})
        assert evil.status_code == 400 and evil.json()["code"] == "host_not_allowed"
        assert "evil.example.com" not in evil.text.split("detail")[0]  # no link was written
        ok = c.get("/ogc", headers={"Host": "gapmap.example.org:8443"})
        assert ok.status_code == 200
        assert all("gapmap.example.org" in link["href"] for link in ok.json()["links"])
        assert c.get("/health", headers={"Host": "10.0.0.7"}).status_code == 200  # probes
    with TestClient(create_app(_settings(tmp_path, allowed_hosts=["*"]))) as c:
        assert c.get("/ogc", headers={"Host": "anything.example"}).status_code == 200
