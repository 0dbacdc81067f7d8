"""Addresses with equal offer lists, classified once: :func:`group_addresses` finds the
groups (exactly, :func:`coverage.kernel.groups.pair_groups`), :func:`gathered` spreads the
results of each group's first address to all of its addresses."""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from coverage.kernel.groups import pair_groups
from coverage.profiles import Profile

#: classify once per offer list when there are at most this many lists per address
GROUP_SHARE: Final[float] = 0.8


def site_codes(addresses: pd.DataFrame, profile: Profile) -> np.ndarray | None:
    """Per address, a code of its site type where the profile has site rules (else None)."""
    if not profile.site_rules or "site_type" not in addresses:
        return None
    codes, _ = pd.factorize(addresses["site_type"].astype("string").fillna("private"))
    return codes


def gathered(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """``frame.iloc[rows]`` with a RangeIndex (categoricals keep their categories)."""
    columns: dict[str, object] = {}
    for col in frame.columns:
        s = frame[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            codes = np.take(s.cat.codes.to_numpy(), rows)
            columns[col] = pd.Categorical.from_codes(codes, dtype=s.dtype, validate=False)
        elif isinstance(s.dtype, np.dtype):  # numbers, dates, flags: one numpy gather
            columns[col] = np.take(s.to_numpy(), rows)
        else:
            columns[col] = s.take(rows).reset_index(drop=True).array
    return pd.DataFrame(columns, index=pd.RangeIndex(len(rows)), copy=False)


def group_addresses(
    addresses: pd.DataFrame, a: np.ndarray, o: np.ndarray, m: int, profile: Profile
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(a, o, group, first, bounds)``: the pairs sorted by address (and by offer where they
    were not sorted by address; results do not depend on pair order), the group of every
    address, the first address of every group and the pairs' run bounds per address.

    Addresses share a group when their offer lists are equal and, where the profile has
    site rules (which read the site type), so are their site types.
    """
    n = len(addresses)
    extra = site_codes(addresses, profile)
    grouped = pair_groups(a, o, n, m, extra)
    if grouped is None:
        order = np.lexsort((o, a))
        a, o = a[order], o[order]
        del order
        grouped = pair_groups(a, o, n, m, extra)
        assert grouped is not None
    return a, o, *grouped
