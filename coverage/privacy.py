"""Small-count suppression for published tables (grid cells, municipalities).

Rule of thumb from peer systems (peers.md lesson 5): do not publish counts below k
(Ofcom uses 3 addresses, Microsoft 20 devices).

* Primary suppression: every count in 1..k-1 becomes NA.
* Zero stays 0: "no address here is eligible" is a count of nobody. (It can still tell
  something about a small row: "none of the 2 addresses is eligible". Use
  ``row_count_column`` to hide small rows completely, zeros included.)
* Complementary (secondary) suppression: where a row publishes a total and its parts
  (``groups``), one hidden part could be recomputed as total minus the shown parts. In such
  a row the smallest shown non-zero part is hidden too (or, failing that, the total), and
  this repeats until no hidden value is determined by the row: at least two parts are
  hidden and their hidden sum exceeds their number (a sum of 2 over 2 hidden parts, each at
  least 1, would reveal 1 and 1).
* Shares depending on a hidden count become NA (a share with a shown denominator reveals
  its numerator).

Limits: protection is per row. Column totals (a region total next to its cells) and links
between rows are not protected here; publish region totals only from raw tables and at a
level where no single row's hidden value follows from them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from coverage.errors import InputDataError
from coverage.rural.grid_summary import BASE_SHARES


def _recoverable(
    vals: npt.NDArray[np.float64], hidden: npt.NDArray[np.bool_], total: int, parts: list[int]
) -> npt.NDArray[np.bool_]:
    """Rows where the group's total is shown and a hidden part follows from it."""
    shown_total = ~hidden[:, total] & (np.nan_to_num(vals[:, total]) > 0)
    part_hidden = hidden[:, parts]
    m = part_hidden.sum(axis=1)
    hidden_sum = np.nansum(np.where(part_hidden, vals[:, parts], 0.0), axis=1)
    return shown_total & (m >= 1) & ((m == 1) | (hidden_sum <= m))


def suppress_small_counts(
    frame: pd.DataFrame,
    count_columns: Sequence[str],
    k: int = 3,
    *,
    share_columns: Mapping[str, Sequence[str]] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    row_count_column: str | None = None,
) -> pd.DataFrame:
    """Hide small counts so that no shown or derivable value lies in 1..k-1.

    Parameters
    ----------
    frame
        A raw summary (e.g. from :mod:`coverage.rural.grid_summary`); not modified.
    count_columns
        Non-negative whole-number columns to protect.
    k
        Smallest count that may be shown (default 3; k <= 1 hides nothing).
    share_columns
        Share column -> the count columns it is computed from; it becomes NA where any of
        them is hidden. Default: the shares of :data:`coverage.rural.grid_summary.BASE_SHARES`
        present in ``frame``.
    groups
        Total column -> part columns that add up to it (e.g. ``{"addresses":
        ["addresses_white", "addresses_grey", "addresses_black"]}``); drives complementary
        suppression. Default: none.
    row_count_column
        If given, a row whose value there is in 1..k-1 has all its counts hidden, zeros
        included, and all its shares (small-area rule).

    Returns
    -------
    pandas.DataFrame
        A copy; count columns as nullable ``Int64`` (NA = hidden), share columns as
        ``Float64`` (NA = hidden or undefined) and a bool column ``suppressed`` (True where
        any value of the row was hidden).
    """
    counts = list(count_columns)
    if share_columns is None:
        share_columns = {
            s: deps
            for s, deps in BASE_SHARES.items()
            if s in frame.columns and set(deps) <= set(counts)
        }
    groups = dict(groups or {})
    needed = set(counts) | {c for deps in share_columns.values() for c in deps} | set(share_columns)
    needed |= set(groups) | {c for parts in groups.values() for c in parts}
    if row_count_column is not None:
        needed.add(row_count_column)
    missing = sorted(needed - set(frame.columns))
    if missing:
        raise InputDataError(f"suppression: column(s) {', '.join(missing)} not in the table")
    not_counted = sorted(
        (
            {c for deps in share_columns.values() for c in deps}
            | set(groups)
            | {c for p in groups.values() for c in p}
        )
        - set(counts)
    )
    if not_counted:
        raise InputDataError(
            f"suppression: column(s) {', '.join(not_counted)} are used by shares or groups; list them in count_columns"
        )

    vals = (
        frame[counts]
        .apply(pd.to_numeric, errors="coerce")
        .to_numpy(dtype="float64", na_value=np.nan)
    )
    if (vals < 0).any():
        raise InputDataError("suppression: counts must be >= 0")
    col = {c: i for i, c in enumerate(counts)}
    hidden = (vals >= 1) & (vals <= k - 1)
    if row_count_column is not None:
        rc = pd.to_numeric(frame[row_count_column], errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        small_row = (rc >= 1) & (rc <= k - 1)
        hidden |= small_row[:, None]

    # complementary suppression, repeated until no row lets a hidden part be recomputed
    changed = True
    while changed:
        changed = False
        for total_name, part_names in groups.items():
            total, parts = col[total_name], [col[p] for p in part_names]
            rows = np.flatnonzero(_recoverable(vals, hidden, total, parts))
            for r in rows:
                candidates = [
                    p for p in parts if not hidden[r, p] and np.nan_to_num(vals[r, p]) > 0
                ]
                if candidates:
                    hidden[r, min(candidates, key=lambda p: (vals[r, p], p))] = True
                else:
                    hidden[r, total] = True
                changed = True

    out = frame.copy()
    for name, i in col.items():
        arr = pd.array(np.where(np.isnan(vals[:, i]), np.nan, vals[:, i]), dtype="Float64").astype(
            "Int64"
        )
        arr[hidden[:, i]] = pd.NA
        out[name] = arr
    row_hidden = hidden.any(axis=1)
    for share, deps in share_columns.items():
        dep_hidden = hidden[:, [col[d] for d in deps]].any(axis=1)
        if row_count_column is not None:
            dep_hidden |= small_row
        arr = pd.array(
            pd.to_numeric(frame[share], errors="coerce").to_numpy(dtype="float64", na_value=np.nan),
            dtype="Float64",
        )
        arr[dep_hidden] = pd.NA
        out[share] = arr
    out["suppressed"] = row_hidden
    return out
