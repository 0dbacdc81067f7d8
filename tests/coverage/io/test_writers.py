"""The atomic GeoParquet writer: row groups, categoricals as strings, GeoParquet metadata."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely

from coverage.io.writers import _wkb, write_parquet, write_points_parquet


def _frame(n: int, geometry: np.ndarray) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(3)
    reasons = np.array(["GREY: VDSL 100/40", "WHITE: no NGA network", "gigabit: FTTH 1000/500"])
    return gpd.GeoDataFrame(
        {
            "address_id": pd.array([f"A{i:06d}" for i in range(n)], dtype="string"),
            "reason": pd.Categorical(reasons[rng.integers(0, 3, n)]),
            # all None in the first row groups, text later: one schema for every group
            "note": np.array([None] * (n - 1) + ["late text"], dtype=object),
            "households": rng.integers(1, 9, n).astype("int32"),
            "cell": pd.Categorical.from_codes(
                np.where(np.arange(n) % 7 == 0, -1, np.arange(n) % 5),
                pd.Index([f"CRS3035RES100mN{k}E4" for k in range(5)], dtype="string"),
            ),
        },
        geometry=geometry,
        crs="EPSG:25832",
    )


@pytest.mark.parametrize("rows_per_group", [1_000, 100_000])
def test_points_round_trip_with_categoricals_as_strings(
    tmp_path: Path, rows_per_group: int
) -> None:
    n = 2_500
    rng = np.random.default_rng(1)
    points = shapely.points(rng.uniform(3.8e5, 4.6e5, n), rng.uniform(5.6e6, 5.7e6, n))
    frame = _frame(n, points)
    path = write_parquet(frame, tmp_path / "a.parquet", rows_per_group=rows_per_group)

    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == -(-n // rows_per_group)
    back = gpd.read_parquet(path)
    assert back.crs.to_epsg() == 25832
    expected = pd.DataFrame(frame.drop(columns="geometry")).astype(
        {"reason": "string", "cell": "string", "note": "string"}
    )
    got = pd.DataFrame(back.drop(columns="geometry")).astype({"note": "string"})
    pd.testing.assert_frame_equal(got, expected)
    assert back.loc[n - 1, "note"] == "late text" and pd.isna(back.loc[0, "note"])
    assert back.geometry.geom_equals_exact(frame.geometry, tolerance=0).all()

    geo = json.loads(pq.read_schema(path).metadata[b"geo"])
    column = geo["columns"]["geometry"]
    assert geo["primary_column"] == "geometry" and column["encoding"] == "WKB"
    assert column["geometry_types"] == ["Point"]
    assert column["bbox"] == pytest.approx(list(shapely.total_bounds(points)))
    assert column["crs"]["id"] == {"authority": "EPSG", "code": 25832}


def test_point_wkb_is_byte_for_byte_what_geos_writes() -> None:
    rng = np.random.default_rng(2)
    points = shapely.points(rng.normal(0, 1e6, 500), rng.normal(0, 1e6, 500))
    assert _wkb(points).to_pylist() == list(shapely.to_wkb(points))
    # anything but plain 2D points goes through GEOS
    mixed = np.array([shapely.Point(1, 2, 3), shapely.box(0, 0, 1, 1), None], dtype=object)
    assert _wkb(mixed).to_pylist() == list(shapely.to_wkb(mixed))


def test_polygons_and_missing_geometries_round_trip(tmp_path: Path) -> None:
    geoms = np.array(
        [shapely.box(0, 0, 1, 1), None, shapely.MultiPolygon([shapely.box(2, 2, 3, 3)])] * 3,
        dtype=object,
    )
    frame = _frame(len(geoms), geoms)
    path = write_parquet(frame, tmp_path / "p.parquet", rows_per_group=4)
    back = gpd.read_parquet(path)
    assert back.geometry.isna().tolist() == [g is None for g in geoms]
    present = back.geometry.notna().to_numpy()
    assert shapely.equals(back.geometry.values[present], geoms[present]).all()
    types = json.loads(pq.read_schema(path).metadata[b"geo"])["columns"]["geometry"]
    assert types["geometry_types"] == ["MultiPolygon", "Polygon"]


def test_points_from_coordinates_equal_the_geodataframe_file(tmp_path: Path) -> None:
    n = 1_234
    rng = np.random.default_rng(4)
    x, y = rng.uniform(3.8e5, 4.6e5, n), rng.uniform(5.6e6, 5.7e6, n)
    frame = _frame(n, shapely.points(x, y))
    a = write_parquet(frame, tmp_path / "a.parquet", rows_per_group=500)
    plain = pd.DataFrame(frame.drop(columns="geometry"))
    b = write_points_parquet(plain, x, y, "EPSG:25832", tmp_path / "b.parquet", rows_per_group=500)
    assert pq.read_table(a).equals(pq.read_table(b))
    geo_a, geo_b = (json.loads(pq.read_schema(p).metadata[b"geo"]) for p in (a, b))
    assert geo_a == geo_b
    with pytest.raises(ValueError, match="1233 x"):
        write_points_parquet(plain, x[:-1], y, "EPSG:25832", tmp_path / "c.parquet")
    assert not (tmp_path / "c.parquet").exists()


def test_spreadsheet_formulas_are_neutralised_and_numbers_stay_numbers(tmp_path) -> None:
    """OWASP CSV injection: text starting with = + - @ tab CR gets a leading apostrophe."""
    import csv as _csv

    from coverage.io.writers import spreadsheet_cell, write_csv

    frame = pd.DataFrame(
        {
            "street": [
                '=HYPERLINK("http://x")',
                "+SUM(A1)",
                "-2+3",
                "@cmd",
                "\tx",
                "@x",
                "Hauptstr.",
                "-5",
                "+3,5",
                None,
            ],
            "n": [-1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
            "share": [-0.5] * 10,
            "kind": pd.Categorical(["=1+1"] * 5 + ["ok"] * 5),
            "=evil header": ["a"] * 10,
        }
    )
    path = write_csv(frame, tmp_path / "t.csv")
    rows = list(_csv.reader(path.open(encoding="utf-8", newline="")))
    assert rows[0][-1] == "'=evil header"
    streets = [r[0] for r in rows[1:]]
    assert streets[:6] == ["'=HYPERLINK(\"http://x\")", "'+SUM(A1)", "'-2+3", "'@cmd",
                           "'\tx", "'@x"]  # fmt: skip
    assert streets[6:] == ["Hauptstr.", "-5", "+3,5", ""]
    assert [r[1] for r in rows[1:3]] == ["-1", "2"] and rows[1][2] == "-0.5"
    assert {r[3] for r in rows[1:]} == {"'=1+1", "ok"}
    assert frame.loc[0, "street"].startswith("=")  # the caller's frame is untouched
    assert spreadsheet_cell(-3) == -3 and spreadsheet_cell("-") == "'-"
    assert spreadsheet_cell("\rx") == "'\rx"


def test_points_parquet_reads_back_as_written_without_dictionaries_for_ids(tmp_path) -> None:
    n = 3000
    frame = pd.DataFrame({"address_id": [f"A{i}" for i in range(n)], "k": ["a", "b", "c"] * 1000})
    x, y = np.arange(n, dtype=float), np.arange(n, dtype=float) * 2
    path = write_points_parquet(frame, x, y, "EPSG:25832", tmp_path / "p.parquet")
    back = gpd.read_parquet(path)
    assert back["address_id"].tolist() == frame["address_id"].tolist()
    assert back["k"].tolist() == frame["k"].tolist()
    assert np.array_equal(back.geometry.x, x) and np.array_equal(back.geometry.y, y)
    chunk = pq.ParquetFile(path).metadata.row_group(0)
    encodings = {chunk.column(i).path_in_schema: chunk.column(i).encodings for i in range(3)}
    assert "RLE_DICTIONARY" in encodings["k"]
    assert "RLE_DICTIONARY" not in encodings["address_id"]
    assert "RLE_DICTIONARY" not in encodings["geometry"]
