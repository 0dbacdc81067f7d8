"""Address-keyed offer lists: Markterkundung replies as CSV or XLSX.

The BNetzA operator upload and most MEV templates use German column names; they are mapped
to the canonical offer columns through :mod:`coverage.io.aliases` (``Straße`` -> ``street``,
``Download`` -> ``down_mbps`` ...). An explicit column mapping wins over the aliases, a
combined street-and-number column is split, and the user's value mappings are applied.

Workbooks often carry a title or a two-row merged header above the column names: the header
row is the first of the first ten rows that names at least three known offer fields, or the
row the user states (``header_row``, counted from 1 like a spreadsheet).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from coverage.errors import InputDataError, SourceReadError
from coverage.io.aliases import (
    OFFER_ALIASES,
    apply_aliases,
    apply_value_mappings,
    name_key,
    split_street_number,
)
from coverage.io.hashing import sha256_file
from coverage.io.layername import split_source

__all__ = ["OFFER_ALIASES", "OfferList", "read_offer_list"]

_SCAN_ROWS = 10
_MIN_KNOWN = 3


@dataclass(frozen=True)
class OfferList:
    frame: pd.DataFrame
    source: str
    format: str
    rows: int
    sha256: str
    notes: tuple[str, ...] = field(default=())
    #: file column -> canonical column, as read (explicit mapping and aliases)
    mapped: tuple[tuple[str, str], ...] = field(default=())


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _grid_csv(label: str, raw: bytes) -> list[list[str]]:
    text = _decode(raw)
    try:
        sep = csv.Sniffer().sniff(text[:20000], delimiters=",;\t").delimiter
    except csv.Error:
        sep = ","
    try:
        return list(csv.reader(io.StringIO(text), delimiter=sep))
    except csv.Error as exc:
        raise InputDataError(
            f"{label}: not a well-formed CSV ({exc}); check the separator and quoting"
        ) from exc


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV with its first line as header, every cell text, empty cells missing (the MEV
    reply template reader, ``coverage.io.mev_files``, uses it)."""
    text = _decode(path.read_bytes())
    try:
        sep = csv.Sniffer().sniff(text[:20000], delimiters=",;\t").delimiter
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


def _grid_xlsx(label: str, path: os.PathLike[str], sheet: str | None) -> list[list[str]]:
    try:
        frame = pd.read_excel(
            path, dtype=str, engine="openpyxl", header=None, sheet_name=sheet or 0
        )
    except ValueError as exc:
        if sheet is not None and "not found" in str(exc):
            from openpyxl import load_workbook

            names = load_workbook(path, read_only=True).sheetnames
            raise InputDataError(
                f"{label}: no sheet {sheet!r}; sheets: {', '.join(names)} "
                f"(name one as '{label}|layername=SHEET')"
            ) from exc
        raise SourceReadError(
            f"{label}: cannot read the workbook ({exc}); save it again as .xlsx"
        ) from exc
    except Exception as exc:  # openpyxl raises several unrelated types for corrupt files
        raise SourceReadError(
            f"{label}: cannot read the workbook ({exc}); save it again as .xlsx"
        ) from exc
    return [["" if pd.isna(v) else str(v) for v in row] for row in frame.itertuples(index=False)]


def _header_index(
    grid: list[list[str]], header_row: int | None, label: str
) -> tuple[int, str | None]:
    """0-based index of the header row, and a note when it is not the first row."""
    if header_row is not None:
        if header_row < 1 or header_row > len(grid):
            raise InputDataError(
                f"{label}: header row {header_row} does not exist (the file has {len(grid)} rows)"
            )
        return header_row - 1, f"column names read from row {header_row} (as stated)"
    known = [sum(name_key(c) in OFFER_ALIASES for c in row if c) for row in grid[:_SCAN_ROWS]]
    if not known or known[0] >= _MIN_KNOWN or max(known) < _MIN_KNOWN:
        return 0, None
    i = next(i for i, k in enumerate(known) if k >= _MIN_KNOWN)
    return i, (
        f"column names read from row {i + 1}: rows above it hold a title or a merged header "
        "(state another with --offers-header-row N)"
    )


def _frame(grid: list[list[str]], at: int, label: str) -> pd.DataFrame:
    header = [c.strip() for c in grid[at]]
    width = max(len(r) for r in grid[at:])
    header += [""] * (width - len(header))
    # merged header cells leave blanks: a blank name over an empty column is dropped below
    names = [h or f"column_{i + 1}" for i, h in enumerate(header)]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputDataError(
            f"{label}: the header row {at + 1} repeats column(s) {', '.join(map(repr, dupes))}; "
            "rename them or state the header row with --offers-header-row N"
        )
    rows = [r + [""] * (width - len(r)) for r in grid[at + 1 :]]
    frame = pd.DataFrame(rows, columns=names, dtype="string")
    frame = frame.replace({"": pd.NA})
    frame = frame[frame.notna().any(axis=1)]
    blank_cols = [n for n, h in zip(names, header, strict=True) if not h and frame[n].isna().all()]
    return frame.drop(columns=blank_cols).reset_index(drop=True)


def read_offer_list(
    path: str | os.PathLike[str],
    *,
    columns: Mapping[str, str] | None = None,
    values: Mapping[str, Mapping[str, str]] | None = None,
    header_row: int | None = None,
) -> OfferList:
    """Read an offer list (CSV with ',' ';' or tab, UTF-8 or cp1252; or an XLSX sheet).

    ``path`` may name a workbook sheet QGIS style (``reply.xlsx|layername=Tabelle2``).
    ``columns`` maps file columns to canonical names, ``values`` rewrites values of canonical
    columns (``{"technology": {"Koax": "hfc"}}``), ``header_row`` is the 1-based row holding
    the column names. Speeds in German files may use a decimal comma ("16,5"); they are
    converted. Validation happens in ``schema.validate_offers``.
    """
    p, sheet = split_source(path)
    label = os.fspath(p)
    if not p.is_file():
        raise SourceReadError(f"{label}: file not found")
    if p.stat().st_size == 0:
        raise InputDataError(f"{label}: the file is empty (0 bytes)")
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt"):
        grid, fmt = _grid_csv(label, p.read_bytes()), "csv"
    elif suffix in (".xlsx", ".xlsm"):
        grid, fmt = _grid_xlsx(label, p, sheet), "xlsx"
    else:
        raise SourceReadError(
            f"{label}: offer lists must be .csv or .xlsx, not {suffix or 'no extension'}"
        )
    if not grid:
        raise InputDataError(f"{label}: the offer list holds no rows")
    at, note = _header_index(grid, header_row, label)
    notes = [note] if note else []
    frame = _frame(grid, at, label)
    if len(frame) == 0:
        raise InputDataError(f"{label}: the offer list has a header but no rows")
    mapped: dict[str, str] = {}
    if columns:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise InputDataError(
                f"{label}: column(s) {', '.join(missing)} from the mapping are not in the file "
                f"(columns found: {', '.join(map(str, frame.columns))})"
            )
        frame = frame.rename(columns=dict(columns))
        mapped.update(columns)
    frame, renamed = apply_aliases(frame, OFFER_ALIASES)
    mapped.update(renamed)
    frame, split = split_street_number(frame)
    if split:
        notes.append(split)
    frame, value_notes = apply_value_mappings(frame, values, label)
    notes += value_notes
    for col in ("down_mbps", "up_mbps", "latency_ms"):
        if col in frame:
            frame[col] = frame[col].astype("string").str.strip().str.replace(",", ".", regex=False)
    return OfferList(
        frame.reset_index(drop=True),
        label,
        fmt,
        len(frame),
        sha256_file(p),
        tuple(notes),
        tuple(mapped.items()),
    )
