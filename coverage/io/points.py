"""Address layers as coordinates: a GeoParquet file of plain 2D points without Point objects.

:func:`read_points` is :func:`coverage.io.detect.read_any` for an address layer. When the
file is GeoParquet (1.x, one WKB geometry column with a CRS) whose every geometry is a
little-endian 2D WKB Point (21 bytes, as gapmap, GeoPandas and GDAL write them), the
columns come back as a plain frame and the coordinates as two float arrays decoded with
numpy from the WKB bytes (a GEOS Point costs ~0.7 us to build and 216 bytes to keep:
seconds and a gigabyte for 5M addresses). Any other file, and any GeoParquet file with
something else in it (missing or non-point geometries, Z, big-endian WKB, no CRS, a stored
index), goes to ``read_any`` unchanged, so its errors and results are the generic
reader's. The frame and CRS are what ``read_vector`` returns for the same file (GeoPandas'
reading of the ``geo`` metadata: a missing ``crs`` is OGC:CRS84).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyproj import CRS

from coverage.crs import resolve_crs
from coverage.errors import SourceReadError
from coverage.io.detect import detect_format, read_any
from coverage.io.drivers import refuse_remote
from coverage.io.hashing import sha256_file
from coverage.io.layername import split_source
from coverage.io.vector import RawLayer
from coverage.io.vector_columns import apply_mapping

__all__ = ["PointLayer", "read_points"]

#: little-endian 2D WKB Point: byte order (1), geometry type (1), x, y; 21 bytes, unpadded
_WKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])
_GEOPARQUET_VERSIONS = ("1.0.0", "1.1.0")


@dataclass(frozen=True, eq=False)
class PointLayer:
    """A point layer as read from a file: ``frame`` (mapped columns, no geometry) and the
    coordinates ``x``, ``y`` in ``crs``; the other fields as in :class:`RawLayer`."""

    frame: pd.DataFrame
    x: np.ndarray
    y: np.ndarray
    crs: CRS
    crs_how: str
    source: str
    format: str
    rows: int
    sha256: str
    notes: tuple[str, ...] = ()
    layer: str | None = None


def read_points(
    path: str | os.PathLike[str],
    *,
    crs: str | int | None = None,
    columns: Mapping[str, str] | None = None,
    layer: str | None = None,
) -> PointLayer | RawLayer:
    """A :class:`PointLayer` for a GeoParquet file of plain 2D points, else ``read_any``'s
    :class:`RawLayer` (arguments as there)."""
    file, named_layer = split_source(path, layer)
    parquet = named_layer is None and file.suffix.lower() in (".parquet", ".geoparquet")
    if parquet and detect_format(file).name == "vector":
        found = _point_parquet(file, crs, columns)
        if found is not None:
            return found
    return read_any(path, crs=crs, columns=columns, layer=layer)


def _file_crs(column: Mapping[str, Any]) -> CRS | None:
    """The column's CRS as GeoPandas reads it (PROJJSON without the ids of datum ensemble
    members, which older PROJ databases do not know; absent: OGC:CRS84), None without."""
    if "crs" not in column:
        return CRS.from_user_input("OGC:CRS84")
    value = column["crs"]
    if value is None:
        return None
    if isinstance(value, dict):
        value = copy.deepcopy(value)
        _drop_member_ids(value)
    return CRS.from_user_input(value)


def _drop_member_ids(node: dict[str, Any]) -> None:
    for key, value in node.items():
        if isinstance(value, dict):
            _drop_member_ids(value)
        elif key == "members" and isinstance(value, list):
            for member in value:
                member.pop("id", None)


def _plain_geo(schema: pa.Schema) -> tuple[str, CRS] | None:
    """(geometry column, CRS) when the file's metadata allows the point path, else None."""
    meta = schema.metadata or {}
    try:
        geo = json.loads(meta[b"geo"])
        pandas_meta = json.loads(meta.get(b"pandas", b"{}"))
        primary = geo["primary_column"]
        column = geo["columns"][primary]
    except (KeyError, TypeError, ValueError):
        return None
    stored_index = [i for i in pandas_meta.get("index_columns", []) if not isinstance(i, dict)]
    if (
        geo.get("version") not in _GEOPARQUET_VERSIONS
        or len(geo["columns"]) != 1
        or column.get("encoding") != "WKB"
        or "covering" in column
        or stored_index
        or primary != "geometry"
        or primary not in schema.names
    ):
        return None
    try:
        crs = _file_crs(column)
    except Exception:  # an unreadable CRS: the generic reader says so
        return None
    return (primary, crs) if crs is not None else None


def _decode(wkb: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray] | None:
    """x and y of a column of little-endian 2D WKB Points, None if any value is not one."""
    if wkb.null_count or not (pa.types.is_binary(wkb.type) or pa.types.is_large_binary(wkb.type)):
        return None
    xs, ys = [], []
    for chunk in wkb.chunks:
        if len(chunk) == 0:
            continue
        _, offsets, data = chunk.buffers()
        kind = np.int64 if pa.types.is_large_binary(chunk.type) else np.int32
        off = np.frombuffer(offsets, dtype=kind)[chunk.offset : chunk.offset + len(chunk) + 1]
        if not (np.diff(off) == _WKB_POINT.itemsize).all():
            return None
        rec = np.frombuffer(data, dtype=np.uint8)[off[0] : off[-1]].view(_WKB_POINT)
        if not ((rec["order"] == 1).all() and (rec["type"] == 1).all()):
            return None
        xs.append(rec["x"].astype(np.float64))
        ys.append(rec["y"].astype(np.float64))
    if not xs:
        return None
    return np.concatenate(xs), np.concatenate(ys)


def _point_parquet(
    file: os.PathLike[str], crs: str | int | None, columns: Mapping[str, str] | None
) -> PointLayer | None:
    source = os.fspath(file)
    refuse_remote(source)
    try:
        parquet = pq.ParquetFile(file)
        found = _plain_geo(parquet.schema_arrow)
        if found is None or parquet.metadata.num_rows == 0:
            return None
        primary, file_crs = found
        table = parquet.read(use_pandas_metadata=True)
    except (pa.ArrowException, OSError, ValueError):
        return None  # the generic reader names what is wrong with the file
    xy = _decode(table.column(primary))
    if xy is None:
        return None
    try:
        digest = sha256_file(file)
    except OSError as exc:
        raise SourceReadError(f"{source}: cannot open the file ({exc.strerror or exc})") from exc
    frame = table.drop_columns([primary]).to_pandas()
    del table
    resolved, how = resolve_crs(file_crs, crs, source=source)
    frame = apply_mapping(frame, columns, source)
    return PointLayer(frame, *xy, resolved, how, source, "geoparquet", len(frame), digest)
