"""The compiled Delaunay triangulation and Kruskal forest of the linkage: exact orientation,
valid triangulations, and the same clusters and trench lengths as GEOS and Qhull give."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import Delaunay

from coverage.rural import delaunay, linkage, predicates
from coverage.rural.linkage import emst_edges, forest_clusters, linkage_forest

X0, Y0 = 420_000.0, 5_680_000.0  # Suedwestfalen, EPSG:25832
L = 250.000001


def _exact_orient(a, b, c) -> int:
    ax, ay, bx, by, cx, cy = (Fraction(float(v)) for v in (*a, *b, *c))
    det = (ay - cy) * (bx - cx) - (ax - cx) * (by - cy)
    return (det > 0) - (det < 0)


def test_orientation_is_exact_where_floating_point_is_not() -> None:
    # Shewchuk's example: a 2**-53 lattice near (0.5, 0.5) against a line through it
    ulp = 2.0**-53
    b, c = (12.0, 12.0), (24.0, 24.0)
    wrong = 0
    for i in range(40):
        for j in range(40):
            a = (0.5 + i * ulp, 0.5 + j * ulp)
            want = _exact_orient(a, b, c)
            got = predicates.orient(*a, *b, *c)
            assert np.sign(got) == want
            naive = (a[1] - c[1]) * (b[0] - c[0]) - (a[0] - c[0]) * (b[1] - c[1])
            wrong += np.sign(naive) != want
    assert wrong > 100  # the plain determinant gets many of these wrong
    # and at UTM offsets: points a few nanometres off a long line
    p, q = (X0, Y0), (X0 + 3000.0, Y0 + 1000.0)
    for k in range(-20, 21):
        r = (X0 + 1500.0 + k * 2.0**-33, Y0 + 500.0)
        assert np.sign(predicates.orient(*p, *q, *r)) == _exact_orient(p, q, r)


def _edges(tri: np.ndarray) -> set[tuple[int, int]]:
    t = tri.reshape(-1, 3)
    pairs = np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [2, 0]]])
    return set(map(tuple, np.sort(pairs, axis=1).tolist()))


def _check_triangulation(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Triangulates; where it succeeds, checks the result is a triangulation: every point
    used, every triangle positively oriented (exactly), twins consistent, Euler's count."""
    tri, half, verdict = delaunay.triangulate(pts[:, 0], pts[:, 1])
    if verdict != delaunay.OK:
        return tri, half, verdict
    n, m = len(pts), tri.size
    assert np.array_equal(np.unique(tri), np.arange(n))
    for t in tri.reshape(-1, 3):
        assert _exact_orient(pts[t[0]], pts[t[1]], pts[t[2]]) > 0
    inner = half >= 0
    assert np.array_equal(half[half[inner]], np.flatnonzero(inner))
    nxt = np.arange(m) - np.arange(m) % 3 + (np.arange(m) + 1) % 3
    assert np.array_equal(tri[half[inner]], tri[nxt[inner]])  # a twin runs the other way
    hull = int((~inner).sum())
    assert m // 3 == 2 * n - 2 - hull
    return tri, half, verdict


def test_random_points_give_qhulls_triangulation() -> None:
    rng = np.random.default_rng(7)
    pts = np.unique(rng.uniform(0, 2000, (3000, 2)), axis=0) + np.array([X0, Y0])
    tri, _, verdict = _check_triangulation(pts)
    assert verdict == delaunay.OK
    qhull = Delaunay(pts - pts.mean(axis=0)).simplices
    assert _edges(tri) == _edges(qhull.ravel())


def test_collinear_points_are_declined_and_the_linkage_still_chains_them() -> None:
    t = np.arange(50.0)
    x, y = X0 + 30.0 * t, Y0 + 7.0 * t
    assert delaunay.triangulate(x, y)[2] == delaunay.FAILED
    assert delaunay.delaunay_short_edges(x, y, L) is None
    _, _, w = linkage_forest(x, y, L, compiled=True)
    assert len(w) == 49 and np.allclose(w, np.hypot(30.0, 7.0))


def _clusters(forest, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per point the smallest point of its cluster; per cluster its trench (lengths summed
    shortest first, as the gap areas sum them)."""
    comp, trench = forest_clusters(*forest, n)
    first = np.full(trench.size, n)
    np.minimum.at(first, comp, np.arange(n))
    return first[comp], trench[np.argsort(first)]


def _geos_forest(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """The GEOS path on distinct points: its Delaunay edges, cut, scipy's spanning forest."""
    order = np.lexsort((y, x))
    pts = np.column_stack([x[order], y[order]])
    i, j = linkage._geos_edges(pts)
    w = np.hypot(pts[i, 0] - pts[j, 0], pts[i, 1] - pts[j, 1])
    keep = w <= L
    n = len(pts)
    g = sparse.coo_matrix((w[keep], (i[keep], j[keep])), shape=(n, n)).tocsr()
    tree = minimum_spanning_tree(g).tocoo()  # drops length-0 edges: none between distinct points
    return order[tree.row], order[tree.col], tree.data


def _same_linkage(x: np.ndarray, y: np.ndarray, strip_points: int | None = None) -> None:
    """linkage_forest against the GEOS path and against Qhull's EMST cut at L."""
    n = len(x)
    got = _clusters(linkage_forest(x, y, L, strip_points=strip_points, compiled=True), n)
    uniq, inv = np.unique(np.column_stack([x, y]), axis=0, return_inverse=True)
    inv = inv.ravel()
    if len(uniq) == n:  # distinct points: GEOS directly
        geos = _clusters(_geos_forest(x, y), n)
        assert np.array_equal(got[0], geos[0])
        assert np.allclose(got[1], geos[1], rtol=1e-12, atol=0)
    ei, ej, ew = emst_edges(uniq[:, 0], uniq[:, 1])
    short = ew <= L
    qlabel, qtrench = _clusters((ei[short], ej[short], ew[short]), len(uniq))
    # per input point, the smallest input point of its cluster
    first_of = np.full(len(uniq), n)
    np.minimum.at(first_of, qlabel[inv], np.arange(n))
    assert np.array_equal(got[0], first_of[qlabel[inv]])
    assert np.allclose(np.sort(got[1]), np.sort(qtrench), rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("spacing", [10.0, 125.0, 250.0, 0.01])
def test_cocircular_lattices_at_utm_offsets(spacing: float) -> None:
    g = np.arange(40) * spacing
    gx, gy = (a.ravel() for a in np.meshgrid(g, g))
    x, y = X0 + 0.37 + gx, Y0 + 0.11 + gy
    assert _check_triangulation(np.column_stack([x, y]))[2] == delaunay.OK
    _same_linkage(x, y)
    _same_linkage(x, y, strip_points=300)


def test_triangular_lattice_hexagons_and_rings() -> None:
    # six neighbours at one distance, rings of equal radius: in-circle ties everywhere
    a, b = np.meshgrid(np.arange(30.0), np.arange(30.0))
    x, y = X0 + 200.0 * (a + 0.5 * b).ravel(), Y0 + 200.0 * np.sqrt(0.75) * b.ravel()
    t = np.linspace(0, 2 * np.pi, 90, endpoint=False)
    ring = [(X0 + c + r * np.cos(t), Y0 - 3000 + r * np.sin(t)) for c, r in ((0, 500), (0, 700))]
    x = np.concatenate([x, *(r[0] for r in ring)])
    y = np.concatenate([y, *(r[1] for r in ring)])
    assert _check_triangulation(np.column_stack([x, y]))[2] == delaunay.OK
    _same_linkage(x, y)
    _same_linkage(x, y, strip_points=200)


def test_the_geos_fallback_gives_the_same_forest(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    x, y = X0 + rng.uniform(0, 5000, 2000), Y0 + rng.uniform(0, 5000, 2000)
    want = _clusters(linkage_forest(x, y, L, compiled=True), len(x))
    monkeypatch.setattr(delaunay, "delaunay_short_edges", lambda *a: None)
    got = _clusters(linkage_forest(x, y, L, compiled=True), len(x))
    assert np.array_equal(got[0], want[0]) and np.allclose(got[1], want[1], rtol=1e-12)


@st.composite
def scenes(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Points on a centimetre grid (many equal distances), lattice blocks, lines and
    repeats, a few hundred metres to a few kilometres wide, at UTM offsets."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["random", "lattice", "line", "cluster"]))
        k = draw(st.integers(1, 60))
        ox, oy = rng.integers(0, 2000, 2) * 1.0
        if kind == "random":
            parts.append(rng.integers(0, 300_000, (k, 2)) / 100.0)
        elif kind == "lattice":
            s = draw(st.sampled_from([50.0, 100.0, 249.99, 250.0, 250.00001]))
            side = int(np.sqrt(k)) + 1
            gx, gy = np.meshgrid(np.arange(side) * s, np.arange(side) * s)
            parts.append(np.column_stack([gx.ravel() + ox, gy.ravel() + oy]))
        elif kind == "line":
            d = rng.integers(-300, 300, 2) * 1.0
            parts.append(np.column_stack([ox + np.arange(k) * d[0], oy + np.arange(k) * d[1]]))
        else:
            parts.append(np.round(rng.normal(0, 120, (k, 2)), 2) + np.array([ox, oy]))
    pts = np.vstack(parts)
    if draw(st.booleans()):  # repeated addresses
        pts = np.vstack([pts, pts[rng.integers(0, len(pts), max(1, len(pts) // 5))]])
    pts = pts[rng.permutation(len(pts))] + np.array([X0, Y0])
    return pts[:, 0].copy(), pts[:, 1].copy()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenes(), st.sampled_from([None, 25, 80]))
def test_linkage_equals_geos_and_qhull_on_generated_scenes(scene, strip_points) -> None:
    x, y = scene
    if len(np.unique(np.column_stack([x, y]), axis=0)) >= 3:
        _check_triangulation(np.unique(np.column_stack([x, y]), axis=0))
    _same_linkage(x, y, strip_points)


def test_kruskal_takes_repeated_edges_and_keeps_the_shortest() -> None:
    i = np.array([0, 1, 0, 2, 0, 3])
    j = np.array([1, 2, 2, 3, 1, 4])
    w = np.array([1.0, 2.0, 1.5, 4.0, 1.0, 9.0])
    fi, fj, fw = delaunay.kruskal(i, j, w, 6)
    assert sorted(fw.tolist()) == [1.0, 1.5, 4.0, 9.0]
    assert fi.dtype == np.int64 and len(fi) == 4
    assert {frozenset(e) for e in zip(fi.tolist(), fj.tolist(), strict=True)} >= {
        frozenset((2, 3)),
        frozenset((3, 4)),
    }  # node 5 stays alone


def test_the_compiled_path_is_taken_from_its_size_on(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    x, y = X0 + rng.uniform(0, 3000, 500), Y0 + rng.uniform(0, 3000, 500)
    calls = []
    real = delaunay.delaunay_short_edges
    monkeypatch.setattr(
        delaunay, "delaunay_short_edges", lambda *a: calls.append(len(a[0])) or real(*a)
    )
    small = _clusters(linkage_forest(x, y, L), len(x))  # below _COMPILED_POINTS: GEOS, scipy
    assert calls == []
    monkeypatch.setattr(linkage, "_COMPILED_POINTS", 500)
    big = _clusters(linkage_forest(x, y, L), len(x))
    assert calls == [500]
    assert np.array_equal(small[0], big[0]) and np.allclose(small[1], big[1], rtol=1e-12)
