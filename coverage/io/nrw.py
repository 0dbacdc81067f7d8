"""NRW Gebäudereferenzen (``gebref.txt`` from ``gebref_EPSG4647_ASCII.zip``) reader.

Assumed layout (Geobasis NRW "Datenformatbeschreibung Gebäudereferenzen"; checked against
published samples, not against the PDF itself): ASCII/UTF-8 text, ``;``-separated, decimal
comma, normally *no* header line (a header starting ``NBA;`` is tolerated), 15 fields::

    NBA;OI;QUA;LAN;RBZ;KRS;GMD;OTT;SSS;HNR;ADZ;ZZEEEEEE,EEE;NNNNNNN,NNN;STN;JJJJ-MM-TT
    N;DENW000002207504;A;05;1;58;028;0000;12741;6;;32349925,060;5685090,386;Minoritenstraße;2022-01-01

i.e. the HK-DE key fields without the postal fields (PLZ, ONM, ZON, POT), plus the date of
currency. Older deliveries without the date (14 fields) are accepted. Eastings carry the zone
prefix "32" (EPSG:4647); by default it is removed -> EPSG:25832 (see ``hkde.resolve_zone``).

The companion ``gebref_schluessel.txt`` (lines ``G;05;1;58;028;Ratingen`` for Gemeinden; L/R/K
lines for Land, Regierungsbezirk, Kreis) gives Gemeinde names; when it is found (passed as
``keys`` or lying next to the data file) ``place`` is the Gemeinde name, else NA. ``postcode``
is always NA: the free NRW product has no postal data.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from coverage.errors import InputDataError, SourceReadError
from coverage.io import _text
from coverage.io.hkde import _ADDRESS_ORDER, keyed_addresses
from coverage.io.vector import RawLayer

GEBREF_FIELDS: tuple[str, ...] = (
    "NBA", "OI", "QUA", "LAN", "RBZ", "KRS", "GMD", "OTT", "SSS", "HNR", "ADZ",
    "ZZEEEEEE,EEE", "NNNNNNN,NNN", "STN", "JJJJ-MM-TT",
)  # fmt: skip
GEBREF_MAPPING: dict[str, str] = {
    "OI": "address_id",
    "LAN+RBZ+KRS+GMD": "ags",
    "STN": "street",
    "HNR": "house_number",
    "ADZ": "suffix",
    "QUA": "qua",
    "SSS": "street_key",
    "JJJJ-MM-TT": "as_of",
    "gebref_schluessel.txt (G lines)": "place",
    "ZZEEEEEE,EEE / NNNNNNN,NNN": "geometry",
}
KEYS_FILE = "gebref_schluessel.txt"


def read_nrw_gebref(
    path: str | os.PathLike[str],
    *,
    crs: object | None = None,
    keys: str | os.PathLike[str] | None = None,
    strip_zone: bool = True,
) -> RawLayer:
    """Read NRW Gebäudereferenzen into canonical address columns.

    Parameters
    ----------
    path
        ``gebref.txt`` (15 or 14 ``;``-separated fields, header optional).
    crs
        A stated CRS; must agree with the zone-prefixed eastings (EPSG:4647 or EPSG:25832).
    keys
        ``gebref_schluessel.txt`` for Gemeinde names; default: the sibling file if present.
    strip_zone
        Remove the "32" prefix (-> EPSG:25832) instead of keeping EPSG:4647.

    Returns
    -------
    RawLayer
        Points (metres) with the canonical address columns (postcode NA; place from the keys
        file or NA) plus ``qua``, ``street_key`` and ``as_of`` (datetime64, NaT if absent).
    """
    file, label = _text.check_file(path)
    sniffed = _text.sniff(file, label)
    tokens = sniffed.first.split(";")
    header = tokens[0].strip().upper() == "NBA"
    if len(tokens) not in (14, 15):
        hint = (
            " (18 fields look like HK-DE Hauskoordinaten: use read_hkde)"
            if len(tokens) == 18
            else ""
        )
        raise InputDataError(
            f"{label}: line 1 has {len(tokens)} ';'-separated fields; NRW Gebäudereferenzen have 15 "
            f"({';'.join(GEBREF_FIELDS)}) or 14 without the date{hint}"
        )
    names = [*GEBREF_FIELDS[:11], "EAST", "NORTH", "STN", "DATE"][: len(tokens)]
    table, _enc, notes = _text.read_strings(
        file, label, names=names, delimiter=";", skip_rows=int(header), encoding=sniffed.encoding
    )
    notes.insert(0, "header line found" if header else "no header line: fields taken by position")
    frame, out_crs, how, more = keyed_addresses(
        table, label, product="NRW Gebäudereferenzen", crs=crs, strip_zone=strip_zone
    )
    notes += more
    notes.append("NRW Gebäudereferenzen carry no postal data: postcode is NA")
    key_file = Path(keys) if keys is not None else file.with_name(KEYS_FILE)
    if keys is not None or key_file.is_file():
        names_by_ags = read_gebref_keys(key_file)
        frame["place"] = frame["ags"].map(names_by_ags).astype("string")
        missing = int(frame["place"].isna().sum())
        notes.append(
            f"place = Gemeinde name from {key_file.name}"
            + (f" ({missing} AGS not listed)" if missing else "")
        )
    else:
        notes.append(f"no {KEYS_FILE} beside the file: place is NA")
    if "DATE" in table.column_names:
        raw = _text.strings(table.column("DATE"))
        parsed = pd.to_datetime(raw, format="%Y-%m-%d", errors="coerce")
        bad = (parsed.isna() & raw.notna()).to_numpy(dtype=bool)
        if bad.any():
            raise InputDataError(
                f"{label}: field JJJJ-MM-TT is not a date at data row(s) {_text.rows_text(bad)} "
                f"(first: {raw[bad].iloc[0]!r}); expected YYYY-MM-DD"
            )
        frame["as_of"] = parsed.astype("datetime64[ms]").to_numpy()
    else:
        frame["as_of"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ms]")
    frame = frame[[*_ADDRESS_ORDER, "as_of", "geometry"]]
    sha = _text.digest(file, label)
    return _text.raw_layer(
        frame, crs=out_crs, crs_how=how, label=label, fmt="nrw_gebref", sha=sha, notes=notes
    )


def read_gebref_keys(path: str | os.PathLike[str]) -> dict[str, str]:
    """Gemeinde names from ``gebref_schluessel.txt``: {8-digit AGS: name} (G lines only)."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise SourceReadError(f"{file}: cannot read the key file ({exc.strerror or exc})") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode(_text.single_byte(raw))
    out: dict[str, str] = {}
    for line in text.removeprefix("\ufeff").splitlines():
        parts = line.split(";")
        if len(parts) >= 6 and parts[0].strip() == "G":
            ags = (
                parts[1].strip().zfill(2)
                + parts[2].strip()
                + parts[3].strip().zfill(2)
                + parts[4].strip().zfill(3)
            )
            out[ags] = parts[5].strip()
    return out
