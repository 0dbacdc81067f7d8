"""What a worker does for the rural step of a cluster run (:mod:`coverage.cluster.rural`), on
one part of classified rows it holds in memory (:class:`coverage.cluster.run_part.PartTask`).

Three tasks per part, each with the rules of :mod:`coverage.rural` (no rule is restated
here, only split into sums):

* :meth:`RuralTask.survey`: 1 km household sums (:func:`~coverage.rural.degurba.household_cells`),
  project counts per AGS (:func:`~coverage.rural.projects.project_counts`), the eligible
  rows in compact form, and the served row of the part nearest to each of them;
* :meth:`RuralTask.near`: the served rows of the part nearer to an eligible row of another
  part than that row's nearest so far, and the part's rows within the disc radius of an
  eligible row (only those can lie inside a gap-area polygon);
* :meth:`RuralTask.flag`: DEGURBA classes, rural gap, INSPIRE cells and gap-area id per
  row; writes the part's ``part.NNNNN.parquet``; returns record-key sums per group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.spatial import cKDTree

from coverage.costs import CostSet
from coverage.io.writers import write_points_parquet
from coverage.privacy.cellkey import MODULUS, CellKeyer
from coverage.rural.analysis import GRID_CRS, link_served, municipality_classes
from coverage.rural.degurba import degurba_for_points, household_cells, rural_gap
from coverage.rural.gridcells import inspire_cell_categorical
from coverage.rural.projects import project_counts

__all__ = ["GAP_COLUMNS", "XY", "RuralTask", "group_sums"]

#: the coordinate columns of a part's classified rows (dropped when written)
XY = ("__x", "__y")
#: the columns gap areas read (coverage.rural.analysis.gap_areas)
GAP_COLUMNS = ("eligible", "networks_now", "best_technology", "households", "site_type", "ags")
#: the grouping of the record-key sums :meth:`RuralTask.flag` returns
GROUP_KEYS = ("key", "class", "eligible", "rural_gap")
#: the sums of each group
GROUP_SUMS = ("addresses", "households", "rk", "hk")
#: a radius a little larger than the disc's: a superset of the rows inside a polygon is
#: as good as the exact set (the areas' polygons lie within the disc radius of a member)
_RADIUS_SLACK = 1.0 + 1e-6


def group_sums(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with :data:`GROUP_KEYS` and :data:`GROUP_SUMS` summed per group (key sums mod
    ``MODULUS``): the parts' groups of one table add up this way."""
    out = frame.groupby(list(GROUP_KEYS), as_index=False, sort=True, observed=True)[
        list(GROUP_SUMS)
    ].sum()
    out[["rk", "hk"]] %= MODULUS
    return out


@dataclass(frozen=True)
class RuralTask:
    """The settings every rural task of a run shares (shipped with each task: small)."""

    crs: str
    inspire_grid: bool
    costs: CostSet
    served_class: str | None
    radius_m: float
    rural_rule: str
    out_dir: str
    #: the record keys' secret (cell key method); never printed
    secret: bytes = field(default=b"", repr=False)

    def survey(self, rows: pd.DataFrame, number: int) -> dict[str, Any]:
        """Household cells, project counts, the eligible rows and their nearest served row
        of this part (``near_dist``: inf where the part has none)."""
        x, y = _xy(rows)
        out: dict[str, Any] = {
            "projects": project_counts(rows, self.served_class),
            "classes": set(rows["class"].astype("string").dropna()),
        }
        if self.inspire_grid:
            gx, gy = self._grid_xy(x, y)
            out["cells"] = household_cells(gx, gy, rows["households"].to_numpy())
        elig = np.flatnonzero(rows["eligible"].to_numpy(bool))
        served = np.flatnonzero(link_served(rows["best_technology"], self.costs))
        dist, nearest = _nearest(x, y, served, x[elig], y[elig], np.full(elig.size, np.inf))
        out["eligible"] = _compact(rows, number, elig)
        out["near_dist"] = dist
        out["served"] = _compact(rows, number, np.unique(nearest[nearest >= 0]))
        return out

    def near(
        self,
        rows: pd.DataFrame,
        number: int,
        eligible: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    ) -> pd.DataFrame:
        """Compact rows of this part that gap areas need besides the eligible ones: served
        rows nearer to an eligible row of another part than its nearest so far, and rows
        within the disc radius of any eligible row. ``eligible``: x, y, the part holding
        each eligible row and the distance to its nearest served row so far."""
        x, y = _xy(rows)
        ex, ey, owner, bound = eligible
        served = np.flatnonzero(link_served(rows["best_technology"], self.costs))
        other = np.flatnonzero(owner != number)
        _, nearest = _nearest(x, y, served, ex[other], ey[other], bound[other])
        own = rows["eligible"].to_numpy(bool)
        inside = np.flatnonzero(~own)[_within(x[~own], y[~own], ex, ey, self.radius_m)]
        picked = np.union1d(nearest[nearest >= 0], inside)
        return _compact(rows, number, picked)

    def flag(
        self,
        rows: pd.DataFrame,
        number: int,
        degurba_cells: pd.DataFrame,
        degurba_gemeinde: pd.DataFrame,
        area_codes: np.ndarray,
        area_names: pd.Index,
    ) -> dict[str, pd.DataFrame]:
        """The rural columns of every row (as ``gapmap run`` writes them), the part written
        as ``part.NNNNN.parquet``, and record-key sums per (AGS | 100 m | 1 km cell, class,
        eligible, rural gap). ``area_codes``: the gap area of each eligible row in order
        (position in ``area_names``, -1: none)."""
        x, y = _xy(rows)
        n = len(rows)
        eligible = rows["eligible"].to_numpy(bool)
        if self.inspire_grid:
            gx, gy = self._grid_xy(x, y)
            cell = degurba_for_points(gx, gy, degurba_cells)
            muni = municipality_classes(rows["ags"], degurba_gemeinde)
            gap = rural_gap(eligible, cell, muni, self.rural_rule)  # type: ignore[arg-type]
            c100 = inspire_cell_categorical(gx, gy, 100).array
            c1k = inspire_cell_categorical(gx, gy, 1000).array
        else:
            cell = muni = np.zeros(n, dtype=np.int8)
            gap = np.zeros(n, dtype=bool)
            c100 = c1k = pd.array([None] * n, dtype="string")
        codes = np.full(n, -1, dtype=np.int64)
        codes[np.flatnonzero(eligible)] = area_codes
        out = rows.drop(columns=list(XY)).reset_index(drop=True)
        out["degurba_cell"] = cell
        out["degurba_gemeinde"] = muni
        out["rural_gap"] = gap
        out["cell_100m"] = c100
        out["cell_1km"] = c1k
        out["gap_area_id"] = pd.Categorical.from_codes(codes, area_names)
        write_points_parquet(out, x, y, self.crs, Path(self.out_dir) / f"part.{number:05d}.parquet")
        keyer = CellKeyer(self.secret)
        sums = pd.DataFrame(
            {
                "class": out["class"].astype("string").to_numpy(),
                "eligible": eligible,
                "rural_gap": gap,
                "addresses": np.ones(n, dtype=np.int64),
                "households": out["households"].to_numpy(np.int64),
                "rk": keyer.address_keys(out["address_id"]),
                "hk": keyer.household_keys(out["address_id"], out["households"]),
            }
        )
        keys = {"ags": out["ags"].astype("string").fillna("").to_numpy()}
        if self.inspire_grid:
            keys.update(
                grid_100m=np.asarray(c100, dtype=object), grid_1km=np.asarray(c1k, dtype=object)
            )
        return {name: group_sums(sums.assign(key=k)) for name, k in keys.items()}

    def _grid_xy(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The points in the INSPIRE grid's CRS, transformed as the rural step of a run does."""
        to_grid = Transformer.from_crs(self.crs, GRID_CRS, always_xy=True)
        gx, gy = to_grid.transform(x, y)
        return np.asarray(gx), np.asarray(gy)


def _xy(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return rows[XY[0]].to_numpy(float), rows[XY[1]].to_numpy(float)


def _compact(rows: pd.DataFrame, number: int, at: np.ndarray) -> pd.DataFrame:
    """The rows ``at`` with their part and row number, coordinates and the gap columns."""
    at = np.asarray(at, dtype=np.int64)
    picked = rows.iloc[at]
    out = pd.DataFrame(
        {
            "part": np.full(at.size, number, dtype=np.int64),
            "row": at,
            "x": picked[XY[0]].to_numpy(float),
            "y": picked[XY[1]].to_numpy(float),
        }
    )
    for col in GAP_COLUMNS:
        out[col] = picked[col].to_numpy()
    return out


def _nearest(
    x: np.ndarray,
    y: np.ndarray,
    served: np.ndarray,
    qx: np.ndarray,
    qy: np.ndarray,
    bound: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per query point: the distance to the nearest of the rows ``served`` and that row,
    where it is nearer than ``bound`` (else ``bound`` and -1). Query points whose bound
    the served rows' box cannot beat are skipped; the others are asked in groups of
    bounds up to a power of two (the tree takes one bound per query)."""
    dist, row = bound.astype(float).copy(), np.full(qx.size, -1, dtype=np.int64)
    if not (served.size and qx.size):
        return dist, row
    sx, sy = x[served], y[served]
    gap_x = np.maximum(np.maximum(sx.min() - qx, qx - sx.max()), 0.0)
    gap_y = np.maximum(np.maximum(sy.min() - qy, qy - sy.max()), 0.0)
    # (a box distance a rounding above the bound still asks)
    ask = np.flatnonzero(np.hypot(gap_x, gap_y) * (1.0 - 1e-12) < dist)
    if not ask.size:
        return dist, row
    tree = cKDTree(np.column_stack([sx, sy]), balanced_tree=False, compact_nodes=False)
    finite = np.isfinite(dist[ask])
    level = np.full(ask.size, np.iinfo(np.int64).max)
    level[finite] = np.floor(np.log2(np.maximum(dist[ask][finite], 1e-9))).astype(np.int64) + 1
    for lv in np.unique(level):
        sel = ask[level == lv]
        upper = np.inf if lv == np.iinfo(np.int64).max else float(2.0**lv)
        d, j = tree.query(np.column_stack([qx[sel], qy[sel]]), distance_upper_bound=upper)
        better = np.isfinite(d) & (d < dist[sel])
        dist[sel[better]] = d[better]
        row[sel[better]] = served[j[better]]
    return dist, row


def _within(
    x: np.ndarray, y: np.ndarray, ex: np.ndarray, ey: np.ndarray, radius: float
) -> np.ndarray:
    """Which points (x, y) lie within ``radius`` (a little more) of a point (ex, ey)."""
    out = np.zeros(x.size, dtype=bool)
    if not (x.size and ex.size):
        return out
    reach = radius * _RADIUS_SLACK + 1e-3
    near = (
        (ex >= x.min() - reach) & (ex <= x.max() + reach)
        & (ey >= y.min() - reach) & (ey <= y.max() + reach)
    )  # fmt: skip
    if not near.any():
        return out
    tree = cKDTree(np.column_stack([ex[near], ey[near]]), balanced_tree=False, compact_nodes=False)
    d, _ = tree.query(np.column_stack([x, y]), distance_upper_bound=reach)
    return np.isfinite(d)
