"""The kernel on dense coverage (many overlapping, high-vertex polygons with holes) against
the GEOS oracle and geopandas; the compiled pair writer against a sort, and the compiled
ray test against the vectorised numpy one."""

from __future__ import annotations

import sys

import geopandas as gpd
import numpy as np
import pytest
import shapely

import coverage
from coverage.kernel.boundary import (
    _MAX_RAY_EDGES,
    UNSURE,
    LowerBound,
    candidate_starts,
    ray_decisions,
    ray_test,
)
from coverage.kernel.decompose import Decomposition, Strips, ranges
from coverage.kernel.emit import emit_pairs
from coverage.kernel.join import brute_force_pairs, iter_points_in_polygons, points_in_polygons

X0, Y0 = 450_000.0, 5_650_000.0


def _stars(rng: np.random.Generator, cx, cy, r, nv) -> list[shapely.Polygon]:
    """Star-shaped (valid) polygons with ``nv`` vertices and irregular outlines."""
    out = []
    for x, y, rad, k in zip(cx, cy, r, nv, strict=True):
        a = 2 * np.pi * (np.arange(k) + rng.uniform(0.1, 0.9, k)) / k
        rr = rad * np.exp(np.clip(rng.normal(0, 0.15, k), -0.5, 0.5))
        out.append(shapely.Polygon(np.column_stack([x + rr * np.cos(a), y + rr * np.sin(a)])))
    return out


@pytest.fixture(scope="module")
def dense() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """~2,000 addresses under ~250 overlapping polygons (12-1,500 vertices; annuli and
    dead-zone holes, multipolygons, a GeometryCollection first), about 25 per address, and
    addresses exactly on vertices of shells and holes and on axis-parallel edges."""
    rng = np.random.default_rng(7)
    n_town = 1_600
    x = X0 + rng.normal(0, 400, n_town)
    y = Y0 + rng.normal(0, 400, n_town)
    x = np.r_[x, X0 + rng.uniform(-3000, 3000, 200)]
    y = np.r_[y, Y0 + rng.uniform(-3000, 3000, 200)]
    m = 200
    nv = np.clip(rng.lognormal(np.log(70), 1.1, m), 12, 1_500).astype(int)
    pick = rng.integers(0, len(x), m)
    polys = _stars(rng, x[pick], y[pick], rng.lognormal(np.log(450), 0.6, m), nv)
    # annuli: coverage around a place but not in its centre
    for i in range(0, 40, 2):
        polys[i] = polys[i].difference(
            shapely.Polygon(polys[i].exterior).buffer(-polys[i].length / 20, quad_segs=6)
        )
    # a regional footprint with many vertices and dead zones
    region = _stars(rng, [X0], [Y0], [2500.0], [1_500])[0]
    holes = _stars(rng, X0 + rng.uniform(-800, 800, 6), Y0 + rng.uniform(-800, 800, 6),
                   rng.uniform(60, 200, 6), [40] * 6)  # fmt: skip
    polys.append(region.difference(shapely.union_all(holes)))
    polys.append(shapely.box(X0 - 500, Y0 - 500, X0 + 500, Y0 + 500))
    polys.append(shapely.MultiPolygon(_stars(rng, [X0 - 900, X0 + 900], [Y0, Y0], [300, 300],
                                             [200, 200])))  # fmt: skip
    polys = [shapely.make_valid(p) if not p.is_valid else p for p in polys]
    # a non-polygonal geometry first: its pieces come after all others in the kernel
    polys.insert(0, shapely.GeometryCollection([shapely.box(X0 - 50, Y0 - 50, X0 + 50, Y0 + 50),
                                                shapely.LineString([(X0, Y0), (X0 + 99, Y0)])]))  # fmt: skip
    geoms = np.array(polys, dtype=object)
    # addresses on vertices (shell and hole rings) and on the square's edges
    coords = shapely.get_coordinates(geoms[[1, 3, -3]])
    on = coords[rng.choice(len(coords), 150, replace=False)]
    edge = np.column_stack([X0 - 500 + rng.uniform(0, 1000, 50), np.full(50, Y0 + 500)])
    x = np.r_[x, on[:, 0], edge[:, 0], X0, X0 + 50]
    y = np.r_[y, on[:, 1], edge[:, 1], Y0, Y0 - 50]
    order = rng.permutation(len(x))  # not spatially sorted
    return x[order], y[order], geoms


@pytest.mark.parametrize("cell_size", [None, 4.0, 60.0])
def test_dense_coverage_equals_the_oracle(dense, cell_size) -> None:
    x, y, geoms = dense
    p, q = points_in_polygons(x, y, geoms, cell_size=cell_size)
    bp, bq = brute_force_pairs(x, y, geoms)
    assert len(p) > 20 * len(x)  # dense: more than 20 covering polygons per address
    np.testing.assert_array_equal(p, bp)
    np.testing.assert_array_equal(q, bq)


def test_dense_coverage_equals_geopandas_and_chunks(dense) -> None:
    x, y, geoms = dense
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs="EPSG:25832")
    areas = gpd.GeoDataFrame(geometry=geoms, crs="EPSG:25832")
    joined = gpd.sjoin(points, areas, predicate="intersects")
    expected = sorted(zip(joined.index.tolist(), joined["index_right"].tolist(), strict=True))
    p, q = points_in_polygons(x, y, geoms)
    assert list(zip(p.tolist(), q.tolist(), strict=True)) == expected
    # chunk by chunk (chunk-local point numbers), the same pairs
    parts = [
        (lp + start, lq)
        for start, _, lp, lq in iter_points_in_polygons(x, y, geoms, chunk_size=333)
    ]
    np.testing.assert_array_equal(np.concatenate([a for a, _ in parts]), p)
    np.testing.assert_array_equal(np.concatenate([b for _, b in parts]), q)


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("shuffled_pieces", [False, True])
def test_emit_pairs_equals_a_sort_of_all_pairs(dtype, shuffled_pieces) -> None:
    """Pieces (runs and boundary hits) in any polygon order give pairs sorted by point and
    polygon, equal to expanding every run and hit and sorting them."""
    rng = np.random.default_rng(3)
    n_points, n_groups = 500, 300
    point_of = rng.permutation(n_points)
    poly, lo, hi, run_after = [], [], [], []
    for g in range(n_groups):  # groups of 1-4 pieces of one polygon and strip
        k = rng.integers(1, 5)
        cuts = np.sort(rng.integers(0, n_points + 1, 2 * k))
        for j in range(k):
            poly.append(g // 3)  # several groups (strips) per polygon
            lo.append(cuts[2 * j])
            hi.append(cuts[2 * j + 1])
            run_after.append(j < k - 1 and rng.random() < 0.7)
    poly, lo, hi = np.array(poly), np.array(lo), np.array(hi)
    run_after = np.array(run_after)
    if shuffled_pieces:  # bounding-box pieces of lower polygon numbers appended last
        poly = np.where(poly < 10, poly, poly + 10)
        tail = np.flatnonzero(poly >= 10)
        order = np.r_[tail, np.flatnonzero(poly < 10)]
        poly, lo, hi = poly[order], lo[order], hi[order]
        run_after = run_after[order] & np.r_[poly[1:] == poly[:-1], False]
    decision = (rng.random(int(np.maximum(hi - lo, 0).sum())) < 0.5).astype(np.int8)
    cand_start = candidate_starts(lo, hi)

    p, q = emit_pairs(n_points, point_of, poly, lo, hi, run_after, cand_start, decision, dtype)

    ref = []
    for i in range(len(poly)):
        hit = decision[cand_start[i] : cand_start[i] + max(hi[i] - lo[i], 0)] == 1
        ref += [(point_of[s], poly[i]) for s in np.arange(lo[i], hi[i])[hit]]
    for i in np.flatnonzero(run_after):
        ref += [(point_of[s], poly[i]) for s in range(hi[i], lo[i + 1])]
    ref.sort()
    assert p.dtype == dtype and q.dtype == dtype
    assert list(zip(p.tolist(), q.tolist(), strict=True)) == [(int(a), int(b)) for a, b in ref]


def test_numba_import_leaves_this_package_in_place() -> None:
    """numba's probe for coverage.py must not replace or break gapmap's ``coverage``."""
    assert sys.modules["coverage"] is coverage
    assert hasattr(coverage, "__path__")
    assert "numba" in sys.modules
    assert not hasattr(coverage, "Coverage")


@pytest.mark.parametrize("cell_size", [3.0, 40.0])
def test_compiled_ray_test_equals_the_numpy_reference(dense, cell_size) -> None:
    """The compiled ray test decides every candidate as the vectorised numpy one does
    (the same points unsure; the same side for the others)."""
    x, y, geoms = dense
    types = shapely.get_type_id(geoms)
    fast = (types == shapely.GeometryType.POLYGON) | (types == shapely.GeometryType.MULTIPOLYGON)
    st = Strips(x, y, cell_size, len(geoms))
    dec = Decomposition(st, geoms, fast, ~fast)
    lx, ly = x - st.x0, y - st.y0
    order = np.argsort(st.local_keys(lx, ly))
    sorted_key = st.local_keys(lx, ly)[order]
    lx, ly = lx[order], ly[order]
    pc = dec.all
    lo, hi = LowerBound(sorted_key, st).ranges(pc.lo, pc.hi)
    piece, pos = ranges(lo, hi)
    assert len(piece) > 1_000
    decision = ray_decisions(lx, ly, lo, hi, pc, dec)
    unsure = decision == UNSURE

    count = pc.item_count[piece]
    geos = (count < 0) | (count > _MAX_RAY_EDGES)
    tol_y = st.pad + float(np.abs(ly).max()) * 2.0**-44
    ref_hit, ref_unsure = ray_test(
        lx[pos], ly[pos], pc.item_start[piece], np.where(geos, 0, count),
        pc.left_in[piece], dec.items, st.pad, tol_y,
    )  # fmt: skip
    ref_unsure |= geos
    np.testing.assert_array_equal(unsure, ref_unsure)
    np.testing.assert_array_equal(decision[~unsure] == 1, ref_hit[~unsure])
