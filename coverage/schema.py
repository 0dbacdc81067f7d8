"""Canonical columns, dtypes and enumerations, and validation of frames against them.

Every reader returns frames in these shapes; every pure step takes them. Geometry is always
in the run's working CRS (metres, projected) by the time a pure step sees it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.errors import InputDataError
from coverage.levels import ags_from_ars, describe_set_aside, keep_mask, levels_from_keys
from coverage.technology import (
    TECHNOLOGY_SPELLINGS,
    classify_label,
    map_technologies,
    technology_key,
)


class Technology(StrEnum):
    """Access technologies (one enum for all jurisdictions)."""

    FTTH = "ftth"
    FTTB = "fttb"
    HFC_DOCSIS31 = "hfc_docsis31"
    HFC = "hfc"
    VDSL = "vdsl"
    ADSL = "adsl"
    FWA_LICENSED = "fwa_licensed"
    FWA_UNLICENSED = "fwa_unlicensed"
    MOBILE_5G = "mobile_5g"
    MOBILE_LTE = "mobile_lte"
    SATELLITE_GEO = "satellite_geo"
    SATELLITE_NGSO = "satellite_ngso"
    #: FCC technology code 0 ("other"); never counts as reliable in any bundled profile
    OTHER = "other"


class SiteType(StrEnum):
    """What an address is used for; drives site rules (focal points, farms, CAIs)."""

    PRIVATE = "private"
    BUSINESS = "business"
    SCHOOL = "school"
    HOSPITAL = "hospital"
    PUBLIC = "public"
    FARM = "farm"


class OfferStatus(StrEnum):
    EXISTING = "existing"
    PLANNED = "planned"


class BoundaryLevel(StrEnum):
    GEMEINDE = "gemeinde"
    KREIS = "kreis"


#: Spellings seen in operator files, Breitbandatlas and BDC exports -> canonical technology.
TECHNOLOGY_ALIASES: dict[str, Technology] = {
    **{t.value: t for t in Technology},
    **{k: Technology(v) for k, v in TECHNOLOGY_SPELLINGS.items()},
}


#: technology_key(spelling) -> canonical value, for coverage.technology
_EXACT_TECH: dict[str, str] = {technology_key(k): v.value for k, v in TECHNOLOGY_ALIASES.items()}


def parse_technology(value: object, *, where: str) -> Technology:
    """Map a label to a Technology (see ``coverage.technology``); ``where`` names file and row."""
    found = classify_label(value, _EXACT_TECH)
    if found is None:
        known = ", ".join(t.value for t in Technology)
        raise InputDataError(f"{where}: unknown technology {value!r}; use one of: {known}")
    return Technology(found)


# Column name -> pandas dtype. Geometry is the frame's active geometry column "geometry".
ADDRESS_COLUMNS: dict[str, str] = {
    "address_id": "string",
    "ags": "string",
    "street": "string",
    "house_number": "string",
    "suffix": "string",
    "postcode": "string",
    "place": "string",
    "site_type": "string",
    "households": "int32",
}
ADDRESS_REQUIRED = ("address_id",)
#: optional source columns kept as they are (FCC Fabric keys for BEAD exports)
ADDRESS_PASSTHROUGH = ("bsl", "block_geoid", "h3_9", "h3_res8_id", "uprn")

OFFER_COLUMNS: dict[str, str] = {
    "provider": "string",
    "technology": "string",
    "down_mbps": "float64",
    "up_mbps": "float64",
    "latency_ms": "float64",
    "low_latency": "boolean",
    "status": "string",
    "available_from": "datetime64[ms]",
    "source": "string",
    "as_of": "datetime64[ms]",
}
OFFER_REQUIRED = ("provider", "technology", "down_mbps", "up_mbps")

BOUNDARY_COLUMNS: dict[str, str] = {"ags": "string", "name": "string", "level": "string"}
BOUNDARY_REQUIRED = ("ags", "name")

#: BEAD and most rules call a connection "low latency" at or below this round-trip time.
LOW_LATENCY_MS = 100.0


@dataclass
class ValidationReport:
    """What validation did to one input layer. Nothing is dropped without a line here."""

    source: str
    kind: str
    rows_in: int = 0
    rows_out: int = 0
    repaired: int = 0
    dropped: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "repaired_geometries": self.repaired,
            "dropped_rows": len(self.dropped),
            "dropped": self.dropped[:1000],
            "warnings": self.warnings,
        }


def _require(frame: pd.DataFrame, required: tuple[str, ...], *, source: str, kind: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns[:20]))
        raise InputDataError(
            f"{source}: {kind} layer is missing required column(s) {', '.join(missing)} "
            f"(columns found: {have}); rename them or pass a column mapping"
        )


def _first_rows(mask: np.ndarray, n: int = 5) -> str:
    rows = np.flatnonzero(mask)[:n]
    return ", ".join(str(int(r) + 1) for r in rows)


def _as_string(series: pd.Series) -> pd.Series:
    out = series.astype("string")
    return out.str.strip()


def _is_valid(geoms: np.ndarray, parts: int = 2) -> np.ndarray:
    """``shapely.is_valid`` in ``parts`` slices on threads (GEOS runs without the GIL):
    validity of millions of vertices is the longest step of reading coverage."""
    if len(geoms) < 1000:
        return shapely.is_valid(geoms)
    cuts = np.linspace(0, len(geoms), parts + 1).astype(int)
    with ThreadPoolExecutor(parts) as pool:
        found = pool.map(shapely.is_valid, [geoms[a:b] for a, b in pairwise(cuts)])
        return np.concatenate(list(found))


def _check_not_empty(frame: pd.DataFrame, *, source: str, kind: str) -> None:
    if len(frame) == 0:
        raise InputDataError(
            f"{source}: the {kind} layer has no rows; check the file or layer name"
        )


def validate_addresses(
    frame: gpd.GeoDataFrame, *, source: str
) -> tuple[gpd.GeoDataFrame, ValidationReport]:
    """Check and coerce an address layer to the canonical shape.

    Rows are numbered from 1 in messages (the feature or data row, header excluded).
    Missing optional columns are filled: ``site_type`` from :func:`coverage.sites.
    derive_site_types` (school register, hospital list, FCC building_type_code, else
    private; the report says which), ``households`` = 1.
    Raises InputDataError for missing ids, duplicate ids, non-point or empty geometries,
    unknown site types and negative household counts.
    """
    from coverage.schema_addresses import validate_address_frame

    return validate_address_frame(frame, source=source)


def validate_offers(
    frame: gpd.GeoDataFrame | pd.DataFrame,
    *,
    source: str,
    spatial: bool = True,
    value_option: str | None = None,
) -> tuple[Any, ValidationReport]:
    """Check and coerce a coverage layer (polygons) or an offer list (no geometry).

    Technologies are normalised through ``coverage.technology`` (every unknown label is
    reported at once; ``value_option`` names the option that maps them). Speeds are Mbit/s and must be
    >= 0; a missing upload speed stays NaN (rules treat it as failing any upload test).
    ``low_latency`` is taken from the file when present, else derived as latency_ms <= 100
    (unknown latency stays unknown). Invalid polygons are repaired with make_valid and
    counted in the report; a geometry that cannot be repaired into an area is an error.
    """
    kind = "coverage" if spatial else "offer"
    _check_not_empty(frame, source=source, kind=kind)
    _require(frame, OFFER_REQUIRED, source=source, kind=kind)
    report = ValidationReport(source=source, kind=kind, rows_in=len(frame))
    src = frame.reset_index(drop=True)
    out = pd.DataFrame(index=pd.RangeIndex(len(src)))

    prov = _as_string(src["provider"])
    bad = prov.isna() | (prov == "")
    if bad.any():
        raise InputDataError(
            f"{source}: field provider is empty (rows {_first_rows(bad.to_numpy())}); name the operator"
        )
    out["provider"] = prov

    techs = src["technology"].astype("string").str.strip()
    if techs.isna().any() or (techs == "").any():
        empty = (techs.isna() | (techs == "")).to_numpy()
        raise InputDataError(f"{source}: field technology is empty (rows {_first_rows(empty)})")
    out["technology"] = map_technologies(
        techs,
        _EXACT_TECH,
        source=source,
        hint=value_option,
        known=", ".join(t.value for t in Technology),
    )

    for col in ("down_mbps", "up_mbps", "latency_ms"):
        if col in src:
            raw = src[col]
            num = pd.to_numeric(raw, errors="coerce").astype("float64")
            garbage = num.isna() & raw.notna() & (raw.astype("string").str.strip() != "")
            if garbage.any():
                raise InputDataError(
                    f"{source}: field {col} is not a number (rows {_first_rows(garbage.to_numpy())}, "
                    f"e.g. {raw[garbage].iloc[0]!r}); use Mbit/s (ms for latency) with a '.' decimal mark"
                )
            neg = num < 0
            if neg.any():
                raise InputDataError(
                    f"{source}: field {col} is negative (rows {_first_rows(neg.to_numpy())})"
                )
            out[col] = num
        else:
            out[col] = np.nan
    missing_down = out["down_mbps"].isna()
    if missing_down.any():
        report.warnings.append(
            f"{int(missing_down.sum())} row(s) have no down_mbps; they never satisfy a speed rule"
        )

    if "low_latency" in src:
        ll = src["low_latency"].astype("string").str.strip().str.lower()
        out["low_latency"] = ll.map(
            {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
        ).astype("boolean")
    else:
        out["low_latency"] = pd.array(
            np.where(out["latency_ms"].isna(), pd.NA, out["latency_ms"] <= LOW_LATENCY_MS),
            dtype="boolean",
        )

    status = (
        _as_string(src["status"]).str.lower().fillna("existing")
        if "status" in src
        else pd.Series("existing", index=out.index, dtype="string")
    )
    bad = ~status.isin({s.value for s in OfferStatus})
    if bad.any():
        raise InputDataError(
            f"{source}: field status must be existing or planned (rows {_first_rows(bad.to_numpy())}, e.g. {status[bad].iloc[0]!r})"
        )
    out["status"] = status

    for col in ("available_from", "as_of"):
        if col in src:
            raw = src[col]
            parsed = pd.to_datetime(raw, errors="coerce")
            garbage = parsed.isna() & raw.notna() & (raw.astype("string").str.strip() != "")
            if garbage.any():
                raise InputDataError(
                    f"{source}: field {col} is not a date (rows {_first_rows(garbage.to_numpy())}, e.g. {raw[garbage].iloc[0]!r}); use YYYY-MM-DD"
                )
            out[col] = parsed.astype("datetime64[ms]")
        else:
            out[col] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ms]")
    planned_no_date = (out["status"] == "planned") & out["available_from"].isna()
    if planned_no_date.any():
        raise InputDataError(
            f"{source}: planned offers need available_from (rows {_first_rows(planned_no_date.to_numpy())}); "
            "give the date the operator committed to"
        )
    out["source"] = (
        _as_string(src["source"])
        if "source" in src
        else pd.Series(source, index=out.index, dtype="string")
    )

    extra = [
        c
        for c in src.columns
        if c not in OFFER_COLUMNS
        and c != "geometry"
        and c in ("address_id", "location_id", "fcc_technology", "operator_id", "verified")
    ]
    for col in extra:
        out[col] = src[col].to_numpy()

    if not spatial:
        report.rows_out = len(out)
        return out, report

    geoms = np.asarray(frame.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        raise InputDataError(
            f"{source}: {int(missing.sum())} coverage feature(s) have no geometry (features {_first_rows(missing)}); "
            "remove them or draw the area"
        )
    invalid = ~_is_valid(geoms)
    if invalid.any():
        repaired = shapely.make_valid(geoms[invalid])
        # keep only the areal part of a repaired geometry (make_valid may return collections)
        repaired = np.array([_polygonal_part(g) for g in repaired], dtype=object)
        geoms = geoms.copy()
        geoms[invalid] = repaired
        report.repaired = int(invalid.sum())
    types = shapely.get_type_id(geoms)
    polygonal = np.isin(types, [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON])
    zero = polygonal & (shapely.area(geoms) <= 0)
    bad = ~polygonal | zero | shapely.is_empty(geoms)
    if bad.any():
        raise InputDataError(
            f"{source}: coverage feature(s) {_first_rows(bad)} are not areas (or could not be repaired into one: "
            "zero area, lines or points); coverage must be polygons, fix or remove those features"
        )
    gdf = gpd.GeoDataFrame(out, geometry=geoms, crs=frame.crs)
    report.rows_out = len(gdf)
    return gdf, report


def _polygonal_part(geom: Any) -> Any:
    """The polygons of a geometry (collections from make_valid keep only their areas)."""
    if geom is None or geom.is_empty:
        return geom
    tid = shapely.get_type_id(geom)
    if tid in (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON):
        return geom
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in (3, 6)]
    polys = [q for p in parts for q in shapely.get_parts(p)]
    if not polys:
        return shapely.Polygon()
    return shapely.MultiPolygon(polys) if len(polys) > 1 else polys[0]


def validate_boundaries(
    frame: gpd.GeoDataFrame, *, source: str, level: str | None = None
) -> tuple[gpd.GeoDataFrame, ValidationReport]:
    """Check a boundary layer: ``ags`` (string key), ``name``, ``level`` and polygons.

    ``level`` is inferred from the key length when absent (``coverage.levels``: 8 digits or a
    12-digit ARS -> gemeinde, 5 -> kreis); rows of other levels are set aside with a warning.
    """
    kind = "boundary"
    _check_not_empty(frame, source=source, kind=kind)
    _require(frame, BOUNDARY_REQUIRED, source=source, kind=kind)
    report = ValidationReport(source=source, kind=kind, rows_in=len(frame))
    src = frame.reset_index(drop=True)
    ags = _as_string(src["ags"])
    bad = ags.isna() | ~ags.str.fullmatch(r"\d{2,12}").fillna(False)
    if bad.any():
        raise InputDataError(
            f"{source}: field ags must be a digit string (rows {_first_rows(bad.to_numpy())}); keep leading zeros"
        )
    if level is None and "level" in src:
        lv = _as_string(src["level"]).str.lower()
    else:
        lv = pd.Series(level, index=src.index, dtype="string") if level else levels_from_keys(ags)
    ags = ags.where(lv != "gemeinde", ags_from_ars(ags))
    set_aside = describe_set_aside(lv)
    if set_aside:
        report.warnings.append(set_aside)
        keep = keep_mask(lv)
        src, ags, lv = (x[keep].reset_index(drop=True) for x in (src, ags, lv))
        frame = frame[keep]
    geoms = np.asarray(frame.geometry.values, dtype=object)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = [_polygonal_part(g) for g in shapely.make_valid(geoms[invalid])]
        report.repaired = int(invalid.sum())
    types = shapely.get_type_id(geoms)
    bad = ~np.isin(types, [3, 6]) | shapely.is_empty(geoms)
    if bad.any():
        raise InputDataError(f"{source}: boundary feature(s) {_first_rows(bad)} are not polygons")
    out = gpd.GeoDataFrame(
        {"ags": ags, "name": _as_string(src["name"]), "level": lv}, geometry=geoms, crs=frame.crs
    )
    report.rows_out = len(out)
    return out, report
