"""What a worker does with one part of a cluster run (``gapmap cluster-run``,
:mod:`coverage.cluster.run`): check the part's fields, fill missing Gemeinde keys, join and
classify; the part's rows (with their coordinates) stay in the worker's memory for the
rural step (:mod:`coverage.cluster.rural_part`), which writes them.

The task runs fused with the read of its part, on the worker that read it; it needs nothing
but the part and what every worker holds once (the coverage polygons and offer table, the
Gemeinde polygons and keys: :func:`coverage.cluster.ship.broadcast_polygons`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from coverage.cluster.frames import _classify_part, _coordinates
from coverage.cluster.polygons import Polygons
from coverage.cluster.rural_part import XY
from coverage.crs import Region, check_coordinates
from coverage.errors import InputDataError
from coverage.profiles import Profile
from coverage.schema import SiteType

__all__ = ["KEEP", "PartTask"]

#: address columns read besides the geometry and what ``classify`` reads
KEEP = ("address_id", "ags", "households")
_SITE_TYPES = frozenset(s.value for s in SiteType)


@dataclass(frozen=True)
class PartTask:
    """Worker task: check, complete and classify one part; its rows with coordinates
    (columns :data:`coverage.cluster.rural_part.XY`)."""

    source: str
    crs: str
    region: Region
    profile: Profile
    options: dict[str, Any]

    def __call__(
        self,
        frame: pd.DataFrame,
        polygons: Polygons,
        offers: pd.DataFrame,
        gemeinden: Polygons,
        gemeinden_ags: np.ndarray,
        partition_info: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        number = (partition_info or {}).get("number", 0)
        where = f"{self.source} (part {number})"
        frame = _checked(frame, where)
        try:
            x, y = _coordinates(frame)
        except InputDataError as exc:  # a geometry that is not a point, named by address_id
            raise InputDataError(f"{where}: {exc}") from None
        missing = ~(np.isfinite(x) & np.isfinite(y))
        if missing.any():
            raise InputDataError(
                f"{where}: {int(missing.sum())} address(es) have no coordinates (address_id "
                f"{_ids(frame, missing)}); drop them or give them points"
            )
        check_coordinates(x, y, _crs(self.crs), source=where, region=self.region, what="addresses")
        frame["ags"] = _assign_ags(frame["ags"], x, y, gemeinden, gemeinden_ags)
        rows = _classify_part(
            frame,
            polygons,
            offers,
            self.profile,
            ["site_type"],
            # in the order of a run's addresses.parquet; site_type for the gap areas
            ["address_id", "ags", "site_type", "households"],
            self.options,
            xy=(x, y),
        )
        rows[XY[0]], rows[XY[1]] = x, y
        return rows


def _crs(label: str) -> Any:
    from pyproj import CRS

    return CRS.from_user_input(label)


def _ids(frame: pd.DataFrame, bad: np.ndarray) -> str:
    """The first few address_ids where ``bad``."""
    ids = frame.index[bad][:5]
    more = ", ..." if int(np.count_nonzero(bad)) > 5 else ""
    return ", ".join(repr(str(i)) for i in ids) + more


def _checked(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """The part indexed by address_id, with ``site_type`` (lower case, missing = private),
    ``households`` (int32, missing column = 1) and ``ags`` (string) checked as
    :func:`coverage.schema.validate_addresses` checks them."""
    ids = frame["address_id"].astype("string")
    blank = (ids.isna() | (ids.str.strip() == "")).to_numpy(bool)
    if blank.any():
        raise InputDataError(
            f"{where}: {int(blank.sum())} address(es) have no address_id; every address "
            "needs a unique id"
        )
    out = pd.DataFrame(
        {"address_id": ids.array, "geometry": frame["geometry"].array},
        index=pd.Index(ids.array, name=None),
    )
    if "site_type" in frame:
        site = frame["site_type"].astype("string").str.lower().fillna("private").to_numpy()
        bad = ~np.isin(site, list(_SITE_TYPES))
        if bad.any():
            raise InputDataError(
                f"{where}: unknown site_type {site[bad][0]!r} (address_id {_ids(out, bad)}); "
                f"use one of: {', '.join(sorted(_SITE_TYPES))}"
            )
        out["site_type"] = pd.array(site, dtype="string")
    else:
        out["site_type"] = pd.array(np.full(len(out), "private", dtype=object), dtype="string")
    if "households" in frame:
        hh = pd.to_numeric(frame["households"], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(hh) | (hh < 0) | (hh != np.floor(hh))
        if bad.any():
            raise InputDataError(
                f"{where}: field households must be a whole number >= 0 (address_id "
                f"{_ids(out, bad)})"
            )
        out["households"] = hh.astype(np.int32)
    else:
        out["households"] = np.int32(1)
    if "ags" in frame:
        ags = frame["ags"].astype("string")
        ags = ags.where((ags.str.strip() != "").fillna(True))
        bad = (ags.notna() & ~ags.str.fullmatch(r"\d{8}").fillna(False)).to_numpy(bool)
        if bad.any():
            raise InputDataError(
                f"{where}: field ags must be an 8-digit string (address_id {_ids(out, bad)}, "
                f"e.g. {ags[bad].iloc[0]!r}); keep leading zeros (NRW keys start with '05')"
            )
        out["ags"] = ags.to_numpy()
    else:
        out["ags"] = pd.NA
    out["ags"] = out["ags"].astype("string")
    return out


def _assign_ags(
    ags: pd.Series,
    x: np.ndarray,
    y: np.ndarray,
    gemeinden: Polygons,
    codes: np.ndarray,
) -> pd.Series:
    """``ags`` with missing keys filled from the Gemeinde polygon covering each point; on a
    shared border the smallest AGS (the polygons come sorted by AGS)."""
    missing = ags.isna().to_numpy()
    if not missing.any() or len(codes) == 0:
        return ags
    idx = np.flatnonzero(missing)
    p, g = gemeinden.join(x[idx], y[idx])  # g: the Gemeinde's number in `codes`
    first = np.unique(p, return_index=True)[1]  # pairs are sorted by point, then polygon
    out = ags.to_numpy(dtype=object, na_value=None).copy()
    out[idx[p[first]]] = codes[g[first]]
    return pd.Series(pd.array(out, dtype="string"), index=ags.index)
