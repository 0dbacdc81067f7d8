"""What is served is chosen: POST /runs/{id}/publish; runs keep their own boundaries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.service.conftest import (
    Service,
    own_service,
    start_run,
    upload,
    wait_run,
)


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("publish")
    with own_service(tmp) as service:
        yield service


def _served(own: Service) -> str:
    doc = own.get("/ogc/collections/municipalities", "public").json()
    return doc["description"].rsplit("Run ", 1)[1].rstrip(".")


def test_publish_chooses_the_served_run_and_runs_keep_their_boundaries(
    own: Service, demo_inputs: Any
) -> None:
    ids = {k: upload(own.client, getattr(demo_inputs, k), k)["id"]
           for k in ("addresses", "coverage", "boundaries")}  # fmt: skip
    analyst = own.keys["analyst"]
    runs = []
    for _ in range(2):
        run = start_run(own.client, ids, analyst, as_of=demo_inputs.as_of.isoformat())
        runs.append(wait_run(own.client, run["id"], analyst))
    a, b = runs
    assert a["state"] == b["state"] == "succeeded" and a["published_at"] is None
    assert _served(own) == b["id"]  # nothing published: the newest
    # only admins publish
    for role in ("public", "analyst"):
        r = own.client.post(f"/runs/{a['id']}/publish", headers=own.h(role))
        assert r.status_code == 403
    r = own.client.post(f"/runs/{a['id']}/publish", headers=own.h("admin"))
    assert r.status_code == 200 and r.json()["published_at"] is not None
    assert _served(own) == a["id"]  # the published one, although b is newer
    assert (
        own.client.post("/runs/run_000000000000/publish", headers=own.h("admin")).status_code == 404
    )
    # the served run keeps its Gemeinde polygons when the boundaries dataset is deleted
    assert (
        own.client.delete(f"/datasets/{ids['boundaries']}", headers=own.h("admin")).status_code
        == 204
    )
    items = own.get("/ogc/collections/municipalities/items", "public", params={"limit": 5})
    assert items.status_code == 200 and len(items.json()["features"]) == 5
    assert items.json()["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_a_run_that_has_not_succeeded_cannot_be_published(own: Service) -> None:
    from api.service.models import Run, utcnow

    store = own.client.app.state.services.store  # type: ignore[attr-defined]
    with store.session() as s:
        s.add(Run(id="run_00000000fa11", state="failed", profile="de-gigabit-2023", region="de",
                  inputs={"addresses": "ds_000000000000", "coverage": []}, progress=0.0,
                  created_at=utcnow()))  # fmt: skip
    r = own.client.post("/runs/run_00000000fa11/publish", headers=own.h("admin"))
    assert r.status_code == 409 and r.json()["code"] == "run_not_publishable"
    assert r.headers["content-type"] == "application/problem+json"
