"""Guess a file's format from its header/first lines, and read it with the right reader.

Names returned by :func:`detect_format` (also the ``kind`` values of :func:`read_any`):
``hkde``, ``nrw_gebref``, ``fcc_fabric``, ``fcc_bdc``, ``ookla``, ``inspire_grid``,
``breitbandatlas``, ``vg250``, ``raster``, ``vector`` (any other GIS file), ``csv`` (any
other delimited text, read by ``read_vector``).
"""

from __future__ import annotations

import csv
import os
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio

from coverage.errors import InputDataError, SourceReadError
from coverage.io import _text
from coverage.io.breitbandatlas import read_breitbandatlas
from coverage.io.drivers import check_content, refuse_remote
from coverage.io.fcc import BDC_MAPPING, FABRIC_MAPPING, read_fcc_bdc, read_fcc_fabric
from coverage.io.grid import SENTINELS, read_inspire_grid
from coverage.io.hkde import HKDE_MAPPING, read_hkde
from coverage.io.layername import resolve_layer, split_source
from coverage.io.nrw import GEBREF_MAPPING, read_nrw_gebref
from coverage.io.ookla import OOKLA_MAPPING, read_ookla_tiles
from coverage.io.vector import RawLayer, read_vector
from coverage.io.vg250 import VG250_MAPPING, read_vg250

RASTER_SUFFIXES = (
    ".tif",
    ".tiff",
    ".img",
    ".asc",
    ".nc",
    ".jp2",
)  # never .vrt: it reads other files
_VECTOR_FORMAT = {".gpkg": "gpkg", ".shp": "shapefile", ".geojson": "geojson", ".json": "geojson",
                  ".fgb": "flatgeobuf", ".gml": "gml"}  # fmt: skip
VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb", ".gml")
KINDS = (
    "hkde", "nrw_gebref", "fcc_fabric", "fcc_bdc", "ookla", "inspire_grid",
    "breitbandatlas", "vg250", "raster", "vector", "csv", "offer_list",
)  # fmt: skip
_OI = re.compile(r"^DE[A-Z]{2}[A-Za-z0-9]{8,12}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class FormatGuess:
    """A format name (one of KINDS) and the evidence for it."""

    name: str
    reason: str


def detect_format(path: str | os.PathLike[str]) -> FormatGuess:
    """Guess the format by sniffing the header/first line (and the extension for GIS files).

    ``file.gpkg|layername=NAME`` looks at that layer only.
    """
    path, layer = split_source(path)
    refuse_remote(os.fspath(path))
    file, label = _text.check_file(path)
    suffix = file.suffix.lower()
    if suffix in RASTER_SUFFIXES:
        return FormatGuess("raster", f"raster extension {suffix}")
    if suffix in (".xlsx", ".xlsm"):
        return FormatGuess("offer_list", f"Excel workbook ({suffix}): read as an offer list")
    if suffix in (".parquet", ".geoparquet"):
        try:
            schema = pq.read_schema(file)
        except (pa.ArrowException, OSError) as exc:
            raise SourceReadError(f"{label}: cannot read as Parquet ({exc})") from exc
        return _by_fields(list(schema.names), "Parquet schema") or FormatGuess(
            "vector", "Parquet file (read as GeoParquet)"
        )
    if suffix == ".zip":
        return _zip_guess(file, label)
    if suffix in VECTOR_SUFFIXES:
        check_content(file, _VECTOR_FORMAT[suffix], label)
        try:
            if suffix == ".gml":  # one feature type; GDAL must not write a .gfs beside it
                fields = [str(f) for f in pyogrio.read_info(file, WRITE_GFS="NO")["fields"]]
                return _by_fields(fields, "GML fields") or FormatGuess("vector", "GML file")
            layers = [str(name) for name, _geom in pyogrio.list_layers(file)]
            chosen = resolve_layer(layer, layers, label)
            for layer in [chosen] if chosen else layers:
                fields = [str(f) for f in pyogrio.read_info(file, layer=layer)["fields"]]
                where = f"layer {layer} fields" if len(layers) > 1 else f"{suffix} fields"
                if (guess := _by_fields(fields, where)) is not None:
                    return guess
        except InputDataError:
            raise
        except Exception as exc:
            raise SourceReadError(f"{label}: cannot read the layer's fields ({exc})") from exc
        return FormatGuess("vector", f"GIS file ({suffix})")
    sniffed = _text.sniff(file, label)
    return _by_text(sniffed.lines, file.name)


def _by_text(lines: list[str], name: str) -> FormatGuess:
    first = lines[0]
    tokens = [t.strip() for t in first.split(";")]
    if tokens[0].upper() == "NBA" and len(tokens) == 18:
        return FormatGuess("hkde", "header NBA;OI;...;POT with 18 fields (HK-DE Hauskoordinaten)")
    if tokens[0].upper() == "NBA" and len(tokens) == 20 and tokens[-2:] == ["PSN", "AND"]:
        return FormatGuess(
            "hkde", "header NBA;OI;...;POT;PSN;AND with 20 fields (HK-DE, Berlin variant)"
        )
    if tokens[0].upper() == "NBA" and len(tokens) in (14, 15):
        return FormatGuess(
            "nrw_gebref",
            f"header NBA;OI;... with {len(tokens)} fields, no postal fields (NRW Gebäudereferenzen)",
        )
    if len(tokens) >= 14 and _OI.match(tokens[1]) and re.match(r"^\d{6,8}[,.]\d+$", tokens[11]):
        if len(tokens) == 18:
            return FormatGuess(
                "hkde", "18 ';'-fields, object id DE.. and east EEEEEEEE,EEE (HK-DE without header)"
            )
        if len(tokens) == 20 and (not tokens[19] or _DATE.match(tokens[19])):
            return FormatGuess(
                "hkde",
                "20 ';'-fields, object id DE.. and east EEEEEEEE,EEE (HK-DE Berlin variant without header)",
            )
        if len(tokens) in (14, 15) and (len(tokens) == 14 or _DATE.match(tokens[14])):
            return FormatGuess(
                "nrw_gebref",
                f"{len(tokens)} ';'-fields, object id {tokens[1][:4]}.. (NRW Gebäudereferenzen without header)",
            )
    delim = _text.Sniff(lines=lines, encoding="utf-8").delimiter()
    header = [h.strip() for h in next(csv.reader([first], delimiter=delim))]
    guess = _by_fields(header, "header")
    if guess is not None:
        return guess
    if len(lines) > 1 and "CRS3035RES" in lines[1]:
        return FormatGuess(
            "inspire_grid", "first data row holds an INSPIRE cell code (CRS3035RES...)"
        )
    return FormatGuess(
        "csv", f"delimited text ({_text.DELIMITER_NAMES.get(delim, delim)}) with no known layout"
    )


def _by_fields(fields: list[str], where: str) -> FormatGuess | None:
    low = {f.lower() for f in fields}
    if {"quadkey", "avg_d_kbps"} <= low:
        return FormatGuess("ookla", f"{where} has quadkey and avg_d_kbps (Ookla open data tiles)")
    if {"location_id", "technology", "max_advertised_download_speed"} <= low:
        return FormatGuess(
            "fcc_bdc",
            f"{where} has location_id, technology, max_advertised_download_speed (FCC BDC)",
        )
    if {"location_id", "latitude", "longitude"} <= low:
        return FormatGuess(
            "fcc_fabric", f"{where} has location_id, latitude, longitude (FCC Fabric)"
        )
    if (
        any(re.match(r"^gitter_id_\d+k?m$", f) for f in low)
        or ({"x_mp_100m", "y_mp_100m"} <= low)
        or ({"x_mp_1km", "y_mp_1km"} <= low)
    ):
        return FormatGuess(
            "inspire_grid", f"{where} has Gitter_ID / x_mp_ columns (Zensus INSPIRE grid)"
        )
    if any(f.startswith(("down_fn_", "down_mn_")) for f in low):
        return FormatGuess(
            "breitbandatlas",
            f"{where} has down_fn_hh_<tech>_<mbit> share columns (Breitbandatlas grid)",
        )
    if {"ags", "share_pct", "min_mbit_s"} <= low:
        return FormatGuess(
            "breitbandatlas", f"{where} has AGS, min_mbit_s, share_pct (Breitbandatlas long table)"
        )
    if "ags" in low and (
        any(re.match(r"^[a-z0-9_]+_ge_\d+$", f) for f in low)
        or any(re.match(r"^verf_[a-z0-9]+_\d+$", f) for f in low)
    ):
        return FormatGuess(
            "breitbandatlas",
            f"{where} has AGS and <tech>_ge_<mbit>/verf_ share columns (Breitbandatlas wide table)",
        )
    if {"ags", "gen"} <= low and ("gf" in low or "ade" in low):
        return FormatGuess("vg250", f"{where} has AGS, GEN and GF/ADE (BKG VG250)")
    return None


def _zip_guess(file: Path, label: str) -> FormatGuess:
    try:
        with zipfile.ZipFile(file) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/") and "__MACOSX" not in n]
            csvs = [n for n in names if n.lower().endswith((".csv", ".txt"))]
            if any(n.lower().endswith(".shp") for n in names):
                shp = next(n for n in names if n.lower().endswith(".shp"))
                with zf.open(shp) as fh:
                    if fh.read(4) != b"\x00\x00\x27\x0a":
                        raise SourceReadError(
                            f"{label}: {shp} in the zip is not a Shapefile; the file is refused"
                        )
                fields = [str(f) for f in pyogrio.read_info(f"/vsizip/{file}/{shp}")["fields"]]
                return _by_fields(fields, f"{shp} fields") or FormatGuess(
                    "vector", f"zipped Shapefile {shp}"
                )
            if len(csvs) == 1:
                with zf.open(csvs[0]) as fh:
                    sample = fh.read(_text.SAMPLE_BYTES)
                enc = "utf-8"
                try:
                    sample.decode("utf-8")
                except UnicodeDecodeError:
                    enc = _text.single_byte(sample)
                lines = [
                    ln
                    for ln in sample.decode(enc, errors="replace")
                    .removeprefix("\ufeff")
                    .splitlines()[:5]
                    if ln.strip()
                ]
                if lines:
                    g = _by_text(lines, csvs[0])
                    return FormatGuess(g.name, f"{g.reason}, inside the zip as {csvs[0]}")
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceReadError(f"{label}: not a readable zip archive ({exc})") from exc
    except Exception as exc:
        raise SourceReadError(f"{label}: cannot sniff the zip's layer ({exc})") from exc
    return FormatGuess("vector", "zip archive (read by read_vector)")


_READERS: dict[str, Callable[..., RawLayer]] = {
    "hkde": lambda p, crs, columns, layer: read_hkde(p, crs=crs),
    "nrw_gebref": lambda p, crs, columns, layer: read_nrw_gebref(p, crs=crs),
    "fcc_fabric": lambda p, crs, columns, layer: read_fcc_fabric(p, crs=crs),
    "fcc_bdc": lambda p, crs, columns, layer: read_fcc_bdc(p),
    "ookla": lambda p, crs, columns, layer: read_ookla_tiles(p),
    "inspire_grid": lambda p, crs, columns, layer: read_inspire_grid(p),
    "breitbandatlas": lambda p, crs, columns, layer: read_breitbandatlas(p),
    "vg250": lambda p, crs, columns, layer: read_vg250(p, crs=crs, layer=layer),
    "vector": lambda p, crs, columns, layer: read_vector(p, crs=crs, columns=columns, layer=layer),
    "csv": lambda p, crs, columns, layer: read_vector(p, crs=crs, columns=columns, layer=layer),
}


def read_any(
    path: str | os.PathLike[str],
    *,
    kind: str | None = None,
    crs: object | None = None,
    columns: Mapping[str, str] | None = None,
    layer: str | None = None,
) -> RawLayer:
    """Read a file with the reader for its (detected or stated) format.

    ``kind`` overrides the detection (one of KINDS except raster; rasters are sampled with
    ``coverage.io.raster.sample_raster``, not read as layers). ``columns`` is honoured by the
    generic readers only; the format readers map their fields themselves. ``path`` may name
    a layer QGIS style, ``file.gpkg|layername=NAME``.
    """
    path, layer = split_source(path, layer)
    if kind is None:
        guess = detect_format(path)
        kind = guess.name
    if kind == "raster":
        raise InputDataError(
            f"{path}: is a raster; sample it with sample_raster instead of reading it as a layer"
        )
    if kind == "offer_list":
        raise InputDataError(
            f"{path}: a workbook is read as an address-keyed offer list, not as a layer"
        )
    reader = _READERS.get(kind)
    if reader is None:
        raise InputDataError(f"{path}: unknown format kind {kind!r}; use one of {', '.join(KINDS)}")
    if columns and kind not in ("vector", "csv"):
        raise InputDataError(
            f"{path}: a column mapping is only used for generic files; the {kind} reader maps fields itself"
        )
    return reader(path, crs, columns, layer)


def describe(kind: str) -> dict[str, str]:
    """Source field -> canonical column for a format (for inspection reports)."""
    return {
        "hkde": HKDE_MAPPING,
        "nrw_gebref": GEBREF_MAPPING,
        "fcc_fabric": FABRIC_MAPPING,
        "fcc_bdc": BDC_MAPPING,
        "ookla": OOKLA_MAPPING,
        "vg250": VG250_MAPPING,
        "inspire_grid": {"Gitter_ID_* / x_mp_*, y_mp_*": "cell_id, cell_size_m, geometry",
                         "Einwohner": f"population (sentinels {SENTINELS} -> NA)"},
        "breitbandatlas": {"share columns": "technology, min_mbit_s, share_pct", "AGS / cell id": "ags / cell_id"},
    }.get(kind, {})  # fmt: skip
