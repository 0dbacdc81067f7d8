"""Open only what the name says: the GDAL driver for each file type, checked before GDAL.

GDAL picks its driver from a file's content, not its name: a GDAL VRT (XML) saved as
``.geojson`` or ``.gpkg`` would be opened as a VRT and read any file on the server or fetch
any URL it names. So every path handed to GDAL here is

* a plain local file: no ``/vsi...`` path, no URL (``scheme://``), no driver prefix such as
  ``PG:`` or ``GPKG:`` (:func:`refuse_remote`);
* of a content that matches its extension: the magic bytes of GeoPackage (SQLite with the
  GPKG application id), Shapefile, FlatGeobuf, GeoTIFF ...; JSON text for GeoJSON
  (:func:`check_content`);
* opened by the expected driver (:func:`check_driver` after opening; rasterio is given the
  driver up front).
"""

from __future__ import annotations

import re
from pathlib import Path

from coverage.errors import SourceReadError

__all__ = [
    "RASTER_DRIVERS",
    "VECTOR_DRIVERS",
    "check_content",
    "check_driver",
    "refuse_remote",
]

#: our format name -> the GDAL (OGR) driver that must open it
VECTOR_DRIVERS = {
    "gpkg": "GPKG",
    "geojson": "GeoJSON",
    "shapefile": "ESRI Shapefile",
    "flatgeobuf": "FlatGeobuf",
    "gml": "GML",
}
#: raster extension -> the GDAL driver that must open it (never VRT)
RASTER_DRIVERS = {
    ".tif": "GTiff",  # Cloud Optimized GeoTIFFs too
    ".tiff": "GTiff",
    ".img": "HFA",
    ".asc": "AAIGrid",
    ".nc": "netCDF",
    ".jp2": "JP2OpenJPEG",
}
_NAMES = {"gpkg": "GeoPackage", "geojson": "GeoJSON", "shapefile": "Shapefile",
          "flatgeobuf": "FlatGeobuf", "gml": "GML", "raster": "raster"}  # fmt: skip
_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]+:")  # PG:, GPKG:, WFS:, CSV: ... (not C:)


def refuse_remote(path: str, label: str | None = None) -> None:
    """Refuse GDAL virtual paths, URLs and driver prefixes: only local files are read."""
    label = label or path
    text = str(path)
    low = text.lower().lstrip()
    if low.startswith(("/vsi", "\\vsi")):
        raise SourceReadError(
            f"{label}: GDAL virtual paths (/vsi...) are not read; give a local file"
        )
    if "://" in low or _PREFIX.match(text):
        raise SourceReadError(
            f"{label}: URLs and GDAL connection strings are not read; download the data "
            "and give the local file"
        )


def _looks_like(head: bytes) -> str:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        return "XML (for example a GDAL VRT, which would make GDAL read other files or URLs)"
    if head.startswith(b"SQLite format 3\x00"):
        return "an SQLite database that is not a GeoPackage"
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive (name it .zip)"
    if head.startswith(b"PAR1"):
        return "a Parquet file (name it .parquet)"
    if text.startswith((b"{", b"[")):
        return "JSON text (name it .geojson)"
    return "something else"


def check_content(file: Path, fmt: str, label: str) -> None:
    """Raise SourceReadError when the first bytes of ``file`` do not match format ``fmt``
    (``gpkg``, ``geojson``, ``shapefile``, ``flatgeobuf`` or ``raster`` + extension)."""
    try:
        with Path(file).open("rb") as fh:
            head = fh.read(128)
    except OSError as exc:
        raise SourceReadError(f"{label}: cannot open the file ({exc.strerror or exc})") from exc
    ok = {
        "gpkg": head.startswith(b"SQLite format 3\x00")
        and head[68:72] in (b"GPKG", b"GP10", b"GP11"),
        "geojson": head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"[")),
        "shapefile": head.startswith(b"\x00\x00\x27\x0a"),
        "flatgeobuf": head[:3] == b"fgb" and head[4:7] == b"fgb",
        "gml": _is_gml(file),
    }.get(fmt)
    if fmt == "raster":
        ok = _raster_magic(file.suffix.lower(), head)
    if ok is None:
        raise SourceReadError(f"{label}: no content check for format {fmt!r}")
    if not ok:
        name = _NAMES.get(fmt, fmt)
        raise SourceReadError(
            f"{label}: the content is not {name} but {_looks_like(head)}; the file is refused "
            f"because GDAL chooses its reader from the content. Save the data as a real {name} "
            f"file with a matching extension"
        )


def _is_gml(file: Path) -> bool:
    """XML whose first 4 KB declare the GML namespace (a WFS response, a GML export) and
    that is not a GDAL VRT (which would make GDAL read other files)."""
    try:
        with Path(file).open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"<") and b"opengis.net/gml" in head and b"OGRVRTDataSource" not in head


def _raster_magic(suffix: str, head: bytes) -> bool:
    if suffix in (".tif", ".tiff"):
        return head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
    if suffix == ".img":
        return head.startswith(b"EHFA_HEADER_TAG")
    if suffix == ".asc":
        return head.lstrip().lower().startswith((b"ncols", b"nrows", b"xllcorner", b"xllcenter"))
    if suffix == ".nc":
        return head.startswith((b"CDF\x01", b"CDF\x02", b"CDF\x05", b"\x89HDF\r\n\x1a\n"))
    if suffix == ".jp2":
        return head.startswith((b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51"))
    return False


def check_driver(opened: str, fmt: str, label: str) -> None:
    """Raise SourceReadError when GDAL opened the file with another driver than ``fmt``'s."""
    expected = VECTOR_DRIVERS[fmt]
    if opened != expected:
        raise SourceReadError(
            f"{label}: GDAL opened the file as {opened}, not {expected}; the file is refused"
        )
