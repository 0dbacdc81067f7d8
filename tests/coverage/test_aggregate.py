"""summarise()/total_row() on a small hand-made frame."""

from __future__ import annotations

import pandas as pd
import pytest

from coverage.aggregate import OUTSIDE_NAME, summarise, total_row
from coverage.errors import InputDataError

CLASSES = ["gigabit", "black", "grey", "white"]


@pytest.fixture
def results() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ags": pd.Series(
                ["05974004", "05974004", "05974004", "05974044", "05958004", None], dtype="string"
            ),
            "households": [1, 3, 2, 5, 4, 7],
            "class": ["gigabit", "grey", "white", "white", "black", "white"],
            "eligible": [False, True, True, True, False, True],
        }
    )


def test_gemeinde(results: pd.DataFrame) -> None:
    names = {"05974004": "Anröchte", "05974044": "Warstein", "05958004": "Arnsberg"}
    t = summarise(results, level="gemeinde", names=names, classes=CLASSES)
    assert list(t.columns) == [
        "ags",
        "name",
        "addresses",
        "households",
        "eligible",
        "eligible_share",
        "eligible_households",
        "n_gigabit",
        "share_gigabit",
        "n_black",
        "share_black",
        "n_grey",
        "share_grey",
        "n_white",
        "share_white",
    ]
    assert list(t["ags"]) == ["", "05958004", "05974004", "05974044"]
    assert list(t["name"]) == [OUTSIDE_NAME, "Arnsberg", "Anröchte", "Warstein"]
    row = t.set_index("ags").loc["05974004"]
    assert (row["addresses"], row["households"], row["eligible"], row["eligible_households"]) == (
        3,
        6,
        2,
        5,
    )
    assert row["eligible_share"] == 0.6667
    assert (row["n_gigabit"], row["n_grey"], row["n_white"], row["n_black"]) == (1, 1, 1, 0)
    assert row["share_white"] == 0.3333
    assert t["addresses"].sum() == len(results)


def test_kreis(results: pd.DataFrame) -> None:
    t = summarise(results, level="kreis", names={"05974": "Kreis Soest"}, classes=CLASSES)
    assert list(t["ags"]) == ["", "05958", "05974"]
    soest = t.set_index("ags").loc["05974"]
    assert soest["name"] == "Kreis Soest"
    assert (
        soest["addresses"],
        soest["households"],
        soest["eligible"],
        soest["eligible_households"],
    ) == (4, 11, 3, 10)
    assert soest["eligible_share"] == 0.75 and soest["share_white"] == 0.5
    assert pd.isna(t.set_index("ags").loc["05958", "name"])


def test_total_row(results: pd.DataFrame) -> None:
    t = summarise(results, level="kreis", classes=CLASSES)
    total = total_row(t, classes=CLASSES)
    assert list(total.columns) == list(t.columns)
    row = total.iloc[0]
    assert (row["ags"], row["name"], row["addresses"], row["households"], row["eligible"]) == (
        "total",
        "Total",
        6,
        22,
        4,
    )
    assert row["eligible_share"] == 0.6667 and row["n_white"] == 3 and row["share_white"] == 0.5


def test_errors(results: pd.DataFrame) -> None:
    with pytest.raises(InputDataError, match="level"):
        summarise(results, level="land", classes=CLASSES)
    with pytest.raises(InputDataError, match="not in the profile classes"):
        summarise(results, level="kreis", classes=["white"])
