"""`gapmap inspect` on each fixture names the format, the CRS and how it was decided."""

from __future__ import annotations

import pytest

from api.cli import main
from tests.paths import DATA as _DATA

DATA = _DATA
FIXTURES = [
    ("formats/hkde_header.csv", [], "EPSG:25832", "zone prefix"),
    ("formats/hkde_noheader_cp1252.csv", [], "EPSG:25832", "zone prefix"),
    ("formats/nrw/gebref.txt", [], "EPSG:25832", "EPSG:4647"),
    ("formats/vg250.gpkg", ["--layer", "vg250_gem"], "EPSG:25832", "declared in the file"),
    ("formats/zensus2022_100m.csv", [], "EPSG:3035", "INSPIRE grid"),
    ("formats/zensus2011_100m_short.csv", [], "EPSG:3035", "INSPIRE grid"),
    ("formats/ookla_tiles.csv", [], "EPSG:4326", "quadkeys"),
    ("formats/fcc_fabric.csv", [], "EPSG:4326", "latitude"),
    ("formats/fcc_bdc.csv", [], "none", "no geometry"),
    ("addresses_lonlat.csv", [], "EPSG:4326", "lon/lat columns"),
    ("addresses.gpkg", [], "EPSG:25832", "declared in the file"),
    ("addresses.parquet", [], "EPSG:25832", "declared in the file"),
    ("addresses_shp.zip", [], "EPSG:25832", "declared in the file"),
]


@pytest.mark.parametrize(("name", "extra", "crs", "how"), FIXTURES)
def test_inspect_prints_crs_and_reason(
    name: str, extra: list[str], crs: str, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(DATA / name), *extra]) == 0
    text = capsys.readouterr().out
    crs_line = next(line for line in text.splitlines() if line.startswith("crs:"))
    assert crs in crs_line and how in crs_line, crs_line
    assert "format:" in text and "features:" in text


def test_inspect_lists_problems_of_a_bad_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(DATA / "bad" / "latlon_swapped.csv")]) == 0
    text = capsys.readouterr().out
    assert "problems:" in text and "none found" not in text.split("problems:")[1]


def test_inspect_missing_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(DATA / "nope.csv")]) == 2
    assert "not found" in capsys.readouterr().err
