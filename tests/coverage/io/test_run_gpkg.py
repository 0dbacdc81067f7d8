"""The run's GeoPackage (issue 21): QGIS 3.22 / GDAL 3.6 (Debian 12) have no Parquet driver,
so every run directory also holds gapmap.gpkg with addresses, gap areas, Gemeinden and the
grid summaries; Debian's ogrinfo must list its layers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from coverage.io import run_gpkg


@pytest.fixture()
def gpkg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(run_gpkg, "ROWS_PER_SLICE", 2)  # addresses appended in slices
    addresses = pd.DataFrame(
        {
            "address_id": ["a1", "a2", "a3"],
            "ags": pd.Categorical(["05974044", "05974044", "05958004"]),
            "class": pd.array(["white", "gigabit", None], dtype="string"),
            "eligible": [True, False, False],
            "households": [1, 2, 3],
        }
    )
    xy = (np.array([450000.0, 450100.0, 460000.0]), np.array([5700000.0, 5700050.0, 5710000.0]))
    areas = gpd.GeoDataFrame(
        {"area_id": ["GA-05974044-0001"], "addresses": [1], "gemeinde_names": ["Warstein"]},
        geometry=[shapely.Point(450000, 5700000).buffer(100)], crs="EPSG:25832",
    )  # fmt: skip
    gem = gpd.GeoDataFrame(
        {"ags": ["05974044", "05958004"], "name": ["Warstein", "Arnsberg"], "level": "gemeinde"},
        geometry=[shapely.box(440000, 5690000, 455000, 5705000),
                  shapely.box(455000, 5705000, 465000, 5715000)], crs="EPSG:25832",
    )  # fmt: skip
    summary = pd.DataFrame({"ags": ["05974044", "05958004"], "name": ["Warstein", "Arnsberg"],
                            "addresses": [2, 1], "eligible_share": [0.5, 0.0]})  # fmt: skip
    grid = pd.DataFrame({"cell_id": ["CRS3035RES1000mN3000000E4000000"], "x_ll": [4000000],
                         "y_ll": [3000000], "addresses": pd.array([pd.NA], dtype="Int64")})  # fmt: skip
    path = tmp_path / "gapmap.gpkg"
    run_gpkg.write_run_gpkg(
        path, addresses=addresses, xy=xy, crs="EPSG:25832", gap_areas=areas, gemeinden=gem,
        summary_gemeinde=summary, grids={100: grid.iloc[:0], 1000: grid},
    )  # fmt: skip
    return path


def test_layers_rows_crs_and_values(gpkg: Path) -> None:
    layers = dict(pyogrio.list_layers(gpkg))
    assert layers == {"addresses": "Point", "gap_areas": "MultiPolygon",
                      "gemeinden": "MultiPolygon", "grid_1km": "Polygon"}  # fmt: skip
    back = gpd.read_file(gpkg, layer="addresses")
    assert back["address_id"].tolist() == ["a1", "a2", "a3"]
    assert back["ags"].tolist() == ["05974044", "05974044", "05958004"]  # text, leading zero
    assert back.crs.to_epsg() == 25832 and back.geometry.x.tolist()[2] == 460000.0
    gem = gpd.read_file(gpkg, layer="gemeinden")
    assert gem.set_index("ags").loc["05958004", "addresses"] == 1
    cells = gpd.read_file(gpkg, layer="grid_1km")
    assert cells.crs.to_epsg() == 3035 and cells["addresses"].isna().all()  # suppressed: NULL
    assert cells.geometry.iloc[0].bounds == (4000000.0, 3000000.0, 4001000.0, 3001000.0)
    assert not list(gpkg.parent.glob(".*partial*"))


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="ogrinfo not on PATH (apt gdal-bin)")
def test_debian_ogrinfo_lists_the_layers_without_warnings(gpkg: Path) -> None:
    done = subprocess.run(["ogrinfo", "-ro", str(gpkg)], capture_output=True, text=True, check=True)
    for layer in ("addresses (Point)", "gap_areas (Multi Polygon)", "gemeinden (Multi Polygon)",
                  "grid_1km (Polygon)"):  # fmt: skip
        assert layer in done.stdout
    assert "Warning" not in done.stderr
    info = subprocess.run(["ogrinfo", "-ro", "-so", str(gpkg), "addresses"],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "Feature Count: 3" in info


def _rows(path: Path, sql: str) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        return con.execute(sql).fetchall()


def test_a_large_run_leaves_the_addresses_out_and_gapmap_gpkg_writes_the_same_layer(
    gpkg: Path, tmp_path: Path
) -> None:
    """Beyond the address limit gapmap.gpkg has every layer but ``addresses``; the layer
    written later from addresses.parquet (``gapmap gpkg``) is the run's layer row for row
    (fid, geometry blob, every field, field types), for the run or one Kreis."""
    from coverage.errors import InputDataError
    from coverage.io.writers import write_points_parquet

    addresses = gpd.read_file(gpkg, layer="addresses")
    xy = (addresses.geometry.x.to_numpy(), addresses.geometry.y.to_numpy())
    frame = pd.DataFrame(addresses.drop(columns="geometry"))
    small = tmp_path / "small.gpkg"
    grid = pd.DataFrame({"cell_id": ["CRS3035RES1000mN3000000E4000000"], "x_ll": [4000000],
                         "y_ll": [3000000], "addresses": [3]})  # fmt: skip
    run_gpkg.write_run_gpkg(
        small, addresses=frame, xy=xy, crs="EPSG:25832", gap_areas=None, gemeinden=None,
        summary_gemeinde=pd.DataFrame({"ags": []}), grids={1000: grid}, address_limit=2,
    )  # fmt: skip
    assert dict(pyogrio.list_layers(small)) == {"grid_1km": "Polygon"}
    parquet = write_points_parquet(frame, *xy, "EPSG:25832", tmp_path / "addresses.parquet")
    lazy = tmp_path / "lazy.gpkg"
    assert run_gpkg.write_addresses_gpkg(parquet, lazy) == 3
    for sql in ("SELECT * FROM addresses ORDER BY fid",
                "SELECT sql FROM sqlite_master WHERE name = 'addresses'",
                "SELECT * FROM gpkg_geometry_columns WHERE table_name = 'addresses'"):  # fmt: skip
        assert _rows(lazy, sql) == _rows(gpkg, sql)
    kreis = tmp_path / "kreis.gpkg"
    assert run_gpkg.write_addresses_gpkg(parquet, kreis, ags="05974") == 2
    assert [r[0] for r in _rows(kreis, "SELECT address_id FROM addresses")] == ["a1", "a2"]
    with pytest.raises(InputDataError, match="leading digits"):
        run_gpkg.write_addresses_gpkg(parquet, kreis, ags="05;")
    with pytest.raises(InputDataError, match=r"no addresses\.parquet"):
        run_gpkg.write_addresses_gpkg(tmp_path / "nothing.parquet", kreis)


def test_grid_squares_are_shapelys_wkb_byte_for_byte() -> None:
    from coverage.io.run_gpkg import square_wkb

    rng = np.random.default_rng(5)
    x, y = np.round(rng.random(200) * 4e6) + 0.5, rng.random(200) * 3e6
    expected = list(shapely.to_wkb(shapely.box(x, y, x + 100, y + 100)))
    assert square_wkb(x, y, 100).to_pylist() == expected
    assert len(square_wkb(x[:0], y[:0], 1000)) == 0
