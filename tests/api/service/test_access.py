"""Access control and problem bodies: public keys never see per-address data or raw datasets."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.service.conftest import Service

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "code", "request_id"}


def _is_problem(r: Any, status: int) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert set(body) >= PROBLEM_KEYS and body["status"] == status
    assert body["request_id"] == r.headers["x-request-id"]


def _per_address_urls(run_id: str) -> list[str]:
    return [
        f"/runs/{run_id}/addresses",
        f"/runs/{run_id}/addresses/any-id",
        f"/runs/{run_id}/files/addresses.parquet",
        f"/runs/{run_id}/files/manifest.json",
        f"/runs/{run_id}/map",
        f"/runs/{run_id}/gap-areas",
        f"/runs/{run_id}/diff/{run_id}",
        f"/runs/{run_id}",
        "/runs",
        "/lookup?lon=8.1&lat=51.4",
        "/lookup?q=Hauptstra%C3%9Fe%205%2C%20Warstein",
        "/datasets",
        "/ogc/collections/addresses",
        "/ogc/collections/addresses/items",
        "/ogc/collections/gap-areas/items",
        "/keys",
    ]


def test_public_key_cannot_read_per_address_data(
    service: Service, demo_run: dict[str, Any], demo_ids: dict[str, str]
) -> None:
    urls = [*_per_address_urls(demo_run["id"]), f"/datasets/{demo_ids['addresses']}"]
    for url in urls:
        _is_problem(service.get(url, "public"), 403)


def test_public_key_reads_aggregates(service: Service, demo_run: dict[str, Any]) -> None:
    rid = demo_run["id"]
    assert service.get(f"/runs/{rid}/summary", "public").status_code == 200
    assert service.get(f"/runs/{rid}/grid", "public").status_code in (200, 404)
    assert service.get("/profiles", "public").status_code == 200
    muni = service.get("/ogc/collections/municipalities/items", "public", params={"limit": 500})
    assert muni.status_code == 200
    for feat in muni.json()["features"]:
        counts = [
            v
            for c, v in feat["properties"].items()
            if c.startswith("n_") or c in ("addresses", "eligible")
        ]
        assert all(v == 0 or v >= 3 for v in counts)  # js = 2: never 1 or 2
        assert feat["properties"]["perturbed"] is True
    ids = [c["id"] for c in service.get("/ogc/collections", "public").json()["collections"]]
    assert ids == ["municipalities"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-Key": "gm_wrong"},
        {"Authorization": "Bearer gm_wrong"},
        {"Authorization": "Basic abc"},
    ],
)
def test_missing_or_wrong_key_is_401(
    service: Service, demo_run: dict[str, Any], headers: dict[str, str]
) -> None:
    for url in (f"/runs/{demo_run['id']}/summary", "/runs", "/datasets"):
        _is_problem(service.client.get(url, headers=headers), 401)


def test_unauthenticated_callers_learn_nothing_about_runs(
    service: Service, demo_run: dict[str, Any]
) -> None:
    """An existing run, a missing run, a bad id and a state conflict all look the same."""
    urls = [
        ("GET", f"/runs/{demo_run['id']}"),
        ("GET", "/runs/run_000000000000"),
        ("GET", "/runs/not-an-id"),
        ("POST", f"/runs/{demo_run['id']}/cancel"),
        ("POST", "/runs/run_000000000000/resubmit"),
        ("GET", "/datasets/ds_000000000000"),
    ]
    bodies = set()
    for method, url in urls:
        r = service.client.request(method, url, headers={"X-Request-ID": "same"})
        _is_problem(r, 401)
        body = r.json()
        bodies.add((body["code"], body["detail"]))
    assert len(bodies) == 1


def test_bodies_wait_for_the_key_and_json_is_small(service: Service) -> None:
    big = b"{" + b" " * (2 << 20) + b"}"
    for headers in ({}, {"X-API-Key": "gm_wrong"}):
        r = service.client.post("/runs", content=big, headers=headers)
        _is_problem(r, 401)
    # a public key may not send bodies at all; an analyst no dataset upload
    _is_problem(service.client.post("/runs", content=big, headers=service.h("public")), 403)
    r = service.client.post(
        "/datasets", files={"file": ("a.csv", b"x,y\n1,2\n")}, data={"kind": "addresses"},
        headers=service.h("public"),
    )  # fmt: skip
    _is_problem(r, 403)
    # an analyst's JSON over 1 MiB is 413, by length and while streaming
    r = service.client.post(
        "/runs", content=big, headers={**service.h("analyst"), "Content-Type": "application/json"}
    )
    _is_problem(r, 413)

    def chunks():
        for _ in range(3):
            yield b" " * (1 << 20)

    r = service.client.post(
        "/runs",
        content=chunks(),
        headers={**service.h("analyst"), "Content-Type": "application/json"},
    )
    _is_problem(r, 413)


def test_bearer_token_works(service: Service) -> None:
    r = service.client.get("/runs", headers={"Authorization": f"Bearer {service.keys['analyst']}"})
    assert r.status_code == 200


def test_analyst_cannot_manage_datasets_or_keys(service: Service, demo_ids: dict[str, str]) -> None:
    _is_problem(
        service.client.delete(f"/datasets/{demo_ids['addresses']}", headers=service.h("analyst")),
        403,
    )
    _is_problem(
        service.client.post("/keys", json={"role": "admin"}, headers=service.h("analyst")), 403
    )
    r = service.client.post(
        "/datasets",
        files={"file": ("a.csv", b"x,y\n1,2\n")},
        data={"kind": "addresses"},
        headers=service.h("analyst"),
    )
    _is_problem(r, 403)


def test_revoked_key_stops_working(service: Service) -> None:
    created = service.client.post(
        "/keys", json={"role": "analyst"}, headers=service.h("admin")
    ).json()
    assert service.client.get("/runs", headers={"X-API-Key": created["key"]}).status_code == 200
    listed = service.client.get("/keys", headers=service.h("admin")).json()
    assert created["id"] in [k["id"] for k in listed] and "key" not in listed[0]
    assert (
        service.client.post(f"/keys/{created['id']}/revoke", headers=service.h("admin")).status_code
        == 200
    )
    _is_problem(service.client.get("/runs", headers={"X-API-Key": created["key"]}), 401)


def test_open_endpoints_and_problem_shapes(service: Service) -> None:
    assert service.client.get("/health").json()["database"] == "ok"
    _is_problem(service.client.get("/version"), 401)  # versions only for key holders
    assert service.get("/version", "public").json()["api"] == "1"
    assert service.client.get("/docs").status_code == 200
    spec = service.client.get("/openapi.json").json()
    assert (
        "/runs/{run_id}/summary" in spec["paths"]
        and "/ogc/collections/{collection_id}/items" in spec["paths"]
    )
    _is_problem(service.client.get("/no/such/path"), 404)
    _is_problem(service.get("/runs/run_000000000000"), 404)
    _is_problem(service.get("/runs/not-an-id"), 422)
    _is_problem(service.get("/profiles/nope"), 404)
    r = service.client.get("/health", headers={"X-Request-ID": "trace-me-123"})
    assert r.headers["x-request-id"] == "trace-me-123"


def test_run_request_validation(service: Service, demo_ids: dict[str, str]) -> None:
    body = {"addresses": demo_ids["coverage"], "coverage": [demo_ids["coverage"]]}
    r = service.client.post("/runs", json=body, headers=service.h("analyst"))
    _is_problem(r, 422)
    assert "kind coverage" in r.json()["detail"]
    body = {
        "addresses": demo_ids["addresses"],
        "coverage": [demo_ids["coverage"]],
        "profile": "no-such-profile",
    }
    _is_problem(service.client.post("/runs", json=body, headers=service.h("analyst")), 422)
    body = {
        "addresses": demo_ids["addresses"],
        "coverage": [demo_ids["coverage"]],
        "profile": "../../etc/passwd",
    }
    _is_problem(service.client.post("/runs", json=body, headers=service.h("analyst")), 422)


def test_internal_error_is_generic_with_request_id(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from fastapi.testclient import TestClient

    from api.service.app import create_app
    from api.service.settings import Settings

    app = create_app(Settings(workspace=tmp_path / "ws"))

    def boom() -> None:
        raise RuntimeError("secret internals /etc/shadow")

    app.add_api_route("/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/boom")
    _is_problem(r, 500)
    assert "secret" not in r.text and r.json()["request_id"] in r.json()["detail"]
    assert "secret internals" in caplog.text and "Traceback" in caplog.text


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "/runs/run_²²²²²²²²²²²²", None),
        ("GET", "/datasets/ds_¹²³456789abc", None),
        ("GET", "/runs?offset=99999999999999999999", None),
        ("POST", "/runs", {"addresses": "ds_0a1b2c3d4e5f", "coverage": [], "as_of": "9999-12-31"}),
        ("POST", "/runs", {"addresses": "ds_0a1b2c3d4e5f", "coverage": [], "as_of": "0001-01-01"}),
    ],
)
def test_bad_input_is_a_clear_4xx_not_a_500(
    service: Service, method: str, url: str, body: dict[str, Any] | None
) -> None:
    r = service.client.request(method, url, json=body, headers=service.h("admin"))
    _is_problem(r, 422)


def test_diff_offset_is_bounded(service: Service, demo_run: dict[str, Any]) -> None:
    rid = demo_run["id"]
    r = service.get(f"/runs/{rid}/diff/{rid}", params={"offset": 10**12})
    _is_problem(r, 422)
