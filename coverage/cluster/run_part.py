"""What a worker does with one part of a cluster run (``gapmap cluster-run``,
:mod:`coverage.cluster.run`): check the part's fields, fill missing Gemeinde keys, join and
classify, write the part's rows, return its counts.

The task runs fused with the read of its part, on the worker that read it; it needs nothing
but the part and what every worker holds once (the coverage polygons and offer table, the
Gemeinde polygons and keys: :func:`coverage.cluster.ship.broadcast_polygons`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coverage.cluster.frames import _classify_part, _coordinates
from coverage.cluster.polygons import Polygons
from coverage.crs import Region, check_coordinates
from coverage.errors import InputDataError
from coverage.io.writers import write_points_parquet
from coverage.privacy.cellkey import MODULUS, CellKeyer
from coverage.profiles import Profile
from coverage.schema import SiteType

__all__ = ["COUNT_COLUMNS", "KEEP", "PartTask", "merge_counts"]

#: address columns read besides the geometry and what ``classify`` reads
KEEP = ("address_id", "ags", "households")
#: what each part sends back: one row per (ags, class, eligible)
COUNT_COLUMNS = {
    "ags": "string",
    "class": "string",
    "eligible": "bool",
    "addresses": "int64",
    "households": "int64",
    # record key sums (mod MODULUS): the cell keys of any union of groups follow from them
    "rk": "int64",
    "hk": "int64",
}
_SITE_TYPES = frozenset(s.value for s in SiteType)


def merge_counts(parts: pd.DataFrame) -> pd.DataFrame:
    """The parts' count rows summed per (ags, class, eligible)."""
    frame = pd.DataFrame({c: parts[c].astype(t) for c, t in COUNT_COLUMNS.items()})
    out = frame.groupby(["ags", "class", "eligible"], as_index=False, sort=True)[
        ["addresses", "households", "rk", "hk"]
    ].sum()
    out[["rk", "hk"]] %= MODULUS
    return out


@dataclass(frozen=True)
class PartTask:
    """Worker task: check, complete, classify and write one part; return its counts."""

    source: str
    crs: str
    region: Region
    profile: Profile
    options: dict[str, Any]
    out_dir: str
    #: the record keys' secret (cell key method); never printed
    secret: bytes = field(default=b"", repr=False)

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
            list(KEEP),
            self.options,
            xy=(x, y),
        )
        rows = rows.reset_index(drop=True)
        write_points_parquet(
            rows, x, y, self.crs, Path(self.out_dir) / f"part.{number:05d}.parquet"
        )
        counts = pd.DataFrame(
            {
                "ags": rows["ags"].fillna(""),
                "class": rows["class"],
                "eligible": rows["eligible"].astype(bool),
                "addresses": np.ones(len(rows), dtype=np.int64),
                "households": rows["households"].astype(np.int64),
                "rk": CellKeyer(self.secret).address_keys(rows["address_id"]),
                "hk": CellKeyer(self.secret).household_keys(rows["address_id"], rows["households"]),
            }
        )
        return merge_counts(counts)


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
