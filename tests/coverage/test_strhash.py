"""The compiled SipHash equals pandas' hash_array value for value, and all_distinct equals
is_unique: the record keys of published tables must not change with the implementation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coverage.strhash import all_distinct, hash_strings

KEY = "0123456789abcdef"


def _strings() -> list[str]:
    rng = np.random.default_rng(7)
    alphabet = list("abcXYZ019-_ äöüßé😀")
    made = ["".join(rng.choice(alphabet, size=int(n))) for n in rng.integers(0, 40, 3000)]
    return ["", "a", "abcdefg", "abcdefgh", "abcdefghi", "Straße 1", "x" * 300, *made]


def test_equals_pandas_hash_array_on_every_kind_of_string() -> None:
    values = _strings()
    expected = pd.util.hash_array(np.array(values, dtype=object), hash_key=KEY, categorize=False)
    series = pd.Series(values, dtype="string")
    assert np.array_equal(hash_strings(series, KEY), expected)
    # a slice (an Arrow array with an offset) and an object Series hash the same
    assert np.array_equal(hash_strings(series.iloc[5:905], KEY), expected[5:905])
    assert np.array_equal(hash_strings(pd.Series(values, dtype=object), KEY), expected)


def test_key_must_be_16_bytes() -> None:
    with pytest.raises(ValueError, match="16-byte"):
        hash_strings(pd.Series(["a"], dtype="string"), "short")


def test_all_distinct_is_is_unique() -> None:
    values = pd.Series(_strings(), dtype="string").drop_duplicates().reset_index(drop=True)
    assert all_distinct(values) is True
    repeated = pd.concat([values, values.iloc[[17]]], ignore_index=True)
    assert all_distinct(repeated) is False
    assert all_distinct(pd.Series(["b", "a", "b"], dtype="string")) is False
