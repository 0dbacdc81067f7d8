"""Readers open only what they name (issue: an admin upload could read any server file and
fetch any URL through a GDAL VRT saved as .geojson or .gpkg)."""

from __future__ import annotations

import http.server
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import geopandas as gpd
import pyogrio
import pytest
import shapely

from coverage.errors import SourceReadError
from coverage.io.detect import detect_format
from coverage.io.raster import raster_info
from coverage.io.vector import read_vector

EXTENSIONS = [".geojson", ".json", ".gpkg", ".shp", ".fgb"]


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local file a VRT should never get to read."""
    path = tmp_path_factory.mktemp("private") / "secret.geojson"
    path.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
        '{"address_id":"SECRET-42"},"geometry":{"type":"Point","coordinates":[7.5,51.3]}}]}'
    )
    return path


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Counter.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    do_HEAD = do_GET  # noqa: N815

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def loopback() -> Iterator[str]:
    """A loopback HTTP server that records every request it gets."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _vrt(source: str) -> str:
    return (
        '<OGRVRTDataSource><OGRVRTLayer name="x">'
        f"<SrcDataSource>{source}</SrcDataSource><SrcLayer>secret</SrcLayer>"
        "</OGRVRTLayer></OGRVRTDataSource>\n"
    )


def test_without_the_check_gdal_would_read_the_secret(secret_file: Path, tmp_path: Path) -> None:
    """The danger is real: GDAL itself opens a VRT named .geojson and reads its source."""
    evil = tmp_path / "evil.geojson"
    evil.write_text(_vrt(str(secret_file)))
    frame = pyogrio.read_dataframe(evil)
    assert list(frame["address_id"]) == ["SECRET-42"]


@pytest.mark.parametrize("ext", EXTENSIONS)
def test_a_disguised_vrt_is_refused_and_nothing_is_read_or_fetched(
    ext: str, secret_file: Path, loopback: str, tmp_path: Path
) -> None:
    _Counter.hits.clear()
    for i, source in enumerate([str(secret_file), f"/vsicurl/{loopback}/secret.geojson"]):
        evil = tmp_path / f"evil{i}{ext}"
        evil.write_text(_vrt(source))
        with pytest.raises(SourceReadError, match=r"XML .*GDAL VRT") as err:
            read_vector(evil, crs="EPSG:4326")
        assert "SECRET" not in str(err.value) and str(evil) in str(err.value)
        with pytest.raises(SourceReadError, match="XML"):
            detect_format(evil)
    assert _Counter.hits == []


def test_a_disguised_vrt_inside_a_zip_is_refused(secret_file: Path, tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("layer.geojson", _vrt(str(secret_file)))
    with pytest.raises(SourceReadError, match="XML"):
        read_vector(archive, crs="EPSG:4326")


@pytest.mark.parametrize(
    "path",
    [
        "/vsicurl/http://127.0.0.1:9/x.geojson",
        "/vsizip//tmp/a.zip/x.shp",
        "http://127.0.0.1:9/x.geojson",
        "PG:dbname=gapmap",
        "GPKG:/etc/x.gpkg:layer",
    ],
)
def test_virtual_paths_urls_and_connection_strings_are_refused(path: str) -> None:
    with pytest.raises(SourceReadError, match="not read"):
        read_vector(path)
    with pytest.raises(SourceReadError, match="not read"):
        detect_format(path)
    with pytest.raises(SourceReadError, match="not read"):
        raster_info(path)


def test_content_must_match_the_extension(tmp_path: Path) -> None:
    sqlite = tmp_path / "plain.gpkg"
    import sqlite3

    with sqlite3.connect(sqlite) as db:  # an SQLite file without the GeoPackage id
        db.execute("create table t (a int)")
    with pytest.raises(SourceReadError, match="SQLite database that is not a GeoPackage"):
        read_vector(sqlite)
    zipped = tmp_path / "data.geojson"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("a.txt", "x")
    with pytest.raises(SourceReadError, match="zip archive"):
        read_vector(zipped)


def test_raster_vrt_is_refused_as_tif_and_as_vrt(secret_file: Path, tmp_path: Path) -> None:
    vrt = (
        '<VRTDataset rasterXSize="1" rasterYSize="1"><VRTRasterBand dataType="Byte" band="1">'
        f"<SimpleSource><SourceFilename>{secret_file}</SourceFilename></SimpleSource>"
        "</VRTRasterBand></VRTDataset>\n"
    )
    for name, match in (("evil.tif", "XML"), ("evil.vrt", "VRT files are not read")):
        path = tmp_path / name
        path.write_text(vrt)
        with pytest.raises(SourceReadError, match=match):
            raster_info(path)


@pytest.mark.parametrize(
    ("ext", "driver"),
    [(".geojson", "GeoJSON"), (".json", "GeoJSON"), (".gpkg", "GPKG"),
     (".shp", "ESRI Shapefile"), (".fgb", "FlatGeobuf")],
)  # fmt: skip
def test_real_files_of_every_format_are_read(ext: str, driver: str, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"address_id": ["a", "b"]},
        geometry=[shapely.Point(400000, 5700000), shapely.Point(400100, 5700100)],
        crs="EPSG:25832",
    )
    path = tmp_path / f"ok{ext}"
    pyogrio.write_dataframe(frame, path, driver=driver)
    raw = read_vector(path)
    assert sorted(raw.frame["address_id"]) == ["a", "b"] and raw.crs.to_epsg() == 25832
