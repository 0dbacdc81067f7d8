"""Disc unions from the sieved discs equal the plain union of all discs: random clusters,
rings with true holes, islands in holes, dense grids; the sieve drops only inner discs."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import shapely
import shapely.affinity

from coverage.rural import disc_sieve, disc_union
from coverage.rural.gaps import GapParams

X0, Y0 = 420_000.0, 5_680_000.0  # Suedwestfalen, EPSG:25832
PARAMS = GapParams()


def _inner(params: GapParams) -> float:
    return params.radius_m * math.cos(math.pi / (4 * params.quad_segs))


def _ring(centre: tuple[float, float], radius: float, step: float) -> np.ndarray:
    t = np.arange(0.0, 2 * np.pi, step / radius)
    return np.column_stack([centre[0] + radius * np.cos(t), centre[1] + radius * np.sin(t)])


def _grid(x0: float, y0: float, n: int, step: float) -> np.ndarray:
    gx, gy = np.meshgrid(x0 + np.arange(n) * step, y0 + np.arange(n) * step)
    return np.column_stack([gx.ravel(), gy.ravel()])


def _scene(name: str) -> np.ndarray:
    rng = np.random.default_rng(7)
    if name == "clusters":
        centres = rng.uniform(0, 3000, (10, 2))
        pts = centres[rng.integers(0, 10, 3000)] + rng.normal(0, 220, (3000, 2))
    elif name == "rings with true holes":  # thick rings: a lake inside each
        pts = np.vstack(
            [_ring((c, 0.0), r, 15.0) for c in (0.0, 3000.0) for r in (700.0, 760.0, 820.0)]
        )
    elif name == "island in a hole":  # a town ring, its lake, an islet with a pond in it
        town = [_ring((0.0, 0.0), r, 15.0) for r in np.arange(900.0, 1300.0, 40.0)]
        islet = [_ring((0.0, 0.0), r, 12.0) for r in (330.0, 370.0)]
        pts = np.vstack([*town, *islet])
    else:  # dense grid with a square hole, a corner cut and a detached block
        pts = _grid(0.0, 0.0, 90, 12.0)
        hole = (np.abs(pts - 540.0) < 220.0).all(axis=1)
        corner = (pts[:, 0] > 900.0) & (pts[:, 1] > 900.0)
        pts = np.vstack([pts[~hole & ~corner], _grid(1500.0, 0.0, 20, 9.0)])
    return np.unique(np.round(pts + np.array([X0, Y0]), 2), axis=0)


SCENES = ["clusters", "rings with true holes", "island in a hole", "dense grid"]


@pytest.fixture(scope="module", params=SCENES)
def scene(request: pytest.FixtureRequest) -> tuple[str, np.ndarray, shapely.Geometry]:
    pts = _scene(request.param)
    plain = shapely.union_all(shapely.buffer(shapely.points(pts), PARAMS.radius_m, quad_segs=4))
    return request.param, pts, plain


def _holes(geom: shapely.Geometry) -> list[int]:
    return sorted(shapely.get_num_interior_rings(shapely.get_parts(geom)).tolist())


def test_discs_are_the_buffers_of_the_points_bit_for_bit() -> None:
    rng = np.random.default_rng(1)
    near = np.vstack([[[0.0, 0.0]], rng.uniform(-10, 10, (300, 2))])  # no 1e-14 offsets
    pts = np.vstack([rng.uniform(0, 5000, (500, 2)) + np.array([X0, Y0]), near])
    for params in (PARAMS, GapParams(buffer_m=60.0, quad_segs=2), GapParams(quad_segs=8)):
        buffers = shapely.buffer(shapely.points(pts), params.radius_m, quad_segs=params.quad_segs)
        discs = disc_union._discs(pts[:, 0], pts[:, 1], params)
        assert shapely.equals_exact(discs, buffers, tolerance=0.0).all()


def test_sieved_union_equals_the_plain_union(scene) -> None:
    name, pts, plain = scene
    out = disc_union._disc_union(pts, PARAMS)
    assert shapely.is_valid(out)
    assert shapely.area(shapely.symmetric_difference(out, plain)) / shapely.area(plain) < 1e-9
    assert shapely.get_num_geometries(out) == shapely.get_num_geometries(plain)
    assert _holes(out) == _holes(plain)
    expected = {
        "rings with true holes": [1, 1],  # two rings, a lake each
        "island in a hole": [1, 1],  # town around its lake, islet around its pond
        "dense grid": [0, 1],  # the grid around its square hole, the detached block
    }
    if name in expected:
        assert _holes(plain) == expected[name]


def test_the_sieve_drops_only_discs_inside_the_union(scene) -> None:
    name, pts, plain = scene
    radius, inner = PARAMS.radius_m, _inner(PARAMS)
    cell = radius / disc_union._CELLS_PER_RADIUS
    raster = disc_union._boundary_discs(pts, radius, inner, cell)
    keep = disc_union._sieve(pts, disc_union._offsets(PARAMS), radius, inner, cell)
    assert not (keep & ~raster).any()  # the edge test only drops more
    dropped = disc_union._discs(pts[~keep, 0], pts[~keep, 1], PARAMS)
    assert not shapely.intersects(dropped, shapely.boundary(plain)).any()
    assert keep.sum() < 0.7 * len(pts)
    if name in ("clusters", "dense grid"):  # the edge test drops discs the raster kept
        assert keep.sum() < 0.8 * raster.sum()
    # every disc with an arc on the boundary is kept
    touching = shapely.intersects(
        disc_union._discs(pts[:, 0], pts[:, 1], PARAMS), shapely.boundary(plain)
    )
    assert keep[touching].all()


def test_open_edges_of_a_three_by_three_block() -> None:
    """Discs 20 m apart: the middle disc's edges all lie in its neighbours' discs."""
    pts = _grid(X0, Y0, 3, 20.0)
    offsets = disc_union._offsets(PARAMS)
    open_edge = disc_sieve.has_open_edge(pts, np.arange(9), offsets, _inner(PARAMS) - 1e-6)
    assert open_edge.tolist() == [True] * 4 + [False] + [True] * 4
    # with only two neighbours, the east and west edges of the middle disc stay open
    row = pts[3:6]
    assert disc_sieve.has_open_edge(row, np.arange(3), offsets, _inner(PARAMS)).all()


def test_area_polygons_serial_threaded_and_by_strips_agree(monkeypatch) -> None:
    parts = [_scene(name) for name in SCENES]
    pts = np.vstack([p + np.array([k * 10_000.0, 0.0]) for k, p in enumerate(parts)])
    area = np.repeat(np.arange(len(parts)), [len(p) for p in parts])
    pts = np.vstack([pts, [[X0 - 5000.0, Y0]]])  # a one-address area
    area = np.append(area, len(parts))
    order = np.argsort(pts[:, 0], kind="stable")
    x, y, area = pts[order, 0], pts[order, 1], area[order]
    monkeypatch.setattr(disc_union, "_THREADED_UNION_POINTS", 0)
    serial = disc_union.area_polygons(x, y, area, len(parts) + 1, PARAMS, threads=False)
    threaded = disc_union.area_polygons(x, y, area, len(parts) + 1, PARAMS)
    with ThreadPoolExecutor(2) as pool:
        strips = disc_union.area_polygons(
            x, y, area, len(parts) + 1, PARAMS, executor=pool, partition_points=3000
        )
    for other in (threaded, strips):
        assert all(a.equals_exact(b, tolerance=0.0) for a, b in zip(serial, other, strict=True))
    assert serial[-1].equals_exact(disc_union._discs(x[:1], y[:1], PARAMS)[0], tolerance=0.0)
    for k, p in enumerate(parts):
        plain = shapely.union_all(disc_union._discs(p[:, 0], p[:, 1], PARAMS))
        moved = shapely.affinity.translate(plain, xoff=k * 10_000.0)
        assert shapely.area(shapely.symmetric_difference(serial[k], moved)) < 1e-6
