"""Generic vector readers: one entry point, :func:`read_vector`, for every supported format.

GeoParquet goes through GeoPandas, GeoPackage/GeoJSON/Shapefile/FlatGeobuf through pyogrio
(Arrow I/O; content and driver checked by :mod:`coverage.io.drivers`, so a GDAL VRT named
``.geojson`` is refused, and so are ``/vsi...`` paths and URLs), CSV through ``pyarrow.csv`` (multi-threaded, fine for millions of rows). Every foreign
error is translated into a ``coverage.errors`` class here, where data enters, so callers see
one error tree whose messages name the file and what to do.

CSV columns are all read as strings (ids such as AGS "05958004" or postcodes keep their
leading zeros); only the coordinate columns are converted to floats.
"""

from __future__ import annotations

import codecs
import csv
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS

from coverage.crs import resolve_crs
from coverage.errors import InputDataError, SourceReadError
from coverage.io.archive import pick_layer_member, safe_extract
from coverage.io.drivers import check_content, check_driver, refuse_remote
from coverage.io.encoding import (
    CSV_DELIMITERS,
    SINGLE_BYTE,
    refuse_mixed_encoding,
    sniff_delimiter,
    sniff_encoding,
)
from coverage.io.hashing import sha256_file
from coverage.io.layername import layer_source, resolve_layer, split_source
from coverage.io.vector_columns import apply_mapping, crs_from_column, suggest_gauss_krueger

# format -> (human name, extensions)
_FORMATS = {
    "geoparquet": ("GeoParquet", (".parquet", ".geoparquet")),
    "gpkg": ("GeoPackage", (".gpkg",)),
    "geojson": ("GeoJSON", (".geojson", ".json")),
    "shapefile": ("Shapefile", (".shp",)),
    "flatgeobuf": ("FlatGeobuf", (".fgb",)),
    "gml": ("GML", (".gml",)),
    "csv": ("CSV", (".csv", ".txt")),
    "zip": ("zip", (".zip",)),
}
_EXT_FORMAT = {ext: fmt for fmt, (_, exts) in _FORMATS.items() for ext in exts}
_FORMAT_NAME = {fmt: name for fmt, (name, _) in _FORMATS.items()}
SUPPORTED_FORMATS = (
    "GeoParquet (.parquet, .geoparquet), GeoPackage (.gpkg), GeoJSON (.geojson, .json), "
    "Shapefile (.shp), FlatGeobuf (.fgb), GML (.gml, e.g. a WFS download), CSV (.csv, .txt), "
    "and a .zip holding one Shapefile, GeoPackage, GeoJSON or CSV"
)
_LONLAT_PAIRS = (
    ("lon", "lat"),
    ("longitude", "latitude"),
    ("lng", "lat"),
    ("laengengrad", "breitengrad"),
    ("längengrad", "breitengrad"),
    ("geogr_laenge", "geogr_breite"),
)
_XY_PAIRS = (
    ("x", "y"),
    ("easting", "northing"),
    ("rechtswert", "hochwert"),
    ("utmrechtswert", "utmhochwert"),
    ("utm_rechtswert", "utm_hochwert"),
    ("ostwert", "nordwert"),
    ("rw", "hw"),
    ("east", "north"),
)
_LON_NAMES = frozenset({"lon", "long", "longitude", "lng", "laengengrad", "längengrad"})
_LAT_NAMES = frozenset({"lat", "latitude", "breitengrad"})
_WKT_NAMES = ("geometry", "wkt")
_SAMPLE_BYTES = 1 << 16


@dataclass(frozen=True, eq=False)
class RawLayer:
    """One layer as read from a file, before validation.

    ``frame`` has the mapped (canonical) column names and its geometry column ``geometry``
    in ``crs``; ``crs_how`` says how the CRS was decided, ``notes`` what the reader had to
    work out (CSV delimiter and encoding, decimal comma, zip member, chosen layer), ``layer``
    the layer read from a multi-layer file. ``eq=False``: comparing frames element-wise is
    never what ``==`` on layers should mean.
    """

    frame: gpd.GeoDataFrame
    crs: CRS
    crs_how: str
    source: str
    format: str
    rows: int
    sha256: str
    notes: tuple[str, ...] = ()
    layer: str | None = None


@dataclass
class _Read:
    """What a format reader found, before CRS resolution and column mapping."""

    frame: gpd.GeoDataFrame
    file_crs: CRS | None = None
    lonlat: bool = False
    notes: list[str] = field(default_factory=list)
    layer: str | None = None


def read_vector(
    path: str | os.PathLike[str],
    *,
    crs: str | int | None = None,
    columns: Mapping[str, str] | None = None,
    layer: str | None = None,
    x: str | None = None,
    y: str | None = None,
) -> RawLayer:
    """Read a vector layer from any supported file format.

    Parameters
    ----------
    path
        The file. The format follows from the extension (see ``SUPPORTED_FORMATS``);
        ``file.gpkg|layername=NAME`` (QGIS's form) names a layer of a multi-layer file.
    crs
        The CRS the user states (``"EPSG:25832"``, ``25832``, WKT). Required for files
        without a CRS; an error if it contradicts the file's own CRS.
    columns
        File column name -> canonical name, e.g. ``{"Gemeindeschluessel": "ags"}``.
    layer
        Layer of a multi-layer GeoPackage, or the member of a zip holding several layers.
    x, y
        CSV coordinate columns (file names). Without them, common pairs are detected
        (x/y, lon/lat, longitude/latitude, lng/lat, easting/northing, rechtswert/hochwert).

    Returns
    -------
    RawLayer
        The frame (columns renamed, geometry column ``geometry`` in the layer's CRS) with
        its provenance: CRS and how it was decided, format, row count, SHA-256, notes.

    Raises
    ------
    SourceReadError
        Missing, unreadable, corrupt or truncated file; unknown extension.
    InputDataError
        Empty file, no features, unknown mapped column, bad coordinates, unsafe zip.
    CRSError
        No CRS and none stated, or a stated CRS contradicting the file's.
    """
    file, layer = split_source(path, layer)
    source = os.fspath(file)
    refuse_remote(source)
    _check_file(file, source)
    fmt = _EXT_FORMAT.get(file.suffix.lower())
    if fmt is None:
        raise SourceReadError(
            f"{source}: unknown file type {file.suffix or '(no extension)'!r}; supported: {SUPPORTED_FORMATS}"
        )
    try:
        digest = sha256_file(file)
    except OSError as exc:
        raise SourceReadError(f"{source}: cannot open the file ({exc.strerror or exc})") from exc

    def read(file: Path, fmt: str, label: str, layer: str | None) -> _Read:
        if fmt == "csv":
            return _read_csv(file, label, stated=crs is not None, columns=columns, x=x, y=y)
        if fmt == "geoparquet":
            return _read_geoparquet(file, label)
        return _read_ogr(file, fmt, label, layer)

    if fmt == "zip":
        with tempfile.TemporaryDirectory(prefix="gapmap-zip-") as tmp:
            members = safe_extract(file, tmp)
            member, layer = pick_layer_member(members, Path(tmp), source, layer=layer)
            inner = _EXT_FORMAT[member.suffix.lower()]
            rel = member.relative_to(tmp).as_posix()
            label = f"{source} ({rel})"
            _check_file(member, label)
            # read fully inside the with-block: the extracted files vanish with the directory
            got = read(member, inner, label, layer)
        got.notes.insert(0, f"read {rel} from the zip archive")
        out_format = "shapefile-zip" if inner == "shapefile" else inner
    else:
        got = read(file, fmt, source, layer)
        out_format = fmt

    if got.file_crs is None and crs is None and not got.lonlat:
        got.file_crs = crs_from_column(got.frame, got.notes, source)
    frame = got.frame
    if len(frame) == 0:
        raise InputDataError(
            f"{source}: no features (the layer is empty); check the file or the layer name"
        )
    if got.file_crs is None and crs is None and not got.lonlat:
        suggest_gauss_krueger(frame, source)
    if got.file_crs is None and got.lonlat and crs is None:
        resolved, how = CRS.from_epsg(4326), "lon/lat columns (EPSG:4326)"
    else:
        resolved, how = resolve_crs(got.file_crs, crs, source=source)
    if frame.geometry.name != "geometry":
        frame = frame.rename_geometry("geometry")
    frame = frame.set_crs(resolved, allow_override=True)
    frame = apply_mapping(frame, columns, source)
    return RawLayer(
        frame=frame,
        crs=resolved,
        crs_how=how,
        source=source,
        format=out_format,
        rows=len(frame),
        sha256=digest,
        notes=tuple(got.notes),
        layer=got.layer,
    )


def _check_file(file: Path, label: str) -> None:
    if not file.exists():
        raise SourceReadError(f"{label}: file not found")
    if file.is_dir():
        raise SourceReadError(
            f"{label}: is a directory; give the data file itself (e.g. the .shp or a .zip)"
        )
    if file.stat().st_size == 0:
        raise InputDataError(f"{label}: the file is empty (0 bytes)")


def _corrupt(label: str, fmt: str, exc: BaseException) -> SourceReadError:
    name = _FORMAT_NAME[fmt]
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return SourceReadError(
        f"{label}: cannot read as {name} ({detail}); the file may be truncated, corrupt or not a {name} file"
    )


def _read_geoparquet(file: Path, label: str) -> _Read:
    try:
        frame = gpd.read_parquet(file)
    except (pa.ArrowException, OSError, ValueError) as exc:
        if "geo metadata" in str(exc):
            raise InputDataError(
                f"{label}: a Parquet file without GeoParquet 'geo' metadata; write it as GeoParquet "
                "(GeoPandas to_parquet, GDAL) or export a CSV with x/y columns"
            ) from exc
        raise _corrupt(label, "geoparquet", exc) from exc
    return _Read(frame=frame, file_crs=frame.crs)


def _read_ogr(file: Path, fmt: str, label: str, layer: str | None) -> _Read:
    check_content(file, fmt, label)  # before GDAL sees it: GDAL picks drivers by content
    # GDAL's GML driver writes a .gfs schema file beside the input unless told not to
    options = {"WRITE_GFS": "NO"} if fmt == "gml" else {}
    try:
        if fmt == "gml":
            info = pyogrio.read_info(file, **options)
            layers = [(str(info["layer_name"]), info["geometry_type"])]
        else:
            layers = [(str(name), geom) for name, geom in pyogrio.list_layers(file)]
    except (DataSourceError, DataLayerError, RuntimeError, OSError, KeyError) as exc:
        raise _corrupt(label, fmt, exc) from exc
    names = [name for name, _ in layers]
    notes: list[str] = []
    if layer is not None:
        chosen = resolve_layer(layer, names, label) or layer
    else:
        # attribute-only tables in a GeoPackage are not candidates for a vector layer
        spatial = [name for name, geom in layers if geom is not None]
        candidates = spatial if spatial else names
        if len(candidates) != 1:
            choices = ", ".join(f"'{layer_source(label, n)}'" for n in candidates)
            raise InputDataError(
                f"{label}: the file has {len(candidates)} layers; name the one to read in the "
                f"file option, QGIS style: {choices}"
            )
        chosen = candidates[0]
        if len(names) > 1:
            notes.append(f"read layer {chosen!r}, the only spatial layer")
    try:
        check_driver(str(pyogrio.read_info(file, layer=chosen, **options)["driver"]), fmt, label)
        frame = pyogrio.read_dataframe(file, layer=chosen, use_arrow=True, **options)
    except (DataSourceError, DataLayerError, RuntimeError, OSError, pa.ArrowException) as exc:
        raise _corrupt(label, fmt, exc) from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputDataError(f"{label}: layer {chosen!r} has no geometry; choose a spatial layer")
    return _Read(
        frame=frame,
        file_crs=frame.crs,
        notes=notes,
        layer=chosen if len(names) > 1 or layer else None,
    )


# --------------------------------------------------------------------------------------- CSV


def _read_csv(
    file: Path,
    label: str,
    *,
    stated: bool,
    columns: Mapping[str, str] | None,
    x: str | None,
    y: str | None,
) -> _Read:
    with file.open("rb") as fh:
        sample = fh.read(_SAMPLE_BYTES)
        whole = not fh.read(1)
    encoding = sniff_encoding(sample, whole=whole)
    text = codecs.decode(sample, encoding, errors="replace").removeprefix("\ufeff")
    first_line = text.splitlines()[0] if text.strip() else ""
    if not first_line.strip():
        raise InputDataError(
            f"{label}: the CSV has no header line; the first line must name the columns"
        )
    delimiter = sniff_delimiter(first_line)
    header = next(csv.reader([first_line], delimiter=delimiter))
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputDataError(
            f"{label}: the CSV header repeats column(s) {', '.join(map(repr, dupes))}; rename them"
        )
    notes = [f"delimiter: {CSV_DELIMITERS[delimiter]}"]
    table, encoding = _arrow_csv(file, label, header, delimiter, encoding)
    if encoding != "utf-8":
        refuse_mixed_encoding(file, label)
        notes.append(f"decoded as {encoding} (the file is not UTF-8)")
    if table.num_rows == 0:
        return _Read(frame=gpd.GeoDataFrame(geometry=gpd.GeoSeries([])), notes=notes)

    pair = _coordinate_columns(header, label, x=x, y=y, columns=columns, stated=stated)
    if pair is None:
        return _csv_wkt(table, header, label, notes)
    xcol, ycol, lonlat = pair
    # a comma cannot be the decimal mark in a comma-separated file; elsewhere it may be
    decimal_comma = delimiter != ","
    xs = _coordinates(table.column(xcol), xcol, label, decimal_comma)
    ys = _coordinates(table.column(ycol), ycol, label, decimal_comma)
    if decimal_comma and any(
        pc.any(pc.match_substring(table.column(c), ",")).as_py() for c in (xcol, ycol)
    ):
        notes.append("decimal comma in coordinates")
    frame = table.to_pandas()
    frame[xcol] = xs
    frame[ycol] = ys
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(xs, ys))
    notes.append(f"coordinates from columns {xcol}/{ycol}")
    return _Read(frame=gdf, lonlat=lonlat, notes=notes)


def _arrow_csv(
    file: Path, label: str, header: list[str], delimiter: str, encoding: str
) -> tuple[pa.Table, str]:
    """Read every column as a string; fall back to cp1252, then Latin-1, if decoding fails."""
    convert = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.string()),
        # only truly empty cells are missing: "NA" or "-" may be real values (house numbers)
        null_values=[""],
        strings_can_be_null=True,
    )
    parse = pa_csv.ParseOptions(delimiter=delimiter)
    # the sample said `encoding`; bytes past the sample can still prove it wrong
    fallbacks = (
        SINGLE_BYTE[SINGLE_BYTE.index(encoding) + 1 :] if encoding in SINGLE_BYTE else SINGLE_BYTE
    )
    while True:
        read = pa_csv.ReadOptions(column_names=header, skip_rows=1, encoding=encoding)
        try:
            table = pa_csv.read_csv(
                file, read_options=read, parse_options=parse, convert_options=convert
            )
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            undecodable = isinstance(exc, UnicodeDecodeError) or "invalid UTF8" in str(exc)
            if undecodable and fallbacks:
                encoding, fallbacks = fallbacks[0], fallbacks[1:]
                continue
            raise InputDataError(
                f"{label}: malformed CSV ({exc}); check the delimiter "
                f"({CSV_DELIMITERS[delimiter]}), the quoting and the encoding"
            ) from exc
        except (pa.ArrowException, OSError) as exc:
            raise _corrupt(label, "csv", exc) from exc
        return table, encoding


def _coordinate_columns(
    header: list[str],
    label: str,
    *,
    x: str | None,
    y: str | None,
    columns: Mapping[str, str] | None,
    stated: bool,
) -> tuple[str, str, bool] | None:
    """Find the (x, y, named-lon/lat) columns, or None if the CSV has no coordinate pair."""
    if (x is None) != (y is None):
        raise InputDataError(f"{label}: give both the x and the y column, not only one")
    if x is not None and y is not None:
        missing = [c for c in (x, y) if c not in header]
        if missing:
            raise InputDataError(
                f"{label}: coordinate column(s) {', '.join(map(repr, missing))} not found "
                f"(columns found: {', '.join(header)})"
            )
        return x, y, x.strip().lower() in _LON_NAMES and y.strip().lower() in _LAT_NAMES
    # with a stated CRS the projected pair is the one it describes; without, lon/lat is
    # the only pair that carries its own CRS
    groups: list[tuple[tuple[tuple[str, str], ...], bool]] = [
        (_XY_PAIRS, False),
        (_LONLAT_PAIRS, True),
    ]
    if not stated:
        groups = groups[::-1]
    lookups = [{h.strip().lower(): h for h in reversed(header)}]
    if columns:
        # the pair may also be named by the mapping, e.g. {"RW": "x", "HW": "y"}
        lookups.append({v.strip().lower(): k for k, v in columns.items() if k in header})
    for lookup in lookups:
        for pairs, lonlat in groups:
            for a, b in pairs:
                if a in lookup and b in lookup:
                    return lookup[a], lookup[b], lonlat
    return None


def _coordinates(values: pa.ChunkedArray, name: str, label: str, decimal_comma: bool) -> np.ndarray:
    """Strings -> float64; a non-numeric or empty cell is an error naming its data row."""
    cleaned = pc.utf8_trim_whitespace(values)
    if decimal_comma:
        cleaned = pc.replace_substring(cleaned, ",", ".")
    try:
        numbers = pc.cast(cleaned, pa.float64())
    except pa.ArrowInvalid:
        numbers = None
    if numbers is not None and numbers.null_count == 0:
        out = numbers.to_numpy()
        if np.isfinite(out).all():
            return out
    # slow path, only on failure: find the offending rows for the message
    parsed = pd.to_numeric(pd.Series(cleaned.to_pandas()), errors="coerce").to_numpy(
        dtype="float64"
    )
    bad = np.flatnonzero(~np.isfinite(parsed))
    first = values[int(bad[0])].as_py()
    rows = ", ".join(str(int(i) + 1) for i in bad[:5])
    shown = "empty" if first is None else repr(first)
    raise InputDataError(
        f"{label}: column {name!r} has {len(bad)} non-numeric coordinate(s) at data row(s) {rows} "
        f"(first: {shown}; rows count from 1 after the header); fix or remove those rows"
    )


def _csv_wkt(table: pa.Table, header: list[str], label: str, notes: list[str]) -> _Read:
    lookup = {h.strip().lower(): h for h in header}
    col = next((lookup[n] for n in _WKT_NAMES if n in lookup), None)
    if col is None:
        raise InputDataError(
            f"{label}: no coordinate columns found (columns: {', '.join(header)}); name them x/y, "
            "lon/lat, laengengrad/breitengrad, easting/northing or rechtswert/hochwert, name them "
            "in the file's column mapping (e.g. RW=x,HW=y), or add a WKT column named geometry or wkt"
        )
    text = table.column(col).to_numpy(zero_copy_only=False)
    geoms = shapely.from_wkt(text, on_invalid="ignore")
    bad = np.flatnonzero(pd.isna(geoms) & ~pd.isna(text))
    if len(bad):
        rows = ", ".join(str(int(i) + 1) for i in bad[:5])
        raise InputDataError(
            f"{label}: column {col!r} holds invalid WKT at data row(s) {rows} (first: {str(text[bad[0]])[:60]!r})"
        )
    frame = table.drop_columns([col]).to_pandas()
    notes.append(f"geometry from WKT column {col}")
    return _Read(frame=gpd.GeoDataFrame(frame, geometry=geoms), notes=notes)
