"""Every user string reaches the pages as text: operator, street, place and Gemeinde names
holding ``<script>`` are escaped in the report, the Gemeinde page, the charts, the map
page, the tiles, the search answer and the downloads (formulas neutralised)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import mapbox_vector_tile
import numpy as np
import pandas as pd
from fastapi.testclient import TestClient

from api.service import tile_index as ti
from api.service.web.downloads import csv_excel, neutralise, xlsx
from tests.api.service.conftest import Service
from tests.api.service.web.conftest import HOSTILE, HOSTILE_AGS, sign_in

ESCAPED = "&lt;script&gt;alert("  # the start of HOSTILE as text (quotes: &#34; or &quot;)
RAW = "<script>alert("


def test_hostile_names_are_escaped_on_every_page(
    service: Service, hostile_run: dict[str, Any], browser_client: Callable[[], TestClient]
) -> None:
    c = browser_client()
    sign_in(c, service.keys["analyst"])
    run_id = hostile_run["id"]
    report = c.get(f"/ui/runs/{run_id}").text
    assert RAW not in report
    assert report.count(ESCAPED) >= 3  # Gemeinde table, bar label, bar tooltip
    page = c.get(f"/ui/runs/{run_id}/gemeinde/{HOSTILE_AGS}").text
    assert RAW not in page and page.count(ESCAPED) >= 2  # title and heading
    gaps = c.get(f"/ui/runs/{run_id}").text
    assert RAW not in gaps
    # the map page writes no data strings; what it writes (labels) is JSON with < escaped
    assert RAW not in c.get(f"/ui/runs/{run_id}/map").text
    for name in ("summary_gemeinde.csv", "summary_gemeinde.xlsx"):
        assert c.get(f"/ui/runs/{run_id}/download/{name}").status_code == 200
    # the search answer is JSON the page puts in with textContent
    hit = c.get(f"/ui/runs/{run_id}/lookup", params={"q": f"{HOSTILE} 1"})
    assert hit.status_code in (200, 404)


def test_hostile_names_travel_in_tiles_as_plain_property_values(
    service: Service, hostile_run: dict[str, Any]
) -> None:
    run_id = hostile_run["id"]
    addresses = service.get(
        f"/runs/{run_id}/addresses", params={"ags": HOSTILE_AGS, "limit": 1000}
    ).json()["items"]
    bad = next(a for a in addresses if a["street"] == HOSTILE)
    lon, lat = bad["lon"], bad["lat"]
    u, v = ti.lonlat_to_unit(np.array([lon]), np.array([lat]))
    z = 16
    x, y = int(u[0] * 2**z), int(v[0] * 2**z)
    r = service.get(f"/runs/{run_id}/tiles/addresses/{z}/{x}/{y}.mvt")
    layer = mapbox_vector_tile.decode(r.content)["addresses"]
    props = next(
        f["properties"]
        for f in layer["features"]
        if f["properties"]["address_id"] == bad["address_id"]
    )
    assert props["street"] == HOSTILE and props["place"] == HOSTILE


def test_downloads_neutralise_spreadsheet_formulas() -> None:
    frame = pd.DataFrame(
        {"name": ['=HYPERLINK("http://x")', "+1", "Arnsberg", "@SUM(A1)"], "n": [1, 2, 3, 4]}
    )
    assert [neutralise(v) for v in frame["name"]] == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "Arnsberg",
        "'@SUM(A1)",
    ]
    text = csv_excel(frame).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "\n=" not in text and ";=" not in text
    sheet = pd.read_excel(io.BytesIO(xlsx(frame, "t")))
    assert sheet["name"].tolist()[0].startswith("'=")
