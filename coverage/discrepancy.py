"""Evidence beside the class: measured speeds, Breitbandatlas cell shares, and where sources disagree.

Pure: frames and arrays in, columns out. Measured values (Ookla tile means) are evidence
only, never the sole basis of a class (domain.md 5). A discrepancy flags an address where
an operator's claim and another source disagree, so an applicant can check it before a
Markterkundung reply is accepted:

* ``MEASURED_BELOW_CLAIM``: the address's best existing offer claims at least
  ``claim_min_mbps`` (default 1000, gigabit), but the measured tile mean download is below
  ``measured_ratio`` (default 0.25) of the claim, based on at least ``min_tests`` tests from
  at least ``min_devices`` devices;
* ``ATLAS_ZERO_WHERE_CLAIMED``: the best existing offer claims at least the Breitbandatlas
  class ``atlas_min_mbit_s`` (default 1000), but the atlas reports 0 % of households in the
  address's 100 m cell at that class.

Tiles or cells with too few tests, or no tile at all, give no flag ("no data is not a gap":
a blank measurement cell only means nobody measured there).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.kernel.join import points_in_polygons


@dataclass(frozen=True)
class DiscrepancyParams:
    claim_min_mbps: float = 1000.0
    measured_ratio: float = 0.25
    min_tests: int = 10
    min_devices: int = 3
    atlas_min_mbit_s: int = 1000


def measured_at_points(
    x: np.ndarray, y: np.ndarray, tiles: gpd.GeoDataFrame, params: DiscrepancyParams
) -> pd.DataFrame:
    """Measured tile means at address points (tiles in the points' CRS).

    Returns ``measured_down_mbps``, ``measured_up_mbps``, ``measured_latency_ms``,
    ``measured_tests``, ``measured_devices`` and ``measured_status`` in {``ok``,
    ``too_few_tests``, ``no_tile``}. A point in several tiles (only at shared edges) takes the
    tile with the most tests.
    """
    n = len(x)
    p_idx, t_idx = points_in_polygons(x, y, np.asarray(tiles.geometry.values, dtype=object))
    tests = pd.to_numeric(
        tiles.get("tests", pd.Series(np.nan, index=tiles.index)), errors="coerce"
    ).to_numpy(dtype="float64")
    devices = pd.to_numeric(
        tiles.get("devices", pd.Series(np.nan, index=tiles.index)), errors="coerce"
    ).to_numpy(dtype="float64")
    pick = np.full(n, -1, dtype=np.int64)
    if len(p_idx):
        order = np.lexsort((-np.nan_to_num(tests[t_idx], nan=-1), p_idx))
        first = order[np.unique(p_idx[order], return_index=True)[1]]
        pick[p_idx[first]] = t_idx[first]
    has = pick >= 0
    safe = np.maximum(pick, 0)

    def col(name: str) -> np.ndarray:
        values = (
            pd.to_numeric(tiles[name], errors="coerce").to_numpy(dtype="float64")
            if name in tiles
            else np.full(len(tiles), np.nan)
        )
        return np.where(has, values[safe] if len(values) else np.nan, np.nan)

    t, d = (
        np.where(has, tests[safe] if len(tests) else np.nan, np.nan),
        np.where(has, devices[safe] if len(devices) else np.nan, np.nan),
    )
    enough = (
        has & (np.nan_to_num(t) >= params.min_tests) & (np.isnan(d) | (d >= params.min_devices))
    )
    status = np.where(~has, "no_tile", np.where(enough, "ok", "too_few_tests"))
    return pd.DataFrame(
        {
            "measured_down_mbps": col("down_mbps"),
            "measured_up_mbps": col("up_mbps"),
            "measured_latency_ms": col("latency_ms"),
            "measured_tests": pd.array(np.where(np.isnan(t), pd.NA, t), dtype="Int64"),
            "measured_devices": pd.array(np.where(np.isnan(d), pd.NA, d), dtype="Int64"),
            "measured_status": pd.array(status, dtype="string"),
        }
    )


def atlas_share_at_cells(
    cell_ids: pd.Series, atlas: pd.DataFrame, params: DiscrepancyParams
) -> pd.Series:
    """Breitbandatlas share (% households >= ``atlas_min_mbit_s``, all technologies) per address cell.

    ``atlas`` is the tidy table of ``coverage.io.breitbandatlas`` keyed by ``cell_id``; the
    newest stand is used. Addresses in cells the atlas does not list get NA.
    """
    table = atlas
    if "cell_id" not in table:
        return pd.Series(pd.NA, index=cell_ids.index, dtype="Float64")
    sel = table[pd.to_numeric(table["min_mbit_s"], errors="coerce") == params.atlas_min_mbit_s]
    if "technology" in sel:
        tech = sel["technology"].astype("string").str.lower()
        if tech.isin(["all", "alle"]).any():
            sel = sel[tech.isin(["all", "alle"])]
    if "stand" in sel and len(sel):
        sel = sel[sel["stand"] == sel["stand"].max()]
    shares = sel.groupby("cell_id")["share_pct"].max()
    return cell_ids.map(shares).astype("Float64")


def flag_discrepancies(
    best_down: pd.Series,
    measured: pd.DataFrame | None,
    atlas_share: pd.Series | None,
    params: DiscrepancyParams,
) -> pd.DataFrame:
    """``discrepancy`` (bool) and ``discrepancy_reason`` (codes joined by ``|``, NA when none)."""
    claim = pd.to_numeric(best_down, errors="coerce").to_numpy(dtype="float64")
    n = len(claim)
    reasons = np.full(n, "", dtype=object)
    if measured is not None:
        ok = measured["measured_status"].to_numpy(dtype=object) == "ok"
        meas = measured["measured_down_mbps"].to_numpy(dtype="float64")
        below = ok & (claim >= params.claim_min_mbps) & (meas < params.measured_ratio * claim)
        reasons = np.where(below, "MEASURED_BELOW_CLAIM", reasons)
    if atlas_share is not None:
        share = atlas_share.to_numpy(dtype="float64", na_value=np.nan)
        zero = (share == 0) & (claim >= params.atlas_min_mbit_s)
        joined = np.where(
            reasons == "",
            "ATLAS_ZERO_WHERE_CLAIMED",
            reasons.astype(str) + "|ATLAS_ZERO_WHERE_CLAIMED",
        )
        reasons = np.where(zero, joined, reasons)
    flagged = reasons != ""
    return pd.DataFrame(
        {
            "discrepancy": flagged,
            "discrepancy_reason": pd.array(np.where(flagged, reasons, None), dtype="string"),
        }
    )
