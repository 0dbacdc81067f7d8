"""Points grouped by equal pair lists, and the one-pass reductions per point."""

from __future__ import annotations

import numpy as np
import pytest

from coverage.kernel.groups import pair_groups, take_points
from coverage.kernel.runs import reduce_runs
from coverage.rules.common import (
    any_per_point,
    best_per_point,
    count_distinct_per_point,
    offer_score,
    pair_bounds,
)


def random_pairs(
    rng: np.random.Generator, n: int, m: int, lists: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs sorted by point and polygon; points draw one of ``lists`` random polygon lists
    (some empty), so many points share a list."""
    pool = [np.sort(rng.choice(m, size=rng.integers(0, 8), replace=False)) for _ in range(lists)]
    pick = rng.integers(0, lists, size=n)
    p = np.concatenate([np.full(len(pool[k]), i) for i, k in enumerate(pick)]).astype(np.int32)
    q = np.concatenate([pool[k] for k in pick]).astype(np.int32)
    return p, q


def reference_groups(p: np.ndarray, q: np.ndarray, n: int, extra: np.ndarray) -> list[int]:
    """Group per point, numbered by first point, from Python tuples."""
    lists: list[list[int]] = [[] for _ in range(n)]
    for a, b in zip(p.tolist(), q.tolist(), strict=True):
        lists[a].append(b)
    seen: dict[tuple[int, ...], int] = {}
    return [seen.setdefault((int(extra[i]), *lists[i]), len(seen)) for i in range(n)]


def test_groups_equal_python_reference_with_extra_codes() -> None:
    rng = np.random.default_rng(5)
    n, m = 3000, 40
    p, q = random_pairs(rng, n, m, lists=60)
    extra = rng.integers(0, 3, size=n)
    group, first, bounds = pair_groups(p, q, n, m, extra)
    expected = reference_groups(p, q, n, extra)
    assert group.tolist() == expected
    assert len(first) == max(expected) + 1 < n // 10
    assert np.array_equal(first, [expected.index(g) for g in range(len(first))])
    assert np.array_equal(bounds, pair_bounds(p, n))


def test_hash_collisions_never_merge_different_lists() -> None:
    """Every point given the same hash: the exact comparison alone must separate them."""
    rng = np.random.default_rng(6)
    n, m = 500, 12
    p, q = random_pairs(rng, n, m, lists=25)
    extra = np.zeros(n, dtype=np.int64)
    zero_words = np.zeros(m, dtype=np.uint64)  # every hash 0
    grouped = pair_groups(p, q, n, m, extra, words=zero_words)
    assert grouped is not None
    group, first, _ = grouped
    assert group.tolist() == reference_groups(p, q, n, extra)
    assert len(first) == len(set(group.tolist())) > 20


def test_unsorted_pairs_are_refused_and_runs_gathered() -> None:
    p = np.array([0, 2, 1], dtype=np.int32)
    q = np.array([3, 1, 2], dtype=np.int32)
    assert pair_groups(p, q, 3, 4) is None
    p, q = np.array([0, 0, 2, 3, 3], dtype=np.int32), np.array([1, 2, 0, 1, 2], dtype=np.int32)
    group, first, bounds = pair_groups(p, q, 5, 3)
    assert group.tolist() == [0, 1, 2, 0, 1]  # points 1 and 4 have no pairs
    sub_p, sub_q, sub_bounds = take_points(bounds, first, q)
    assert sub_p.tolist() == [0, 0, 2]
    assert sub_q.tolist() == [1, 2, 0]
    assert sub_bounds.tolist() == [0, 2, 2, 3]


@pytest.mark.parametrize("width", [3, 70])  # codes fitting a bitmask, and not
def test_reduce_runs_equals_numpy_reductions(width: int) -> None:
    rng = np.random.default_rng(7)
    n, m = 2000, 300
    p, q = random_pairs(rng, n, m, lists=400)
    bounds = pair_bounds(p, n)
    keys = [rng.integers(0, 4, m).astype(float), rng.choice([np.nan, 10.0, 100.0], m)]
    score_a, score_b = (offer_score(keys, rng.random(m) < share) for share in (0.7, 0.1))
    code = np.where(rng.random(m) < 0.6, rng.integers(0, width, m), -1)
    in_a, in_b = rng.random(m) < 0.5, rng.random(m) < 0.3
    got = reduce_runs(bounds, q, score_a, score_b, code, in_a, in_b)
    for score, top in ((score_a, got.best_a), (score_b, got.best_b)):
        best = best_per_point(p, q, score, n)
        assert np.array_equal(top, np.where(best >= 0, score[np.maximum(best, 0)], -1))
    for mask, counts in zip((in_a, in_b, in_a | in_b), got.counts, strict=True):
        assert np.array_equal(counts, count_distinct_per_point(p, np.where(mask, code, -1)[q], n))
    assert np.array_equal(got.any_a, any_per_point(p, in_a[q], n))
    assert got.counts.max() >= 2 and got.any_a.any() and not got.any_a.all()
