"""Readers: every format round-trips, and every bad input fails with a gapmap error that names
the file and the problem. Fixtures come from tests/data/make_fixtures.py; broken and hostile
files are built here in tmp_path."""

from __future__ import annotations

import re
import shutil
import stat
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from coverage.errors import CRSError, InputDataError, SourceReadError
from coverage.io.archive import safe_extract
from coverage.io.hashing import sha256_file
from coverage.io.vector import RawLayer, read_vector
from tests.paths import DATA as _DATA

DATA = _DATA
IDS = ["DENW00001", "DENW00002", "DENW00003"]
X = np.array([412_345.5, 412_400.25, 420_010.0])
Y = np.array([5_656_789.5, 5_656_800.75, 5_660_000.0])
STREETS = ["Straße des 17. Juni", "Müllerweg", "Kölner Straße"]
DECLARED = "declared in the file"
STATED = "stated by the user"
LONLAT = "lon/lat columns (EPSG:4326)"


def _assert_points(layer: RawLayer) -> None:
    pts = layer.frame.to_crs("EPSG:25832")
    np.testing.assert_allclose(pts.geometry.x.to_numpy(), X, atol=0.01)
    np.testing.assert_allclose(pts.geometry.y.to_numpy(), Y, atol=0.01)


# ----------------------------------------------------------------------------- round trips


@pytest.mark.parametrize(
    ("name", "kwargs", "fmt", "epsg", "how"),
    [
        ("addresses.parquet", {}, "geoparquet", 25832, DECLARED),
        ("addresses.gpkg", {}, "gpkg", 25832, DECLARED),
        ("shp/addresses.shp", {}, "shapefile", 25832, DECLARED),
        ("addresses_shp.zip", {}, "shapefile-zip", 25832, DECLARED),
        ("addresses.gpkg", {"crs": "EPSG:25832"}, "gpkg", 25832, DECLARED),
        ("shp/addresses.shp", {"crs": 25832}, "shapefile", 25832, DECLARED),
        ("addresses_lonlat.csv", {}, "csv", 4326, LONLAT),
        ("addresses_csv.zip", {}, "csv", 4326, LONLAT),
        ("addresses_xy.csv", {"crs": "EPSG:25832"}, "csv", 25832, STATED),
        ("addresses_semicolon.csv", {"crs": "EPSG:25832"}, "csv", 25832, STATED),
        ("addresses_bom.csv", {"crs": "EPSG:25832"}, "csv", 25832, STATED),
        ("addresses_cp1252.csv", {"crs": "EPSG:25832"}, "csv", 25832, STATED),
        ("addresses_tab.txt", {"crs": "EPSG:25832"}, "csv", 25832, STATED),
        ("addresses_wkt.csv", {"crs": "EPSG:25832"}, "csv", 25832, STATED),
    ],
)
def test_address_formats_round_trip(
    name: str, kwargs: dict[str, Any], fmt: str, epsg: int, how: str
) -> None:
    layer = read_vector(DATA / name, **kwargs)
    assert layer.format == fmt
    assert layer.rows == 3 == len(layer.frame)
    assert layer.crs.to_epsg() == epsg
    assert layer.frame.crs == layer.crs
    assert layer.crs_how == how
    assert layer.source == str(DATA / name)
    assert layer.sha256 == sha256_file(DATA / name)
    assert layer.frame.geometry.name == "geometry"
    assert layer.frame["address_id"].tolist() == IDS
    _assert_points(layer)


def test_geojson_polygons_round_trip() -> None:
    layer = read_vector(DATA / "coverage.geojson")
    assert (layer.format, layer.rows, layer.crs.to_epsg()) == ("geojson", 1, 4326)
    assert layer.frame["provider"].tolist() == ["Muster Glasfaser GmbH"]
    assert layer.frame.geometry.iloc[0].geom_type == "Polygon"


@pytest.mark.parametrize(
    "name", ["addresses_xy.csv", "addresses_semicolon.csv", "addresses.gpkg", "addresses.parquet"]
)
def test_id_columns_keep_leading_zeros(name: str) -> None:
    frame = read_vector(DATA / name, crs="EPSG:25832").frame
    assert frame["Gemeindeschluessel"].tolist() == ["05966024", "05966024", "05966020"]
    assert frame["postcode"].tolist()[2] == "01234"
    assert frame["house_number"].tolist() == ["1", "12a", "007"]


# ------------------------------------------------------------------------- column mapping


@pytest.mark.parametrize("name", ["addresses.gpkg", "addresses_lonlat.csv"])
def test_column_mapping_renames(name: str) -> None:
    layer = read_vector(DATA / name, columns={"Gemeindeschluessel": "ags", "street": "street"})
    assert "ags" in layer.frame.columns and "Gemeindeschluessel" not in layer.frame.columns
    assert layer.frame["ags"].iloc[0] == "05966024"


def test_column_mapping_names_the_missing_column() -> None:
    with pytest.raises(InputDataError) as info:
        read_vector(DATA / "addresses.gpkg", columns={"Gemeindekennziffer": "ags"})
    msg = str(info.value)
    assert "addresses.gpkg" in msg and "'Gemeindekennziffer'" in msg
    assert "Gemeindeschluessel" in msg  # the columns found are listed


def test_column_mapping_hints_at_case_and_truncation() -> None:
    with pytest.raises(InputDataError, match=r"'street' -> 'STREET'|case-sensitive"):
        read_vector(DATA / "addresses.gpkg", columns={"STREET": "street_name"})
    # shapefiles cut names to 10 characters; the error shows the truncated name
    with pytest.raises(InputDataError, match="Gemeindesc"):
        read_vector(DATA / "shp/addresses.shp", columns={"Gemeindeschluessel": "ags"})


def test_column_mapping_refuses_duplicates() -> None:
    with pytest.raises(InputDataError, match=r"duplicate column.*'street'"):
        read_vector(DATA / "addresses.gpkg", columns={"postcode": "street"})


# ---------------------------------------------------------------------------- CSV variants


def test_semicolon_decimal_comma() -> None:
    layer = read_vector(DATA / "addresses_semicolon.csv", crs="EPSG:25832")
    assert "delimiter: semicolon" in layer.notes and "decimal comma in coordinates" in layer.notes
    assert layer.frame["Rechtswert"].dtype == np.float64
    assert layer.frame["street"].tolist() == STREETS


def test_bom_is_not_part_of_the_first_column() -> None:
    layer = read_vector(DATA / "addresses_bom.csv", crs="EPSG:25832")
    assert layer.frame.columns[0] == "address_id"


def test_cp1252_is_decoded_and_noted() -> None:
    layer = read_vector(DATA / "addresses_cp1252.csv", crs="EPSG:25832")
    assert layer.frame["street"].tolist() == STREETS
    assert any("cp1252" in n for n in layer.notes)


def test_cp1252_after_the_sniffed_sample(tmp_path: Path) -> None:
    # the first 64 KiB are plain ASCII; the umlaut comes late, so only pyarrow notices
    rows = [f"A{i:06d},{412000 + i}.0,5656000.0,Weg" for i in range(5000)]
    rows.append("B1,412000.0,5656000.0,Müllerweg")
    path = tmp_path / "late.csv"
    path.write_bytes(("address_id,x,y,street\n" + "\n".join(rows) + "\n").encode("cp1252"))
    layer = read_vector(path, crs=25832)
    assert layer.frame["street"].iloc[-1] == "Müllerweg"
    assert any("cp1252" in n for n in layer.notes)


def test_tab_delimiter() -> None:
    layer = read_vector(DATA / "addresses_tab.txt", crs="EPSG:25832")
    assert "delimiter: tab" in layer.notes
    assert "coordinates from columns easting/northing" in layer.notes


def test_explicit_and_mapped_coordinate_columns(tmp_path: Path) -> None:
    path = tmp_path / "rw.csv"
    path.write_text("id;RW;HW\nA;412345,5;5656789,5\n", encoding="utf-8")
    explicit = read_vector(path, crs=25832, x="RW", y="HW")
    mapped = read_vector(path, crs=25832, columns={"RW": "x", "HW": "y", "id": "address_id"})
    for layer in (explicit, mapped):
        assert layer.frame.geometry.iloc[0].x == pytest.approx(412_345.5)
    assert list(mapped.frame.columns) == ["address_id", "x", "y", "geometry"]
    with pytest.raises(InputDataError, match="'Ost' not found"):
        read_vector(path, crs=25832, x="Ost", y="HW")


def test_lonlat_csv_is_epsg4326_and_says_so() -> None:
    layer = read_vector(DATA / "addresses_lonlat.csv")
    assert layer.crs.to_epsg() == 4326 and layer.crs_how == LONLAT


def test_xy_csv_without_crs_asks_for_crs() -> None:
    with pytest.raises(
        CRSError,
        match=r"addresses_xy\.csv: the layer has no CRS; state it with the file's CRS option",
    ):
        read_vector(DATA / "addresses_xy.csv")


def test_wkt_csv_needs_a_stated_crs() -> None:
    with pytest.raises(CRSError, match="file's CRS option"):
        read_vector(DATA / "addresses_wkt.csv")


def test_non_numeric_coordinate_names_row_and_column() -> None:
    with pytest.raises(InputDataError) as info:
        read_vector(DATA / "addresses_badcoord.csv", crs=25832)
    msg = str(info.value)
    assert "addresses_badcoord.csv" in msg and "'x'" in msg and "row(s) 2" in msg and "'n/a'" in msg


def test_empty_coordinate_cell_names_row(tmp_path: Path) -> None:
    path = tmp_path / "gap.csv"
    path.write_text("id,lon,lat\nA,7.5,51.0\nB,7.6,51.1\nC,,51.2\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"gap\.csv: column 'lon'.*row\(s\) 3 \(first: empty"):
        read_vector(path)


def test_csv_without_coordinates_or_rows(tmp_path: Path) -> None:
    nocoords = tmp_path / "plain.csv"
    nocoords.write_text("id,name\n1,a\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"plain\.csv: no coordinate columns found"):
        read_vector(nocoords, crs=25832)
    header_only = tmp_path / "header.csv"
    header_only.write_text("id,lon,lat\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"header\.csv: no features"):
        read_vector(header_only)


def test_ragged_csv_is_input_error(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("id,lon,lat\nA,7.5,51.0\nB,7.6,51.1,extra\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"ragged\.csv: malformed CSV"):
        read_vector(path)


# ------------------------------------------------------------------------------------ CRS


def test_stated_crs_conflicting_with_file_is_error() -> None:
    with pytest.raises(CRSError, match=r"addresses\.gpkg.*EPSG:25832.*EPSG:4647"):
        read_vector(DATA / "addresses.gpkg", crs="EPSG:4647")


def test_shapefile_without_prj(tmp_path: Path) -> None:
    for part in (DATA / "shp").glob("addresses.*"):
        if part.suffix != ".prj":
            shutil.copy(part, tmp_path / part.name)
    with pytest.raises(CRSError, match=r"no CRS.*file's CRS option"):
        read_vector(tmp_path / "addresses.shp")
    layer = read_vector(tmp_path / "addresses.shp", crs="EPSG:25832")
    assert layer.crs_how == STATED and layer.crs.to_epsg() == 25832


# ------------------------------------------------------------------------ broken files


@pytest.mark.parametrize("name", ["empty.gpkg", "empty.csv", "empty.parquet", "empty.zip"])
def test_zero_byte_file(tmp_path: Path, name: str) -> None:
    (tmp_path / name).touch()
    with pytest.raises(InputDataError, match=rf"{name}: the file is empty \(0 bytes\)"):
        read_vector(tmp_path / name)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("addresses.gpkg", "GeoPackage"),
        ("addresses.parquet", "GeoParquet"),
        ("coverage.geojson", "GeoJSON"),
        ("addresses_shp.zip", "zip"),
    ],
)
def test_truncated_file(tmp_path: Path, name: str, kind: str) -> None:
    data = (DATA / name).read_bytes()
    path = tmp_path / name
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceReadError, match=rf"{name}.*{kind}"):
        read_vector(path)


def test_missing_file() -> None:
    with pytest.raises(SourceReadError, match=r"nowhere\.gpkg: file not found"):
        read_vector(DATA / "nowhere.gpkg")


def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "addresses.xlsx"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(
        SourceReadError, match=r"addresses\.xlsx: unknown file type '\.xlsx'.*GeoPackage"
    ):
        read_vector(path)


def test_plain_parquet_is_not_geoparquet(tmp_path: Path) -> None:
    import pandas as pd

    path = tmp_path / "plain.parquet"
    pd.DataFrame({"id": ["a"]}).to_parquet(path)
    with pytest.raises(InputDataError, match=r"plain\.parquet: a Parquet file without GeoParquet"):
        read_vector(path)


# ------------------------------------------------------------------------ multi-layer


def test_multi_layer_gpkg_needs_a_layer_named_qgis_style() -> None:
    with pytest.raises(
        InputDataError,
        match=r"multi\.gpkg: the file has 2 layers; name the one to read in the file option, "
        r"QGIS style: '.*multi\.gpkg\|layername=addresses', '.*multi\.gpkg\|layername=coverage'",
    ):
        read_vector(DATA / "multi.gpkg")
    layer = read_vector(DATA / "multi.gpkg", layer="coverage")
    assert (layer.rows, layer.layer) == (1, "coverage")
    # the same layer through the data source form every file option accepts
    layer = read_vector(f"{DATA / 'multi.gpkg'}|layername=coverage")
    assert (layer.rows, layer.layer, layer.source) == (1, "coverage", str(DATA / "multi.gpkg"))
    assert read_vector(f"{DATA / 'multi.gpkg'}|layerid=0").layer == "addresses"
    with pytest.raises(
        InputDataError,
        match=r"no layer 'gemeinden'; name one of: '.*multi\.gpkg\|layername=addresses'",
    ):
        read_vector(f"{DATA / 'multi.gpkg'}|layername=gemeinden")


# ----------------------------------------------------------------------------- archives


def _zip(path: Path, entries: dict[str, bytes], symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("../evil.shp", r"'\.\.'"),
        ("a/../../evil.shp", r"'\.\.'"),
        ("/tmp/evil.shp", "absolute path"),
        ("C:\\evil.shp", "absolute path"),
    ],
)
def test_zip_refuses_escaping_entries(tmp_path: Path, entry: str, problem: str) -> None:
    bad = _zip(tmp_path / "bad.zip", {"ok.txt": b"x", entry: b"boom"})
    dest = tmp_path / "out"
    dest.mkdir()
    pattern = rf"bad\.zip: refusing entry {re.escape(repr(entry))}.*{problem}"
    with pytest.raises(InputDataError, match=pattern):
        safe_extract(bad, dest)
    assert not list(dest.iterdir()) and not (tmp_path / "evil.shp").exists()
    with pytest.raises(InputDataError, match=r"bad\.zip: refusing entry"):
        read_vector(bad)


def test_zip_refuses_symlinks(tmp_path: Path) -> None:
    bad = _zip(tmp_path / "link.zip", {}, symlink="addresses.shp")
    with pytest.raises(
        InputDataError, match=r"link\.zip: refusing entry 'addresses\.shp': symbolic link"
    ):
        safe_extract(bad, tmp_path)


def test_zip_bomb_ratio(tmp_path: Path) -> None:
    # 8 MB of zeros deflate to ~8 KB: a ratio near 1000:1
    bomb = _zip(tmp_path / "bomb.zip", {"zeros.csv": bytes(8_000_000)})
    with pytest.raises(
        InputDataError, match=r"bomb\.zip: refusing entry 'zeros\.csv': compression ratio"
    ):
        safe_extract(bomb, tmp_path / "out")
    with pytest.raises(InputDataError, match="zip bomb"):
        read_vector(bomb)


def test_zip_limits_total_size_and_file_count(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "many.zip", {f"f{i}.txt": b"0123456789" * 10 for i in range(5)})
    with pytest.raises(
        InputDataError, match=r"many\.zip: refusing entry 'f2\.txt'.*more than 250 bytes"
    ):
        safe_extract(archive, tmp_path, max_total_bytes=250)
    with pytest.raises(InputDataError, match=r"many\.zip.*5 entries \(limit 3\)"):
        safe_extract(archive, tmp_path, max_files=3)
    out = tmp_path / "ok"
    out.mkdir()
    assert [p.name for p in safe_extract(archive, out)] == [f"f{i}.txt" for i in range(5)]


def test_corrupt_zip(tmp_path: Path) -> None:
    path = tmp_path / "junk.zip"
    path.write_bytes(b"this is not a zip archive")
    with pytest.raises(SourceReadError, match=r"junk\.zip: not a readable zip archive"):
        read_vector(path)


def test_zip_with_two_shapefiles_needs_a_layer(tmp_path: Path) -> None:
    parts = {p.name: p.read_bytes() for p in (DATA / "shp").glob("addresses.*")}
    entries = {
        f"{d}/{n.replace('addresses', d)}": b for d in ("nord", "sued") for n, b in parts.items()
    }
    archive = _zip(tmp_path / "two.zip", entries)
    with pytest.raises(
        InputDataError,
        match=r"two\.zip: the zip holds 2 candidate layers \(nord/nord\.shp, sued/sued\.shp\)",
    ):
        read_vector(archive)
    layer = read_vector(archive, layer="sued")
    assert layer.format == "shapefile-zip" and layer.rows == 3
    assert "read sued/sued.shp from the zip archive" in layer.notes


def test_zip_without_a_layer(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "docs.zip", {"manual.pdf": b"%PDF"})
    with pytest.raises(
        InputDataError, match=r"docs\.zip: the zip holds no readable layer \(found: manual\.pdf\)"
    ):
        read_vector(archive)


def test_zip_holding_a_geopackage_passes_the_layer_on(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "gpkg.zip", {"data/multi.gpkg": (DATA / "multi.gpkg").read_bytes()})
    layer = read_vector(archive, layer="addresses")
    assert (layer.format, layer.rows, layer.layer) == ("gpkg", 3, "addresses")
    assert layer.notes[0] == "read data/multi.gpkg from the zip archive"


# -------------------------------------------------------------------- more CSV decisions


def test_latin1_when_cp1252_cannot_decode(tmp_path: Path) -> None:
    # 0x81 is undefined in cp1252; it must still read (as Latin-1), past the sniffed sample
    rows = b"".join(b"A%06d,7.5,51.0,Weg\n" % i for i in range(5000))
    path = tmp_path / "latin.csv"
    path.write_bytes(b"id,lon,lat,street\n" + rows + b"B,7.5,51.0,M\xfcller\x81\n")
    layer = read_vector(path)
    assert layer.frame["street"].iloc[-1] == "Müller\x81"
    assert any("latin-1" in n for n in layer.notes)


def test_stated_crs_prefers_the_projected_pair(tmp_path: Path) -> None:
    path = tmp_path / "both.csv"
    path.write_text("id,lon,lat,x,y\nA,7.75,51.05,412345.5,5656789.5\n", encoding="utf-8")
    assert read_vector(path).crs_how == LONLAT
    stated = read_vector(path, crs="EPSG:25832")
    assert stated.frame.geometry.iloc[0].x == pytest.approx(412_345.5)
    assert "coordinates from columns x/y" in stated.notes
