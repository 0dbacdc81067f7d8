"""OGC API for GIS clients (issue 21): the key as the password of HTTP Basic authentication
(QGIS's "Basic" method), pages of 1,000 features by default, gap areas identified by their
stable area_id."""

from __future__ import annotations

import base64
from typing import Any

from tests.api.service.conftest import Service


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_basic_authentication_with_the_key_as_password(
    service: Service, demo_run: dict[str, Any]
) -> None:
    c = service.client
    ok = c.get("/ogc/collections", headers=_basic("qgis", service.keys["analyst"]))
    assert ok.status_code == 200
    assert "gap-areas" in [col["id"] for col in ok.json()["collections"]]
    public = c.get("/ogc/collections", headers=_basic("", service.keys["public"]))
    assert [col["id"] for col in public.json()["collections"]] == ["municipalities"]
    assert c.get("/ogc/collections/addresses/items",
                 headers=_basic("x", service.keys["public"])).status_code == 403  # fmt: skip
    wrong = c.get("/ogc/collections", headers=_basic("qgis", "gm_not-a-key"))
    assert wrong.status_code == 401
    missing = c.get("/ogc/collections")
    assert missing.status_code == 401
    assert "Basic" in missing.headers["www-authenticate"]  # GIS clients then ask for a login
    assert "Basic" not in c.get(f"/runs/{demo_run['id']}").headers.get("www-authenticate", "")
    garbage = c.get("/ogc/collections", headers={"Authorization": "Basic %%%"})
    assert garbage.status_code == 401


def test_items_page_1000_features_and_gap_area_ids_are_area_ids(
    service: Service, demo_run: dict[str, Any]
) -> None:
    page = service.get("/ogc/collections/addresses/items").json()
    assert page["numberReturned"] == min(1000, page["numberMatched"])
    areas = service.get("/ogc/collections/gap-areas/items", params={"limit": 5}).json()
    ids = [f["id"] for f in areas["features"]]
    assert ids and all(i.startswith("GA-") for i in ids)
    assert ids == [f["properties"]["area_id"] for f in areas["features"]]
    one = service.get(f"/ogc/collections/gap-areas/items/{ids[0]}")
    assert one.status_code == 200 and one.json()["id"] == ids[0]
    assert "gemeinde_names" in one.json()["properties"]
