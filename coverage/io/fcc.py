"""FCC Broadband Data Collection: Fabric locations and location-level availability.

* Fabric (CostQuest, licensed) CSV: ``location_id, address_primary, city, state, zip,
  zip_suffix, unit_count, bsl_flag, building_type_code, land_use_code,
  address_confidence_code, county_geoid, block_geoid, h3_9, latitude, longitude, fcc_rel``
  -> addresses (EPSG:4326). ``address_primary`` is split into house number and street when
  it starts with a number. ``households`` = ``unit_count``; all rows are kept, non-BSL rows
  (``bsl_flag`` false) are counted in ``notes`` and flagged in column ``bsl``.
* Availability CSV (public NBM download): ``frn, provider_id, brand_name, location_id,
  technology, max_advertised_download_speed, max_advertised_upload_speed, low_latency,
  business_residential_code, state_usps, block_geoid, h3_res8_id`` -> an offer list keyed
  by ``address_id`` (= location_id), no geometry (``RawLayer.crs`` is None). As in the NTIA
  BEAD notebook, an empty speed or low_latency cell is kept (NaN / NA: service level 0) and
  counted, and every ``business_residential_code`` (R, B, X) counts: the notebook does not
  read that column. ``provider_id`` becomes ``operator_id`` (networks are counted per
  operator, :mod:`coverage.rules.operators`).

Both may be zipped (one CSV inside); archives go through ``archive.safe_extract``.
"""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from pyproj import CRS

from coverage.crs import crs_label, parse_crs
from coverage.errors import CRSError, InputDataError
from coverage.io import _text
from coverage.io.archive import safe_extract
from coverage.io.vector import RawLayer

#: FCC BDC technology code -> canonical technology ("other" for code 0: no canonical match)
FCC_TECHNOLOGY: dict[int, str] = {
    0: "other",
    10: "adsl",
    40: "hfc",
    50: "ftth",
    60: "satellite_geo",
    61: "satellite_ngso",
    70: "fwa_unlicensed",
    71: "fwa_licensed",
    72: "fwa_licensed",
}
FABRIC_MAPPING: dict[str, str] = {
    "location_id": "address_id", "address_primary": "house_number + street", "zip": "postcode",
    "city": "place", "unit_count": "households", "building_type_code": "site_type",
    "latitude/longitude": "geometry", "bsl_flag": "bsl",
}  # fmt: skip
BDC_MAPPING: dict[str, str] = {
    "location_id": "address_id", "brand_name": "provider", "technology": "technology + fcc_technology",
    "max_advertised_download_speed": "down_mbps", "max_advertised_upload_speed": "up_mbps",
    "low_latency": "low_latency",
}  # fmt: skip
FABRIC_REQUIRED = ("location_id", "latitude", "longitude")
BDC_REQUIRED = (
    "brand_name", "location_id", "technology", "max_advertised_download_speed",
    "max_advertised_upload_speed", "low_latency",
)  # fmt: skip
_BOOL = {
    "1": True,
    "true": True,
    "t": True,
    "yes": True,
    "0": False,
    "false": False,
    "f": False,
    "no": False,
}


def level0_rows(frame: pd.DataFrame) -> int:
    """BDC rows with an empty download, upload or low_latency cell."""
    cols = [c for c in ("down_mbps", "up_mbps", "low_latency") if c in frame]
    return int(frame[cols].isna().any(axis=1).sum()) if cols else 0


def empty_cells_note(count: int) -> str:
    """The validation line for :func:`level0_rows`."""
    return (
        f"{count} availability row(s) with an empty download, upload or low_latency cell: kept "
        "as service level 0 (unserved), as the NTIA BEAD notebook reads them"
    )


@contextlib.contextmanager
def csv_member(
    path: str | os.PathLike[str], *, member: str | None = None
) -> Iterator[tuple[Path, str]]:
    """Yield ``(csv path, label)``; a ``.zip`` is safely extracted to a temporary directory."""
    file, label = _text.check_file(path)
    if file.suffix.lower() != ".zip":
        yield file, label
        return
    with tempfile.TemporaryDirectory(prefix="gapmap-fcc-") as tmp:
        files = [
            f
            for f in safe_extract(file, tmp)
            if f.suffix.lower() in (".csv", ".txt") and not f.name.startswith(".")
        ]
        if member is not None:
            files = [f for f in files if member in (f.name, f.stem)]
        if len(files) != 1:
            names = ", ".join(f.name for f in files) or "none"
            raise InputDataError(
                f"{label}: the zip must hold exactly one CSV (found: {names}); name it with member="
            )
        yield files[0], f"{label} ({files[0].name})"


def _read(
    file: Path, label: str, required: tuple[str, ...], what: str
) -> tuple[dict[str, pd.Series], list[str], pa.Table]:
    sniffed = _text.sniff(file, label)
    delim = sniffed.delimiter()
    header = [h.strip() for h in next(csv.reader([sniffed.first], delimiter=delim))]
    missing = [c for c in required if c not in header]
    if missing:
        raise InputDataError(
            f"{label}: not an FCC {what} file: column(s) {', '.join(missing)} missing "
            f"(columns found: {', '.join(header[:15])})"
        )
    table, _enc, notes = _text.read_strings(
        file, label, names=header, delimiter=delim, skip_rows=1, encoding=sniffed.encoding
    )
    if table.num_rows == 0:
        raise InputDataError(f"{label}: the {what} file has a header but no rows")
    return {h: _text.strings(table.column(h)) for h in header}, notes, table


def _ids(values: pd.Series, label: str) -> pd.Series:
    bad = (values.isna() | ~values.str.fullmatch(r"\d+").fillna(False)).to_numpy(dtype=bool)
    if bad.any():
        raise InputDataError(
            f"{label}: field location_id must be a whole number at data row(s) {_text.rows_text(bad)}"
        )
    return values


def read_fcc_fabric(
    path: str | os.PathLike[str], *, crs: object | None = None, member: str | None = None
) -> RawLayer:
    """Read an FCC Fabric locations CSV (or zip) into canonical addresses (EPSG:4326).

    Raises
    ------
    InputDataError
        Missing columns, bad location ids, coordinates, unit counts.
    CRSError
        A stated CRS other than EPSG:4326 (Fabric latitude/longitude are WGS84 degrees).
    """
    if crs is not None and parse_crs(crs, source=os.fspath(path)).to_epsg() != 4326:
        raise CRSError(
            f"{path}: Fabric latitude/longitude are EPSG:4326; {crs_label(parse_crs(crs, source=str(path)))} cannot be right"
        )
    with csv_member(path, member=member) as (file, label):
        cols, notes, table = _read(file, label, FABRIC_REQUIRED, "Fabric")
        lat = _text.numbers(table.column("latitude"), "latitude", label)
        lon = _text.numbers(table.column("longitude"), "longitude", label)
        sha = _text.digest(Path(path), os.fspath(path))
    bad = (np.abs(lat) > 90) | (np.abs(lon) > 180)
    if bad.any():
        raise InputDataError(
            f"{label}: latitude/longitude out of range at data row(s) {_text.rows_text(bad)}"
        )
    n = len(lat)
    empty = pd.Series(pd.NA, index=pd.RangeIndex(n), dtype="string")
    out = pd.DataFrame({"address_id": _ids(cols["location_id"], label)})
    out["ags"] = empty
    addr = cols.get("address_primary", empty)
    parts = addr.str.extract(r"^(\d+[A-Za-z]?(?:[-/]\d+[A-Za-z]?)?)\s+(.+)$")
    out["street"] = parts[1].fillna(addr).astype("string")
    out["house_number"] = parts[0].astype("string")
    out["suffix"] = empty
    out["postcode"] = cols.get("zip", empty)
    out["place"] = cols.get("city", empty)
    # site_type is derived from building_type_code by coverage.sites (validation, inspect)
    if "unit_count" in cols:
        units = _text.numbers(table.column("unit_count"), "unit_count", label)
        bad = (units < 0) | (units != np.floor(units))
        if bad.any():
            raise InputDataError(
                f"{label}: field unit_count must be a whole number >= 0 at data row(s) {_text.rows_text(bad)}"
            )
        out["households"] = units.astype("int32")
    else:
        out["households"] = np.ones(n, dtype="int32")
        notes.append("no unit_count column: households = 1")
    if "bsl_flag" in cols:
        out["bsl"] = cols["bsl_flag"].str.lower().map(_BOOL).astype("boolean")
        non = int((out["bsl"] == False).sum())  # noqa: E712 - nullable boolean
        if non:
            notes.append(
                f"{non} location(s) are not broadband serviceable (bsl_flag false); kept, flagged in column bsl"
            )
    for extra in ("state", "building_type_code", "block_geoid", "h3_9", "fcc_rel"):
        if extra in cols:
            out[extra] = cols[extra]
    gdf = gpd.GeoDataFrame(out, geometry=shapely.points(lon, lat), crs="EPSG:4326")
    return _text.raw_layer(gdf, crs=CRS.from_epsg(4326), crs_how="FCC Fabric latitude/longitude (EPSG:4326)",
                           label=label, fmt="fcc_fabric", sha=sha, notes=notes)  # fmt: skip


def read_fcc_bdc(
    path: str | os.PathLike[str], *, member: str | None = None, as_of: str | None = None
) -> RawLayer:
    """Read an FCC BDC availability CSV (or zip) into an offer list keyed by address_id.

    Columns: ``address_id`` (= location_id), ``provider`` (= brand_name), ``technology``
    (canonical, "other" for code 0), ``fcc_technology`` (int), ``down_mbps``/``up_mbps``
    (float64, Mbit/s as advertised), ``low_latency`` (boolean), ``status`` (existing),
    ``source`` (file name), ``as_of`` (NaT unless given) and the FCC key columns.

    Raises
    ------
    InputDataError
        Missing columns, unknown technology codes, non-numeric speeds, low_latency not 0/1.
    """
    with csv_member(path, member=member) as (file, label):
        cols, notes, table = _read(file, label, BDC_REQUIRED, "BDC availability")
        # an empty speed is kept as NaN: the NTIA notebook reads it as service level 0
        down = _text.numbers(
            table.column("max_advertised_download_speed"),
            "max_advertised_download_speed",
            label,
            allow_missing=True,
        )
        up = _text.numbers(
            table.column("max_advertised_upload_speed"),
            "max_advertised_upload_speed",
            label,
            allow_missing=True,
        )
        code = _text.numbers(table.column("technology"), "technology", label)
        sha = _text.digest(Path(path), os.fspath(path))
    known = np.isin(code, list(FCC_TECHNOLOGY))
    if not known.all():
        raise InputDataError(
            f"{label}: field technology has unknown FCC code(s) at data row(s) {_text.rows_text(~known)} "
            f"(first: {code[~known][0]:g}); known codes: {', '.join(map(str, FCC_TECHNOLOGY))}"
        )
    ll_raw = cols["low_latency"].str.lower()
    ll = ll_raw.map(_BOOL).astype("boolean")
    bad = (ll.isna() & ll_raw.notna()).to_numpy(dtype=bool)
    if bad.any():
        raise InputDataError(
            f"{label}: field low_latency must be 0 or 1 at data row(s) {_text.rows_text(bad)}"
        )
    neg = (down < 0) | (up < 0)
    if neg.any():
        raise InputDataError(
            f"{label}: negative advertised speed at data row(s) {_text.rows_text(neg)}"
        )
    fcc = code.astype("int64")
    out = pd.DataFrame(
        {"address_id": _ids(cols["location_id"], label), "provider": cols["brand_name"]}
    )
    out["technology"] = pd.Series(fcc).map(FCC_TECHNOLOGY).astype("string")
    out["fcc_technology"] = fcc
    out["down_mbps"] = down
    out["up_mbps"] = up
    out["latency_ms"] = np.nan
    out["low_latency"] = ll
    if "provider_id" in cols:
        out["operator_id"] = cols["provider_id"]
    out["status"] = pd.Series("existing", index=out.index, dtype="string")
    out["available_from"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ms]")
    out["source"] = pd.Series(Path(label).name, index=out.index, dtype="string")
    out["as_of"] = pd.Series(
        pd.Timestamp(as_of) if as_of else pd.NaT, index=out.index, dtype="datetime64[ms]"
    )
    for extra in (
        "frn",
        "provider_id",
        "business_residential_code",
        "state_usps",
        "block_geoid",
        "h3_res8_id",
    ):
        if extra in cols:
            out[extra] = cols[extra]
    empty = level0_rows(out)
    if empty:
        notes.append(empty_cells_note(empty))
    other = int((fcc == 0).sum())
    if other:
        notes.append(f"{other} row(s) with FCC technology 0 (other) kept as technology 'other'")
    notes.append("offer list keyed by location_id (no coordinates in BDC availability files)")
    return _text.raw_layer(out, crs=None, crs_how="no geometry (offers keyed by address_id = location_id)",
                           label=label, fmt="fcc_bdc", sha=sha, notes=notes)  # fmt: skip
