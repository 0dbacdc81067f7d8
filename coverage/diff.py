"""Compare two runs: which addresses changed class (upgrade tracking between vintages)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass
class RunDiff:
    changes: pd.DataFrame  # address_id, ags, class_a, class_b, eligible_a, eligible_b, change
    per_gemeinde: (
        pd.DataFrame
    )  # ags, addresses_a, addresses_b, changed, upgraded_to_served, became_eligible, ...
    added: int
    removed: int


def diff_runs(a: pd.DataFrame, b: pd.DataFrame, *, rank_a: list[str], rank_b: list[str]) -> RunDiff:
    """Addresses whose class differs between run A and run B, matched on ``address_id``.

    ``rank_*`` list each profile's classes from best served to least served; a change towards
    the front of the list is an upgrade. Addresses present in only one run are counted as
    added/removed and listed with the missing side empty.
    """
    cols = ["address_id", "ags", "class", "eligible"]
    # class as plain text: the in-memory results of a run hold it as a categorical
    a, b = (f[cols].astype({"class": "string"}) for f in (a, b))
    left = a.rename(columns={"class": "class_a", "eligible": "eligible_a", "ags": "ags_a"})
    right = b.rename(columns={"class": "class_b", "eligible": "eligible_b", "ags": "ags_b"})
    both = left.merge(right, on="address_id", how="outer", indicator=True)
    both["ags"] = both["ags_b"].fillna(both["ags_a"])
    pos_a = both["class_a"].map({c: i for i, c in enumerate(rank_a)})
    pos_b = both["class_b"].map({c: i for i, c in enumerate(rank_b)})
    same_scale = rank_a == rank_b
    change = pd.Series("unchanged", index=both.index, dtype="string")
    differs = both["class_a"].astype("string") != both["class_b"].astype("string")
    change = change.mask(differs.fillna(False), "changed")
    if same_scale:
        change = change.mask((pos_b < pos_a).fillna(False), "upgraded").mask(
            (pos_b > pos_a).fillna(False), "downgraded"
        )
    change = change.mask(both["_merge"] == "left_only", "removed").mask(
        both["_merge"] == "right_only", "added"
    )
    both["change"] = change
    changes = both.loc[
        both["change"] != "unchanged",
        ["address_id", "ags", "class_a", "class_b", "eligible_a", "eligible_b", "change"],
    ]
    changes = changes.sort_values(["ags", "address_id"], kind="stable").reset_index(drop=True)

    g = both.assign(
        in_a=both["_merge"] != "right_only",
        in_b=both["_merge"] != "left_only",
        changed=both["change"] != "unchanged",
        upgraded=both["change"] == "upgraded",
        downgraded=both["change"] == "downgraded",
        became_eligible=(both["eligible_b"] == True) & (both["eligible_a"] == False),  # noqa: E712 (NA-safe)
        left_eligibility=(both["eligible_a"] == True) & (both["eligible_b"] == False),  # noqa: E712
    )
    per = (
        g.groupby("ags", dropna=False)[
            [
                "in_a",
                "in_b",
                "changed",
                "upgraded",
                "downgraded",
                "became_eligible",
                "left_eligibility",
            ]
        ]
        .sum()
        .astype("int64")
        .rename(columns={"in_a": "addresses_a", "in_b": "addresses_b"})
        .reset_index()
        .sort_values("ags", kind="stable")
        .reset_index(drop=True)
    )
    return RunDiff(
        changes,
        per,
        int((both["_merge"] == "right_only").sum()),
        int((both["_merge"] == "left_only").sum()),
    )
