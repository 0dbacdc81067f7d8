"""INSPIRE / Zensus grid CSV reader (100 m, 1 km, 10 km cells in EPSG:3035).

Accepted layouts (header required, ``,`` or ``;`` separated, decimal comma with ``;``):

* Zensus 2011: ``Gitter_ID_100m`` / ``Gitter_ID_1km`` (also short ids ``100mN26840E43341``), ``x_mp_100m``/``y_mp_100m`` (or
  ``_1km``) cell centres, ``Einwohner`` and further attributes;
* Zensus 2022: ``GITTER_ID_100m;x_mp_100m;y_mp_100m;Einwohner`` (``;``, decimal comma);
* any CSV with a column of INSPIRE codes (``cell_id``, ``grd_id``, ``id``), optionally
  ``DE_``-prefixed; or only centre columns ``x_mp_<size>``/``y_mp_<size>``.

Sentinels: ``-1`` (no value) and ``-9`` (withheld) become NA, never numbers; so do the
dash placeholders ``-``/``–``. ``population`` is Int64, other numeric attributes Float64
(nullable); centre/lon/lat columns are plain float64 and not sentinel-checked. Columns with
leading zeros (AGS) stay strings.
"""

from __future__ import annotations

import csv
import os
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyproj import CRS

from coverage.errors import InputDataError
from coverage.io import _text
from coverage.io.vector import RawLayer
from coverage.rural.gridcells import cell_polygons, format_cell_ids, parse_inspire_cell_id

SENTINELS = (-1.0, -9.0)
NA_TOKENS = ("-", "–", "—", ".", "/")
_ID_NAMES = re.compile(r"^(gitter_id_\d+k?m|grd_id|cell_id|id|grid_id)$", re.IGNORECASE)
_CENTRE = re.compile(r"^(?P<axis>[xy])_mp_(?P<size>\d+)(?P<unit>k?m)$", re.IGNORECASE)
_POP_NAMES = ("einwohner", "insgesamt_bevoelkerung", "population", "pop", "ewz")
_COORD_LIKE = re.compile(r"^(lon|lat|x|y)(_|$)|^(longitude|latitude)$", re.IGNORECASE)


def read_inspire_grid(path: str | os.PathLike[str], *, id_column: str | None = None) -> RawLayer:
    """Read a grid CSV into cell polygons (EPSG:3035).

    Returns
    -------
    RawLayer
        GeoDataFrame with ``cell_id`` (INSPIRE code, no country prefix), ``cell_size_m``
        (int), ``population`` (Int64, NA for sentinels/blank; only if the file has it) and
        the file's other columns (numeric ones nullable Float64 with sentinels as NA).
        ``notes`` count the sentinel values found per column.

    Raises
    ------
    InputDataError
        No id/centre columns, bad codes, codes disagreeing with centres, duplicate cells,
        non-integer population.
    """
    file, label = _text.check_file(path)
    sniffed = _text.sniff(file, label)
    delimiter = sniffed.delimiter()
    header = [h.strip() for h in next(csv.reader([sniffed.first], delimiter=delimiter))]
    table, _enc, notes = _text.read_strings(
        file, label, names=header, delimiter=delimiter, skip_rows=1, encoding=sniffed.encoding
    )
    notes.insert(0, f"delimiter: {_text.DELIMITER_NAMES.get(delimiter, delimiter)}")
    if table.num_rows == 0:
        raise InputDataError(f"{label}: the grid file has a header but no rows")
    decimal_comma = delimiter != ","

    id_col = id_column or next((h for h in header if _ID_NAMES.match(h)), None)
    if id_col is not None and id_col not in header:
        raise InputDataError(f"{label}: no column {id_col!r}; columns found: {', '.join(header)}")
    centres = {m["axis"].lower(): (h, int(m["size"]) * (1000 if m["unit"].lower() == "km" else 1))
               for h in header if (m := _CENTRE.match(h))}  # fmt: skip
    east: np.ndarray | None
    north: np.ndarray | None
    if id_col is not None:
        ids = _text.strings(table.column(id_col))
        if ids.isna().any():
            raise InputDataError(
                f"{label}: field {id_col} is empty at data row(s) {_text.rows_text(ids.isna())}"
            )
        if ids.str.match(r"^[A-Za-z]{2}_").any():
            notes.append("country prefix (e.g. DE_) removed from cell codes")
        size, east, north = parse_inspire_cell_id(ids, source=f"{label} field {id_col}")
    elif "x" in centres and "y" in centres:
        size = np.full(table.num_rows, centres["x"][1], dtype="int64")
        east = north = None  # derived from the centres below
        notes.append(f"cells from centre columns {centres['x'][0]}/{centres['y'][0]}")
    else:
        raise InputDataError(
            f"{label}: no grid cell column found (columns: {', '.join(header)}); expected an INSPIRE "
            "code column (Gitter_ID_100m, GITTER_ID_1km, cell_id) or x_mp_100m/y_mp_100m centres"
        )
    if "x" in centres and "y" in centres:
        cx = _text.numbers(
            table.column(centres["x"][0]), centres["x"][0], label, decimal_comma=decimal_comma
        )
        cy = _text.numbers(
            table.column(centres["y"][0]), centres["y"][0], label, decimal_comma=decimal_comma
        )
        half = size / 2
        if east is None or north is None:
            east = np.floor((cx - half) / size).astype("int64") * size
            north = np.floor((cy - half) / size).astype("int64") * size
        off = (np.abs(east + half - cx) > 0.5) | (np.abs(north + half - cy) > 0.5)
        if off.any():
            raise InputDataError(
                f"{label}: cell code and centre disagree at data row(s) {_text.rows_text(off)} (first: "
                f"centre {cx[off][0]:.0f}, {cy[off][0]:.0f}); the code must be the lower-left corner"
            )
    assert east is not None and north is not None
    cell_id = format_cell_ids(size, east, north)
    dup = cell_id.duplicated(keep=False).to_numpy(dtype=bool)
    if dup.any():
        raise InputDataError(
            f"{label}: cell(s) listed twice at data row(s) {_text.rows_text(dup)} (first: "
            f"{cell_id[dup].iloc[0]}); each cell must appear once"
        )

    out = pd.DataFrame({"cell_id": cell_id, "cell_size_m": size.astype("int64")})
    used = {id_col} if id_col else set()
    pop_col = next((h for h in header if h.lower() in _POP_NAMES and h not in used), None)
    for h in header:
        if h in used:
            continue
        column = table.column(h)
        coord = _COORD_LIKE.match(h) is not None or _CENTRE.match(h) is not None
        values = _numeric_or_none(column, h, label, decimal_comma)
        if values is None:
            out[h] = _text.strings(column)
            continue
        if coord:
            out[h] = values
            continue
        dashes = int(
            pc.sum(pc.is_in(pc.utf8_trim_whitespace(column), pa.array(list(NA_TOKENS)))).as_py()
            or 0
        )
        if dashes:
            notes.append(f"placeholder (-, –) in {h}: {dashes} cell(s) -> NA")
        hits = {s: int((values == s).sum()) for s in SENTINELS}
        for s, count in hits.items():
            if count:
                what = "no value" if s == -1 else "withheld"
                notes.append(f"sentinel {s:g} ({what}) in {h}: {count} cell(s) -> NA")
        masked = pd.array(np.where(np.isin(values, SENTINELS), np.nan, values), dtype="Float64")
        if h == pop_col:
            frac = masked.isna() | (masked == masked.round())
            if not bool(np.all(frac)):
                bad = ~np.asarray(frac, dtype=bool)
                raise InputDataError(
                    f"{label}: field {h} is not a whole number at data row(s) {_text.rows_text(bad)}"
                )
            out["population"] = masked.astype("Int64")
        else:
            out[h] = masked
    geoms = cell_polygons(east, north, size)
    gdf = gpd.GeoDataFrame(out, geometry=geoms, crs="EPSG:3035")
    sha = _text.digest(file, label)
    how = "INSPIRE grid: cell codes and centres are ETRS89-LAEA (EPSG:3035) by definition"
    return _text.raw_layer(
        gdf,
        crs=CRS.from_epsg(3035),
        crs_how=how,
        label=label,
        fmt="inspire_grid",
        sha=sha,
        notes=notes,
    )


def _numeric_or_none(
    column: pa.ChunkedArray, name: str, label: str, decimal_comma: bool
) -> np.ndarray | None:
    """float64 values if every non-blank cell is a number without a leading zero, else None."""
    trimmed = pc.utf8_trim_whitespace(column)
    if pc.any(pc.match_substring_regex(trimmed, r"^[+-]?0\d")).as_py():
        return None  # keys such as AGS "05970008" stay strings
    try:
        values = _text.numbers(
            column,
            name,
            label,
            decimal_comma=decimal_comma,
            allow_missing=True,
            na_tokens=NA_TOKENS,
        )
    except InputDataError:
        return None
    if np.isnan(values).all() and column.null_count < len(column):
        return None  # only placeholders such as "-" (e.g. werterlaeuternde_Zeichen): text
    return values
