"""Address-keyed offer lists: Markterkundung replies as CSV or XLSX.

The BNetzA operator upload and most MEV templates use German column names; they are mapped
to the canonical offer columns here (``strasse`` -> ``street``, ``download`` -> ``down_mbps``
...). An explicit column mapping wins over the aliases.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from coverage.errors import InputDataError, SourceReadError
from coverage.io.hashing import sha256_file

#: lower-cased source column -> canonical column
OFFER_ALIASES: dict[str, str] = {
    "strasse": "street",
    "straße": "street",
    "str": "street",
    "hnr": "house_number",
    "hausnummer": "house_number",
    "hnr_z": "suffix",
    "hnr_zusatz": "suffix",
    "hausnummernzusatz": "suffix",
    "zusatz": "suffix",
    "plz": "postcode",
    "ort": "place",
    "ortsname": "place",
    "gemeinde": "place",
    "technologie": "technology",
    "download": "down_mbps",
    "upload": "up_mbps",
    "latenz": "latency_ms",
    "latency": "latency_ms",
    "anbieter": "provider",
    "betreiber": "provider",
    "operator": "provider",
    "verfuegbar_ab": "available_from",
    "verfügbar_ab": "available_from",
    "datum": "available_from",
    "oi": "address_id",
    "location_id": "address_id",
    "uprn": "address_id",
}


@dataclass(frozen=True)
class OfferList:
    frame: pd.DataFrame
    source: str
    format: str
    rows: int
    sha256: str


def _read_csv(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    try:
        dialect = csv.Sniffer().sniff(text[:20000], delimiters=",;\t")
        sep = dialect.delimiter
    except csv.Error:
        sep = ","
    try:
        return pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""]
        )
    except pd.errors.ParserError as exc:
        raise InputDataError(
            f"{path}: not a well-formed CSV ({exc}); check the separator and quoting"
        ) from exc


def read_offer_list(
    path: str | os.PathLike[str], *, columns: Mapping[str, str] | None = None
) -> OfferList:
    """Read an offer list (CSV with ',' ';' or tab, UTF-8 or cp1252; or XLSX first sheet).

    Speeds in German files may use a decimal comma ("16,5"); they are converted. Returns the
    rows with canonical column names; validation happens in ``schema.validate_offers``.
    """
    p = Path(path)
    if not p.is_file():
        raise SourceReadError(f"{p}: file not found")
    if p.stat().st_size == 0:
        raise InputDataError(f"{p}: the file is empty (0 bytes)")
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt"):
        frame, fmt = _read_csv(p), "csv"
    elif suffix in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(p, dtype=str, engine="openpyxl")
        except Exception as exc:  # openpyxl raises several unrelated types for corrupt files
            raise SourceReadError(
                f"{p}: cannot read the workbook ({exc}); save it again as .xlsx"
            ) from exc
        fmt = "xlsx"
    else:
        raise SourceReadError(
            f"{p}: offer lists must be .csv or .xlsx, not {suffix or 'no extension'}"
        )
    if len(frame) == 0:
        raise InputDataError(f"{p}: the offer list has a header but no rows")
    if columns:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise InputDataError(
                f"{p}: column(s) {', '.join(missing)} from the mapping are not in the file "
                f"(columns found: {', '.join(map(str, frame.columns))})"
            )
        frame = frame.rename(columns=dict(columns))
    rename = {
        c: OFFER_ALIASES[str(c).strip().lower()]
        for c in frame.columns
        if str(c).strip().lower() in OFFER_ALIASES
        and OFFER_ALIASES[str(c).strip().lower()] not in frame.columns
    }
    frame = frame.rename(columns=rename)
    for col in ("down_mbps", "up_mbps", "latency_ms"):
        if col in frame:
            frame[col] = frame[col].astype("string").str.strip().str.replace(",", ".", regex=False)
    return OfferList(frame.reset_index(drop=True), str(path), fmt, len(frame), sha256_file(p))
