"""The p-table of the cell key method (sdcTools ``ptable``; Giessing 2016)."""

from __future__ import annotations

import numpy as np
import pytest

from coverage.errors import GapmapError
from coverage.privacy.ptable import CkmParams, ptable, solve_ptable


def test_the_default_noise_is_small_but_its_bound_is_wide() -> None:
    """gapmap's choice D = 10, V = 3, js = 2: typical changes are small, while an attacker
    must allow for changes up to 10 (which makes exact differencing practically impossible)."""
    pt = ptable(CkmParams())
    for i in (3, 5, 8, 50):
        v, p = pt.row(i)
        assert p[np.abs(v) <= 3].sum() > 0.95
        assert 0 < p[np.abs(v) == 10].sum() < 1e-4


def test_every_row_is_unbiased_with_variance_v_and_never_targets_1_to_js() -> None:
    """ptable's constraints: sum p = 1, sum v p = 0, sum v^2 p <= V, |v| <= D, j not in 1..js."""
    params = CkmParams(max_deviation=5, variance=3.0, js=2)
    pt = ptable(params)
    assert pt.imax == 5 + 2 + 1  # ncat = D + js + 1
    for i in range(pt.imax + 1):
        v, p = pt.row(i)
        assert p.sum() == pytest.approx(1.0, abs=1e-8)
        assert float(p @ v) == pytest.approx(0.0, abs=1e-6)
        assert float(p @ v**2) <= 3.0 + 1e-6
        assert (np.abs(v) <= 5).all()
        targets = i + v
        assert not ((targets >= 1) & (targets <= 2)).any()
        assert (targets >= 0).all()
    assert pt.row(0)[0].tolist() == [0]  # a true zero stays zero


def test_perturbation_follows_the_intervals_and_zero_stays_zero() -> None:
    pt = ptable(CkmParams())
    v1, _ = pt.row(1)
    assert pt.perturbation([1], [0.0])[0] == v1[0]
    assert pt.perturbation([1], [0.999999999])[0] == v1[-1]
    assert pt.perturbation([0, 0], [0.3, 0.9]).tolist() == [0, 0]
    # a large count uses the symmetry row
    assert pt.perturbation([1000], [0.5])[0] == pt.perturbation([pt.imax], [0.5])[0]
    # the frequencies of the perturbations match the table for uniform cell keys
    ck = (np.arange(100_000) + 0.5) / 100_000
    got = pt.perturbation(np.full(ck.shape, 4), ck)
    v4, p4 = pt.row(4)
    for v, p in zip(v4, p4, strict=True):
        assert (got == v).mean() == pytest.approx(p, abs=1e-4)


def test_originals_of_a_published_value() -> None:
    pt = ptable(CkmParams())
    assert pt.originals(0).tolist() == list(range(11))  # D = 10
    assert pt.originals(3).tolist() == list(range(1, 14))
    assert pt.originals(20).tolist() == list(range(10, 31))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_deviation": 0}, "use 1..50"),
        ({"variance": 0}, "V = 0"),
        ({"js": -1}, "use 0..20"),
    ],
)
def test_bad_parameters_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(GapmapError, match=message):
        CkmParams(**kwargs)


def test_infeasible_parameters_name_the_fix() -> None:
    # a true 1 must move to 0 or >= 3: unbiased noise needs variance >= 2
    with pytest.raises(GapmapError, match="raise V or D, or lower js"):
        ptable(CkmParams(max_deviation=3, variance=1.5, js=2))


def test_the_kept_default_table_is_the_solved_one() -> None:
    """Runs take the default parameters' table from ptable_default.py instead of solving it;
    solving it again must give the same table value for value."""
    kept, solved = ptable(CkmParams()), solve_ptable(CkmParams())
    for name in ("i", "j", "lb", "ub"):
        assert np.array_equal(getattr(kept, name), getattr(solved, name)), name
    assert solve_ptable(CkmParams(max_deviation=5, variance=3.0, js=2)).imax == 8
