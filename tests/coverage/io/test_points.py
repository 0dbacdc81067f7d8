"""GeoParquet addresses read as coordinates (coverage.io.points, run_inputs.load_address_table)
give the frame, coordinates, record and errors of the generic reader."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage.crs import REGIONS
from coverage.errors import GapmapError
from coverage.io.points import PointLayer, read_points
from coverage.io.vector import RawLayer
from coverage.run_inputs import LayerSpec, load_address_table, load_addresses

REGION = REGIONS["de"]


def _addresses(n: int = 50) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(3)
    x, y = 420_000 + rng.random(n) * 5000, 5_650_000 + rng.random(n) * 5000
    return gpd.GeoDataFrame(
        {
            "address_id": [f" A{i:04d}" for i in range(n)],
            "ags": ["05958004"] * (n - 2) + [None, "05958044"],
            "Strasse": ["Hauptstr."] * n,
            "hnr": [str(i) for i in range(n)],
            "households": rng.integers(0, 9, n).astype("int64"),
        },
        geometry=gpd.points_from_xy(x, y),
        crs="EPSG:25832",
    )


def _same(path: Path) -> None:
    frame, (x, y), record, report = load_address_table(LayerSpec(path), REGION)
    old, old_record, old_report = load_addresses(LayerSpec(path), REGION)
    assert frame.equals(pd.DataFrame(old.drop(columns="geometry")))
    assert list(frame.dtypes) == list(old.drop(columns="geometry").dtypes)
    assert np.array_equal(x, old.geometry.x) and np.array_equal(y, old.geometry.y)
    assert record == old_record and report.to_dict() == old_report.to_dict()


def _error(path: Path) -> str:
    with pytest.raises(GapmapError) as new:
        load_address_table(LayerSpec(path), REGION)
    with pytest.raises(GapmapError) as old:
        load_addresses(LayerSpec(path), REGION)
    assert type(new.value) is type(old.value) and str(new.value) == str(old.value)
    return str(new.value)


def test_points_come_back_as_coordinates_equal_to_the_generic_reader(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    _addresses().to_parquet(path)
    layer = read_points(path)
    assert isinstance(layer, PointLayer) and "geometry" not in layer.frame
    _same(path)


def test_reprojected_points_equal_the_generic_reader(tmp_path: Path) -> None:
    path = tmp_path / "wgs84.parquet"
    _addresses().to_crs("EPSG:4326").to_parquet(path)
    assert isinstance(read_points(path), PointLayer)
    _same(path)


def test_other_geometries_take_the_generic_reader(tmp_path: Path) -> None:
    frame = _addresses(5)
    frame.loc[2, "geometry"] = shapely.Point(420_000, 5_650_000, 3)
    path = tmp_path / "z.parquet"
    frame.to_parquet(path)
    assert isinstance(read_points(path), RawLayer)
    frame.loc[2, "geometry"] = shapely.box(0, 0, 1, 1)
    frame.to_parquet(path)
    assert "must be points (rows 3" in _error(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.assign(geometry=f.geometry.where(f.index != 4, shapely.Point())), "no coord"),
        (lambda f: f.assign(address_id=["A1"] * len(f)), "not unique"),
        (lambda f: f.assign(ags=["5958004"] * len(f)), "8-digit"),
        (lambda f: f.assign(households=-1), "households"),
    ],
)
def test_bad_addresses_give_the_same_error(tmp_path: Path, change, message: str) -> None:
    path = tmp_path / "bad.parquet"
    change(_addresses(8)).to_parquet(path)
    assert message in _error(path)
