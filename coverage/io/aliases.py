"""Address and offer columns as real files name them, and the user's value mappings.

Address files and offer lists (Markterkundung replies) name the same fields in German and
English, with and without umlauts, underscores or dots: ``Straße``, ``Strasse``, ``STR``;
``HNR``, ``Hausnummer``, ``Haus-Nr.``; ``PLZ``; ``Ort``, ``Gemeinde`` ... One table,
:data:`ADDRESS_ALIASES`, serves both (offer lists add :data:`OFFER_ALIASES`). Names are
compared by :func:`name_key` (lower case, umlauts transliterated, punctuation and spaces
dropped), so ``Haus-Nr.`` and ``hausnr`` are the same name.

A column the file already has under its canonical name, or that the user mapped
explicitly (``--address-columns``), always wins over an alias. When a street column holds
street and number together (the NRW school register: ``Strasse`` = "Schützenstr. 12") and no
number column exists, :func:`split_street_number` separates them.

Value mappings (``--offers-values technology=werte.csv`` or inline
``technology:Koax=hfc;Glasfaser (FTTH)=ftth``) rewrite cell values of a canonical column
before validation: see :func:`parse_value_mapping` and :func:`apply_value_mappings`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from coverage.errors import InputDataError, SourceReadError

_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def name_key(name: object) -> str:
    """``"Haus-Nr."`` -> ``"hausnr"``: lower case, umlauts transliterated, only a-z and 0-9."""
    return re.sub(r"[^a-z0-9]", "", str(name).strip().lower().translate(_TRANSLIT))


def _table(pairs: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """Keyed by name_key(alias) and by the lower-cased alias as written (callers that look a
    column up by ``name.strip().lower()``, such as the MEV polygon reader, find it too)."""
    table = {alias.lower(): canonical for canonical, names in pairs.items() for alias in names}
    table.update(
        {name_key(alias): canonical for canonical, names in pairs.items() for alias in names}
    )
    return table


#: canonical address column -> the names real files use (compared through name_key), in
#: order of preference when a file has several of them
ADDRESS_ALIAS_NAMES: dict[str, tuple[str, ...]] = {
    "address_id": (
        "address_id", "adress_id", "adressid", "addressid", "id", "oi", "objektidentifikator",
        "objekt_id", "gebaeudeid", "gebref_id", "hauskoordinaten_id", "schulnummer",
    ),
    "street": ("street", "strasse", "straße", "str", "str.", "strassenname", "straßenname", "stn", "street_name"),
    "house_number": ("house_number", "housenumber", "hausnummer", "hnr", "hnr.", "haus-nr.", "hausnr", "nr", "hno"),
    "suffix": (
        "suffix", "zusatz", "hnr_zusatz", "hnrzusatz", "hnr_z", "hausnummernzusatz",
        "hausnummerzusatz", "adz", "hnr_suffix",
    ),
    "postcode": ("postcode", "plz", "postleitzahl", "zip", "zipcode", "zip_code", "postal_code"),
    "place": ("place", "ort", "ortsname", "gemeinde", "gemeindename", "stadt", "city", "town", "ort/gemeinde"),
    "ags": (
        "ags", "ags8", "gemeindeschluessel", "gemeindeschlüssel", "amtlicher_gemeindeschluessel",
        "gkz", "gemeindekennziffer", "gmdschl",
    ),
}  # fmt: skip

#: offer-only columns (the BNetzA operator upload and MEV templates)
OFFER_ALIAS_NAMES: dict[str, tuple[str, ...]] = {
    "technology": ("technology", "technologie", "tech", "technik", "anschlusstechnologie", "zugangstechnologie"),
    "down_mbps": ("down_mbps", "download", "downstream", "download_mbits", "download_mbit_s", "down", "bandbreite_down"),
    "up_mbps": ("up_mbps", "upload", "upstream", "upload_mbits", "upload_mbit_s", "up", "bandbreite_up"),
    "latency_ms": ("latency_ms", "latenz", "latency", "latenz_ms"),
    "provider": ("provider", "anbieter", "betreiber", "netzbetreiber", "operator", "unternehmen"),
    "available_from": ("available_from", "verfuegbar_ab", "verfügbar_ab", "datum", "ausbau_bis", "fertigstellung"),
    "status": ("status", "ausbaustatus"),
    "address_id": ("address_id", "oi", "location_id", "uprn", "adress_id", "adressid"),
}  # fmt: skip

ADDRESS_ALIASES: dict[str, str] = _table(ADDRESS_ALIAS_NAMES)
OFFER_ALIASES: dict[str, str] = {
    **_table({k: v for k, v in ADDRESS_ALIAS_NAMES.items() if k != "address_id"}),
    **_table(OFFER_ALIAS_NAMES),
}


def apply_aliases(
    frame: pd.DataFrame,
    aliases: Mapping[str, str],
    *,
    keep: tuple[str, ...] = (),
    copy: bool = False,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rename alias columns to canonical names; returns (frame, {file column: canonical}).

    A canonical name already present wins; of several aliases for one canonical name the
    first in the file's column order is used. Columns in ``keep`` are never renamed (they
    are read as they are elsewhere, e.g. coordinate columns). ``copy`` adds the canonical
    column and keeps the file's (site types are derived from e.g. ``Schulnummer``).
    """
    present = {str(c) for c in frame.columns}
    rename: dict[str, str] = {}
    for col in frame.columns:
        name = str(col)
        canonical = aliases.get(name_key(name))
        if canonical is None or name == canonical or name in keep or name == "geometry":
            continue
        if canonical in present or canonical in rename.values():
            continue
        rename[name] = canonical
    if not rename:
        return frame, rename
    if copy:
        out = frame.copy()
        for src, dst in rename.items():
            out[dst] = out[src]
        return out, rename
    return frame.rename(columns=rename), rename


_COMBINED = re.compile(
    r"^\s*(?P<street>.*?\D)[\s,]+(?P<number>\d+)\s*(?P<suffix>[a-zA-Z])?"
    r"(?P<range>\s*[-–/]\s*\d+\s*[a-zA-Z]?)?\s*$"
)


def split_street_number(frame: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """Split a combined "street number suffix" column when the file has no number column.

    ``"Schützenstr. 12"`` -> street ``"Schützenstr."``, house_number ``"12"``;
    ``"Am Markt 3a"`` -> ``"Am Markt"``, ``"3"``, suffix ``"a"``; ``"Hauptstr. 4-6"`` keeps
    the range ``"4-6"`` as the number. Done only when at least half of the filled street
    cells end in a number; cells without one keep their street and get no number. Returns
    the frame and a note (None when nothing was split).
    """
    if "street" not in frame.columns or "house_number" in frame.columns:
        return frame, None
    street = frame["street"].astype("string")
    parts = street.str.extract(_COMBINED)
    filled = street.notna() & (street.str.strip() != "")
    hit = parts["number"].notna() & filled
    if int(filled.sum()) == 0 or hit.sum() < 0.5 * filled.sum():
        return frame, None
    out = frame.copy()
    out["street"] = street.where(~hit, parts["street"].str.strip().str.rstrip(","))
    number = parts["number"].where(
        parts["range"].isna(), parts["number"] + parts["range"].fillna("")
    )
    out["house_number"] = number.str.replace(r"\s+", "", regex=True).astype("string")
    if "suffix" not in out.columns:
        out["suffix"] = parts["suffix"].where(parts["range"].isna()).astype("string")
    missing = int((filled & ~hit).sum())
    note = f"street and house number split from one column: {int(hit.sum()):,} row(s)" + (
        f"; {missing:,} row(s) without a number kept their street" if missing else ""
    )
    return out, note


# ----------------------------------------------------------------------------- value maps


def parse_value_mapping(text: str, option: str) -> tuple[str, dict[str, str]]:
    """``FIELD=FILE.csv`` or inline ``FIELD:FROM=TO;FROM=TO`` -> (field, {from: to}).

    The CSV (UTF-8 or cp1252, comma or semicolon) has two columns, the file's value and the
    value gapmap should read, with or without a header line ``from,to``.
    """
    head, sep_inline, rest = text.partition(":")
    if sep_inline and "=" not in head:
        field = head.strip()
        pairs: dict[str, str] = {}
        for part in rest.split(";"):
            if not part.strip():
                continue
            src, eq, dst = part.rpartition("=")
            if not eq or not src.strip():
                raise InputDataError(
                    f"{option} {text!r}: expected FIELD:FROM=TO;FROM=TO, got {part!r}"
                )
            pairs[src.strip()] = dst.strip()
        if not field or not pairs:
            raise InputDataError(f"{option} {text!r}: expected FIELD:FROM=TO;FROM=TO")
        return field, pairs
    field, eq, path = text.partition("=")
    if not eq or not field.strip() or not path.strip():
        raise InputDataError(
            f"{option} {text!r}: expected FIELD=FILE.csv (two columns: value in the file, "
            "value to use) or FIELD:FROM=TO;FROM=TO"
        )
    return field.strip(), _read_pairs(Path(path.strip()), option)


def _read_pairs(path: Path, option: str) -> dict[str, str]:
    if not path.is_file():
        raise SourceReadError(f"{path}: file not found (value mapping of {option})")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    first = text.splitlines()[0] if text.strip() else ""
    delim = ";" if first.count(";") > first.count(",") else ","
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=delim) if any(c.strip() for c in r)]
    if rows and [name_key(c) for c in rows[0][:2]] in (
        ["from", "to"],
        ["von", "nach"],
        ["wert", "ziel"],
    ):
        rows = rows[1:]
    bad = [i + 1 for i, r in enumerate(rows) if len(r) < 2 or not r[0].strip()]
    if bad or not rows:
        raise InputDataError(
            f"{path}: a value mapping needs two columns (value in the file, value to use) on every "
            f"line; lines {', '.join(map(str, bad[:5])) or '(none)'} do not have them"
        )
    return {r[0].strip(): r[1].strip() for r in rows}


def apply_value_mappings(
    frame: pd.DataFrame, mappings: Mapping[str, Mapping[str, str]] | None, source: str
) -> tuple[pd.DataFrame, list[str]]:
    """Replace values of canonical columns; values are compared trimmed and case-insensitively.

    Returns the frame and one note per field ("technology: 3 value(s) mapped in 120 rows").
    A mapping for a column the frame does not have is an error naming the columns found.
    """
    if not mappings:
        return frame, []
    notes: list[str] = []
    out = frame.copy()
    for field, pairs in mappings.items():
        if field not in out.columns:
            found = ", ".join(str(c) for c in out.columns if c != "geometry")
            raise InputDataError(
                f"{source}: the value mapping names field {field!r}, which the file does not have "
                f"after column mapping (columns: {found})"
            )
        lookup = {str(k).strip().casefold(): v for k, v in pairs.items()}
        col = out[field].astype("string")
        keys = col.str.strip().str.casefold()
        mapped = keys.map(lookup)
        hit = mapped.notna()
        out[field] = col.where(~hit, mapped).astype("string")
        used = int(keys[hit].nunique())
        notes.append(f"{field}: {used} value(s) mapped in {int(hit.sum()):,} row(s)")
    return out, notes


def canonical_address_columns(
    frame: pd.DataFrame,
    *,
    values: Mapping[str, Mapping[str, str]] | None = None,
    source: str,
) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """Aliases, street/number split and value mappings for an address layer.

    Returns the frame, notes for the manifest and inspect, and {file column: canonical}.
    Format readers (HK-DE, Gebäudereferenzen, FCC) already deliver canonical names; a
    canonical name present always wins over an alias.
    """
    notes: list[str] = []
    frame, renamed = apply_aliases(frame, ADDRESS_ALIASES, copy=True)
    if renamed:
        notes.append("columns recognised: " + ", ".join(f"{a} -> {b}" for a, b in renamed.items()))
    frame, split = split_street_number(frame)
    if split:
        notes.append(split)
    frame, value_notes = apply_value_mappings(frame, values, source)
    return frame, notes + value_notes, renamed
