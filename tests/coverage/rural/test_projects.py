"""Minimum viable areas, the scattered remainder per Gemeinde, project areas per Gemeinde."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from coverage.costs import load_costs
from coverage.rural.gaps import find_gap_areas
from coverage.rural.projects import finish_areas, gemeinde_projects

X0, Y0 = 420_000.0, 5_680_000.0


def _village(x0: float, n: int) -> list[float]:
    return [x0 + 50.0 * i for i in range(n)]


def _areas(x: list[float], ags: list[str]):
    n = len(x)
    return find_gap_areas(
        np.asarray(x), np.full(n, Y0), np.ones(n, bool), np.zeros(n, bool), np.ones(n),
        np.full(n, "private"), np.asarray(ags), np.ones(n, np.int8),
    )  # fmt: skip


def test_single_addresses_go_to_one_scattered_remainder_per_gemeinde_and_are_not_ranked() -> None:
    """Issue 25: isolated single addresses are grouped into a 'scattered remainder' per
    Gemeinde instead of ranking first; clusters of >= min_addresses (10 in the DE set) rank."""
    de = load_costs("de")
    village = _village(X0, 12)  # one 12-address village in Warstein
    lone_w = [X0 + 5000.0, X0 + 9000.0]  # two farms in Warstein
    lone_s = [X0 + 20000.0, X0 + 20100.0, X0 + 30000.0]  # a pair and a farm in Soest
    x = village + lone_w + lone_s
    ags = ["05974044"] * 14 + ["05974040"] * 3
    clusters, of = _areas(x, ags)
    assert len(clusters) == 5
    areas, area_of = finish_areas(clusters, of, de)
    assert areas["area_id"].tolist() == ["GA-05974044-0001", "GA-05974040-REST", "GA-05974044-REST"]
    assert areas["kind"].tolist() == ["cluster", "remainder", "remainder"]
    assert areas["clusters"].tolist() == [1, 2, 2]
    assert areas["addresses"].tolist() == [12, 3, 2]
    assert area_of.tolist() == [0] * 12 + [2, 2, 1, 1, 1]
    assert areas["screening_rank"].tolist()[0] == 1 and areas["screening_rank"][1:].isna().all()
    rest = areas.iloc[1]
    # the remainder's lengths and costs are the sums of its clusters
    soest = clusters[clusters["ags"] == "05974040"]
    assert rest.trench_intra_m == pytest.approx(100.0)
    priced = finish_areas(soest.reset_index(drop=True), np.zeros(0, np.int64),
                          dataclasses.replace(de, min_addresses=1))[0]  # fmt: skip
    assert rest.cost_central == pytest.approx(priced["cost_central"].sum())
    assert rest.per_connection_central == pytest.approx(priced["cost_central"].sum() / 3)
    assert rest.geometry.geom_type == "MultiPolygon" and areas.geometry.is_valid.all()
    for lv in ("low", "central", "high"):
        assert (areas[f"cost_{lv}"] > 0).all()
    assert (areas["cost_low"] < areas["cost_central"]).all()
    assert (areas["cost_central"] < areas["cost_high"]).all()
    assert set(areas["currency"]) == {"EUR"}


def test_cost_rule_moves_an_expensive_cluster_into_the_remainder() -> None:
    de = load_costs("de")
    clusters, of = _areas(_village(X0, 12), ["05974044"] * 12)
    kept, _ = finish_areas(clusters, of, de)
    assert kept["kind"].tolist() == ["cluster"]
    cheap = dataclasses.replace(de, max_per_connection=100.0)
    rest, area_of = finish_areas(clusters, of, cheap)
    assert rest["kind"].tolist() == ["remainder"] and area_of.tolist() == [0] * 12
    assert rest["screening_rank"].isna().all()


def test_gemeinde_project_areas_count_costs_and_kriterien_inputs() -> None:
    de = load_costs("de")
    x = [*_village(X0, 12), X0 + 5000.0]
    clusters, of = _areas(x, ["05974044"] * 13)
    areas, _ = finish_areas(clusters, of, de)
    addresses = pd.DataFrame(
        {
            "ags": ["05974044"] * 20,
            "eligible": [True] * 13 + [False] * 7,
            "households": [2] * 20,
            "best_down_mbps": [16.0] * 10 + [100.0] * 3 + [1000.0] * 7,
            "class": ["white"] * 10 + ["grey"] * 3 + ["gigabit"] * 5 + ["black"] * 2,
        }
    )
    pop = pd.Series({"05974044": 2000.0})
    area = pd.Series({"05974044": 40.0})
    p = gemeinde_projects(addresses, areas, served_class="gigabit", population=pop,
                          area_km2=area, costs=de).iloc[0]  # fmt: skip
    assert (p.addresses_total, p.addresses, p.eligible_households, p.below_30) == (20, 13, 26, 10)
    assert p.share_below_30_pct == pytest.approx(50.0)
    assert p.committed_share_pct == pytest.approx(25.0)
    assert p.density_per_km2 == pytest.approx(50.0)
    assert (p.gap_areas, p.remainder_addresses) == (1, 1)
    assert p.cost_central == pytest.approx(areas["cost_central"].sum())
    assert p.per_connection_central == pytest.approx(areas["cost_central"].sum() / 13)
    conn = de.connection_cost()[1]
    assert p.per_home_passed_central == pytest.approx(p.per_connection_central - conn)
    assert p.currency == "EUR"
