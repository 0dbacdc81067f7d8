"""Public tables with the cell key method: exact tables in, perturbed tables out.

Each count column of a table counts a set of records (addresses or households) per row;
:data:`SUMMARY_CELLS` and :func:`grid_cells` say which. :func:`perturb_table` recomputes
each count and its cell key from the records, checks the count against the exact table,
and publishes ``count + v`` with ``v`` from the p-table. Shares are recomputed from the
published counts. Zeros stay zero, no published count is 1..js, and the same set of
records gives the same published value in every table (so a Kreis with one Gemeinde shows
the Gemeinde's figures, and an address class that holds every address of a row shows the
row's address count).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from coverage.errors import GapmapError
from coverage.privacy.cellkey import cell_keys
from coverage.privacy.ptable import PTable

__all__ = ["Records", "grid_cells", "group_records", "perturb_table", "summary_cells"]

#: a count column = (flag the records must carry or None for all, "addresses" | "households")
Cell = tuple[str | None, str]


@dataclass
class Records:
    """Records of a table (addresses, or grouped addresses) with their keys and flags.

    ``n``: addresses each record stands for; ``households``: its households; ``rk``/``hk``:
    its address and household key sums (mod ``MODULUS``); ``flags``: boolean columns such
    as ``eligible``, ``rural_gap`` and ``class:<name>``.
    """

    n: npt.NDArray[np.int64]
    households: npt.NDArray[np.int64]
    rk: npt.NDArray[np.int64]
    hk: npt.NDArray[np.int64]
    flags: dict[str, npt.NDArray[np.bool_]] = field(default_factory=dict)

    @classmethod
    def of_addresses(
        cls,
        rk: npt.NDArray[np.int64],
        hk: npt.NDArray[np.int64],
        households: npt.ArrayLike,
        flags: Mapping[str, npt.ArrayLike],
    ) -> Records:
        hh = pd.to_numeric(pd.Series(households), errors="coerce").fillna(0).to_numpy("int64")
        return cls(
            np.ones(len(rk), dtype=np.int64),
            hh,
            np.asarray(rk, dtype=np.int64),
            np.asarray(hk, dtype=np.int64),
            {
                k: pd.array(v, dtype="boolean").to_numpy(bool, na_value=False)
                for k, v in flags.items()
            },
        )


def group_records(groups: pd.DataFrame, classes: Sequence[str]) -> Records:
    """Records of grouped addresses (a cluster run's rows: ``addresses``, ``households``,
    key sums ``rk``/``hk``, ``eligible``, ``class``)."""
    return Records(
        groups["addresses"].to_numpy("int64"),
        groups["households"].to_numpy("int64"),
        groups["rk"].to_numpy("int64"),
        groups["hk"].to_numpy("int64"),
        {"eligible": groups["eligible"].to_numpy(bool), **class_flags(groups["class"], classes)},
    )


def class_flags(klass: pd.Series, classes: Sequence[str]) -> dict[str, npt.NDArray[np.bool_]]:
    """``class:<c>`` flags from a class column."""
    k = klass.astype("string")
    return {f"class:{c}": (k == c).fillna(False).to_numpy(bool) for c in classes}


def summary_cells(classes: Sequence[str], table: pd.DataFrame) -> dict[str, Cell]:
    """What each count column of a Gemeinde/Kreis summary counts."""
    cells: dict[str, Cell] = {
        "addresses": (None, "addresses"),
        "households": (None, "households"),
        "eligible": ("eligible", "addresses"),
        "eligible_households": ("eligible", "households"),
        "rural_gap": ("rural_gap", "addresses"),
        "rural_gap_households": ("rural_gap", "households"),
        **{f"n_{c}": (f"class:{c}", "addresses") for c in classes},
    }
    return {c: cell for c, cell in cells.items() if c in table.columns}


def grid_cells(table: pd.DataFrame) -> dict[str, Cell]:
    """What each count column of a grid summary counts (``addresses_<class>`` included)."""
    cells: dict[str, Cell] = {
        "addresses": (None, "addresses"),
        "households": (None, "households"),
        "eligible": ("eligible", "addresses"),
        "eligible_households": ("eligible", "households"),
        "rural_gap": ("rural_gap", "addresses"),
        "rural_gap_households": ("rural_gap", "households"),
    }
    for c in table.columns:
        if c.startswith("addresses_"):
            cells[c] = (f"class:{c.removeprefix('addresses_')}", "addresses")
    return {c: cell for c, cell in cells.items() if c in table.columns}


def perturb_table(
    table: pd.DataFrame,
    rows: npt.ArrayLike,
    records: Records,
    cells: Mapping[str, Cell],
    pt: PTable,
    *,
    shares: Mapping[str, tuple[str, str]] = {},
    share_digits: int | None = None,
    share_fill: float = np.nan,
) -> pd.DataFrame:
    """A public copy of ``table``: every column of ``cells`` perturbed, ``shares`` recomputed.

    ``rows`` gives per record its row in ``table`` (-1: none). Raises GapmapError when a
    count recomputed from the records differs from the exact table (the column would not
    count what ``cells`` says). The result gets a column ``perturbed`` (True on every row:
    each count went through the method, including those it left unchanged).
    """
    r = np.asarray(rows, dtype=np.int64)
    if len(r) != len(records.n):
        raise GapmapError(f"cell key method: {len(r)} row numbers for {len(records.n)} records")
    out = table.copy()
    m = len(table)
    for col, (flag, unit) in cells.items():
        mask = np.ones(len(r), dtype=bool) if flag is None else records.flags[flag]
        weights = records.n if unit == "addresses" else records.households
        keys = records.rk if unit == "addresses" else records.hk
        sel = mask & (r >= 0)
        count = np.bincount(r[sel], weights=weights[sel], minlength=m).astype(np.int64)
        exact = pd.to_numeric(table[col], errors="coerce").fillna(0).to_numpy(np.int64)
        if not np.array_equal(count, exact):
            bad = int(np.flatnonzero(count != exact)[0])
            raise GapmapError(
                f"cell key method: column {col} row {bad} counts {exact[bad]} in the table "
                f"but {count[bad]} records"
            )
        ck = cell_keys(r, m, keys, mask)
        out[col] = count + pt.perturbation(count, ck)
    for share, (num, den) in shares.items():
        if share not in out.columns:
            continue
        n_, d_ = out[num].to_numpy(float), out[den].to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            s = np.where(d_ > 0, np.minimum(n_ / d_, 1.0), share_fill)
        out[share] = np.round(s, share_digits) if share_digits is not None else s
    out["perturbed"] = True
    return out
