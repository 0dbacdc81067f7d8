"""The join kernel against a brute-force GEOS oracle, a geometry zoo and the reductions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.affinity import translate
from shapely.geometry import MultiPolygon, Point, Polygon, box

from coverage.kernel.join import (
    argbest_per_point,
    brute_force_pairs,
    choose_cell_size,
    count_distinct_per_point,
    points_in_polygons,
    reduce_max_per_point,
)

# UTM-sized offsets: the kernel must be exact at real coordinate magnitudes, not only near 0
X0, Y0 = 450_000.0, 5_650_000.0

CELL_SIZES = [None, 0.7, 1.0, 2.5, 13.0, 400.0]
CHUNKS = [1_000_000, 3]


def assert_same_as_oracle(x, y, polygons, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    p, q = points_in_polygons(x, y, polygons, **kwargs)
    bp, bq = brute_force_pairs(x, y, polygons)
    assert p.dtype == np.int32 and q.dtype == np.int32
    assert list(zip(p.tolist(), q.tolist(), strict=True)) == list(
        zip(bp.tolist(), bq.tolist(), strict=True)
    ), kwargs
    return p, q


def shifted(geom):
    return shapely.transform(geom, lambda c: np.add(c, (X0, Y0))) if geom is not None else None


# --- geometry zoo ------------------------------------------------------------------------

SQUARE_WITH_HOLE = Polygon(
    [(0, 0), (10, 0), (10, 10), (0, 10)], holes=[[(4, 4), (6, 4), (6, 6), (4, 6)]]
)
TWO_PARTS = MultiPolygon([box(20, 0, 30, 10), box(40, 0, 50, 10)])
BOWTIE = shapely.make_valid(Polygon([(60, 0), (70, 10), (70, 0), (60, 10)]))
TINY = box(3.25, 3.25, 3.2501, 3.2501)
HUGE = box(-1000, -1000, 1000, 1000)

ZOO_POINTS = {
    "inside": (2.0, 2.0),
    "on_edge": (10.0, 5.0),
    "on_vertex": (0.0, 0.0),
    "in_hole": (5.0, 5.0),
    "on_hole_edge": (4.0, 5.0),
    "on_hole_vertex": (6.0, 6.0),
    "second_part": (45.0, 5.0),
    "between_parts": (35.0, 5.0),
    "bowtie_inside": (62.0, 5.0),
    "bowtie_crossing": (65.0, 5.0),
    "bowtie_notch": (65.0, 8.0),
    "in_tiny": (3.25005, 3.25005),
    "on_tiny_edge": (3.25, 3.25005),
    "outside_all": (5000.0, 5000.0),
    "nan": (math.nan, 1.0),
}


def zoo_polygons() -> list:
    return [SQUARE_WITH_HOLE, TWO_PARTS, BOWTIE, Polygon(), None, TINY, HUGE]


@pytest.mark.parametrize("offset", [False, True])
@pytest.mark.parametrize("cell_size", CELL_SIZES)
@pytest.mark.parametrize("chunk_size", CHUNKS)
def test_geometry_zoo(offset: bool, cell_size: float | None, chunk_size: int) -> None:
    names = list(ZOO_POINTS)
    xy = np.array([ZOO_POINTS[k] for k in names])
    polys = zoo_polygons()
    if offset:
        xy = np.add(xy, (X0, Y0))
        polys = [shifted(g) for g in polys]
    p, q = assert_same_as_oracle(
        xy[:, 0], xy[:, 1], polys, cell_size=cell_size, chunk_size=chunk_size
    )
    got = {names[i]: sorted(int(j) for j in q[p == i]) for i in range(len(names))}
    # polygon indices: 0 square with hole, 1 two parts, 2 bowtie, 3 empty, 4 None, 5 tiny, 6 huge
    assert got["inside"] == [0, 6]
    assert got["on_edge"] == [0, 6]
    assert got["on_vertex"] == [0, 6]
    assert got["in_hole"] == [6]
    assert got["on_hole_edge"] == [0, 6]
    assert got["on_hole_vertex"] == [0, 6]
    assert got["second_part"] == [1, 6]
    assert got["between_parts"] == [6]
    assert got["bowtie_inside"] == [2, 6]
    assert got["bowtie_crossing"] == [2, 6]
    assert got["bowtie_notch"] == [6]
    assert got["in_tiny"] == [0, 5, 6]
    assert got["on_tiny_edge"] == [0, 5, 6]
    assert got["outside_all"] == []
    assert got["nan"] == []


@pytest.mark.parametrize("cell_size", [0.5, 1.0, 2.0, 5.0])
def test_points_on_cell_borders_and_polygon_edges(cell_size: float) -> None:
    # An integer lattice puts points exactly on strip borders, strip centre lines (the
    # parity lines), polygon edges and vertices at once.
    g = np.arange(-2.0, 23.0, 0.5)
    xx, yy = np.meshgrid(g, g)
    x, y = xx.ravel() + X0, yy.ravel() + Y0
    polys = [
        shifted(box(0, 0, 10, 10)),
        shifted(Polygon([(0, 0), (20, 10), (0, 20), (10, 10)])),  # concave, vertices on lines
        shifted(box(5, 5, 15, 15).difference(box(7, 7, 12, 12))),
        shifted(Polygon([(3, 1), (3, 19), (3.5, 19), (3.5, 1)])),  # thin, vertical edges
        shifted(Polygon([(1, 3), (19, 3), (19, 3.5), (1, 3.5)])),  # thin, horizontal edges
    ]
    for chunk_size in CHUNKS:
        assert_same_as_oracle(x, y, polys, cell_size=cell_size, chunk_size=chunk_size)


def test_huge_polygon_spanning_many_cells() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(-50, 50, 5000) + X0
    y = rng.uniform(-50, 50, 5000) + Y0
    ring = shifted(Point(0, 0).buffer(40, quad_segs=64).difference(Point(10, 0).buffer(8)))
    far = shifted(box(-5000, -5000, 5000, 5000))  # extends far beyond the points on all sides
    p, _ = assert_same_as_oracle(x, y, [ring, far], cell_size=0.5)
    assert len(p) > 5000


def test_polygons_beside_the_points_and_non_polygonal_geometries() -> None:
    x = np.array([0.0, 1.0, 2.0, 3.0]) + X0
    y = np.array([0.0, 1.0, 2.0, 3.0]) + Y0
    polys = [
        shifted(box(-100, -100, -50, 100)),  # left of every point, spanning their rows
        shifted(box(50, 1.5, 100, 100)),  # right of every point
        shifted(box(-10, 100, 10, 200)),  # above every point
        shifted(
            shapely.GeometryCollection(
                [box(0.5, 0.5, 1.5, 1.5), shapely.LineString([(0, 0), (3, 3)])]
            )
        ),
        shifted(shapely.LineString([(2, 0), (2, 5)])),
    ]
    p, q = assert_same_as_oracle(x, y, polys, cell_size=1.0)
    assert sorted(zip(p.tolist(), q.tolist(), strict=True)) == [
        (0, 3),
        (1, 3),
        (2, 3),
        (2, 4),
        (3, 3),
    ]


def test_empty_inputs_and_argument_checks() -> None:
    p, q = points_in_polygons(np.array([]), np.array([]), [box(0, 0, 1, 1)])
    assert len(p) == len(q) == 0 and p.dtype == np.int32
    p, q = points_in_polygons(np.array([0.5]), np.array([0.5]), [])
    assert len(p) == 0
    p, q = points_in_polygons(np.array([0.5]), np.array([0.5]), [None, Polygon()])
    assert len(p) == 0
    with pytest.raises(ValueError, match="same length"):
        points_in_polygons(np.zeros(2), np.zeros(3), [box(0, 0, 1, 1)])
    with pytest.raises(ValueError, match="cell_size"):
        points_in_polygons(np.zeros(2), np.zeros(2), [box(0, 0, 1, 1)], cell_size=0.0)
    with pytest.raises(ValueError, match="chunk_size"):
        points_in_polygons(np.zeros(2), np.zeros(2), [box(0, 0, 1, 1)], chunk_size=0)


def test_does_not_leave_caller_geometries_prepared() -> None:
    polys = np.array([box(0, 0, 10, 10), box(5, 5, 20, 20)])
    shapely.prepare(polys[1])
    points_in_polygons(np.array([5.0, 10.0]), np.array([5.0, 10.0]), polys, cell_size=1.0)
    assert shapely.is_prepared(polys).tolist() == [False, True]


def test_choose_cell_size_is_positive_and_bounded() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(X0, 500, 10_000)
    y = rng.normal(Y0, 500, 10_000)
    bounds = np.array([[X0 - 300, Y0 - 300, X0 + 300, Y0 + 300], [np.nan] * 4])
    size = choose_cell_size(x, y, bounds)
    assert 5.0 <= size <= 2000.0


# --- hypothesis oracle ---------------------------------------------------------------------

coord = st.floats(-60, 60, allow_nan=False, allow_infinity=False)


@st.composite
def polygon(draw: st.DrawFn):
    """Random convex, concave, holed and multi-part polygons (buffers, unions, differences)."""
    cx, cy = draw(coord), draw(coord)
    r = draw(st.floats(0.05, 40))
    base = Point(cx, cy).buffer(r, quad_segs=draw(st.integers(1, 12)))
    kind = draw(st.sampled_from(["plain", "hole", "union", "star", "box", "bowtie"]))
    if kind == "hole":
        base = base.difference(
            Point(cx + draw(st.floats(-r, r)) / 2, cy).buffer(r * draw(st.floats(0.1, 0.6)))
        )
    elif kind == "union":
        (a, b), (c, d) = sorted((draw(coord), draw(coord))), sorted((draw(coord), draw(coord)))
        base = base.union(box(a - 0.5, c - 0.5, b + 0.5, d + 0.5))
    elif kind == "star":
        n = draw(st.integers(3, 12))
        ang = np.linspace(0, 2 * np.pi, 2 * n, endpoint=False)
        rad = np.where(np.arange(2 * n) % 2 == 0, r, r * draw(st.floats(0.1, 0.9)))
        base = Polygon(np.column_stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)]))
    elif kind == "box":  # integer corners: lattice points land exactly on edges
        a, b = round(cx), round(cy)
        base = box(a, b, a + max(1, round(r)), b + max(1, round(r / 2)))
    elif kind == "bowtie":
        a, b = round(cx), round(cy)
        s = max(1, round(r))
        base = shapely.make_valid(Polygon([(a, b), (a + s, b + s), (a + s, b), (a, b + s)]))
    polys = [g for g in shapely.get_parts(base) if g.geom_type == "Polygon" and g.area > 0]
    if not polys:
        return box(0, 0, 1, 1)
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


@st.composite
def scene(draw: st.DrawFn):
    polys = draw(st.lists(polygon(), min_size=1, max_size=6))
    if draw(st.booleans()):
        polys.insert(draw(st.integers(0, len(polys))), draw(st.sampled_from([None, Polygon()])))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_random = draw(st.integers(1, 150))
    x = rng.uniform(-70, 70, n_random)
    y = rng.uniform(-70, 70, n_random)
    real = [g for g in polys if g is not None and not g.is_empty]
    coords = shapely.get_coordinates(np.array(real, dtype=object))
    # points snapped onto vertices, onto edges (interpolated) and onto an integer lattice
    k = draw(st.integers(0, 40))
    pick = coords[rng.integers(0, len(coords), k)]
    rings = shapely.get_rings(np.concatenate([shapely.get_parts(g) for g in real]))
    ring = rings[rng.integers(0, len(rings), k)]
    on_edge = shapely.get_coordinates(
        shapely.line_interpolate_point(ring, rng.uniform(0, 1, k), normalized=True)
    )
    lattice = rng.integers(-60, 61, (draw(st.integers(0, 40)), 2)).astype(float)
    x = np.concatenate([x, pick[:, 0], on_edge[:, 0], lattice[:, 0]])
    y = np.concatenate([y, pick[:, 1], on_edge[:, 1], lattice[:, 1]])
    order = rng.permutation(len(x))
    return x[order], y[order], polys


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scene(),
    st.sampled_from([None, 0.3, 1.0, 3.7, 10.0, 50.0]),
    st.sampled_from([1_000_000, 7, 1]),
    st.booleans(),
)
def test_matches_brute_force_oracle(data, cell_size, chunk_size, offset) -> None:
    x, y, polys = data
    if offset:
        x, y = x + X0, y + Y0
        polys = [shifted(g) for g in polys]
    assert_same_as_oracle(x, y, polys, cell_size=cell_size, chunk_size=chunk_size)


# --- reductions ----------------------------------------------------------------------------

value = st.one_of(st.sampled_from([0.0, 16.0, 50.0, 100.0, math.nan]), st.floats(-1e3, 1e3))


@st.composite
def pairs(draw: st.DrawFn, n_points: int = 8):
    k = draw(st.integers(0, 40))
    idx = draw(st.lists(st.integers(0, n_points - 1), min_size=k, max_size=k))
    if draw(st.booleans()):
        idx = sorted(idx)
    return np.array(idx, dtype=np.int64)


@given(pairs(), st.data())
def test_reduce_max_per_point(point_idx: np.ndarray, data: st.DataObject) -> None:
    vals = np.array(
        data.draw(st.lists(value, min_size=len(point_idx), max_size=len(point_idx))), dtype=float
    )
    got = reduce_max_per_point(point_idx, vals, 8, fill=-1.0)
    for i in range(8):
        mine = [v for p, v in zip(point_idx.tolist(), vals.tolist(), strict=True) if p == i]
        real = [v for v in mine if not math.isnan(v)]
        want = -1.0 if not mine else (max(real) if real else math.nan)
        assert got[i] == want or (math.isnan(got[i]) and math.isnan(want))
    assert got.dtype == np.float64


def test_reduce_max_per_point_default_fill_is_nan() -> None:
    got = reduce_max_per_point(np.array([1, 1]), np.array([5.0, 7.0]), 3)
    assert math.isnan(got[0]) and got[1] == 7.0 and math.isnan(got[2])


@given(pairs(), st.data())
def test_argbest_per_point(point_idx: np.ndarray, data: st.DataObject) -> None:
    n = len(point_idx)
    k0 = np.array(data.draw(st.lists(value, min_size=n, max_size=n)), dtype=float)
    k1 = np.array(data.draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n)), dtype=np.int64)
    k2 = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    got = argbest_per_point(point_idx, [k0, k1, k2], 8)

    def rank(j: int) -> tuple:
        v = k0[j]
        return ((0, 0.0) if math.isnan(v) else (1, v), int(k1[j]), bool(k2[j]))

    for i in range(8):
        best = -1
        for j in range(n):  # in position order; strictly better wins, so ties keep the first
            if point_idx[j] == i and (best < 0 or rank(j) > rank(best)):
                best = j
        assert got[i] == best
    assert got.dtype == np.int64


def test_argbest_per_point_datetimes_and_empty() -> None:
    when = np.array(["2025-01-01", "NaT", "2026-06-30", "2026-06-30"], dtype="datetime64[ms]")
    got = argbest_per_point(np.array([0, 0, 1, 1]), [when], 3)
    assert got.tolist() == [0, 2, -1]
    assert argbest_per_point(np.array([], dtype=np.int64), [np.array([])], 2).tolist() == [-1, -1]


@given(pairs(), st.data())
def test_count_distinct_per_point(point_idx: np.ndarray, data: st.DataObject) -> None:
    n = len(point_idx)
    group = np.array(
        data.draw(st.lists(st.integers(-2, 4), min_size=n, max_size=n)), dtype=np.int64
    )
    got = count_distinct_per_point(point_idx, group, 8)
    want = [
        len({g for p, g in zip(point_idx.tolist(), group.tolist(), strict=True) if p == i})
        for i in range(8)
    ]
    assert got.tolist() == want
    assert got.dtype == np.int64


@given(pairs(), st.data(), st.sampled_from([1, 2, 3, 1 << 20]))
def test_reduce_max_per_point_blocks_and_value_index(
    point_idx: np.ndarray, data: st.DataObject, block: int
) -> None:
    import coverage.kernel.reduce as jr

    table = np.array(data.draw(st.lists(value, min_size=5, max_size=5)), dtype=float)
    which = np.array(
        data.draw(st.lists(st.integers(0, 4), min_size=len(point_idx), max_size=len(point_idx))),
        dtype=np.int32,
    )
    want = reduce_max_per_point(point_idx, table[which], 8, fill=-1.0)
    old, jr._REDUCE_BLOCK = jr._REDUCE_BLOCK, block
    try:
        got = reduce_max_per_point(point_idx.astype(np.int32), table, 8, fill=-1.0, value_idx=which)
        plain = reduce_max_per_point(point_idx, table[which], 8, fill=-1.0)
    finally:
        jr._REDUCE_BLOCK = old
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(plain, want)


def test_ring_sizes_match_the_rings_of_every_part() -> None:
    from coverage.kernel.decompose import _ring_sizes

    holed = box(0, 0, 10, 10).difference(box(2, 2, 4, 4)).difference(box(6, 6, 8, 8))
    geoms = np.array(
        [
            box(0, 0, 1, 1),
            MultiPolygon([holed, box(20, 20, 30, 30), SQUARE_WITH_HOLE]),
            holed,
            TWO_PARTS,
            BOWTIE,
        ],
        dtype=object,
    )
    sizes, owner = _ring_sizes(geoms)
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    assert sizes.tolist() == shapely.get_num_coordinates(rings).tolist()
    assert owner.tolist() == part_owner[ring_part].tolist()
    assert sizes.sum() == len(shapely.get_coordinates(geoms))


def test_multipolygons_with_holes_in_several_parts() -> None:
    holed = box(0, 0, 10, 10).difference(box(2, 2, 4, 4)).difference(box(6, 6, 8, 8))
    multi = MultiPolygon([holed, translate(holed, 15, 3)])
    polys = [shifted(multi), shifted(holed), shifted(box(1, 1, 30, 9))]
    g = np.arange(-1.0, 27.0, 0.25)
    xx, yy = np.meshgrid(g, g)
    for cell_size in (None, 0.6, 3.0):
        assert_same_as_oracle(xx.ravel() + X0, yy.ravel() + Y0, polys, cell_size=cell_size)


def test_reduce_max_per_point_with_infinite_and_nan_values() -> None:
    point_idx = np.array([3, 0, 0, 2, 2, 3])
    for values, want in (
        ([-np.inf, 1.0, -np.inf, np.inf, 5.0, -np.inf], [1.0, -7.0, np.inf, -np.inf]),
        ([-np.inf, np.nan, 2.0, np.nan, np.nan, 4.0], [2.0, -7.0, np.nan, 4.0]),
        ([1.0, -1e300, 2.0, 3.0, np.inf, 4.0], [2.0, -7.0, np.inf, 4.0]),
    ):
        got = reduce_max_per_point(point_idx, np.array(values), 4, fill=-7.0)
        np.testing.assert_array_equal(got, want)
        table = np.array(values)
        got = reduce_max_per_point(point_idx, table, 4, fill=-7.0, value_idx=np.arange(6)[::-1])
        np.testing.assert_array_equal(
            got, reduce_max_per_point(point_idx, table[::-1].copy(), 4, fill=-7.0)
        )


@pytest.mark.parametrize("cell_size", [0.5, 3.0, 40.0])
def test_lower_bound_table_equals_searchsorted(cell_size: float) -> None:
    from coverage.kernel.boundary import LowerBound
    from coverage.kernel.decompose import Strips

    rng = np.random.default_rng(7)
    # dense clusters, duplicates and points on the extent's corners
    x = np.concatenate([rng.normal(0, 3, 3000), rng.uniform(-50, 50, 500), [-60.0, 60.0]])
    y = np.concatenate([rng.normal(0, 3, 3000), rng.uniform(-50, 50, 500), [-60.0, 60.0]])
    x, y = np.r_[x, x[:200]] + X0, np.r_[y, y[:200]] + Y0
    st = Strips(x, y, cell_size, 10)
    keys = np.sort(st.point_keys(x, y))
    lookup = LowerBound(keys, st)
    # queries: every key, its neighbours, strip starts/ends and random keys
    strips = rng.integers(0, st.ns, 2000) << st.xbits
    queries = np.concatenate(
        [keys, keys - 1, keys + 1, strips, strips | ((1 << st.xbits) - 1), strips | 1]
    )
    queries = np.concatenate([queries, rng.choice(queries, 3000) + rng.integers(-9, 9, 3000)])
    queries = queries[queries >= 0]
    np.testing.assert_array_equal(lookup(queries), np.searchsorted(keys, queries))
    lo = rng.choice(queries, 5000)
    hi = lo + rng.integers(0, 1 << 30, 5000)
    start, stop = lookup.ranges(lo, hi)
    np.testing.assert_array_equal(start, np.searchsorted(keys, lo))
    np.testing.assert_array_equal(stop, np.searchsorted(keys, hi + 1))


def test_non_finite_points_among_points_on_edges() -> None:
    # Points on edges and vertices go to GEOS; NaN/inf points before them in the same
    # chunk must not shift whose coordinates GEOS sees.
    g = np.arange(-1.0, 12.0, 0.5)
    xx, yy = np.meshgrid(g, g)
    x, y = xx.ravel() + X0, yy.ravel() + Y0
    rng = np.random.default_rng(5)
    bad = rng.choice(len(x), 40, replace=False)
    x[bad[:20]] = np.nan
    y[bad[20:]] = np.inf
    polys = [shifted(box(0, 0, 10, 10)), shifted(Polygon([(0, 0), (10, 5), (0, 10)]))]
    for chunk_size in (1_000_000, 37):
        p, _ = assert_same_as_oracle(x, y, polys, cell_size=1.0, chunk_size=chunk_size)
        assert not np.isin(p, bad).any()
