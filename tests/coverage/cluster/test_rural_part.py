"""The worker side of a cluster run's rural step: the nearest served row below a bound and
the rows within the disc radius, against brute force (no cluster needed)."""

from __future__ import annotations

import numpy as np

from coverage.cluster.rural_part import _nearest, _within


def test_nearest_served_row_below_each_bound_equals_brute_force() -> None:
    """Per query point: the served row nearer than its bound, else the bound and -1; bounds
    of every size (0, tiny, large, infinite) and query points far outside the served box."""
    rng = np.random.default_rng(11)
    x, y = rng.uniform(0, 5_000, 2_000), rng.uniform(0, 3_000, 2_000)
    served = np.flatnonzero(rng.random(2_000) < 0.3)
    qx = np.concatenate([rng.uniform(-2_000, 7_000, 600), [20_000.0]])
    qy = np.concatenate([rng.uniform(-1_000, 4_000, 600), [20_000.0]])
    bound = rng.choice([0.0, 0.5, 30.0, 400.0, 5_000.0, np.inf], qx.size)
    dist, row = _nearest(x, y, served, qx, qy, bound)

    d = np.hypot(qx[:, None] - x[served][None, :], qy[:, None] - y[served][None, :])
    best = d.min(axis=1)
    better = best < bound * (1 - 1e-12)
    assert better.any() and (~better).any()
    # (the tree computes sqrt(dx^2 + dy^2), hypot may differ in the last bit)
    np.testing.assert_allclose(dist[better], best[better], rtol=1e-12)
    np.testing.assert_array_equal(dist[~better], bound[~better])
    assert (row[~better] == -1).all()
    assert np.isin(row[better], served).all()
    np.testing.assert_allclose(np.hypot(qx - x[row], qy - y[row])[better], best[better], rtol=1e-12)


def test_rows_within_the_radius_of_an_eligible_row() -> None:
    """Every row within the radius is found (the few just beyond it may be too: a superset
    is as good), none far beyond."""
    rng = np.random.default_rng(12)
    x, y = rng.uniform(0, 3_000, 3_000), rng.uniform(0, 3_000, 3_000)
    ex, ey = rng.uniform(500, 1_500, 40), rng.uniform(500, 1_500, 40)
    got = _within(x, y, ex, ey, 130.0)
    d = np.hypot(x[:, None] - ex[None, :], y[:, None] - ey[None, :]).min(axis=1)
    assert got[d <= 130.0].all() and got.sum() > 50
    assert not got[d > 130.01].any()
    assert not _within(x, y, ex[:0], ey[:0], 130.0).any()
