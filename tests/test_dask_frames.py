"""A dask-geopandas frame of addresses classified on a LocalCluster equals the local run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from coverage.classify import classify
from coverage.errors import InputDataError
from coverage.join import points_in_polygons
from coverage.profiles import load_profile
from tests.test_distributed import _offers, _scene

dask_geopandas = pytest.importorskip(
    "dask_geopandas", reason="dask-geopandas not installed (pip install 'gapmap[dask]')"
)
distributed = pytest.importorskip("distributed", reason="dask.distributed not installed")
gpd = pytest.importorskip("geopandas")

from coverage.dask_frames import classify_frame  # noqa: E402

AS_OF = date(2026, 11, 1)


@pytest.fixture(scope="module")
def client():
    """A client of a LocalCluster with 2 single-threaded worker processes."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


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
    """Row for row (by address_id) and column for column; categoricals by value (each
    partition brings its own categories, so their order differs)."""
    assert list(got.columns) == ["address_id", *expected.columns]
    got = got.set_index("address_id").loc[ids.to_numpy()]
    got.index = expected.index
    assert got.index.equals(expected.index)
    for col in expected.columns:
        a, b = got[col], expected[col]
        if isinstance(b.dtype, pd.CategoricalDtype):
            assert isinstance(a.dtype, pd.CategoricalDtype), col
            a = a.astype(object).where(a.notna(), None)
            b = b.astype(object).where(b.notna(), None)
        pd.testing.assert_series_equal(a, b, check_names=False)


def test_geoparquet_parts_classified_and_written_by_the_workers(
    client, scene, tmp_path: Path
) -> None:
    """GeoParquet parts in Hilbert order (as ``spatial_shuffle`` writes them) carry their
    extents; the workers read, classify and write the results, equal to the local run."""
    frame, polys, offers, profile, expected = scene
    finite = frame[np.isfinite(shapely.get_x(frame.geometry.values))]  # Hilbert needs them
    parts = dask_geopandas.from_geopandas(finite, npartitions=6).spatial_shuffle(npartitions=6)
    parts.to_parquet(tmp_path / "addresses")
    addresses = dask_geopandas.read_parquet(tmp_path / "addresses")
    assert addresses.spatial_partitions is not None and addresses.npartitions == 6

    result = classify_frame(addresses, polys, offers, profile, as_of=AS_OF, client=client)
    result.to_parquet(tmp_path / "results")

    got = pd.read_parquet(tmp_path / "results")
    _assert_same_rows(got, expected.loc[finite.index], finite["address_id"])


def test_unknown_extents_and_points_without_coordinates(client, scene) -> None:
    """A frame without extents (from pandas, a NaN point, a missing geometry): extents are
    computed from the finite points; missing points match nothing, as locally."""
    frame, polys, offers, profile, _ = scene
    frame = frame.copy()
    frame.loc[7, "geometry"] = None
    addresses = dask_geopandas.from_geopandas(frame, npartitions=4)
    assert addresses.spatial_partitions is None
    with client.as_current():  # the current client is the default
        got = classify_frame(addresses, polys, offers, profile, as_of=AS_OF).compute()
    x, y = shapely.get_x(frame.geometry.values), shapely.get_y(frame.geometry.values)
    p, q = points_in_polygons(x, y, polys)
    local = classify(frame[["site_type"]], offers, p, q, profile, as_of=AS_OF)
    _assert_same_rows(got, local, frame["address_id"])


def test_bad_inputs_name_the_fix(client, scene) -> None:
    frame, polys, offers, profile, _ = scene
    with pytest.raises(InputDataError, match=r"dask_geopandas\.GeoDataFrame"):
        classify_frame(frame, polys, offers, profile, as_of=AS_OF, client=client)
    degrees = dask_geopandas.from_geopandas(frame.iloc[:10].to_crs(4326), npartitions=1)
    with pytest.raises(InputDataError, match="to_crs"):
        classify_frame(degrees, polys, offers, profile, as_of=AS_OF, client=client)
    areas = frame.iloc[:10].copy()
    areas.loc[3, "geometry"] = shapely.box(0, 0, 1, 1)
    lazy = classify_frame(
        dask_geopandas.from_geopandas(areas, npartitions=1),
        polys,
        offers,
        profile,
        as_of=AS_OF,
        client=client,
    )
    with pytest.raises(InputDataError, match="address 3: geometry is a Polygon, not a point"):
        lazy.compute()
