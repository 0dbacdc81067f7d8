"""The distributed join equals the local kernel: pairs, order, dtype, and classified rows."""

from __future__ import annotations

import sys
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from coverage.cluster import connect, polygons
from coverage.cluster import join as dist
from coverage.cluster.join import points_in_polygons_distributed
from coverage.cluster.partitions import hilbert_keys, spatial_partitions
from coverage.errors import GapmapError, SourceReadError
from coverage.kernel.join import points_in_polygons

X0, Y0 = 450_000.0, 5_650_000.0


def _scene(n: int = 60_000, m: int = 400, seed: int = 5):
    """Clustered points, overlapping blobs, rings with holes, points on edges and vertices."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 20_000, (40, 2))
    which = rng.integers(0, 40, n)
    x = centres[which, 0] + rng.normal(0, 600, n) + X0
    y = centres[which, 1] + rng.normal(0, 600, n) + Y0
    c = centres[rng.integers(0, 40, m)] + rng.normal(0, 800, (m, 2))
    r = rng.uniform(50, 1500, m)
    polys = shapely.buffer(shapely.points(c[:, 0] + X0, c[:, 1] + Y0), r, quad_segs=6)
    holed = rng.random(m) < 0.2
    polys[holed] = shapely.difference(
        polys[holed], shapely.buffer(shapely.centroid(polys[holed]), r[holed] * 0.3)
    )
    polys = polys.astype(object)
    polys[3] = None
    polys[7] = shapely.Polygon()
    polys[11] = shapely.GeometryCollection([box(X0, Y0, X0 + 5000, Y0 + 5000)])
    # points exactly on vertices and inside a huge polygon's corner
    verts = shapely.get_coordinates(polys[20])[:50]
    x = np.concatenate([x, verts[:, 0], [np.nan, X0 - 1e5]])
    y = np.concatenate([y, verts[:, 1], [Y0, Y0]])
    polys = np.concatenate([polys, [Point(X0, Y0).buffer(60_000).difference(box(0, 0, 1, 1))]])
    return x, y, polys


@pytest.fixture(scope="module")
def scheduler():
    """Address of a LocalCluster with 2 single-threaded worker processes."""
    distributed = pytest.importorskip(
        "distributed", reason="dask.distributed not installed (pip install 'dask[distributed]')"
    )
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def test_two_workers_give_the_local_pairs(scheduler: str) -> None:
    x, y, polys = _scene()
    p, q = points_in_polygons(x, y, polys)
    # default, one (fewer partitions than workers: one piece per range), 7 and 12
    for partitions in (None, 1, 7, 12):
        dp, dq = points_in_polygons_distributed(
            x, y, polys, scheduler=scheduler, partitions=partitions
        )
        assert dp.dtype == p.dtype and dq.dtype == q.dtype
        assert np.array_equal(dp, p) and np.array_equal(dq, q)
    assert len(p) > len(x)  # overlapping coverage: many pairs


def test_demo_pipeline_inputs_classify_identically(scheduler: str, demo_inputs) -> None:
    from coverage.classify import classify
    from coverage.profiles import load_profile
    from coverage.run_inputs import LayerSpec, load_addresses, load_coverage, region_for

    region = region_for("de")
    addresses, _, _ = load_addresses(LayerSpec(demo_inputs.addresses), region)
    offers, _, _ = load_coverage((LayerSpec(demo_inputs.coverage),), region)
    geom = addresses.geometry.values
    polys = np.asarray(offers.geometry.values, dtype=object)
    local = points_in_polygons(geom.x, geom.y, polys)
    remote = points_in_polygons_distributed(geom.x, geom.y, polys, scheduler=scheduler)
    assert np.array_equal(local[0], remote[0]) and np.array_equal(local[1], remote[1])

    profile = load_profile("de-gigabit-2023")
    frame = pd.DataFrame(addresses.drop(columns="geometry"))
    table = pd.DataFrame(offers.drop(columns="geometry"))
    a = classify(frame, table, *local, profile, as_of=demo_inputs.as_of)
    b = classify(frame, table, *remote, profile, as_of=demo_inputs.as_of)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == len(addresses)


def _offers(m: int, seed: int = 8) -> pd.DataFrame:
    """Offer rows of every kind a profile reads: providers, technologies, speeds, planned."""
    rng = np.random.default_rng(seed)
    planned = rng.random(m) < 0.2
    return pd.DataFrame(
        {
            "provider": pd.array(
                rng.choice(["Telekom", "Vodafone", "Muenet", "Sewikom"], m), dtype="string"
            ),
            "technology": pd.array(
                rng.choice(["ftth", "docsis", "vdsl", "fwa"], m), dtype="string"
            ),
            "down_mbps": rng.choice([16.0, 50.0, 100.0, 250.0, 1000.0], m),
            "up_mbps": rng.choice([2.0, 10.0, 40.0, 200.0], m),
            "latency_ms": rng.choice([10.0, 40.0, 150.0], m),
            "status": pd.array(np.where(planned, "planned", "existing"), dtype="string"),
            "available_from": np.where(
                planned,
                np.datetime64("2026-06-01") + rng.integers(0, 900, m).astype("timedelta64[D]"),
                np.datetime64("NaT"),
            ).astype("datetime64[ms]"),
            "source": pd.array(np.full(m, "test"), dtype="string"),
        }
    )


def test_classification_on_two_workers_equals_the_local_one(scheduler: str) -> None:
    """Join and classify on the workers: the same rows, dtypes and categories as
    ``classify`` over the local pairs plus offer-list pairs, for any partitioning, with
    site rules, planned offers and a point without coordinates that only a list covers."""
    from datetime import date

    from coverage.classify import classify
    from coverage.cluster.classify import classify_distributed
    from coverage.profiles import load_profile

    x, y, polys = _scene(n=20_000, m=300)
    n, m = len(x), len(polys)
    offers = _offers(m + 40)  # the polygons' rows, then 40 offer-list rows
    rng = np.random.default_rng(9)
    list_addr = np.concatenate([rng.integers(0, n, 500), [n - 2]])  # n - 2: NaN coordinates
    list_offer = rng.integers(m, m + 40, len(list_addr))
    site = pd.array(np.where(rng.random(n) < 0.05, "school", "private"), dtype="string")
    addresses = pd.DataFrame({"address_id": np.arange(n), "site_type": site})
    p, q = points_in_polygons(x, y, polys)
    a = np.concatenate([p.astype(np.int64), list_addr])
    o = np.concatenate([q.astype(np.int64), list_offer])
    classes, site_rules = set(), 0
    for profile_id, planned in (("de-gigabit-2023", True), ("us-bead-2022", False)):
        profile = load_profile(profile_id)
        options = {"as_of": date(2026, 11, 1), "include_planned": planned}
        expected = classify(addresses, offers, a, o, profile, **options)
        for partitions in (None, 1, 7):
            got, pairs = classify_distributed(
                x,
                y,
                polys,
                addresses,
                offers,
                profile,
                list_pairs=(list_addr, list_offer),
                scheduler=scheduler,
                partitions=partitions,
                **options,
            )
            pd.testing.assert_frame_equal(got, expected)
            assert pairs == len(a)
        # the point without coordinates got its offer-list pair
        assert expected.loc[n - 2, ["best_provider", "planned_provider"]].notna().any()
        classes |= set(expected["class"].unique())
        site_rules += int(expected["site_rule"].notna().sum())
    assert len(classes) >= 3 and site_rules > 0  # a test that can tell results apart


def test_classification_of_spatially_sorted_addresses(scheduler: str) -> None:
    """Addresses in Hilbert order (as a sorted GeoParquet gives them): every partition is
    one run of rows, shipped and written back as blocks; still the local rows."""
    from datetime import date

    from coverage.classify import classify
    from coverage.cluster.classify import classify_distributed
    from coverage.profiles import load_profile

    x, y, polys = _scene(n=20_000, m=300)
    finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    order = finite[np.argsort(hilbert_keys(x[finite], y[finite], order=16), kind="stable")]
    x, y = x[order], y[order]
    for part in spatial_partitions(x, y, 4):  # the case under test: runs of rows
        assert part[-1] - part[0] + 1 == len(part)
    n, m = len(x), len(polys)
    offers = _offers(m)
    site = pd.array(np.where(np.arange(n) % 20 == 0, "school", "private"), dtype="string")
    addresses = pd.DataFrame({"site_type": site})
    p, q = points_in_polygons(x, y, polys)
    profile = load_profile("de-gigabit-2023")
    options = {"as_of": date(2026, 11, 1)}
    expected = classify(addresses, offers, p, q, profile, **options)
    got, pairs = classify_distributed(
        x, y, polys, addresses, offers, profile, scheduler=scheduler, partitions=4, **options
    )
    pd.testing.assert_frame_equal(got, expected)
    assert pairs == len(p) > 0
    assert expected["best_down_mbps"].notna().sum() > n // 4


def test_a_callers_client_serves_many_calls_and_stays_open(scheduler: str) -> None:
    """A connected Client as ``scheduler``: used as is (one connection for many calls, data
    straight to the workers) and left open; polygons changed in place between calls (same
    array, one geometry replaced) still give the local pairs, not the earlier call's."""
    from distributed import Client

    x, y, polys = _scene(n=20_000, m=300)
    with Client(scheduler, direct_to_workers=True) as client:
        for call in range(3):
            if call == 2:  # the biggest polygon gone: its pairs must go too
                polys[-1] = box(X0, Y0, X0 + 10, Y0 + 10)
            p, q = points_in_polygons(x, y, polys)
            dp, dq = points_in_polygons_distributed(x, y, polys, scheduler=client, partitions=4)
            np.testing.assert_array_equal(dp, p)
            np.testing.assert_array_equal(dq, q)
            assert client.status == "running"
        # nothing of the calls left on the cluster (releases reach the scheduler async)
        deadline = time.monotonic() + 10
        while client.who_has() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not client.who_has()


def test_polygon_wkb_is_kept_for_the_same_geometries_only() -> None:
    """The WKB memo is shared by calls over the same geometry objects (any container) and
    replaced when any object differs."""
    polys = np.array([box(0, 0, 1, 1), None, box(2, 2, 3, 3)], dtype=object)
    wkb, converted = polygons._polygon_wkb(polys)
    wkb[[0, 2]] = shapely.to_wkb(polys[[0, 2]])
    converted[[0, 2]] = True
    same, same_converted = polygons._polygon_wkb(np.array(list(polys), dtype=object))
    assert same is wkb and same_converted is converted
    changed = polys.copy()
    changed[2] = box(2, 2, 3, 3)  # equal, but another object: converted afresh
    other, other_converted = polygons._polygon_wkb(changed)
    assert other is not wkb and not other_converted.any()
    assert polygons._polygon_wkb(polys)[0] is not wkb  # one set at a time


def test_classification_of_no_addresses(scheduler: str) -> None:
    from datetime import date

    from coverage.classify import RESULT_COLUMNS
    from coverage.cluster.classify import classify_distributed
    from coverage.profiles import load_profile

    got, pairs = classify_distributed(
        np.array([]),
        np.array([]),
        [box(0, 0, 1, 1)],
        pd.DataFrame(index=range(0)),
        _offers(1),
        load_profile("de-gigabit-2023"),
        as_of=date(2026, 11, 1),
        scheduler=scheduler,
    )
    assert list(got.columns) == list(RESULT_COLUMNS) and len(got) == 0 and pairs == 0


def test_empty_inputs(scheduler: str) -> None:
    p, q = points_in_polygons_distributed(
        np.array([X0]), np.array([Y0]), [None, shapely.Polygon()], scheduler=scheduler
    )
    assert len(p) == len(q) == 0
    p, q = points_in_polygons_distributed(
        np.array([]), np.array([]), [box(0, 0, 1, 1)], scheduler=scheduler
    )
    assert len(p) == 0


def test_points_on_box_edges_at_cell_boundaries(scheduler: str) -> None:
    """Polygons are shipped by the partition cells their box meets: edges that fall on
    cell boundaries (1 m cells here) and points on them keep every pair."""
    g = np.arange(257.0)
    xx, yy = np.meshgrid(g, g)
    x, y = xx.ravel() + X0, yy.ravel() + Y0
    rng = np.random.default_rng(6)
    x0, y0 = rng.integers(0, 256, (2, 3000)) + np.array([[X0], [Y0]])
    w, h = rng.integers(1, 4, (2, 3000))
    polys = shapely.box(x0, y0, x0 + w, y0 + h)
    p, q = points_in_polygons(x, y, polys)
    dp, dq = points_in_polygons_distributed(x, y, polys, scheduler=scheduler, partitions=16)
    assert np.array_equal(dp, p) and np.array_equal(dq, q)
    assert len(p) > 4 * 3000


def test_more_partitions_than_points(scheduler: str) -> None:
    x, y = np.array([X0 + 1, np.nan, X0 + 3]), np.array([Y0 + 1, Y0, Y0 + 3])
    polys = [box(X0, Y0, X0 + 2, Y0 + 2), box(X0, Y0, X0 + 5, Y0 + 5)]
    p, q = points_in_polygons_distributed(x, y, polys, scheduler=scheduler, partitions=8)
    assert p.tolist() == [0, 0, 2] and q.tolist() == [0, 1, 1]


def test_merge_range_interleaves_pieces_by_point() -> None:
    """Pieces of three partitions (ascending ids, sorted pairs) give the range's pairs."""
    u8, u16 = np.uint8, np.uint16
    pieces = [
        (np.array([10, 13], np.int32), np.array([2, 1], u8), np.array([4, 9, 1], u16)),
        (np.array([11, 14], np.int32), np.array([0, 3], u8), np.array([0, 2, 7], u16)),
        (np.array([12], np.int32), np.array([1], u8), np.array([5], u16)),
    ]
    counts, polys = dist._merge_range(10, 16, *pieces)
    assert counts.tolist() == [2, 0, 1, 1, 3, 0]
    assert polys.tolist() == [4, 9, 5, 1, 0, 2, 7]
    empty = (np.empty(0, np.int32), np.empty(0, u8), np.empty(0, u16))
    counts, polys = dist._merge_range(10, 16, empty, pieces[0], empty)
    assert counts.tolist() == [2, 0, 0, 1, 0, 0] and polys.tolist() == [4, 9, 1]
    counts, polys = dist._merge_range(0, 3, empty, empty)
    assert counts.tolist() == [0, 0, 0] and len(polys) == 0
    # many pieces, random runs
    rng = np.random.default_rng(3)
    owner = rng.integers(0, 11, 500)
    many = []
    for j in range(11):
        ids = np.flatnonzero(owner == j).astype(np.int32)
        c = rng.integers(0, 4, len(ids)).astype(u8)
        many.append((ids + 100, c, rng.integers(0, 60000, int(c.sum())).astype(u16)))
    counts, polys = dist._merge_range(100, 600, *many)
    by_point = {}
    for ids, c, qs in many:
        ends = np.cumsum(c)
        by_point.update({int(i): qs[e - n : e] for i, n, e in zip(ids, c, ends, strict=True)})
    assert np.array_equal(polys, np.concatenate([by_point[i] for i in range(100, 600)]))
    assert counts.tolist() == [len(by_point[i]) for i in range(100, 600)]


def test_run_lengths_equal_bincount() -> None:
    rng = np.random.default_rng(4)
    for p in (np.array([], np.int32), np.array([0], np.int32), np.array([2, 2, 5], np.int32)):
        assert np.array_equal(dist._run_lengths(p, 7), np.bincount(p, minlength=7))
    p = np.sort(rng.integers(0, 1000, 20_000)).astype(np.int32)
    assert np.array_equal(dist._run_lengths(p, 1200), np.bincount(p, minlength=1200))


def test_local_cluster_workers_keep_freed_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers get glibc settings that keep the kernel's temporaries in the heap."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed not installed")
    import os

    with connect.local_cluster(1) as cluster, distributed.Client(cluster) as client:
        env = next(iter(client.run(lambda: dict(os.environ)).values()))
        threads = next(iter(client.nthreads().values()))
    assert int(env["MALLOC_MMAP_THRESHOLD_"]) >= 1 << 28
    assert int(env["MALLOC_TRIM_THRESHOLD_"]) >= 1 << 30
    assert threads == 1


def test_spatial_partitions_cover_every_finite_point_once() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 1000, 10_000), rng.uniform(0, 1000, 10_000)
    x[5] = np.nan
    parts = spatial_partitions(x, y, 4)
    allidx = np.sort(np.concatenate(parts))
    assert np.array_equal(allidx, np.delete(np.arange(10_000), 5))
    # compact: each partition's bbox is much smaller than the whole extent
    areas = [np.ptp(x[i]) * np.ptp(y[i]) for i in parts]
    assert max(areas) < 0.6 * 1000 * 1000
    # ascending within each partition (so each partition's pairs are in point order) and
    # about equal sizes
    assert all(np.all(np.diff(i) > 0) for i in parts)
    assert max(map(len, parts)) < 1.1 * 9_999 / 4


def test_hilbert_keys_walk_neighbouring_cells() -> None:
    g = np.arange(16.0)
    xx, yy = np.meshgrid(g, g)
    k = hilbert_keys(xx.ravel(), yy.ravel(), order=4)
    assert len(np.unique(k)) == 256
    o = np.argsort(k)
    step = np.abs(np.diff(xx.ravel()[o])) + np.abs(np.diff(yy.ravel()[o]))
    assert step.max() == 1.0


def test_unreachable_scheduler_is_a_source_read_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed", reason="dask.distributed not installed")
    monkeypatch.setattr(connect, "_CONNECT_TIMEOUT", "1s")
    with pytest.raises(SourceReadError, match="cannot reach the Dask scheduler"):
        points_in_polygons_distributed(
            np.array([X0]),
            np.array([Y0]),
            [box(X0, Y0, X0 + 1, Y0 + 1)],
            scheduler="tcp://127.0.0.1:9",
        )


def test_missing_dask_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(GapmapError, match="pip install"):
        points_in_polygons_distributed(np.array([0.0]), np.array([0.0]), [box(0, 0, 1, 1)])


def test_engine_imports_without_dask() -> None:
    import subprocess

    code = (
        "import sys; sys.modules['dask'] = None; sys.modules['distributed'] = None; "
        "import coverage.cluster.classify, coverage.cluster.join, coverage.cluster.frames, "
        "coverage.cluster.run, coverage.pipeline; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_pipeline_on_a_dask_cluster_and_on_threads_equals_the_local_run(
    demo_inputs, tmp_path, scheduler: str
) -> None:
    """The demo run with the join, classification and gap areas on a 2-worker Dask cluster
    (``--scheduler``), and on 2 threads of the run's process (``--workers 2``), equals the
    local run row for row."""
    from coverage.pipeline import LayerSpec, RunInputs, RunOptions, run

    inputs = RunInputs(
        LayerSpec(demo_inputs.addresses),
        (LayerSpec(demo_inputs.coverage),),
        LayerSpec(demo_inputs.boundaries),
    )
    local = run(inputs, tmp_path / "local", RunOptions(as_of=demo_inputs.as_of, workers=1))
    assert local.manifest["parameters"]["dask"] is None
    assert local.manifest["parameters"]["threads"] == 1
    for name, options in (
        ("dask", RunOptions(as_of=demo_inputs.as_of, scheduler=scheduler)),
        ("threads", RunOptions(as_of=demo_inputs.as_of, workers=2)),
    ):
        other = run(inputs, tmp_path / name, options)
        if name == "dask":
            assert other.manifest["parameters"]["dask"] == {"scheduler": scheduler, "workers": None}
        else:
            assert other.manifest["parameters"]["threads"] == 2
        pd.testing.assert_frame_equal(
            pd.DataFrame(local.addresses.drop(columns="geometry")),
            pd.DataFrame(other.addresses.drop(columns="geometry")),
        )
        for table in ("summary_gemeinde.csv", "summary_kreis.csv", "grid_1km.csv"):
            if (tmp_path / "local" / table).exists():
                assert (tmp_path / "local" / table).read_bytes() == (
                    tmp_path / name / table
                ).read_bytes(), (name, table)
        # the gap areas, built in strips on the cluster or the threads: same rows and shapes
        areas = [gpd.read_parquet(tmp_path / d / "gap_areas.parquet") for d in ("local", name)]
        assert len(areas[0]) > 0
        pd.testing.assert_frame_equal(*(pd.DataFrame(a.drop(columns="geometry")) for a in areas))
        assert areas[0].geometry.to_wkb().tolist() == areas[1].geometry.to_wkb().tolist()
        # the parallel join runs inside the classification tasks and is booked there
        timings = other.manifest["timings_s"]
        assert timings["classify"] > 0 and timings["join"] == 0
        assert sum(v for k, v in timings.items() if k != "total") <= timings["total"] + 0.01
