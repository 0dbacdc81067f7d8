"""Column helpers of ``read_vector``: the user's column mapping, a CRS named in a column, and
the Gauss-Krüger hint for coordinates without a CRS."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import pandas as pd
import shapely
from pyproj import CRS

from coverage.crs import REGIONS, gauss_krueger_zone
from coverage.errors import CRSError, InputDataError

_CRS_COLUMNS = ("epsg", "crs", "srid", "koordinatensystem", "bezugssystem")


def crs_from_column(frame: pd.DataFrame, notes: list[str], label: str) -> CRS | None:
    """A CSV naming its own CRS in a column (the NRW school register's ``EPSG`` =
    "EPSG:25832"): one value for every row is the file's CRS; several values are an error."""
    lookup = {str(c).strip().lower(): c for c in frame.columns}
    col = next((lookup[n] for n in _CRS_COLUMNS if n in lookup), None)
    if col is None:
        return None
    values = frame[col].dropna().astype(str).str.strip().unique()
    if len(values) > 1:
        raise InputDataError(
            f"{label}: column {col!r} names {len(values)} different CRSs "
            f"({', '.join(values[:5])}); split the file by CRS"
        )
    if len(values) == 0:
        return None
    value = values[0]
    code = value.split(":")[-1].strip()
    try:
        found = CRS.from_epsg(int(code)) if code.isdigit() else CRS.from_user_input(value)
    except Exception:  # not a CRS after all: the user states it
        return None
    notes.append(f"CRS from column {col} ({value})")
    return found


def apply_mapping(
    frame: gpd.GeoDataFrame, columns: Mapping[str, str] | None, source: str
) -> gpd.GeoDataFrame:
    """Rename file columns to canonical names; an unknown or clashing name is an error."""
    if not columns:
        return frame
    found = [str(c) for c in frame.columns if c != "geometry"]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        lower = {c.lower(): c for c in found}
        hints = [f"{m!r} -> {lower[m.lower()]!r}?" for m in missing if m.lower() in lower]
        hint = f" (names are case-sensitive: {', '.join(hints)})" if hints else ""
        raise InputDataError(
            f"{source}: the column mapping names column(s) {', '.join(map(repr, missing))} that the file "
            f"does not have{hint}; columns found: {', '.join(found)}"
        )
    targets = list(columns.values())
    kept = set(found) - set(columns)
    clash = sorted({t for t in targets if targets.count(t) > 1 or t in kept or t == "geometry"})
    if clash:
        raise InputDataError(
            f"{source}: the column mapping would create duplicate column(s) {', '.join(map(repr, clash))} "
            "(already present or mapped twice); map each canonical name once"
        )
    return frame.rename(columns=dict(columns))


def suggest_gauss_krueger(frame: gpd.GeoDataFrame, label: str) -> None:
    """No CRS anywhere, but every point fits one Gauss-Krüger zone: say which (not a guess)."""
    geom = frame.geometry.values
    if len(geom) == 0 or not (shapely.get_type_id(geom) == 0).all():
        return
    code = gauss_krueger_zone(geom.x, geom.y, REGIONS["de"])
    if code is not None:
        raise CRSError(
            f"{label}: the layer has no CRS; its coordinates fit Gauss-Krüger zone {code - 31464} "
            f"(EPSG:{code}: the eastings start with the zone digit {code - 31464}); state "
            f"EPSG:{code} as the file's CRS if that is what the sender used"
        )
