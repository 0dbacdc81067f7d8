"""Key operations: the last admin key stays, a revoked bootstrap key does not stop start-up."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.service.app import create_app
from api.service.settings import Settings

BOOT = "gm_bootstrap_admin_key_for_ops_tests_0123"


def _app(ws: Path) -> TestClient:
    return TestClient(
        create_app(
            Settings(
                workspace=ws, database_url=f"sqlite:///{ws / 'c.db'}", bootstrap_admin_key=BOOT
            )
        )
    )


def test_the_last_admin_key_cannot_be_revoked(tmp_path: Path) -> None:
    h = {"X-API-Key": BOOT}
    with _app(tmp_path) as c:
        boot_id = next(k["id"] for k in c.get("/keys", headers=h).json() if k["role"] == "admin")
        r = c.post(f"/keys/{boot_id}/revoke", headers=h)
        assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
        assert "last active admin key" in r.json()["detail"]
        # with a second admin key the bootstrap key can go, and the second one then stays
        second = c.post("/keys", json={"role": "admin"}, headers=h).json()
        assert c.post(f"/keys/{boot_id}/revoke", headers=h).status_code == 200
        h2 = {"X-API-Key": second["key"]}
        assert c.get("/runs", headers=h).status_code == 401
        assert c.post(f"/keys/{second['id']}/revoke", headers=h2).status_code == 409
        # an analyst key is revoked as before
        analyst = c.post("/keys", json={"role": "analyst"}, headers=h2).json()
        assert c.post(f"/keys/{analyst['id']}/revoke", headers=h2).status_code == 200


def test_a_revoked_bootstrap_key_does_not_stop_start_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    h = {"X-API-Key": BOOT}
    with _app(tmp_path) as c:
        second = c.post("/keys", json={"role": "admin"}, headers=h).json()
        boot_id = next(
            k["id"] for k in c.get("/keys", headers=h).json() if k["prefix"] == BOOT[:10]
        )
        assert c.post(f"/keys/{boot_id}/revoke", headers=h).status_code == 200
    with caplog.at_level(logging.WARNING), _app(tmp_path) as c:  # a restart, same settings
        assert c.get("/health").status_code == 200
        assert c.get("/runs", headers=h).status_code == 401  # it stays revoked
        assert c.get("/runs", headers={"X-API-Key": second["key"]}).status_code == 200
    assert "BOOTSTRAP_ADMIN_KEY was revoked" in caplog.text


def test_cli_refuses_to_revoke_the_last_admin_key(tmp_path: Path, capsys, monkeypatch) -> None:
    from api.cli import main

    with _app(tmp_path) as c:
        boot_id = c.get("/keys", headers={"X-API-Key": BOOT}).json()[0]["id"]
    monkeypatch.setenv("GAPMAP_DATABASE_URL", f"sqlite:///{tmp_path / 'c.db'}")
    code = main(["keys", "revoke", boot_id, "--workspace", str(tmp_path)])
    assert code == 2
    assert "last active admin key" in capsys.readouterr().err
