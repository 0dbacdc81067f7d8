"""Small-count suppression: primary, complementary, shares, small rows; no recovery."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage.errors import InputDataError
from coverage.privacy import suppress_small_counts

PARTS = ["white", "grey", "black"]
GROUPS = {"addresses": PARTS}


def _table(rows: list[list[int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=PARTS)
    frame.insert(0, "addresses", frame[PARTS].sum(axis=1))
    frame["share_white"] = np.where(
        frame["addresses"] > 0, frame["white"] / frame["addresses"].clip(lower=1), np.nan
    )
    return frame


def test_primary_suppression_keeps_zero_and_large_counts() -> None:
    out = suppress_small_counts(_table([[0, 5, 7]]), ["addresses", *PARTS], groups=GROUPS)
    assert out.loc[0, PARTS].tolist() == [0, 5, 7]
    assert not out.loc[0, "suppressed"]
    out = suppress_small_counts(pd.DataFrame({"n": [0, 1, 2, 3]}), ["n"])
    assert out["n"].isna().tolist() == [False, True, True, False]
    assert out["n"].dtype == "Int64" and out.loc[0, "n"] == 0
    assert out["suppressed"].tolist() == [False, True, True, False]


def test_complementary_suppression_hides_the_next_smallest_part() -> None:
    out = suppress_small_counts(
        _table([[2, 9, 5]]),
        ["addresses", *PARTS],
        groups=GROUPS,
        share_columns={"share_white": ["white", "addresses"]},
    )
    assert out.loc[0, "addresses"] == 16
    assert out.loc[0, "grey"] == 9
    assert pd.isna(out.loc[0, "white"]) and pd.isna(out.loc[0, "black"])  # 5 hides with 2
    assert pd.isna(out.loc[0, "share_white"])  # 2/16 would reveal white


def test_two_hidden_ones_are_not_enough() -> None:
    # white 1 and grey 1 are hidden; total - black = 2 over 2 hidden parts reveals 1 and 1
    out = suppress_small_counts(_table([[1, 1, 7]]), ["addresses", *PARTS], groups=GROUPS)
    assert out.loc[0, PARTS].isna().all() or pd.isna(out.loc[0, "addresses"])


def test_small_rows_are_hidden_completely_including_zeros() -> None:
    out = suppress_small_counts(
        _table([[2, 0, 0], [3, 0, 0]]),
        ["addresses", *PARTS],
        groups=GROUPS,
        row_count_column="addresses",
        share_columns={"share_white": ["white", "addresses"]},
    )
    assert out.loc[0, ["addresses", *PARTS]].isna().all() and pd.isna(out.loc[0, "share_white"])
    assert out.loc[1, ["addresses", *PARTS]].tolist() == [3, 3, 0, 0]
    assert out.loc[1, "share_white"] == 1.0


def test_errors_name_missing_and_unlisted_columns() -> None:
    with pytest.raises(InputDataError, match="not in the table"):
        suppress_small_counts(pd.DataFrame({"n": [1]}), ["m"])
    with pytest.raises(InputDataError, match="list them in count_columns"):
        suppress_small_counts(_table([[1, 2, 3]]), ["addresses"], groups=GROUPS)


def _feasible_values(
    public_total: int, public_parts: dict[int, int], hidden: list[int], n_parts: int, bound: int
) -> dict[int, set[int]]:
    """Every value each hidden part can take, given what a reader sees (hidden parts >= 1)."""
    rest = public_total - sum(public_parts.values())
    seen: dict[int, set[int]] = {h: set() for h in hidden}
    for combo in itertools.product(range(1, bound + 1), repeat=len(hidden)):
        if sum(combo) == rest:
            for h, v in zip(hidden, combo, strict=True):
                seen[h].add(v)
    return seen


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(st.integers(0, 12), min_size=3, max_size=3), min_size=1, max_size=8),
    k=st.integers(2, 5),
)
def test_no_public_small_count_and_no_hidden_value_recoverable(
    rows: list[list[int]], k: int
) -> None:
    table = _table(rows)
    out = suppress_small_counts(table, ["addresses", *PARTS], k, groups=GROUPS)
    for i in range(len(table)):
        shown = out.loc[i, ["addresses", *PARTS]]
        for v in shown.dropna():
            assert v == 0 or v >= k  # nothing public in 1..k-1
        for c in ["addresses", *PARTS]:  # shown values are the true ones
            if not pd.isna(out.loc[i, c]):
                assert out.loc[i, c] == table.loc[i, c]
        if pd.isna(out.loc[i, "addresses"]):
            continue  # no total, nothing to recompute from
        total = int(out.loc[i, "addresses"])
        hidden = [j for j, p in enumerate(PARTS) if pd.isna(out.loc[i, p])]
        public = {j: int(out.loc[i, p]) for j, p in enumerate(PARTS) if j not in hidden}
        if not hidden:
            continue
        feasible = _feasible_values(total, public, hidden, len(PARTS), total)
        for h in hidden:
            assert len(feasible[h]) >= 2, (rows[i], k, out.loc[i].to_dict())
