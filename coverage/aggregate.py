"""Per Gemeinde / Kreis counts and shares of classified addresses.

Keys: ``gemeinde`` groups by the 8-digit AGS, ``kreis`` by its first 5 digits (Kreisschlüssel).
Addresses without an AGS (outside every boundary) are counted under the key ``""`` with the
name ``"(outside boundaries)"``, so the table's totals always equal the number of addresses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from coverage.errors import InputDataError

__all__ = ["LEVELS", "OUTSIDE_KEY", "OUTSIDE_NAME", "TOTAL_KEY", "summarise", "total_row"]

#: Level -> number of leading AGS digits forming the key.
LEVELS: Mapping[str, int] = {"gemeinde": 8, "kreis": 5}
OUTSIDE_KEY = ""
OUTSIDE_NAME = "(outside boundaries)"
TOTAL_KEY = "total"


def _columns(classes: Sequence[str]) -> list[str]:
    base = [
        "ags",
        "name",
        "addresses",
        "households",
        "eligible",
        "eligible_share",
        "eligible_households",
    ]
    return base + [f"{p}_{c}" for c in classes for p in ("n", "share")]


def ags_prefix_codes(ags: pd.Series, digits: int) -> tuple[np.ndarray, np.ndarray]:
    """Per address the row of its key (the first ``digits`` AGS digits; NA -> ``""``) among
    the sorted distinct keys, and those keys: grouping by small integer codes, with each
    distinct AGS sliced once instead of once per address."""
    codes, uniques = pd.factorize(ags, use_na_sentinel=True)
    prefixes = pd.Series(np.asarray(uniques, dtype=object)).astype("string").str.slice(0, digits)
    names = np.append(prefixes.fillna(OUTSIDE_KEY).to_numpy(dtype=object), OUTSIDE_KEY)
    keys, key_of_unique = np.unique(names.astype(str), return_inverse=True)
    key = key_of_unique[np.where(codes >= 0, codes, len(names) - 1)]
    return key.astype(np.intp), keys.astype(object)


def _shares(table: pd.DataFrame, classes: Sequence[str]) -> pd.DataFrame:
    denom = table["addresses"].where(table["addresses"] > 0)
    table["eligible_share"] = (table["eligible"] / denom).fillna(0.0).round(4)
    for c in classes:
        table[f"share_{c}"] = (table[f"n_{c}"] / denom).fillna(0.0).round(4)
    return table


def summarise(
    results: pd.DataFrame,
    *,
    level: str,
    names: Mapping[str, str] | None = None,
    classes: Sequence[str],
    count: str | None = None,
) -> pd.DataFrame:
    """Count addresses, households and classes per Gemeinde or Kreis.

    Parameters
    ----------
    results
        Per-address results with ``ags`` (8-digit string, NA = outside boundaries),
        ``households`` (count; NA counts as 0), ``class`` and ``eligible`` (bool).
    level
        ``"gemeinde"`` (key = AGS) or ``"kreis"`` (key = first 5 AGS digits).
    names
        Key -> name (e.g. from the boundary layer); missing keys get NA names.
    classes
        The profile's class names in order; one ``n_<c>``/``share_<c>`` pair each.
    count
        Column holding the number of addresses each row stands for, when the rows are
        already grouped (as a cluster run's workers send them: one row per AGS, class and
        eligibility, ``households`` summed). Default: one row per address.

    Returns
    -------
    pandas.DataFrame
        Columns ``ags, name, addresses, households, eligible, eligible_share,
        eligible_households`` then ``n_<c>, share_<c>`` per class. Shares are fractions of
        addresses (0..1, rounded to 4 places). Sorted by ``ags``; the outside-boundaries row
        (``ags == ""``) sorts first.

    Raises
    ------
    InputDataError
        Unknown level, missing columns, or a class not in ``classes``.
    """
    if level not in LEVELS:
        raise InputDataError(
            f"unknown aggregation level {level!r}; use one of: {', '.join(LEVELS)}"
        )
    missing = [
        c
        for c in ("ags", "households", "class", "eligible", *([count] if count else []))
        if c not in results
    ]
    if missing:
        raise InputDataError(f"results are missing column(s) {', '.join(missing)}")
    klass = results["class"]
    if not isinstance(klass.dtype, pd.CategoricalDtype):
        klass = klass.astype("string")
    unknown = sorted(set(klass.dropna().unique()) - set(classes))
    if unknown or klass.isna().any():
        raise InputDataError(
            f"results contain class(es) {unknown or ['<NA>']} not in the profile classes {list(classes)}"
        )
    key, keys = ags_prefix_codes(results["ags"], LEVELS[level])
    hh = pd.to_numeric(results["households"], errors="coerce").fillna(0).to_numpy("int64")
    elig = results["eligible"].astype("boolean").fillna(False).to_numpy(bool)
    n = (
        np.ones(len(results), dtype="int64")
        if count is None
        else pd.to_numeric(results[count]).to_numpy("int64")
    )

    def total(weights: np.ndarray) -> np.ndarray:
        return np.bincount(key, weights=weights, minlength=len(keys)).astype("int64")

    counts = {
        "addresses": total(n),
        "households": total(hh),
        "eligible": total(np.where(elig, n, 0)),
        "eligible_households": total(np.where(elig, hh, 0)),
    }
    for c in classes:
        counts[f"n_{c}"] = total(np.where((klass == c).to_numpy(dtype=bool), n, 0))
    used = counts["addresses"] > 0
    table = pd.DataFrame({"ags": keys[used], **{k: v[used] for k, v in counts.items()}})
    table["ags"] = table["ags"].astype("string")
    lookup = dict(names or {})
    lookup.setdefault(OUTSIDE_KEY, OUTSIDE_NAME)
    table["name"] = table["ags"].map(lookup).astype("string")
    return _shares(table, classes)[_columns(classes)].reset_index(drop=True)


def total_row(
    summary: pd.DataFrame, *, classes: Sequence[str], name: str = "Total"
) -> pd.DataFrame:
    """One-row frame with the column sums of a :func:`summarise` table (``ags == "total"``);
    shares are recomputed from the summed counts."""
    sums = {
        col: int(summary[col].sum())
        for col in [
            "addresses",
            "households",
            "eligible",
            "eligible_households",
            *(f"n_{c}" for c in classes),
        ]
    }
    row = pd.DataFrame([{"ags": TOTAL_KEY, "name": name, **sums}])
    row["ags"] = row["ags"].astype("string")
    row["name"] = row["name"].astype("string")
    return _shares(row, classes)[_columns(classes)]
