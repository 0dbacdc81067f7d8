"""HK-DE Hauskoordinaten (AdV/ZSHH) reader.

Layout (domain.md 1.6, HK-DE v3.1/v4.2): one address per line, ``;``-separated, decimal
comma, 18 fields in this order, with or without a header line::

    NBA;OI;QUA;LAN;RBZ;KRS;GMD;OTT;SSS;HNR;ADZ;EEEEEEEE,EEE;NNNNNNN,NNN;STN;PLZ;ONM;ZON;POT

Some Länder deliver 20 fields: Berlin appends ``PSN;AND`` (AND the date of the last change,
``2015-04-02``; PSN is empty in the published sample). The two extra fields are read as
strings, AND kept as ``changed``; the other fields are the same.

Canonical mapping: ``address_id`` = OI, ``ags`` = LAN+RBZ+KRS+GMD (8 digits, zero-padded
string), ``street`` = STN, ``house_number`` = HNR, ``suffix`` = ADZ, ``postcode`` = PLZ,
``place`` = ONM. QUA is kept as ``qua``, SSS as ``street_key``. HK-DE has no household
counts: ``households`` = 1 and ``site_type`` = private (noted in ``RawLayer.notes``).

Coordinates: an east value with 8 integer digits carries the UTM zone prefix ("32" ->
EPSG:4647, "33" -> EPSG:5650). By default the prefix is removed (32,000,000 m), giving plain
EPSG:25832/25833; ``strip_zone=False`` keeps the prefixed CRS. A 6-digit east is plain UTM
(EPSG:25832 assumed unless a CRS is stated). Prefixed and plain values mixed in one file are
an error naming the rows. Text is UTF-8 (v4.2) or, failing that, cp1252/Latin-1 (v3.1).
"""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from pyproj import CRS

from coverage.crs import crs_label, parse_crs
from coverage.errors import CRSError, InputDataError
from coverage.io import _text
from coverage.io.vector import RawLayer

HKDE_FIELDS: tuple[str, ...] = (
    "NBA", "OI", "QUA", "LAN", "RBZ", "KRS", "GMD", "OTT", "SSS", "HNR", "ADZ",
    "EEEEEEEE,EEE", "NNNNNNN,NNN", "STN", "PLZ", "ONM", "ZON", "POT",
)  # fmt: skip
#: the 20-field variant (Berlin): two fields appended
HKDE_EXTRA: tuple[str, ...] = ("PSN", "AND")
#: source field -> canonical column (for reports)
HKDE_MAPPING: dict[str, str] = {
    "OI": "address_id",
    "LAN+RBZ+KRS+GMD": "ags",
    "STN": "street",
    "HNR": "house_number",
    "ADZ": "suffix",
    "PLZ": "postcode",
    "ONM": "place",
    "QUA": "qua",
    "SSS": "street_key",
    "EEEEEEEE,EEE / NNNNNNN,NNN": "geometry",
}
#: zone prefix -> (prefixed CRS, plain CRS)
ZONE_CRS: dict[int, tuple[int, int]] = {32: (4647, 25832), 33: (5650, 25833)}


def read_hkde(
    path: str | os.PathLike[str], *, crs: object | None = None, strip_zone: bool = True
) -> RawLayer:
    """Read an HK-DE Hauskoordinaten file into canonical address columns.

    Parameters
    ----------
    path
        The ``.csv``/``.txt`` delivery (18 ``;``-separated fields, header optional).
    crs
        A stated CRS. Needed only for 6-digit eastings that are not EPSG:25832; it must agree
        with zone-prefixed eastings (EPSG:4647, or EPSG:25832 meaning "prefix removed").
    strip_zone
        Remove the zone prefix from 8-digit eastings (result EPSG:25832) instead of keeping
        them as EPSG:4647.

    Returns
    -------
    RawLayer
        Points (metres) with address_id, ags, street, house_number, suffix, postcode, place,
        site_type, households, qua, street_key; ``crs_how`` says how the CRS was decided.

    Raises
    ------
    InputDataError
        Wrong field count (rows named), non-numeric coordinates, mixed prefixed/plain
        eastings, keys that do not form an 8-digit AGS.
    CRSError
        A stated CRS contradicting the eastings.
    """
    file, label = _text.check_file(path)
    sniffed = _text.sniff(file, label)
    tokens = sniffed.first.split(";")
    header = tokens[0].strip().upper() == "NBA"
    if len(tokens) not in (len(HKDE_FIELDS), len(HKDE_FIELDS) + len(HKDE_EXTRA)):
        hint = " (15 fields ending in a date look like NRW Gebäudereferenzen: use read_nrw_gebref)"
        raise InputDataError(
            f"{label}: line 1 has {len(tokens)} ';'-separated fields, HK-DE has {len(HKDE_FIELDS)} "
            f"({';'.join(HKDE_FIELDS)}) or 20 (Berlin: ...;PSN;AND)"
            f"{hint if len(tokens) in (14, 15) else ''}"
        )
    extra = list(HKDE_EXTRA) if len(tokens) > len(HKDE_FIELDS) else []
    names = [*HKDE_FIELDS[:11], "EAST", "NORTH", *HKDE_FIELDS[13:], *extra]
    table, _enc, notes = _text.read_strings(
        file, label, names=names, delimiter=";", skip_rows=int(header), encoding=sniffed.encoding
    )
    notes.insert(0, "header line found" if header else "no header line: fields taken by position")
    frame, out_crs, how, more = keyed_addresses(
        table, label, product="HK-DE", crs=crs, strip_zone=strip_zone
    )
    frame["postcode"] = _text.strings(table.column("PLZ"))
    frame["place"] = _text.strings(table.column("ONM"))
    frame = frame[[*_ADDRESS_ORDER, "geometry"]]
    if extra:
        frame["changed"] = _text.strings(table.column("AND")).to_numpy()
        notes.append("20-field layout (Berlin): PSN and AND read; AND kept as changed")
    sha = _text.digest(file, label)
    return _text.raw_layer(
        frame, crs=out_crs, crs_how=how, label=label, fmt="hkde", sha=sha, notes=notes + more
    )


_ADDRESS_ORDER = (
    "address_id", "ags", "street", "house_number", "suffix", "postcode", "place",
    "site_type", "households", "qua", "street_key",
)  # fmt: skip


def keyed_addresses(
    table: pa.Table, label: str, *, product: str, crs: object | None, strip_zone: bool
) -> tuple[gpd.GeoDataFrame, CRS, str, list[str]]:
    """Build canonical address columns from the HK-DE-style key fields (shared with NRW).

    ``table`` holds string columns OI, QUA, LAN, RBZ, KRS, GMD, SSS, HNR, ADZ, EAST, NORTH,
    STN. Returns (frame without postcode/place, CRS, how decided, notes).
    """
    east = _text.numbers(table.column("EAST"), "EAST (EEEEEEEE,EEE)", label, decimal_comma=True)
    north = _text.numbers(table.column("NORTH"), "NORTH (NNNNNNN,NNN)", label, decimal_comma=True)
    bad_north = (north < 1e6) | (north >= 1e7)
    if bad_north.any():
        raise InputDataError(
            f"{label}: field NORTH must have 7 integer digits (UTM northing in metres) at data "
            f"row(s) {_text.rows_text(bad_north)} (first: {north[bad_north][0]:,.3f}); "
            "check that east and north are not swapped"
        )
    east, out_crs, how = resolve_zone(
        east, label, product=product, stated=crs, strip_zone=strip_zone
    )

    n = table.num_rows
    frame = gpd.GeoDataFrame(index=pd.RangeIndex(n), geometry=shapely.points(east, north))
    frame["address_id"] = _text.strings(table.column("OI"))
    parts = [
        _text.strings(table.column(name)).fillna("").str.zfill(width)
        for name, width in (("LAN", 2), ("RBZ", 1), ("KRS", 2), ("GMD", 3))
    ]
    ags = parts[0] + parts[1] + parts[2] + parts[3]
    bad = ~ags.str.fullmatch(r"\d{8}").fillna(False).to_numpy(dtype=bool)
    if bad.any():
        raise InputDataError(
            f"{label}: fields LAN/RBZ/KRS/GMD do not form an 8-digit AGS at data row(s) "
            f"{_text.rows_text(bad)} (first: {ags[bad].iloc[0]!r}); they must be digits "
            "(Land 2, Regierungsbezirk 1, Kreis 2, Gemeinde 3)"
        )
    frame["ags"] = ags.astype("string")
    frame["street"] = _text.strings(table.column("STN"))
    frame["house_number"] = _text.strings(table.column("HNR"))
    frame["suffix"] = _text.strings(table.column("ADZ"))
    frame["postcode"] = pd.Series(pd.NA, index=frame.index, dtype="string")
    frame["place"] = pd.Series(pd.NA, index=frame.index, dtype="string")
    frame["site_type"] = pd.Series("private", index=frame.index, dtype="string")
    frame["households"] = np.ones(n, dtype="int32")
    frame["qua"] = _text.strings(table.column("QUA"))
    frame["street_key"] = _text.strings(table.column("SSS"))
    notes = [f"{product} carries no household counts: households = 1, site_type = private"]
    return frame, out_crs, how, notes


def resolve_zone(
    east: np.ndarray, label: str, *, product: str, stated: object | None, strip_zone: bool
) -> tuple[np.ndarray, CRS, str]:
    """Decide the CRS from the eastings' digit count; strip the zone prefix if asked.

    Returns (eastings in metres, CRS, how decided).
    """
    prefixed = east >= 1e7
    plain = (east >= 1e5) & (east < 1e6)
    weird = ~(prefixed & (east < 1e8)) & ~plain
    if weird.any():
        raise InputDataError(
            f"{label}: field EAST has neither 6 integer digits (plain UTM) nor 8 (zone prefix) at "
            f"data row(s) {_text.rows_text(weird)} (first: {east[weird][0]:,.3f}); check the column order"
        )
    if prefixed.any() and not prefixed.all():
        raise InputDataError(
            f"{label}: eastings are mixed: rows {_text.rows_text(prefixed)} have 8 integer digits "
            f"(zone prefix, EPSG:4647) but rows {_text.rows_text(~prefixed)} have 6 (EPSG:25832); "
            "a file must use one convention - split or fix those rows"
        )
    stated_crs = parse_crs(stated, source=label) if stated is not None else None
    if not prefixed.any():
        if stated_crs is None:
            return (
                east,
                CRS.from_epsg(25832),
                (
                    f"{product} eastings have 6 integer digits (no zone prefix): EPSG:25832 assumed; "
                    "state the CRS (e.g. EPSG:25833) for a zone-33 delivery"
                ),
            )
        if stated_crs.to_epsg() in {p for p, _ in ZONE_CRS.values()}:
            raise CRSError(
                f"{label}: {crs_label(stated_crs)} was stated, but the eastings have 6 integer digits "
                "and carry no zone prefix; state EPSG:25832 (or EPSG:25833)"
            )
        return east, stated_crs, f"stated by the user ({product} eastings without zone prefix)"
    zone_of = np.floor(east / 1e6).astype(int)
    zones = np.unique(zone_of)
    if len(zones) > 1:
        raise InputDataError(
            f"{label}: eastings carry different zone prefixes ({', '.join(map(str, zones))}; rows "
            f"{_text.rows_text(zone_of != zones[0])} differ from row 1); split the file by zone"
        )
    zone = int(zones[0])
    if zone not in ZONE_CRS:
        raise InputDataError(
            f"{label}: eastings carry zone prefix {zone}; German UTM zones are 32 and 33 "
            "(check the EAST column)"
        )
    pref_epsg, plain_epsg = ZONE_CRS[zone]
    if stated_crs is not None and stated_crs.to_epsg() not in (pref_epsg, plain_epsg):
        raise CRSError(
            f"{label}: {crs_label(stated_crs)} was stated, but the eastings carry zone prefix {zone} "
            f"(8 integer digits): state EPSG:{pref_epsg} or EPSG:{plain_epsg}, or none"
        )
    prefix = f"{product} eastings have 8 integer digits with zone prefix {zone} (EPSG:{pref_epsg})"
    if stated_crs is not None and stated_crs.to_epsg() == plain_epsg and not strip_zone:
        raise CRSError(
            f"{label}: EPSG:{plain_epsg} was stated with strip_zone=False, but the eastings carry "
            f"zone prefix {zone}; state EPSG:{pref_epsg}"
        )
    if strip_zone:
        return (
            east - zone * 1e6,
            CRS.from_epsg(plain_epsg),
            (f"{prefix}; prefix removed (-{zone * 1_000_000:,} m) -> EPSG:{plain_epsg}"),
        )
    return east, CRS.from_epsg(pref_epsg), f"{prefix}; kept as EPSG:{pref_epsg}"
