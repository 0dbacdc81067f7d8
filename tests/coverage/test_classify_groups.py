"""classify() on addresses grouped by equal offer lists equals classifying every address on
its own, for every bundled profile (speeds, technologies, planned offers and networks per
operator, latency, verification, site rules)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

import coverage.classify as classify_module
from coverage.classify import classify_offers
from coverage.profiles import list_profiles
from coverage.schema import Technology

AS_OF = date(2025, 3, 1)
PROFILES = list_profiles()
#: the site types the bundled site rules name, and one they do not
SITES = ["private", "business", "school", "public", "hospital", "library", "farm"]


def some(rng: np.random.Generator, values: list[object], m: int) -> np.ndarray:
    """``m`` values drawn from ``values`` (None allowed) as an object array."""
    return rng.choice(np.array(values, dtype=object), m)


@pytest.fixture(scope="module")
def inputs() -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """90 offers of 9 providers (legal-form variants of one operator, operator ids), 600
    addresses drawing one of 45 offer lists and a site type; pairs in random order."""
    rng = np.random.default_rng(11)
    m = 90
    names = ["Demo Netz GmbH", "demo netz", "DEMO-Netz AG", "Kabel Nord", "Funk Süd GmbH",
             "Sat One", "Glasfaser West", "Stadtwerke Ost eG", None]  # fmt: skip
    techs = [t.value for t in Technology]
    speeds = [np.nan, 6, 16, 30, 50, 100, 101, 200, 250, 300, 500, 501, 1000, 2000]
    dates = np.array(
        ["NaT", "2023-05-01", "2025-06-01", "2026-09-01", "2031-01-01"], dtype="datetime64[ms]"
    )
    status = rng.choice(["existing", "planned"], m, p=[0.7, 0.3])
    offers = pd.DataFrame(
        {
            "provider": pd.Series(rng.choice(np.array(names, dtype=object), m), dtype="string"),
            "technology": pd.Series(rng.choice(techs, m), dtype="string"),
            "down_mbps": rng.choice(speeds, m),
            "up_mbps": rng.choice(speeds, m),
            "latency_ms": rng.choice([np.nan, 20.0, 80.0, 600.0], m),
            "status": pd.Series(status, dtype="string"),
            "available_from": pd.to_datetime(rng.choice(dates, m)),
            "source": pd.Series(rng.choice(["a", "b"], m), dtype="string"),
            "operator_id": pd.Series(some(rng, [None, None, "op-7"], m), dtype="string"),
            "verified": pd.array(some(rng, [True, False, None], m), dtype="boolean"),
            "fcc_technology": pd.array(some(rng, [None, None, 50, 70], m), dtype="Int64"),
        }
    )
    pool = [rng.choice(m, size=rng.integers(0, 9), replace=False) for _ in range(45)]
    n = 600
    pick = rng.integers(0, len(pool), size=n)
    a = np.concatenate([np.full(len(pool[k]), i) for i, k in enumerate(pick)])
    o = np.concatenate([pool[k] for k in pick])
    order = rng.permutation(len(a))
    addresses = pd.DataFrame({"site_type": pd.Series(rng.choice(SITES, n), dtype="string")})
    return addresses, offers, a[order], o[order]


def test_the_inputs_exercise_every_kind_of_offer(inputs: tuple) -> None:
    _, offers, a, _ = inputs
    assert set(offers["status"]) == {"existing", "planned"}
    assert offers["down_mbps"].isna().any() and (offers["down_mbps"] >= 1000).any()
    assert len(np.unique(a)) < 600  # some addresses have no offer


@pytest.mark.parametrize("profile", PROFILES, ids=[p.id for p in PROFILES])
def test_grouped_equals_every_address_on_its_own(
    inputs: tuple, profile: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    addresses, offers, a, o = inputs
    monkeypatch.setattr(classify_module, "GROUP_SHARE", 1.0)  # always group
    grouped = classify_offers(addresses, offers, a, o, profile, as_of=AS_OF)
    assert grouped.results["class"].nunique() >= 2
    monkeypatch.setattr(classify_module, "GROUP_SHARE", -1.0)  # never group
    each = classify_offers(addresses, offers, a, o, profile, as_of=AS_OF)
    pd.testing.assert_frame_equal(grouped.results, each.results)
    assert np.array_equal(grouped.best, each.best)
    assert np.array_equal(grouped.planned, each.planned)
    # plain reference: a few addresses, each classified alone with its own offers
    rows = each.results.astype(object)
    for i in range(0, 600, 53):
        mine = o[a == i]
        alone = classify_offers(
            addresses.iloc[[i]], offers, np.zeros(len(mine), dtype=np.int64), mine, profile,
            as_of=AS_OF,
        ).results  # fmt: skip
        assert alone.astype(object).iloc[0].equals(rows.iloc[i]), i
