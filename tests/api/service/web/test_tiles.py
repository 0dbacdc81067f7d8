"""Vector tiles: the index answers exactly what a full scan would, tiles hold the run's rows
with their properties, public keys get suppressed aggregates only, and tiles are cached."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mapbox_vector_tile
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.service import tile_index as ti
from tests.api.service.conftest import Service
from tests.api.service.web.conftest import sign_in

WARSTEIN = "05974044"


def _brute(u: np.ndarray, v: np.ndarray, z: int, x: int, y: int) -> set[int]:
    u0, v0, u1, v1 = ti.tile_bounds(z, x, y)
    return set(np.flatnonzero((u >= u0) & (u < u1) & (v >= v0) & (v < v1)).tolist())


def test_point_index_finds_exactly_the_points_of_every_tile() -> None:
    rng = np.random.default_rng(7)
    # clustered points around Suedwestfalen plus a few far away, duplicates included
    lon = np.concatenate([rng.normal(8.1, 0.3, 20_000), rng.uniform(-170, 170, 200), [8.0] * 50])
    lat = np.concatenate([rng.normal(51.2, 0.2, 20_000), rng.uniform(-80, 80, 200), [51.0] * 50])
    index = ti.PointIndex.build(lon, lat)
    u, v = ti.lonlat_to_unit(lon, lat)
    checked = 0
    for z in (0, 3, 8, 11, 13, 14, 15, 17, 20):
        for i in rng.choice(len(lon), 12, replace=False):
            x, y = int(u[i] * 2**z), int(v[i] * 2**z)
            got = set(index.rows[index.query(z, x, y)].tolist())
            assert got == _brute(u, v, z, x, y), (z, x, y)
            assert i in got
            checked += len(got)
        # an empty tile far from everything
        assert len(index.query(z, 0, 2**z - 1)) == len(_brute(u, v, z, 0, 2**z - 1))
    assert checked > 20_000


def test_tile_slices_never_scan_the_run() -> None:
    """A tile reads one contiguous slice of the sorted rows: its own rows (z <= 14) or its
    base tile's (deeper), a tiny part of the run."""
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(7, 9, 200_000), rng.uniform(50.5, 52, 200_000)
    index = ti.PointIndex.build(lon, lat)
    for z in (12, 14, 16):
        x, y = _tile_of(8.0, 51.2, z)
        pos = index.query(z, x, y)
        assert len(pos) and pos.max() - pos.min() < len(lon) / 100
        assert np.all(np.diff(pos) > 0)


def _decode(body: bytes) -> dict[str, Any]:
    return mapbox_vector_tile.decode(body) if body else {}


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    u, v = ti.lonlat_to_unit(np.array([lon]), np.array([lat]))
    return int(u[0] * 2**z), int(v[0] * 2**z)


def test_address_tiles_hold_every_address_of_the_tile_with_its_class(
    service: Service, demo_run: dict[str, Any]
) -> None:
    run_id = demo_run["id"]
    items = service.get(
        f"/runs/{run_id}/addresses", params={"ags": WARSTEIN, "limit": 1000}
    ).json()["items"]
    frame = pd.DataFrame(items)
    target = frame.iloc[0]
    z = 15
    x, y = _tile_of(target["lon"], target["lat"], z)
    r = service.get(f"/runs/{run_id}/tiles/addresses/{z}/{x}/{y}.mvt")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    features = _decode(r.content)["addresses"]["features"]
    by_id = {f["properties"]["address_id"]: f for f in features}
    hit = by_id[target["address_id"]]["properties"]
    assert hit["class"] == target["class"] and hit["eligible"] == bool(target["eligible"])
    assert hit["street"] == target["street"]
    # every address of the run inside the tile, and only those (the API's bbox filter)
    lon0, lat1 = _lonlat(z, x, y)
    lon1, lat0 = _lonlat(z, x + 1, y + 1)
    everything = service.get(
        f"/runs/{run_id}/addresses",
        params={"bbox": f"{lon0},{lat0},{lon1},{lat1}", "limit": 1000},
    ).json()
    inside = {
        a["address_id"]
        for a in everything["items"]
        if lon0 <= a["lon"] < lon1 and lat0 < a["lat"] <= lat1
    }
    assert set(by_id) == inside
    # below the address zoom the layer is empty (the Gemeinden carry the picture)
    r = service.get(f"/runs/{run_id}/tiles/addresses/10/{x >> 5}/{y >> 5}.mvt")
    assert r.status_code == 200 and r.content == b""


def _lonlat(z: int, x: int, y: int) -> tuple[float, float]:
    n = 2**z
    lon = x / n * 360 - 180
    lat = float(np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * y / n)))))
    return lon, lat


def test_polygon_layers_carry_figures_and_public_keys_get_perturbed_aggregates(
    service: Service, demo_run: dict[str, Any]
) -> None:
    run_id = demo_run["id"]
    z = 9
    x, y = _tile_of(8.35, 51.44, z)  # Warstein
    full = _decode(service.get(f"/runs/{run_id}/tiles/gemeinden/{z}/{x}/{y}.mvt").content)
    warstein = next(
        f["properties"] for f in full["gemeinden"]["features"] if f["properties"]["ags"] == WARSTEIN
    )
    summary = pd.DataFrame(
        service.get(f"/runs/{run_id}/summary?level=gemeinde", "analyst").json()["items"]
    ).set_index("ags")
    assert warstein["addresses"] == summary.loc[WARSTEIN, "addresses"]
    assert warstein["eligible_share"] == pytest.approx(summary.loc[WARSTEIN, "eligible_share"])

    public = pd.DataFrame(
        service.get(f"/runs/{run_id}/summary?level=gemeinde", "public").json()["items"]
    ).set_index("ags")
    tile = _decode(service.get(f"/runs/{run_id}/tiles/gemeinden/{z}/{x}/{y}.mvt", "public").content)
    perturbed = 0
    for f in tile["gemeinden"]["features"]:
        p = f["properties"]
        row = public.loc[p["ags"]]
        for col in ("addresses", "eligible", "n_white", "n_grey"):
            assert p[col] == row[col]  # the public table's value, never the exact one
            assert p[col] not in (1, 2)
            perturbed += p[col] != summary.loc[p["ags"], col]
    assert perturbed > 0  # the cell key method moved some of the demo's counts here
    cells = _decode(service.get(f"/runs/{run_id}/tiles/cells/{z}/{x}/{y}.mvt", "public").content)
    assert len(cells["cells"]["features"]) > 10
    for layer in ("addresses", "gaps"):
        r = service.get(f"/runs/{run_id}/tiles/{layer}/15/{x << 6}/{y << 6}.mvt", "public")
        assert r.status_code == 403, layer
    gaps = _decode(service.get(f"/runs/{run_id}/tiles/gaps/{z}/{x}/{y}.mvt").content)
    props = set(gaps["gaps"]["features"][0]["properties"])
    assert "area_id" in props and props & {"cost_central", "cost_eur"}


def test_tiles_are_cached_on_disk_and_need_a_key_or_session(
    service: Service, demo_run: dict[str, Any], browser_client: Callable[[], TestClient]
) -> None:
    run_id = demo_run["id"]
    x, y = _tile_of(8.35, 51.44, 14)
    url = f"/runs/{run_id}/tiles/addresses/14/{x}/{y}.mvt"
    first = service.get(url)
    path = (
        service.settings.workspace
        / "tiles"
        / run_id
        / "full"
        / "addresses"
        / "14"
        / str(x)
        / f"{y}.mvt"
    )
    assert path.read_bytes() == first.content and len(first.content) > 100
    path.write_bytes(b"cached")  # what is on disk is what is served next: no second cut
    assert service.get(url).content == b"cached"
    path.write_bytes(first.content)
    assert service.client.get(url).status_code == 401
    c = browser_client()
    sign_in(c, service.keys["analyst"])
    assert c.get(url).content == first.content
    assert service.get(f"/runs/{run_id}/tiles/addresses/3/8/0.mvt").status_code == 404
    assert service.get(f"/runs/{run_id}/tiles/addresses/25/0/0.mvt").status_code == 422
    assert service.get(f"/runs/{run_id}/tiles/roads/3/1/1.mvt").status_code == 422
