"""A dask-geopandas frame of addresses classified on a LocalCluster equals the local run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely

from coverage.classify import classify
from coverage.errors import InputDataError
from coverage.kernel.join import points_in_polygons
from coverage.profiles import load_profile
from tests.coverage.cluster.test_distributed import X0, Y0, _offers, _scene

dask_geopandas = pytest.importorskip(
    "dask_geopandas", reason="dask-geopandas not installed (pip install 'gapmap[dask]')"
)
distributed = pytest.importorskip("distributed", reason="dask.distributed not installed")
gpd = pytest.importorskip("geopandas")

from coverage.cluster.frames import classify_frame  # noqa: E402

AS_OF = date(2026, 11, 1)


@pytest.fixture(scope="module")
def scene():
    """Addresses (a point with NaN coordinates, one school in 20), polygons, offers, profile
    and the local classification."""
    x, y, polys = _scene(n=20_000, m=300)
    n = len(x)
    site = pd.array(np.where(np.arange(n) % 20 == 0, "school", "private"), dtype="string")
    ids = pd.array([f"A{i:05d}" for i in range(n)], dtype="string")
    frame = gpd.GeoDataFrame(
        {"address_id": ids, "site_type": site}, geometry=shapely.points(x, y), crs=25832
    )
    offers = _offers(len(polys))
    profile = load_profile("de-gigabit-2023")
    p, q = points_in_polygons(x, y, polys)
    expected = classify(frame[["site_type"]], offers, p, q, profile, as_of=AS_OF)
    assert len(set(expected["class"])) >= 3  # a test that can tell results apart
    return frame, polys, offers, profile, expected


def _assert_same_rows(got: pd.DataFrame, expected: pd.DataFrame, ids: pd.Series) -> None:
    """Row for row (by address_id) and column for column; the local categoricals are
    strings in a Dask frame (each partition has its own categories)."""
    assert list(got.columns) == ["address_id", *expected.columns]
    got = got.set_index("address_id").loc[ids.to_numpy()]
    got.index = expected.index
    assert got.index.equals(expected.index)
    for col in expected.columns:
        a, b = got[col], expected[col]
        if isinstance(b.dtype, pd.CategoricalDtype):
            assert a.dtype == "string", col
            b = b.astype(a.dtype)
        pd.testing.assert_series_equal(a, b, check_names=False)


def test_geoparquet_parts_classified_and_written_by_the_workers(
    dask_client, scene, tmp_path: Path
) -> None:
    """GeoParquet parts in Hilbert order (``spatial_shuffle``), as a dask-geopandas frame
    or as a path the tasks read themselves: the workers read, classify and write the
    results, equal to the local run."""
    frame, polys, offers, profile, expected = scene
    finite = frame[np.isfinite(shapely.get_x(frame.geometry.values))]  # Hilbert needs them
    parts = dask_geopandas.from_geopandas(finite, npartitions=6).spatial_shuffle(npartitions=6)
    parts.to_parquet(tmp_path / "addresses")
    addresses = dask_geopandas.read_parquet(tmp_path / "addresses")
    assert addresses.npartitions == 6

    for source in (addresses, tmp_path / "addresses", str(tmp_path / "addresses")):
        result = classify_frame(source, polys, offers, profile, as_of=AS_OF, client=dask_client)
        result.to_parquet(tmp_path / "results", overwrite=True)

        got = pd.read_parquet(tmp_path / "results")
        _assert_same_rows(got, expected.loc[finite.index], finite["address_id"])

    # reduced on the workers: counts per class and site type, as the local rows give
    with dask_client.as_current():
        counts = (
            classify_frame(
                tmp_path / "addresses", polys, offers, profile, as_of=AS_OF, keep=["site_type"]
            )
            .groupby(["site_type", "class"])
            .size()
            .compute()
        )
    local = expected.loc[finite.index].assign(site_type=finite["site_type"].to_numpy())
    local_counts = local.groupby(["site_type", "class"], observed=True).size()
    assert counts.sort_index().to_dict() == local_counts.sort_index().to_dict()
    assert counts.sum() == len(finite)


def test_points_without_coordinates(dask_client, scene, tmp_path: Path) -> None:
    """A NaN point and a missing geometry, in a frame from pandas and in GeoParquet read
    by the tasks: they match nothing, as locally."""
    frame, polys, offers, profile, _ = scene
    frame = frame.copy()
    frame.loc[7, "geometry"] = None
    frame.to_parquet(tmp_path / "addresses.parquet")
    x, y = shapely.get_x(frame.geometry.values), shapely.get_y(frame.geometry.values)
    p, q = points_in_polygons(x, y, polys)
    local = classify(frame[["site_type"]], offers, p, q, profile, as_of=AS_OF)
    sources = (dask_geopandas.from_geopandas(frame, npartitions=4), tmp_path / "addresses.parquet")
    for source in sources:
        with dask_client.as_current():  # the current client is the default
            got = classify_frame(source, polys, offers, profile, as_of=AS_OF).compute()
        _assert_same_rows(got, local, frame["address_id"])


def test_point_wkb_read_from_its_buffers() -> None:
    """Plain 2D little-endian points (and nulls) straight from the Arrow buffers, also in
    a slice; anything else is left to shapely."""
    from coverage.cluster.frames import _point_wkb_coordinates

    pts = [shapely.Point(1.5, -2.0), None, shapely.Point(3e5, 5.6e6)]
    wkb = pa.array([None if g is None else shapely.to_wkb(g) for g in pts], pa.binary())
    x, y = _point_wkb_coordinates(wkb)
    np.testing.assert_array_equal(x, [1.5, np.nan, 3e5])
    np.testing.assert_array_equal(y, [-2.0, np.nan, 5.6e6])
    x, y = _point_wkb_coordinates(wkb.slice(1))
    np.testing.assert_array_equal(x, [np.nan, 3e5])
    for other in (
        shapely.to_wkb(shapely.Point(1, 2, 3)),  # 3D
        shapely.to_wkb(shapely.Point(1, 2), byte_order=0),  # big endian
        shapely.to_wkb(shapely.box(0, 0, 1, 1)),
    ):
        assert _point_wkb_coordinates(pa.array([wkb[0].as_py(), other], pa.binary())) is None


def test_partitions_with_few_and_many_reasons_write_as_one_parquet_dataset(
    dask_client, tmp_path: Path
) -> None:
    """One part with one reason text, the next with over 127 (a provider per box): as
    categoricals their codes would be int8 in one part and int16 in the other, which
    Dask's ``to_parquet`` rejects; the result writes and reads back whole."""
    n_boxes = 300
    xs = np.concatenate([np.linspace(0, 900, 300), 2_000 + 10 * np.arange(n_boxes)]) + X0
    points = gpd.GeoDataFrame(
        {"address_id": [f"A{i}" for i in range(len(xs))], "site_type": "private"},
        geometry=shapely.points(xs, np.full(len(xs), Y0)),
        crs=25832,
    )
    boxes = [shapely.box(X0 - 1, Y0 - 1, X0 + 1000, Y0 + 1)]
    boxes += [shapely.box(x - 1, Y0 - 1, x + 1, Y0 + 1) for x in xs[300:]]
    offers = _offers(len(boxes))
    offers["provider"] = pd.array(["Solo", *(f"P{i}" for i in range(n_boxes))], dtype="string")
    offers["status"] = pd.array(["existing"] * len(boxes), dtype="string")
    offers["available_from"] = pd.NaT
    profile = load_profile("de-gigabit-2023")
    addresses = dask_geopandas.from_geopandas(points, npartitions=2)
    result = classify_frame(addresses, boxes, offers, profile, as_of=AS_OF, client=dask_client)
    result.to_parquet(tmp_path / "results")

    got = pd.read_parquet(tmp_path / "results")
    reasons = got.groupby(got.index < 300)["reason"].nunique()
    assert reasons[True] < 128 <= reasons[False]  # int8 and int16 codes as categoricals
    x, y = shapely.get_x(points.geometry.values), shapely.get_y(points.geometry.values)
    p, q = points_in_polygons(x, y, boxes)
    local = classify(points[["site_type"]], offers, p, q, profile, as_of=AS_OF)
    _assert_same_rows(got, local, points["address_id"])


def test_bad_inputs_name_the_fix(dask_client, scene, tmp_path: Path) -> None:
    frame, polys, offers, profile, _ = scene
    with pytest.raises(InputDataError, match=r"dask_geopandas\.GeoDataFrame"):
        classify_frame(frame, polys, offers, profile, as_of=AS_OF, client=dask_client)
    degrees = dask_geopandas.from_geopandas(frame.iloc[:10].to_crs(4326), npartitions=1)
    with pytest.raises(InputDataError, match="to_crs"):
        classify_frame(degrees, polys, offers, profile, as_of=AS_OF, client=dask_client)
    frame.iloc[:10].to_crs(4326).to_parquet(tmp_path / "degrees.parquet")
    with pytest.raises(InputDataError, match=r"degrees.*to_crs"):
        classify_frame(tmp_path / "degrees.parquet", polys, offers, profile, as_of=AS_OF)
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "plain.parquet")
    with pytest.raises(InputDataError, match=r"plain\.parquet: no GeoParquet metadata"):
        classify_frame(tmp_path / "plain.parquet", polys, offers, profile, as_of=AS_OF)
    with pytest.raises(InputDataError, match=r"missing\.parquet: no such file or directory"):
        classify_frame(tmp_path / "missing.parquet", polys, offers, profile, as_of=AS_OF)
    (tmp_path / "addresses.csv").write_text("address_id,x,y\nA1,400000,5700000\n")
    with pytest.raises(InputDataError, match=r"addresses\.csv: cannot read as Parquet.*ogr2ogr"):
        classify_frame(tmp_path / "addresses.csv", polys, offers, profile, as_of=AS_OF)
    areas = frame.iloc[:10].copy()
    areas.loc[3, "geometry"] = shapely.box(0, 0, 1, 1)
    lazy = classify_frame(
        dask_geopandas.from_geopandas(areas, npartitions=1),
        polys,
        offers,
        profile,
        as_of=AS_OF,
        client=dask_client,
    )
    with pytest.raises(InputDataError, match="address 3: geometry is a Polygon, not a point"):
        lazy.compute()
