"""--fibre: a user's PoPs and routes as link targets, read through coverage.io."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from coverage.crs import REGIONS
from coverage.errors import InputDataError
from coverage.run_inputs import LayerSpec, load_fibre


def test_points_and_lines_are_read_and_reprojected(tmp_path: Path) -> None:
    path = tmp_path / "fibre.geojson"
    gpd.GeoDataFrame(
        {"name": ["PoP Warstein", "route"]},
        geometry=[shapely.Point(8.35, 51.44), shapely.LineString([(8.35, 51.44), (8.36, 51.45)])],
        crs="EPSG:4326",
    ).to_file(path, driver="GeoJSON")
    geoms, record = load_fibre(LayerSpec(path), REGIONS["de"])
    assert record is not None and record["kind"] == "fibre" and record["rows_used"] == 2
    assert record["reprojected_to"] == "EPSG:25832"
    assert [g.geom_type for g in geoms] == ["Point", "LineString"]
    assert 400_000 < geoms[0].x < 500_000  # metres in EPSG:25832
    assert load_fibre(None, REGIONS["de"]) == (None, None)


def test_a_polygon_row_is_an_error_naming_the_row(tmp_path: Path) -> None:
    path = tmp_path / "fibre.geojson"
    gpd.GeoDataFrame(
        geometry=[shapely.Point(8.35, 51.44), shapely.box(8.3, 51.4, 8.4, 51.5)], crs="EPSG:4326"
    ).to_file(path, driver="GeoJSON")
    with pytest.raises(
        InputDataError, match=r"row 2, field geometry: Polygon is not a point or line"
    ):
        load_fibre(LayerSpec(path), REGIONS["de"])
