"""Validation of address layers (:func:`coverage.schema.validate_addresses`), for a layer
with Point geometry and for one read as columns plus coordinates
(:func:`validate_address_points`, the GeoParquet point path of ``coverage.io.points``):
one set of checks and messages for both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.errors import InputDataError
from coverage.schema import (
    ADDRESS_COLUMNS,
    ADDRESS_PASSTHROUGH,
    ADDRESS_REQUIRED,
    SiteType,
    ValidationReport,
    _as_string,
    _check_not_empty,
    _first_rows,
    _require,
)
from coverage.sites import derive_site_types
from coverage.strhash import all_distinct

__all__ = ["validate_address_frame", "validate_address_points"]


def validate_address_frame(
    frame: gpd.GeoDataFrame, *, source: str
) -> tuple[gpd.GeoDataFrame, ValidationReport]:
    """:func:`coverage.schema.validate_addresses` (see there)."""

    def out_of() -> gpd.GeoDataFrame:
        geom = frame.geometry.values
        return gpd.GeoDataFrame(index=pd.RangeIndex(len(frame)), geometry=geom, crs=frame.crs)

    def check(out: gpd.GeoDataFrame) -> None:
        geom = out.geometry.values
        _no_coordinates(shapely.is_missing(geom) | shapely.is_empty(geom), source)
        not_point = shapely.get_type_id(geom) != shapely.GeometryType.POINT
        if not_point.any():
            raise InputDataError(
                f"{source}: address geometries must be points (rows {_first_rows(not_point)} are "
                f"{shapely.get_type_id(geom[not_point][0])!s}); use building centroids or entrance points"
            )

    return _addresses(frame, source, out_of, check)


def validate_address_points(
    frame: pd.DataFrame, x: np.ndarray, y: np.ndarray, *, source: str
) -> tuple[pd.DataFrame, ValidationReport]:
    """:func:`validate_addresses` for an address layer read as columns plus coordinates
    (every geometry a 2D point; x and y NaN: an empty one): the same checks and messages,
    the same columns but ``geometry``."""
    return _addresses(
        frame,
        source,
        lambda: pd.DataFrame(index=pd.RangeIndex(len(frame))),
        lambda out: _no_coordinates(np.isnan(x) & np.isnan(y), source),
    )


def _no_coordinates(empty: np.ndarray, source: str) -> None:
    if empty.any():
        raise InputDataError(
            f"{source}: {int(empty.sum())} address(es) have no coordinates (rows {_first_rows(empty)}); "
            "drop them or fill the x/y columns"
        )


def _addresses(
    frame: pd.DataFrame,
    source: str,
    out_of: Callable[[], pd.DataFrame],
    check_geometry: Callable[[pd.DataFrame], None],
) -> tuple[Any, ValidationReport]:
    kind = "address"
    _check_not_empty(frame, source=source, kind=kind)
    _require(frame, ADDRESS_REQUIRED, source=source, kind=kind)
    report = ValidationReport(source=source, kind=kind, rows_in=len(frame))
    out = out_of()

    ids = _as_string(frame["address_id"].reset_index(drop=True))
    blank = ids.isna() | (ids == "")
    if blank.any():
        raise InputDataError(
            f"{source}: {int(blank.sum())} address(es) have no address_id (rows {_first_rows(blank.to_numpy())}); "
            "every address needs a unique id"
        )
    if not all_distinct(ids):
        dup = ids.duplicated(keep=False)
        examples = ", ".join(ids[dup].unique()[:5])
        raise InputDataError(
            f"{source}: address_id is not unique ({int(ids.duplicated().sum())} duplicate(s), e.g. {examples}); "
            "make the ids unique before the run"
        )
    out["address_id"] = ids

    for col in ("ags", "street", "house_number", "suffix", "postcode", "place"):
        out[col] = (
            _as_string(frame[col].reset_index(drop=True))
            if col in frame
            else pd.Series(pd.NA, index=out.index, dtype="string")
        )
    if "ags" in frame:
        ags = out["ags"]
        bad = ags.notna() & ~ags.str.fullmatch(r"\d{8}").fillna(False)
        if bad.any():
            raise InputDataError(
                f"{source}: field ags must be an 8-digit string (rows {_first_rows(bad.to_numpy())}, "
                f"e.g. {ags[bad].iloc[0]!r}); keep leading zeros (NRW keys start with '05')"
            )

    derived, how = derive_site_types(frame)  # coverage.sites: which column says what
    report.warnings.append(how)
    site = (
        _as_string(frame["site_type"].reset_index(drop=True)).str.lower()
        if derived is None
        else derived
    )
    site = site.fillna("private")
    known = {s.value for s in SiteType}
    bad = ~site.isin(known)
    if bad.any():
        raise InputDataError(
            f"{source}: unknown site_type {site[bad].iloc[0]!r} (rows {_first_rows(bad.to_numpy())}); "
            f"use one of: {', '.join(sorted(known))}"
        )
    out["site_type"] = site

    if "households" in frame:
        hh = pd.to_numeric(frame["households"].reset_index(drop=True), errors="coerce")
        bad = hh.isna() | (hh < 0)
        if bad.any():
            raise InputDataError(
                f"{source}: field households must be a whole number >= 0 (rows {_first_rows(bad.to_numpy())})"
            )
        out["households"] = hh.astype("int32")
    else:
        out["households"] = np.int32(1)

    check_geometry(out)
    extra = [c for c in ADDRESS_PASSTHROUGH if c in frame.columns]
    for col in extra:
        out[col] = frame[col].reset_index(drop=True).to_numpy()
    out = out[[*ADDRESS_COLUMNS, *extra, *(["geometry"] if "geometry" in out else [])]]
    report.rows_out = len(out)
    return out, report
