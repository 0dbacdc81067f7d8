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
from coverage.privacy.cellkey import MODULUS
from coverage.privacy.ptable import PTable

#: keys < 2^28 are summed as two 14-bit halves: float sums stay exact (< 2^53)
_HALF, _LOW = 14, 2**14 - 1

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
            {k: _bools(v) for k, v in flags.items()},
        )


def _bools(values: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """A flag column as booleans (missing: False)."""
    if isinstance(values, np.ndarray) and values.dtype == bool:
        return values
    return pd.array(values, dtype="boolean").to_numpy(bool, na_value=False)


def group_records(groups: pd.DataFrame, classes: Sequence[str]) -> Records:
    """Records of grouped addresses (a cluster run's rows: ``addresses``, ``households``,
    key sums ``rk``/``hk``, ``eligible``, ``class`` and, when present, ``rural_gap``)."""
    eligible = groups["eligible"].to_numpy(bool)
    flags = {"eligible": eligible, **class_flags(groups["class"], classes)}
    if "rural_gap" in groups:
        flags["rural_gap"] = groups["rural_gap"].to_numpy(bool) & eligible
    return Records(
        groups["addresses"].to_numpy("int64"),
        groups["households"].to_numpy("int64"),
        groups["rk"].to_numpy("int64"),
        groups["hk"].to_numpy("int64"),
        flags,
    )


def class_flags(klass: pd.Series, classes: Sequence[str]) -> dict[str, npt.NDArray[np.bool_]]:
    """``class:<c>`` flags from a class column."""
    codes, uniques = pd.factorize(klass)  # categoricals: their codes, no text per row
    text = pd.Series(np.asarray(uniques, dtype=object)).astype("string")
    return {
        f"class:{c}": _flag_of(codes, (text == c).fillna(False).to_numpy(bool)) for c in classes
    }


def _flag_of(
    codes: npt.NDArray[np.intp], of_unique: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """Per row the flag of its distinct value (``codes`` -1: missing, False)."""
    return np.append(of_unique, False)[codes]


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

    The records are summed once per table into groups (row, which flags the record
    carries); every column's count and cell key is then a sum over the groups that carry
    its flag, so the records are read a few times per table instead of a few times per
    column. Counts and key sums are exact integers, so the result is the same.
    """
    r = np.asarray(rows, dtype=np.int64)
    if len(r) != len(records.n):
        raise GapmapError(f"cell key method: {len(r)} row numbers for {len(records.n)} records")
    out = table.copy()
    groups = _Groups(r, len(table), records, [f for f, _ in cells.values() if f is not None])
    for col, (flag, unit) in cells.items():
        count, key_sum = groups.column(flag, unit)
        exact = pd.to_numeric(table[col], errors="coerce").fillna(0).to_numpy(np.int64)
        if not np.array_equal(count, exact):
            bad = int(np.flatnonzero(count != exact)[0])
            raise GapmapError(
                f"cell key method: column {col} row {bad} counts {exact[bad]} in the table "
                f"but {count[bad]} records"
            )
        out[col] = count + pt.perturbation(count, key_sum / MODULUS)
    for share, (num, den) in shares.items():
        if share not in out.columns:
            continue
        n_, d_ = out[num].to_numpy(float), out[den].to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            s = np.where(d_ > 0, np.minimum(n_ / d_, 1.0), share_fill)
        out[share] = np.round(s, share_digits) if share_digits is not None else s
    out["perturbed"] = True
    return out


class _Groups:
    """The records of one table summed per (row, combination of the records' flags): counts
    and key sums as ``(rows, combinations)`` integer arrays, each made on first use.

    What does not depend on the table (each record's combination of flags, the weights
    summed) is made once per :class:`Records` and shared by every table built from them
    (:func:`_shared`)."""

    def __init__(
        self, rows: npt.NDArray[np.int64], n_rows: int, records: Records, flags: Sequence[str]
    ) -> None:
        shared = _shared(records)
        missing = [f for f in dict.fromkeys(flags) if f not in shared.flags]
        if missing:
            raise KeyError(missing[0])
        self.flags, self.present, self.n_rows, self.shared = (
            shared.flags,
            shared.present,
            n_rows,
            shared,
        )
        self.valid = None if (rows >= 0).all() else rows >= 0
        group = rows * len(self.present) + shared.compact
        self.group = group if self.valid is None else group[self.valid]
        self._sums: dict[str, npt.NDArray[np.int64]] = {}

    def _sum(self, name: str) -> npt.NDArray[np.int64]:
        """Per group the sum of the records' ``name`` (n, households, or the high / low
        14 bits of the address or household keys, which keeps float sums exact)."""
        if name not in self._sums:
            values = self.shared.weights(name)
            if self.valid is not None:
                values = values[self.valid]
            size = self.n_rows * len(self.present)
            sums = np.bincount(self.group, weights=values, minlength=size).astype(np.int64)
            self._sums[name] = sums.reshape(self.n_rows, len(self.present))
        return self._sums[name]

    def column(self, flag: str | None, unit: str) -> tuple[np.ndarray, np.ndarray]:
        """Per row the count of the records carrying ``flag`` (all for None) in ``unit``,
        and the sum of their keys modulo ``MODULUS``."""
        has = (
            np.ones(len(self.present), dtype=bool)
            if flag is None
            else (self.present >> self.flags.index(flag)) & 1 == 1
        )
        count = self._sum(unit)[:, has].sum(axis=1)
        hi = (self._sum(f"{unit}_hi")[:, has] % MODULUS).sum(axis=1) % MODULUS
        lo = (self._sum(f"{unit}_lo")[:, has] % MODULUS).sum(axis=1) % MODULUS
        return count, ((hi << _HALF) % MODULUS + lo) % MODULUS


class _Shared:
    """Per record: the combination of all its flags (as a compact code among the
    combinations present) and the weights the tables sum, each made once."""

    def __init__(self, records: Records) -> None:
        self.records = records
        self.flags = list(records.flags)
        code = np.zeros(len(records.n), dtype=np.int64)
        for bit, flag in enumerate(self.flags):
            code |= records.flags[flag].astype(np.int64) << bit
        self.present = np.flatnonzero(np.bincount(code, minlength=1 << len(self.flags)))
        compact = np.zeros(1 << len(self.flags), dtype=np.int64)
        compact[self.present] = np.arange(len(self.present))
        self.compact = compact[code]
        self._weights: dict[str, npt.NDArray[np.float64]] = {}

    def weights(self, name: str) -> npt.NDArray[np.float64]:
        if name not in self._weights:
            rec = self.records
            values = {
                "addresses": lambda: rec.n,
                "households": lambda: rec.households,
                "addresses_hi": lambda: (rec.rk % MODULUS) >> _HALF,
                "addresses_lo": lambda: (rec.rk % MODULUS) & _LOW,
                "households_hi": lambda: (rec.hk % MODULUS) >> _HALF,
                "households_lo": lambda: (rec.hk % MODULUS) & _LOW,
            }[name]()
            self._weights[name] = values.astype(np.float64)
        return self._weights[name]


def _shared(records: Records) -> _Shared:
    """The :class:`_Shared` of ``records`` (made on first use, kept with them; records are
    not changed once tables are made from them)."""
    shared = records.__dict__.get("_shared")
    if shared is None or shared.records is not records:
        shared = _Shared(records)
        records.__dict__["_shared"] = shared
    return shared
