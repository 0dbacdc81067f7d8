"""Gap areas: known clusters, EMST trench lengths, hand-calculated costs, ids, scale."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from scipy.spatial.distance import cdist

from coverage.errors import InputDataError
from coverage.rural import disc_union, gaps, linkage
from coverage.rural.gaps import GapParams, find_gap_areas
from coverage.rural.linkage import emst_edges, linkage_forest

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


def test_trench_and_link_by_hand() -> None:
    # 4 eligible points on a line 100 m apart; a served address 500 m past the last one
    x = [X0, X0 + 100, X0 + 200, X0 + 300, X0 + 800]
    eligible = np.array([True] * 4 + [False])
    areas, area_of = _run(x, [Y0] * 5, eligible, ~eligible)
    assert area_of.tolist() == [0, 0, 0, 0, -1]
    a = areas.iloc[0]
    assert a.trench_intra_m == pytest.approx(300.0)
    assert a.distance_to_served_m == pytest.approx(500.0) and a.link_m == pytest.approx(500.0)
    assert a.trench_m == pytest.approx(800.0) and a.link_to == "address"
    assert a.addresses_per_route_km == pytest.approx(4 / 0.8)


def test_link_goes_to_a_gigabit_address_or_fibre_never_to_a_merely_non_eligible_one() -> None:
    """The link of an area ends at the nearest address served by a gigabit-capable wired
    network or at the user's fibre layer (issue 25): a black VDSL address 50 m away is no
    link target, the FTTH address 900 m away is, and a fibre route 300 m away beats it."""
    x = [X0, X0 + 100, X0 + 150, X0 + 1000]  # 2 eligible, black VDSL at 50 m, FTTH at 900 m
    eligible = np.array([True, True, False, False])
    gigabit = np.array([False, False, False, True])
    areas, _ = _run(x, [Y0] * 4, eligible, gigabit)
    assert areas["distance_to_served_m"].tolist() == pytest.approx([900.0])
    assert areas["link_to"].tolist() == ["address"]
    route = np.array([shapely.LineString([(X0 - 300, Y0 - 500), (X0 - 300, Y0 + 500)])])
    areas, _ = _run(x, [Y0] * 4, eligible, gigabit, fibre=route)
    assert areas["distance_to_served_m"].tolist() == pytest.approx([300.0])
    assert areas["link_to"].tolist() == ["fibre"]
    pop = np.array([shapely.Point(X0 + 100, Y0 + 40)])  # a PoP 40 m from the second address
    areas, _ = _run(x, [Y0] * 4, eligible, np.zeros(4, bool), fibre=pop)
    assert areas["link_m"].tolist() == pytest.approx([40.0])
    nothing, _ = _run(x, [Y0] * 4, eligible, np.zeros(4, bool))
    assert nothing["distance_to_served_m"].isna().all() and nothing["link_to"].isna().all()


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
def test_100k_eligible_addresses_all_placed() -> None:
    """100k eligible addresses (clustered and scattered) all land in exactly one area; the
    speed of this step is measured by bench/e2e.py, not asserted here."""
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
    areas, area_of = _run(x, y, eligible, served)
    assert (area_of >= 0).all() and areas["addresses"].sum() == n


# --- exactness of the fast paths: sieved disc unions and the strip linkage forest ---


def _lake_scene(rng: np.random.Generator) -> np.ndarray:
    """A town (40 m grid) around a lake; in the lake an island with its own lake and an
    islet; in the town a pocket ringed by points 118 m from its centre (inside the union,
    but no raster square there fits in one disc)."""
    g = np.arange(-2000.0, 2001.0, 40.0)
    gx, gy = (a.ravel() for a in np.meshgrid(g, g))
    gx, gy = gx + rng.uniform(-8, 8, gx.size), gy + rng.uniform(-8, 8, gy.size)
    r = np.hypot(gx, gy)
    pocket = np.array([1550.0, 0.0])
    away = np.hypot(gx - pocket[0], gy - pocket[1]) > 125
    keep = ((r > 1100) & (r < 2000) & away) | ((r > 400) & (r < 750)) | (r < 100)
    t = np.linspace(0, 2 * np.pi, 75, endpoint=False)
    ring = pocket + 118.0 * np.column_stack([np.cos(t), np.sin(t)])
    pts = np.vstack([np.column_stack([gx[keep], gy[keep]]), ring])
    return np.unique(pts + np.array([X0, Y0]), axis=0)


def _holes(geom) -> list[int]:
    return sorted(shapely.get_num_interior_rings(shapely.get_parts(geom)).tolist())


def _same_polygon(a, b) -> None:
    assert shapely.is_valid(a)
    assert shapely.area(shapely.symmetric_difference(a, b)) / shapely.area(b) < 1e-9
    assert shapely.get_num_geometries(a) == shapely.get_num_geometries(b)
    assert _holes(a) == _holes(b)


def test_sieved_disc_union_equals_the_plain_union_with_lakes_islands_and_a_pocket() -> None:
    params = GapParams()
    pts = _lake_scene(np.random.default_rng(3))
    plain = shapely.union_all(disc_union._discs(pts[:, 0], pts[:, 1], params))
    # the scene: town with the lake, island with its lake, islet
    assert shapely.get_num_geometries(plain) == 3 and _holes(plain) == [0, 1, 1]
    radius = params.radius_m
    inner = radius * np.cos(np.pi / (4 * params.quad_segs))
    keep = disc_union._boundary_discs(pts, radius, inner, radius / disc_union._CELLS_PER_RADIUS)
    assert keep.sum() < 0.2 * len(pts)  # the sieve does drop most discs
    dropped = disc_union._discs(pts[~keep, 0], pts[~keep, 1], params)
    assert not shapely.intersects(dropped, shapely.boundary(plain)).any()  # and only those
    partial = shapely.union_all(disc_union._discs(pts[keep, 0], pts[keep, 1], params))
    # filling has work to do: holes inside the union, parts nested in them
    assert shapely.get_num_geometries(partial) > 3 and sum(_holes(partial)) > 2
    _same_polygon(disc_union._disc_union(pts, params), plain)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sieved_disc_union_equals_the_plain_union_on_random_clusters(seed: int) -> None:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 4000, (12, 2))
    pts = centres[rng.integers(0, 12, 4000)] + rng.normal(0, 250, (4000, 2))
    pts = np.unique(np.round(pts + np.array([X0, Y0]), 2), axis=0)
    for params in (GapParams(), GapParams(buffer_m=60.0, quad_segs=2)):
        plain = shapely.union_all(disc_union._discs(pts[:, 0], pts[:, 1], params))
        _same_polygon(disc_union._disc_union(pts, params), plain)


def test_hole_filling_merges_nested_parts_and_splits_by_overlay() -> None:
    square = shapely.Polygon(
        [(0, 0), (10, 0), (10, 10), (0, 10)], [[(2, 2), (8, 2), (8, 8), (2, 8)]]
    )
    ringed = shapely.Polygon([(3, 3), (7, 3), (7, 7), (3, 7)], [[(4, 4), (6, 4), (6, 6), (4, 6)]])
    partial = shapely.MultiPolygon([square, ringed])
    # the gap between the parts lies inside the union, the inner hole does not
    out = disc_union._fill_holes(partial, lambda xy: ~((np.abs(xy - 5) < 1).all(axis=1)))
    assert out.equals(shapely.Polygon(square.exterior, [ringed.interiors[0]]))
    # a nested part touching the hole at two points splits it; only the upper piece is in
    diamond = shapely.Polygon([(2, 5), (5, 5.5), (8, 5), (5, 4.5)])
    out = disc_union._fill_holes(shapely.MultiPolygon([square, diamond]), lambda xy: xy[:, 1] > 5)
    upper = shapely.Polygon([(2, 5), (5, 5.5), (8, 5), (8, 8), (2, 8)])
    assert shapely.is_valid(out)
    assert out.area == pytest.approx(square.area + diamond.area + upper.area)
    assert not out.contains(shapely.Point(5, 3)) and out.contains(shapely.Point(5, 7))


def _forest_summary(i, j, w, n, rows=None):
    """Components of a forest on ``n`` nodes (spread to points by ``rows``, node per point):
    per point, the smallest point of its component; per component, the total length."""
    _, comp = connected_components(
        sparse.coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n)), directed=False
    )
    length = np.bincount(comp[i], weights=w, minlength=comp.max() + 1)
    comp = comp if rows is None else comp[rows]
    first = np.full(length.size, len(comp))
    np.minimum.at(first, comp, np.arange(len(comp)))
    return first[comp], dict(zip(first.tolist(), length.tolist(), strict=True))


def test_strip_linkage_forest_equals_the_cut_emst(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(11)
    centres = rng.uniform(0, 20_000, (40, 2))
    pts = centres[rng.integers(0, 40, 3000)] + rng.normal(0, 300, (3000, 2))
    line = np.column_stack([np.arange(60) * 200.0, np.arange(60) * 90.0])  # across strips
    column = np.column_stack([np.full(30, 7000.0), np.arange(30) * 240.0])  # one x
    gx, gy = np.meshgrid(np.arange(8) * 100.0, np.arange(8) * 100.0)  # cocircular
    grid = np.column_stack([gx.ravel() + 15_000, gy.ravel() + 3000])
    pts = np.vstack([pts, line, column, grid]) + np.array([X0, Y0])
    pts = np.vstack([pts, pts[rng.integers(0, len(pts), 300)]])  # repeated addresses
    pts = pts[rng.permutation(len(pts))]
    n, cut = len(pts), 250.0 + gaps._LINK_TOLERANCE_M
    # reference: EMST of the distinct points, cut, spread back to the repeats
    uniq, inv = np.unique(pts, axis=0, return_inverse=True)
    ei, ej, ew = emst_edges(uniq[:, 0], uniq[:, 1])
    short = ew <= cut
    want_label, want_len = _forest_summary(ei[short], ej[short], ew[short], len(uniq), inv.ravel())

    def check() -> None:
        i, j, w = linkage_forest(pts[:, 0], pts[:, 1], cut)
        assert (w <= cut).all() and len(w) == n - len(np.unique(want_label))
        label, length = _forest_summary(i, j, w, n)
        assert np.array_equal(label, want_label)
        assert length.keys() == want_len.keys()
        assert np.allclose([length[k] for k in want_len], list(want_len.values()), rtol=1e-12)

    check()  # one strip
    monkeypatch.setattr(linkage, "_PARALLEL_POINTS", 2)
    monkeypatch.setattr(linkage, "_STRIP_POINTS", 150)
    check()  # about 25 strips on threads
    # Qhull takes over should GEOS hand back coordinates it was not given
    real = shapely.delaunay_triangles
    monkeypatch.setattr(
        shapely,
        "delaunay_triangles",
        lambda geom, **kw: shapely.transform(real(geom, **kw), lambda c: c + 1e-3),
    )
    check()


def test_linkage_forest_on_a_line_and_tiny_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linkage, "_PARALLEL_POINTS", 2)
    monkeypatch.setattr(linkage, "_STRIP_POINTS", 10)
    x = X0 + np.arange(100) * 100.0
    x[50:] += 200.0  # one gap of 300 m
    for xs, ys in ((x, np.full(100, Y0)), (np.full(100, X0), x - X0 + Y0)):
        i, j, w = linkage_forest(xs, ys, 250.0)
        assert len(w) == 98 and w.sum() == pytest.approx(98 * 100.0)
    assert [len(a) for a in linkage_forest(np.array([X0]), np.array([Y0]), 250.0)] == [0, 0, 0]
    i, j, w = linkage_forest(np.array([X0, X0]), np.array([Y0, Y0]), 250.0)
    assert sorted([int(i[0]), int(j[0])]) == [0, 1] and w.tolist() == [0.0]


def test_find_gap_areas_same_with_and_without_the_fast_paths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(5)
    centres = rng.uniform(0, 15_000, (30, 2))
    k = rng.integers(0, 30, 6000)
    x, y = (
        X0 + centres[k, 0] + rng.normal(0, 200, 6000),
        Y0 + centres[k, 1] + rng.normal(0, 200, 6000),
    )
    monkeypatch.setattr(linkage, "_PARALLEL_POINTS", 500)
    monkeypatch.setattr(linkage, "_STRIP_POINTS", 700)
    monkeypatch.setattr(disc_union, "_THREADED_UNION_POINTS", 0)
    fast, fast_of = _run(x, y)
    monkeypatch.setattr(linkage, "_PARALLEL_POINTS", 10**9)
    monkeypatch.setattr(disc_union, "_SIEVE_MIN_POINTS", 10**9)
    monkeypatch.setattr(disc_union, "_THREADED_UNION_POINTS", 10**9)
    slow, slow_of = _run(x, y)
    assert np.array_equal(fast_of, slow_of)
    cols = [c for c in slow.columns if c not in ("geometry", "area_km2", "density_per_km2")]
    assert fast[cols].equals(slow[cols])
    assert np.allclose(fast["area_km2"], slow["area_km2"], rtol=1e-12)
    for a, b in zip(fast.geometry, slow.geometry, strict=True):
        _same_polygon(a, b)
