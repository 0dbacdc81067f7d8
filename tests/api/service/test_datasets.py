"""Dataset uploads: validation report, engine messages as 422, size limit 413, zip safety."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.service.app import create_app
from api.service.settings import Settings
from tests.api.service.conftest import ADMIN_KEY, Service, upload
from tests.paths import DATA as _DATA

DATA = _DATA
H = {"X-API-Key": ADMIN_KEY}


def test_upload_show_list_delete(service: Service) -> None:
    ds = upload(service.client, DATA / "addresses.gpkg", "addresses")
    assert (
        ds["kind"] == "addresses"
        and ds["rows"] > 0
        and ds["report"]["validation"]["rows_in"] == ds["rows"]
    )
    assert "/" not in ds["report"]["validation"]["source"]  # the server path never leaks
    shown = service.get(f"/datasets/{ds['id']}").json()
    assert shown["report"] == ds["report"]
    listed = service.get("/datasets", params={"kind": "addresses"}).json()
    assert ds["id"] in [d["id"] for d in listed["items"]] and all(
        d["report"] is None for d in listed["items"]
    )
    assert service.client.delete(f"/datasets/{ds['id']}", headers=H).status_code == 204
    assert service.get(f"/datasets/{ds['id']}").status_code == 404


def test_bad_file_gets_engine_message(service: Service) -> None:
    r = service.client.post(
        "/datasets",
        files={"file": ("broken.gpkg", b"not a geopackage")},
        data={"kind": "addresses"},
        headers=H,
    )
    assert r.status_code == 422 and r.json()["code"] == "source_unreadable"
    assert "broken.gpkg" in r.json()["detail"] and "/tmp" not in r.json()["detail"]
    r = service.client.post(
        "/datasets",
        files={"file": ("a.csv", b"foo,bar\n1,2\n")},
        data={"kind": "addresses"},
        headers=H,
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    r = service.client.post(
        "/datasets", files={"file": ("a.exe", b"MZ")}, data={"kind": "addresses"}, headers=H
    )
    assert r.status_code == 422 and ".exe" not in r.json()["detail"].split("must end")[-1]
    r = service.client.post(
        "/datasets",
        files={"file": ("c.geojson", (DATA / "coverage.geojson").read_bytes())},
        data={"kind": "nonsense"},
        headers=H,
    )
    assert r.status_code == 422 and r.json()["code"] == "request_invalid"


def test_coverage_and_zipped_shapefile(service: Service) -> None:
    cov = upload(service.client, DATA / "coverage.geojson", "coverage")
    assert cov["report"]["validation"]["kind"]
    shp = upload(service.client, DATA / "addresses_shp.zip", "addresses")
    assert shp["report"]["format"] == "shapefile-zip"


@pytest.fixture
def small_limits(tmp_path: Path) -> Iterator[TestClient]:
    """An app with a 64 KiB upload limit and at most 3 zip members."""
    settings = Settings(
        workspace=tmp_path / "ws",
        max_upload_bytes=64 * 1024,
        max_zip_members=3,
        bootstrap_admin_key=ADMIN_KEY,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_upload_limit_is_413(small_limits: TestClient) -> None:
    big = b"x,y\n" + b"1,2\n" * 100_000
    r = small_limits.post(
        "/datasets", files={"file": ("big.csv", big)}, data={"kind": "addresses"}, headers=H
    )
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    assert not list((small_limits.app.state.services.store.tmp_dir).iterdir())  # type: ignore[attr-defined]


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(
    "members",
    [
        {f"f{i}.csv": b"x,y\n1,2\n" for i in range(5)},  # too many members
        {"../evil.csv": b"x,y\n1,2\n"},  # path traversal
        {"bomb.csv": b"0" * 50_000_000},  # expands far beyond its compressed size
    ],
    ids=["members", "traversal", "ratio"],
)
def test_unsafe_zip_is_refused(small_limits: TestClient, members: dict[str, bytes]) -> None:
    data: Any = _zip(members)
    r = small_limits.post(
        "/datasets", files={"file": ("x.zip", data)}, data={"kind": "addresses"}, headers=H
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "input_invalid"


@pytest.mark.parametrize("name", ["evil.geojson", "evil.json", "evil.gpkg"])
def test_a_disguised_vrt_upload_is_refused(service: Service, tmp_path: Path, name: str) -> None:
    """A GDAL VRT saved under a vector extension would read /etc/passwd: 422, not stored."""
    vrt = (
        '<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>CSV:/etc/passwd</SrcDataSource>'
        "</OGRVRTLayer></OGRVRTDataSource>\n"
    )
    before = service.get("/datasets", params={"kind": "addresses"}).json()["items"]
    r = service.client.post(
        "/datasets",
        files={"file": (name, io.BytesIO(vrt.encode()))},
        data={"kind": "addresses"},
        headers=H,
    )
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    detail = r.json()["detail"]
    assert "GDAL VRT" in detail and name in detail and "root:" not in r.text
    assert service.get("/datasets", params={"kind": "addresses"}).json()["items"] == before


def test_fcc_fabric_and_bdc_upload_as_run_reads_them(service: Service, tmp_path: Path) -> None:
    """The FCC Fabric (location_id, latitude/longitude) is an address dataset and the BDC
    availability file an offer list, read with the same column names as `gapmap run`."""
    from tests.api.cli.test_rule_versions_cli import BDC, FABRIC

    fabric, bdc = tmp_path / "fabric.csv", tmp_path / "bdc.csv"
    fabric.write_text(FABRIC, encoding="utf-8")
    bdc.write_text(BDC, encoding="utf-8")
    ds = upload(service.client, fabric, "addresses")
    assert ds["rows"] == 6 and ds["report"]["validation"]["rows_out"] == 6
    ds = upload(service.client, bdc, "offers")
    assert ds["rows"] == 7 and ds["report"]["validation"]["rows_out"] == 7
    assert "location_id" not in ds["report"]["columns"]  # read as address_id
    with bdc.open("rb") as fh:  # as coverage (polygons) it is refused, naming kind=offers
        r = service.client.post("/datasets", files={"file": (bdc.name, fh)},
                                data={"kind": "coverage"}, headers=H)  # fmt: skip
    assert r.status_code == 422 and "with kind=offers" in r.json()["detail"]
