"""Gap areas: known clusters, EMST trench lengths, hand-calculated costs, ids, scale."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import cdist

from coverage.costs import CostParams, area_cost, priority_score
from coverage.errors import InputDataError
from coverage.gaps import GapParams, emst_edges, find_gap_areas

X0, Y0 = 420_000.0, 5_680_000.0  # Suedwestfalen, EPSG:25832


def _run(x, y, eligible=None, served=None, *, site=None, ags=None, deg=None, hh=None, **kw):
    n = len(x)
    return find_gap_areas(
        np.asarray(x, float),
        np.asarray(y, float),
        np.ones(n, bool) if eligible is None else eligible,
        np.zeros(n, bool) if served is None else served,
        np.ones(n) if hh is None else hh,
        np.full(n, "private") if site is None else site,
        np.full(n, "05974044") if ags is None else ags,
        np.ones(n, np.int8) if deg is None else deg,
        **kw,
    )


def test_three_villages_2_km_apart_are_three_areas() -> None:
    gx, gy = np.meshgrid(np.arange(3) * 50.0, np.arange(3) * 50.0)
    x = np.concatenate([X0 + gx.ravel() + dx for dx in (0, 2000, 4000)])
    y = np.concatenate([Y0 + gy.ravel()] * 3)
    areas, area_of = _run(x, y)
    assert len(areas) == 3
    assert areas["addresses"].tolist() == [9, 9, 9]
    assert area_of.tolist() == [0] * 9 + [1] * 9 + [2] * 9
    assert areas["area_id"].tolist() == ["GA-05974044-0001", "GA-05974044-0002", "GA-05974044-0003"]
    # 3 x 3 grid at 50 m: EMST = 8 edges of 50 m
    assert areas["trench_intra_m"].tolist() == pytest.approx([400.0] * 3)
    assert areas.crs == "EPSG:25832"
    assert areas.geometry.is_valid.all()


def test_chain_links_at_250_m_and_a_point_260_m_away_stays_alone() -> None:
    x = [X0 + 200.0 * i for i in range(10)]  # chain, 200 m steps
    x += [x[-1] + 250.0, x[-1] + 250.0 + 260.0]  # exactly 250 links, 260 does not
    areas, area_of = _run(x, [Y0] * len(x))
    assert area_of.tolist() == [0] * 11 + [1]
    assert areas["addresses"].tolist() == [11, 1]
    assert areas["trench_intra_m"].tolist() == pytest.approx([9 * 200.0 + 250.0, 0.0])
    # discs of just over half the link distance: the chain is one polygon, also diagonally
    assert areas.geometry.iloc[0].geom_type == "Polygon"
    d = 250 / np.sqrt(2)  # 250 m diagonally (250.00000000000003 after rounding) still links
    diag, _ = _run([X0, X0 + d, X0 + 2 * d], [Y0, Y0 + d, Y0 + 2 * d])
    assert len(diag) == 1 and diag.geometry.iloc[0].geom_type == "Polygon"
    d = 249 / np.sqrt(1 + 0.3**2)  # steps of 249 m at another angle
    odd, _ = _run([X0, X0 + d, X0 + 2 * d], [Y0, Y0 + 0.3 * d, Y0 + 0.6 * d])
    assert len(odd) == 1 and odd.geometry.iloc[0].geom_type == "Polygon"


def test_trench_and_cost_by_hand() -> None:
    # 4 eligible points on a line 100 m apart; a served address 500 m past the last one
    x = [X0, X0 + 100, X0 + 200, X0 + 300, X0 + 800]
    eligible = np.array([True] * 4 + [False])
    areas, area_of = _run(x, [Y0] * 5, eligible, ~eligible)
    assert area_of.tolist() == [0, 0, 0, 0, -1]
    a = areas.iloc[0]
    assert a.trench_intra_m == pytest.approx(300.0)
    assert a.distance_to_served_m == pytest.approx(500.0) and a.link_m == pytest.approx(500.0)
    assert a.trench_m == pytest.approx(800.0)
    # 800 m x (0.5 x 150 + 0.5 x 60 = 105 EUR/m) + 4 x 850 EUR
    assert a.cost_eur == pytest.approx(800 * 105 + 4 * 850)  # 87,400
    assert a.cost_per_address == pytest.approx(87_400 / 4)
    assert a.addresses_per_route_km == pytest.approx(4 / 0.8)
    assert bool(a.above_private_threshold)
    # priority: 35 x 1 (all white) + 25 x 1 (all rural) + 25 x 8700 / (8700 + 21850)
    #           + 15 x log(1 + 4) / log(1 + 100)
    assert a.priority == pytest.approx(
        60 + 25 * 8700 / (8700 + 21_850) + 15 * np.log(5) / np.log(101)
    )


def test_cost_parameters_and_priority_formula() -> None:
    costs = CostParams(paved_share=1.0, eur_per_connection=1000.0, fixed_eur_per_area=5000.0)
    cost, per = area_cost([100.0, 0.0], [2, 0], costs)
    assert cost.tolist() == [100 * 150 + 2 * 1000 + 5000, 5000.0]
    assert per[0] == pytest.approx(11_000) and np.isnan(per[1])
    assert priority_score([1.0], [1.0], [8700.0]).tolist() == pytest.approx([72.5])
    assert priority_score([np.nan], [0.5], [np.nan]).tolist() == pytest.approx([12.5])
    # the size part: full points from 100 addresses on, 0 without addresses
    assert priority_score([1.0], [1.0], [0.0], addresses=[100]).tolist() == pytest.approx([100.0])
    assert priority_score([0.0], [0.0], [np.inf], addresses=[1000]).tolist() == pytest.approx(
        [15.0]
    )
    with pytest.raises(InputDataError, match="paved_share"):
        CostParams(paved_share=1.5)
    # isolated site sanity check (domain.md 6: 15-20 kEUR): 150 m link + lead-in
    assert area_cost([150.0], [1])[0][0] == pytest.approx(16_600)


def test_degenerate_geometries_duplicates_and_no_served_address() -> None:
    # two addresses in one building + one 100 m north; a vertical line; a lone point
    x = [X0, X0, X0, X0 + 5000, X0 + 5000, X0 + 5000, X0 + 9000]
    y = [Y0, Y0, Y0 + 100, Y0, Y0 + 150, Y0 + 300, Y0]
    areas, area_of = _run(x, y)
    assert area_of.tolist() == [0, 0, 0, 1, 1, 1, 2]
    assert areas["trench_intra_m"].tolist() == pytest.approx([100.0, 300.0, 0.0])
    assert areas["distance_to_served_m"].isna().all()
    assert (areas["link_m"] == 0).all()
    # two points only, and one point only
    assert _run([X0, X0 + 30], [Y0, Y0 + 40])[0]["trench_m"].tolist() == pytest.approx([50.0])
    one, ids = _run([X0], [Y0])
    assert one["trench_m"].tolist() == [0.0] and ids.tolist() == [0]
    assert one["area_km2"].iloc[0] == pytest.approx(np.pi * 0.12625**2, rel=0.02)
    none, ids = _run([X0], [Y0], np.array([False]))
    assert len(none) == 0 and ids.tolist() == [-1]


def test_ids_attributes_and_min_addresses() -> None:
    # area A in 05974040 (2 addresses), area B mostly in 05970040 (2 of 3), a singleton
    x = [X0 + 5000, X0 + 5100, X0, X0 + 100, X0 + 200, X0 + 9000]
    y = [Y0] * 6
    ags = np.array(["05974040", "05974040", "05970040", "05974040", "05970040", "05970040"])
    site = np.array(["school", "private", "hospital", "BUSINESS", "private", "farm"])
    deg = np.array([1, 1, 3, 2, 0, 1])
    white = np.array([True, False, True, True, True, True])
    hh = np.array([1, 4, 2, 2, 2, 1])
    areas, area_of = _run(x, y, site=site, ags=ags, deg=deg, hh=hh, white=white)
    assert areas["area_id"].tolist() == ["GA-05970040-0001", "GA-05970040-0002", "GA-05974040-0001"]
    assert area_of.tolist() == [2, 2, 0, 0, 0, 1]
    b = areas.iloc[0]
    assert (b.ags, b.addresses, b.households) == ("05970040", 3, 6)
    assert (b.n_school, b.n_hospital, b.n_business, b.focal_points) == (0, 1, 1, 2)
    assert (b.share_rural, b.share_cluster, b.share_centre) == pytest.approx((0, 1 / 3, 1 / 3))
    assert areas.iloc[2].share_white == 0.5 and areas.iloc[2].n_school == 1
    assert sorted(areas["priority_rank"]) == [1, 2, 3]
    big, big_of = _run(x, y, ags=ags, params=GapParams(min_addresses=2))
    assert len(big) == 2 and big_of.tolist() == [1, 1, 0, 0, 0, -1]
    with pytest.raises(InputDataError, match="without coordinates"):
        _run([np.nan, X0], [Y0, Y0])


def test_emst_matches_brute_force_on_random_and_grid_points() -> None:
    rng = np.random.default_rng(7)
    gx, gy = np.meshgrid(np.arange(6) * 10.0, np.arange(5) * 10.0)  # cocircular points
    for pts in (
        rng.uniform(0, 1000, (300, 2)),
        np.column_stack([gx.ravel(), gy.ravel()]) + np.array([X0, Y0]),
    ):
        _, _, w = emst_edges(pts[:, 0], pts[:, 1])
        brute = minimum_spanning_tree(cdist(pts, pts)).sum()
        assert len(w) == len(pts) - 1
        assert w.sum() == pytest.approx(brute)
    _, _, w = emst_edges(np.array([0.0, 2.0, 1.0]), np.array([0.0, 2.0, 1.0]))  # collinear
    assert w.sum() == pytest.approx(2 * np.sqrt(2))


@pytest.mark.slow
def test_100k_eligible_addresses_in_a_few_seconds() -> None:
    rng = np.random.default_rng(1)
    n = 100_000
    cx, cy = rng.uniform(380_000, 480_000, 2000), rng.uniform(5_600_000, 5_700_000, 2000)
    k = rng.integers(0, 2000, n)
    x, y = cx[k] + rng.normal(0, 150, n), cy[k] + rng.normal(0, 150, n)
    x[:20_000], y[:20_000] = (
        rng.uniform(380_000, 480_000, 20_000),
        rng.uniform(5_600_000, 5_700_000, 20_000),
    )
    eligible = np.ones(n, bool)
    served = rng.random(n) < 0.2
    start = time.perf_counter()
    areas, area_of = _run(x, y, eligible, served)
    elapsed = time.perf_counter() - start
    assert (area_of >= 0).all() and areas["addresses"].sum() == n
    assert elapsed < 20, f"{elapsed:.1f} s"
