"""Gap-area polygons hold only their own addresses, inside the analysed Gemeinden, named after
every Gemeinde they span (issue 21: an analyst selecting by polygon must not overcount)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from coverage.rural.area_shape import refine_area_polygons
from coverage.rural.gaps import find_gap_areas


def _scene():
    """Two Gemeinden side by side (x < 1000: A, x >= 1000: B); a village of eligible
    addresses straddling the border (more in A), served houses among them, a second area
    whose disc overlaps the first one, and one served house at a member's coordinates."""
    rng = np.random.default_rng(7)
    elig_x = np.concatenate([rng.uniform(700, 1000, 30), rng.uniform(1000, 1100, 10)])
    elig_y = rng.uniform(0, 300, 40)
    served_x = np.array([800.0, 900.0, 1050.0, elig_x[0]])
    served_y = np.array([100.0, 200.0, 150.0, elig_y[0]])  # last: same spot as a member
    # a lone eligible address 300 m away: its own area, its disc reaches into the village's
    lone_x, lone_y = np.array([700.0 - 300.0]), np.array([150.0])
    x = np.concatenate([elig_x, served_x, lone_x])
    y = np.concatenate([elig_y, served_y, lone_y])
    eligible = np.r_[np.ones(40, bool), np.zeros(4, bool), True]
    ags = np.where(x < 1000, "05962052", "05962016").astype(object)
    gem = gpd.GeoDataFrame(
        {"ags": ["05962052", "05962016"], "name": ["Plettenberg", "Herscheid"]},
        geometry=[shapely.box(0, -50, 1000, 350), shapely.box(1000, -50, 1120, 350)],
        crs="EPSG:25832",
    )
    n = x.size
    areas, pos = find_gap_areas(
        x, y, eligible, ~eligible, np.ones(n), np.array(["residential"] * n, dtype=object),
        ags, np.ones(n, dtype=np.int8),
    )  # fmt: skip
    return x, y, ags, gem, areas, pos


def test_every_address_inside_a_polygon_belongs_to_it_and_members_stay_inside() -> None:
    x, y, ags, gem, areas, pos = _scene()
    before = shapely.STRtree(areas.geometry.values).query(shapely.points(x, y), "intersects")
    assert (pos[before[0]] != before[1]).sum() >= 4  # the raw discs do overcount
    out = refine_area_polygons(areas, pos, x, y, ags, gem)
    pt, poly = shapely.STRtree(out.geometry.values).query(shapely.points(x, y), "intersects")
    foreign = pos[pt] != poly
    # only the served house at a member's very coordinates remains, and it is counted
    assert foreign.sum() == 1 and pt[foreign][0] == 43
    assert out["other_addresses_inside"].sum() == 1
    members = np.flatnonzero(pos >= 0)
    assert shapely.covers(out.geometry.values[pos[members]], shapely.points(x, y)[members]).all()


def test_polygons_are_clipped_to_the_analysed_boundaries() -> None:
    x, y, ags, gem, areas, pos = _scene()
    assert not shapely.covers(shapely.union_all(gem.geometry.values), areas.union_all())
    out = refine_area_polygons(areas, pos, x, y, ags, gem)
    outside = shapely.difference(out.union_all(), shapely.union_all(gem.geometry.values))
    assert shapely.area(outside) < 1e-6
    assert (out["area_km2"] <= areas["area_km2"]).all()
    assert out.loc[out["addresses"] == 40, "area_km2"].iloc[0] < areas["area_km2"].max() - 0.01
    assert np.allclose(out["density_per_km2"], out["addresses"] / out["area_km2"])


def test_an_area_spanning_two_gemeinden_is_named_after_both_main_first() -> None:
    x, y, ags, gem, areas, pos = _scene()
    out = refine_area_polygons(areas, pos, x, y, ags, gem)
    village = out.loc[out["addresses"] == 40].iloc[0]
    assert village["ags"] == "05962052"
    assert village["gemeinde_ags"] == "05962052,05962016"
    assert village["gemeinde_names"] == "Plettenberg, Herscheid"
    lone = out.loc[out["addresses"] == 1].iloc[0]
    assert lone["gemeinde_names"] == "Plettenberg"


def test_without_boundaries_polygons_are_only_cut_and_named_by_key() -> None:
    x, y, ags, _, areas, pos = _scene()
    out = refine_area_polygons(areas, pos, x, y, ags, None)
    assert out.loc[out["addresses"] == 40, "gemeinde_names"].iloc[0] == "05962052, 05962016"
    empty = refine_area_polygons(areas.iloc[:0], np.full(x.size, -1), x, y, ags, None)
    assert len(empty) == 0 and "gemeinde_ags" in empty
