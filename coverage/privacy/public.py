"""The public tables of a run: Gemeinde and Kreis summaries, 100 m and 1 km grids, DEGURBA.

Everything a public key may see is built here, once per run, from the exact tables and the
per-address records; analysts keep the exact tables. See the README, section Privacy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from coverage.aggregate import LEVELS, ags_prefix_codes
from coverage.privacy.cellkey import CellKeyer
from coverage.privacy.ptable import CkmParams, ptable
from coverage.privacy.tables import (
    Records,
    class_flags,
    grid_cells,
    group_records,
    perturb_table,
    summary_cells,
)
from coverage.rural.grid_summary import BASE_SHARES

__all__ = [
    "group_records",
    "public_degurba",
    "public_grid",
    "public_summary",
    "public_tables",
    "records_of",
    "summary_shares",
]


def summary_shares(classes: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Share column -> (numerator, denominator) of a Gemeinde/Kreis summary."""
    return {
        "eligible_share": ("eligible", "addresses"),
        **{f"share_{c}": (f"n_{c}", "addresses") for c in classes},
    }


def records_of(per_address: pd.DataFrame, keyer: CellKeyer, classes: Sequence[str]) -> Records:
    """Per-address records (keys, households, eligible/rural_gap/class flags) of a run."""
    ids = per_address["address_id"]
    eligible = per_address["eligible"].astype("boolean").fillna(False).to_numpy(bool)
    flags = {"eligible": eligible, **class_flags(per_address["class"], classes)}
    if "rural_gap" in per_address:
        flags["rural_gap"] = (
            per_address["rural_gap"].astype("boolean").fillna(False).to_numpy(bool) & eligible
        )
    rk, hk = keyer.record_keys(ids, per_address["households"])
    return Records.of_addresses(rk, hk, per_address["households"], flags)


def _rows_by_key(
    code: np.ndarray, keys: np.ndarray | pd.Index, table_keys: pd.Series
) -> np.ndarray:
    """Per record the row of its key in ``table_keys`` (-1: none), the record's key being
    ``keys[code]``: each distinct key is looked up once, not once per record."""
    pos = pd.Series(np.arange(len(table_keys)), index=table_keys.astype(str).to_numpy())
    rows = pd.Series(np.asarray(keys, dtype=str)).map(pos).fillna(-1).to_numpy(np.int64)
    return rows[code]


def public_summary(
    summary: pd.DataFrame,
    level: str,
    ags: pd.Series,
    records: Records,
    classes: Sequence[str],
    params: CkmParams,
) -> pd.DataFrame:
    """A Gemeinde or Kreis summary for publication (counts perturbed, shares recomputed)."""
    key, keys = ags_prefix_codes(ags, LEVELS[level])
    rows = _rows_by_key(key, keys, summary["ags"])
    return perturb_table(
        summary,
        rows,
        records,
        summary_cells(classes, summary),
        ptable(params),
        shares=summary_shares(classes),
        share_digits=4,
        share_fill=0.0,
    )


def public_grid(
    grid: pd.DataFrame, cell_of_address: pd.Series, records: Records, params: CkmParams
) -> pd.DataFrame:
    """A 100 m or 1 km grid summary for publication."""
    if grid.empty:
        out = grid.copy()
        out["perturbed"] = pd.Series(dtype=bool)
        return out
    codes, uniques = pd.factorize(pd.Series(cell_of_address))  # categoricals: their codes
    cells = pd.Series(np.asarray(uniques, dtype=object)).astype("string").fillna("")
    # a missing cell is looked up as "" (the last key)
    keys = np.append(cells.to_numpy(dtype=object), "")
    rows = _rows_by_key(np.where(codes >= 0, codes, len(cells)), keys, grid["cell_id"])
    return perturb_table(
        grid,
        rows,
        records,
        grid_cells(grid),
        ptable(params),
        shares={s: tuple(v) for s, v in BASE_SHARES.items()},  # type: ignore[misc]
    )


def public_degurba(degurba: pd.DataFrame, population_estimated: bool) -> pd.DataFrame:
    """The DEGURBA table for publication: the class per Gemeinde, population shares to two
    places, and the population only when it comes from a population grid (an estimate
    from addresses is household counts times a factor, which would give them away)."""
    out = degurba.copy()
    if population_estimated and "population" in out:
        out = out.drop(columns="population")
    for c in out.columns:
        if c.startswith("share_"):
            out[c] = pd.to_numeric(out[c], errors="coerce").round(2)
    return out


def public_tables(
    per_address: pd.DataFrame,
    *,
    classes: Sequence[str],
    summaries: Mapping[str, pd.DataFrame],
    grids: Mapping[str, pd.DataFrame],
    degurba: pd.DataFrame | None,
    population_estimated: bool,
    secret: bytes,
    params: CkmParams,
) -> dict[str, pd.DataFrame]:
    """Every public table of a run, by level name (``gemeinde``, ``kreis``, ``grid_100m``,
    ``grid_1km``, ``degurba``). ``grids`` maps ``grid_100m``/``grid_1km`` to the exact grid;
    per_address needs ``cell_100m``/``cell_1km`` for them."""
    records = records_of(per_address, CellKeyer(secret), classes)
    out = {
        level: public_summary(table, level, per_address["ags"], records, classes, params)
        for level, table in summaries.items()
    }
    for name, grid in grids.items():
        column = "cell_" + name.removeprefix("grid_")
        out[name] = public_grid(grid, per_address[column], records, params)
    if degurba is not None:
        out["degurba"] = public_degurba(degurba, population_estimated)
    return out
