"""The rural step in partitions equals the one-process step on the demo, seams included."""

from __future__ import annotations

import itertools
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context

import numpy as np
import pandas as pd
import pytest
import shapely

from coverage import pipeline
from coverage.io.demo_files import write_demo_inputs
from coverage.pipeline import LayerSpec, RunInputs, RunOptions
from coverage.rural import cut
from coverage.rural.analysis import analyse_rural
from coverage.rural.gaps import find_gap_areas

#: demo scale: ~19,000 addresses, a few thousand of them eligible, a few hundred areas
SCALE = 0.05
#: locations per strip: far smaller than the large areas, so seams cut through them
STRIP = 300


class _Enough(Exception):  # noqa: N818 - not an error: the inputs are kept
    pass


@pytest.fixture(scope="module")
def rural_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The arguments ``gapmap run`` passes to ``analyse_rural`` on the demo."""
    root = tmp_path_factory.mktemp("rural-partition")
    demo = write_demo_inputs(root / "inputs", scale=SCALE)
    kept: dict = {}
    real = pipeline.analyse_rural

    def keep(addresses, gemeinden, **kwargs):
        # the run's thread pool (shut down once the run ends): each test passes its own
        kwargs["executor"] = None
        kept.update(addresses=addresses.copy(), gemeinden=gemeinden, kwargs=kwargs)
        raise _Enough  # the rest of the run is not needed here

    pipeline.analyse_rural = keep
    try:
        pipeline.run(
            RunInputs(
                addresses=LayerSpec(demo.addresses),
                coverage=(LayerSpec(demo.coverage),),
                boundaries=LayerSpec(demo.boundaries),
            ),
            root / "run",
            RunOptions(as_of=demo.as_of),
        )
    except _Enough:
        pass
    finally:
        pipeline.analyse_rural = real
    return kept


@pytest.fixture(scope="module")
def single(rural_inputs: dict):
    kw = rural_inputs["kwargs"]
    return analyse_rural(rural_inputs["addresses"], rural_inputs["gemeinden"], **kw)


def _partitioned(rural_inputs: dict, executor):
    kw = dict(rural_inputs["kwargs"], executor=executor, partition_points=STRIP)
    return analyse_rural(rural_inputs["addresses"], rural_inputs["gemeinden"], **kw)


def _assert_same(single, other) -> None:
    # every per-address rural column: DEGURBA classes, rural gap flag, cells, gap area id
    pd.testing.assert_frame_equal(other.address_columns, single.address_columns)
    a, b = single.gap_areas, other.gap_areas
    pd.testing.assert_frame_equal(
        pd.DataFrame(b.drop(columns="geometry")), pd.DataFrame(a.drop(columns="geometry"))
    )
    # geometry exactly: the same coordinates in the same order
    wkb_a = shapely.to_wkb(np.asarray(a.geometry.values))
    wkb_b = shapely.to_wkb(np.asarray(b.geometry.values))
    assert (wkb_a == wkb_b).all()
    pd.testing.assert_frame_equal(other.project_areas, single.project_areas)
    pd.testing.assert_frame_equal(other.grid_100m, single.grid_100m)
    pd.testing.assert_frame_equal(other.degurba_gemeinde, single.degurba_gemeinde)


def test_the_demo_has_areas_that_the_strips_cut_through(rural_inputs: dict, single) -> None:
    areas = single.gap_areas
    assert len(areas) >= 40
    assert (areas["kind"] == "remainder").sum() >= 20
    assert single.address_columns["rural_gap"].sum() > 0
    # the linkage strips: distinct eligible locations by x, STRIP a strip
    x, y = rural_inputs["kwargs"]["xy"]
    ids = single.address_columns["gap_area_id"].astype("string")
    frame = pd.DataFrame({"x": x, "y": y, "area": ids}).dropna().drop_duplicates(["x", "y"])
    frame = frame.sort_values(["x", "y"], ignore_index=True)
    frame["strip"] = np.arange(len(frame)) // STRIP
    strips_per_area = frame.groupby("area")["strip"].nunique()
    assert (strips_per_area > 1).sum() >= 10  # areas crossing seams
    assert strips_per_area.max() >= 3


def test_partitioned_on_threads_equals_one_process(rural_inputs: dict, single) -> None:
    with ThreadPoolExecutor(2) as pool:
        _assert_same(single, _partitioned(rural_inputs, pool))


def test_partitioned_on_processes_equals_one_process(rural_inputs: dict, single) -> None:
    with ProcessPoolExecutor(2, mp_context=get_context("forkserver")) as pool:
        _assert_same(single, _partitioned(rural_inputs, pool))


def test_find_gap_areas_takes_the_executor_keyword() -> None:
    rng = np.random.default_rng(5)
    # villages on a line, 600 m apart (each one area), with strips of 40 locations
    x = np.concatenate([420_000 + 600.0 * k + rng.uniform(0, 300, 60) for k in range(8)])
    y = 5_680_000 + rng.uniform(0, 300, x.size)
    n = x.size
    args = (x, y, np.ones(n, bool), np.zeros(n, bool), np.ones(n), np.full(n, "private"),
            np.full(n, "05974044"), np.ones(n, np.int8))  # fmt: skip
    one, pos_one = find_gap_areas(*args)
    with ThreadPoolExecutor(2) as pool:
        two, pos_two = find_gap_areas(*args, executor=pool, partition_points=40)
    assert len(one) == 8
    assert (pos_one == pos_two).all()
    pd.testing.assert_frame_equal(
        pd.DataFrame(two.drop(columns="geometry")), pd.DataFrame(one.drop(columns="geometry"))
    )
    assert shapely.equals_exact(one.geometry.values, two.geometry.values, tolerance=0).all()


def test_cuts_equal_one_overlay_and_keep_members() -> None:
    # a square area; non-members inside it: alone, two 3 m apart, one on the edge, two at
    # one spot, two 1 mm apart, and a ring of eight 6.1 m apart around an island
    square = shapely.box(0, 0, 100, 100)
    ring = [(50 + 8 * np.cos(t), 70 + 8 * np.sin(t)) for t in np.linspace(0, 2 * np.pi, 9)[:-1]]
    pts = np.array(
        [(20, 20), (40, 40), (43, 40), (98, 50), (60, 20), (60, 20), (30, 80), (30.001, 80),
         *ring, (80, 20)], dtype=float,
    )  # fmt: skip
    x, y = pts[:, 0], pts[:, 1]
    area_of = np.full(x.size, -1)
    area_of[-1] = 0  # the member
    got, left = cut.cut_non_members(np.array([square], dtype=object), area_of, x, y, 5.0)
    # the rule: 5 m, at most 0.45 x the distance to the nearest member and to the nearest
    # other non-member spot (but not below 1 mm for the latter)
    ring_gap = 16 * np.sin(np.pi / 8)
    radius = np.array([5.0, 1.35, 1.35, 5.0, 5.0, 5.0, 1e-3, 1e-3, *[0.45 * ring_gap] * 8])
    discs = shapely.buffer(shapely.points(x[:-1], y[:-1]), radius, quad_segs=cut.QUAD_SEGS)
    expected = shapely.difference(square, shapely.union_all(discs))
    assert shapely.is_valid(got[0])
    assert left.tolist() == [0]
    assert shapely.area(shapely.symmetric_difference(got[0], expected)) < 1e-9
    assert shapely.intersects_xy(got[0], 80, 20)  # the member stays inside
    assert not shapely.intersects_xy(got[0], x[:-1], y[:-1]).any()
    assert shapely.intersects_xy(got[0], 50, 70)  # the island inside the ring of cuts stays
    # the cuts inside are holes of their own (no overlay), one for the two at one spot
    assert shapely.get_num_interior_rings(got[0]) == 3 + 1 + 1 + 8
    assert shapely.intersects_xy(got[0], 41.5, 40)  # between two neighbours' cuts


def test_cut_discs_are_the_buffers_of_their_points() -> None:
    rng = np.random.default_rng(3)
    px, py = rng.uniform(3e5, 5e5, 50), rng.uniform(5.6e6, 5.8e6, 50)
    r = rng.uniform(1e-3, 5, 50)
    ours = cut.discs_at(px, py, r)
    geos = shapely.buffer(shapely.points(px, py), r, quad_segs=cut.QUAD_SEGS)
    assert np.allclose(shapely.get_coordinates(ours), shapely.get_coordinates(geos), atol=1e-9)
    assert shapely.is_valid(ours).all()


@pytest.mark.parametrize("points", [1, 7, 10_000])
def test_area_batches_hold_every_area_once(points: int) -> None:
    from coverage.rural.partition import area_batches

    rng = np.random.default_rng(1)
    lo = rng.uniform(0, 1000, (50, 2))
    bounds = np.hstack([lo, lo + 10])
    batches = area_batches(bounds, rng.uniform(0, 1000, 70), points)
    together = np.concatenate(batches)
    assert sorted(together.tolist()) == list(range(50))
    assert all((np.diff(b) > 0).all() for b in batches)
    edges = [bounds[b, 0].max() for b in batches]
    assert all(a <= b for a, b in itertools.pairwise(edges))
