"""Breitbandatlas availability tables (per Gemeinde, per Kreis, per 100 m grid cell).

All layouts become one tidy table: key (``ags`` or ``cell_id``), ``stand`` (YYYY-MM),
``segment`` (privat = households, gewerbe = businesses), ``technology`` (the file's group:
all, wired, mobile, dsl, catv, ftth_b, fttc, hfc, ftth, fttb, lte, 5g, ...), ``min_mbit_s``
(int, the class: at least this many Mbit/s downstream) and ``share_pct`` (float64, % of
households/businesses, 0..100; a blank cell is NA and counted in ``notes``).

Layouts recognised from the header:

* long: ``AGS,GEN,stand,segment,technology,min_mbit_s,share_pct[,...]`` (Paket_3 reshaped);
* wide: ``AGS,GEN,<tech>_ge_<mbit>...`` (one stand; stand/segment from the file name);
* Kreis: ``ags,name,verf_<group>_<mbit>`` (groups 300 = all, 100 = wired, 200 = mobile);
* grid: a cell id column plus ``down_fn_hh_<tech>_<mbit>`` (``fn`` fixed / ``mn`` mobile
  network, ``hh`` households), as in the Gigabit-Grundbuch 100 m layer. Tables without
  geometry: ``RawLayer.crs`` is None; join cells with ``coverage.rural.gridcells``.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from coverage.errors import InputDataError
from coverage.io import _text
from coverage.io.vector import RawLayer
from coverage.rural.gridcells import format_cell_ids, parse_inspire_cell_id

_WIDE = re.compile(r"^(?P<tech>[a-z0-9_]+?)_ge_(?P<mbit>\d+)$", re.IGNORECASE)
_KREIS = re.compile(r"^verf_(?P<tech>[a-z0-9]+)_(?P<mbit>\d+)$", re.IGNORECASE)
_GRID = re.compile(
    r"^down_(?P<net>fn|mn)_(?P<seg>[a-z]+)_(?P<tech>[a-z0-9]+)_(?P<mbit>\d+)$", re.IGNORECASE
)
_GROUPS = {"300": "all", "100": "wired", "200": "mobile", "alle": "all", "ftthb": "ftth_b"}
_SEGMENTS = {"hh": "privat", "gew": "gewerbe"}
_CELL_ID_NAMES = ("cell_id", "gitter_id_100m", "grid_id", "id_100m", "id", "gitterid")
LONG_COLUMNS = ("stand", "segment", "technology", "min_mbit_s", "share_pct")


def read_breitbandatlas(
    path: str | os.PathLike[str], *, stand: str | None = None, segment: str | None = None
) -> RawLayer:
    """Read a Breitbandatlas table into the tidy long form.

    Parameters
    ----------
    stand, segment
        Fill (or override) the data stand ``YYYY-MM`` and the segment for wide layouts; by
        default taken from the file name (``..._2021-06_privat...``; ``2021-1`` = mid-2021).

    Raises
    ------
    InputDataError
        Unknown layout, shares outside 0..100 or non-numeric (row and column named).
    """
    file, label = _text.check_file(path)
    sniffed = _text.sniff(file, label)
    delimiter = sniffed.delimiter()
    header = [h.strip() for h in next(csv.reader([sniffed.first], delimiter=delimiter))]
    table, _enc, notes = _text.read_strings(
        file, label, names=header, delimiter=delimiter, skip_rows=1, encoding=sniffed.encoding
    )
    dec = delimiter != ","
    lower = {h.lower(): h for h in header}
    if {"stand", "technology", "min_mbit_s", "share_pct"} <= set(lower) and (
        "ags" in lower or "cell_id" in lower
    ):
        key = "ags" if "ags" in lower else "cell_id"
        out = pd.DataFrame({key: _text.strings(table.column(lower[key]))})
        if "gen" in lower:
            out["name"] = _text.strings(table.column(lower["gen"]))
        out["stand"] = _text.strings(table.column(lower["stand"]))
        seg = _text.strings(table.column(lower["segment"])) if "segment" in lower else None
        out["segment"] = (
            seg if seg is not None else pd.Series(segment, index=out.index, dtype="string")
        )
        out["technology"] = _text.strings(table.column(lower["technology"])).str.lower()
        mbit = _text.numbers(
            table.column(lower["min_mbit_s"]), lower["min_mbit_s"], label, decimal_comma=dec
        )
        out["min_mbit_s"] = mbit.astype("int64")
        share = _text.numbers(
            table.column(lower["share_pct"]),
            lower["share_pct"],
            label,
            decimal_comma=dec,
            allow_missing=True,
        )
        _check_share(share, np.arange(len(share)), lower["share_pct"], label)
        out["share_pct"] = share
        if "source_column" in lower:
            out["source_column"] = _text.strings(table.column(lower["source_column"]))
        layout = "long"
    else:
        out, layout = _melt(table, header, lower, label, dec, file, stand, segment, notes)
    missing = int(out["share_pct"].isna().sum())
    if missing:
        notes.append(f"{missing} blank share value(s) kept as NA (unknown, not 0 %)")
    notes.insert(0, f"Breitbandatlas {layout} layout")
    sha = _text.digest(file, label)
    return _text.raw_layer(
        out, crs=None, crs_how="no geometry (table keyed by " + out.columns[0] + ")", label=label,
        fmt=f"breitbandatlas-{layout}", sha=sha, notes=notes,
    )  # fmt: skip


def _melt(
    table: pa.Table,
    header: list[str],
    lower: dict[str, str],
    label: str,
    dec: bool,
    file: Path,
    stand: str | None,
    segment: str | None,
    notes: list[str],
) -> tuple[pd.DataFrame, str]:
    matches: list[tuple[str, str, int, str | None]] = []  # column, technology, mbit, segment
    layout = ""
    for h in header:
        if m := _GRID.match(h):
            seg = _SEGMENTS.get(m["seg"].lower(), m["seg"].lower())
            tech = _GROUPS.get(m["tech"].lower(), m["tech"].lower())
            if m["net"].lower() == "mn":
                tech = f"mobile_{tech}"
            matches.append((h, tech, int(m["mbit"]), seg))
            layout = "grid"
        elif m := _KREIS.match(h):
            matches.append(
                (h, _GROUPS.get(m["tech"].lower(), m["tech"].lower()), int(m["mbit"]), None)
            )
            layout = layout or "kreis"
        elif m := _WIDE.match(h):
            matches.append((h, m["tech"].lower(), int(m["mbit"]), None))
            layout = layout or "wide"
    if not matches:
        raise InputDataError(
            f"{label}: not a Breitbandatlas table: no share columns (<tech>_ge_<mbit>, verf_<group>_<mbit>, "
            f"down_fn_hh_<tech>_<mbit>) and no long layout (AGS, stand, technology, min_mbit_s, share_pct); "
            f"columns found: {', '.join(header[:15])}"
        )
    if layout == "grid":
        key_col = next((lower[n] for n in _CELL_ID_NAMES if n in lower), None)
        key = "cell_id"
    else:
        key_col = lower.get("ags")
        key = "ags"
    if key_col is None:
        raise InputDataError(
            f"{label}: no {'cell id' if key == 'cell_id' else 'AGS'} column; columns found: {', '.join(header[:15])}"
        )
    keys = _text.strings(table.column(key_col))
    if key == "cell_id" and keys.str.contains("CRS3035RES", regex=False).all():
        size, east, north = parse_inspire_cell_id(keys, source=f"{label} field {key_col}")
        keys = format_cell_ids(size, east, north)
    if key == "ags" and keys.str.fullmatch(r"\d+").fillna(False).all():
        width = 8 if keys.str.len().max() > 5 else 5
        keys = keys.str.zfill(width)
    names = (
        _text.strings(table.column(lower["gen"] if "gen" in lower else lower["name"]))
        if ("gen" in lower or "name" in lower)
        else None
    )
    found_stand, found_segment = _from_name(file.stem)
    stand = stand or found_stand
    segment = segment or found_segment
    notes.append(
        f"stand {stand or 'unknown'}, segment {segment or 'unknown'} (from the file name unless stated)"
    )
    n = table.num_rows
    parts = []
    for col, tech, mbit, seg in matches:
        share = _text.numbers(table.column(col), col, label, decimal_comma=dec, allow_missing=True)
        _check_share(share, np.arange(n), col, label)
        part = pd.DataFrame({key: keys, "stand": stand, "segment": seg or segment, "technology": tech,
                             "min_mbit_s": mbit, "share_pct": share})  # fmt: skip
        if names is not None:
            part.insert(1, "name", names)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    for c in ("stand", "segment", "technology"):
        out[c] = out[c].astype("string")
    out["min_mbit_s"] = out["min_mbit_s"].astype("int64")
    return out, layout


def _from_name(stem: str) -> tuple[str | None, str | None]:
    found = None
    if m := re.search(r"(20\d\d)-(\d\d)(?!\d)", stem):
        found = f"{m[1]}-{m[2]}"
    elif m := re.search(r"(20\d\d)[-_]([12])(?!\d)", stem):
        found = f"{m[1]}-{'06' if m[2] == '1' else '12'}"
    seg = (
        "privat"
        if "privat" in stem.lower()
        else "gewerbe"
        if re.search(r"gewerbe|_gew_", stem.lower())
        else None
    )
    return found, seg


def _check_share(share: np.ndarray, rows: np.ndarray, col: str, label: str) -> None:
    bad = ~np.isnan(share) & ((share < 0) | (share > 100))
    if bad.any():
        raise InputDataError(
            f"{label}: field {col} must be a percentage 0..100 at data row(s) {_text.rows_text(bad)} "
            f"(first: {share[bad][0]:g}); shares are % of households, not fractions or counts"
        )
