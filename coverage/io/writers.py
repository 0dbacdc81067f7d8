"""Atomic writers: nothing half-written, and a failed run leaves earlier results intact.

Single files are written to a temporary sibling and renamed into place (``os.replace`` is
atomic on one filesystem). A run directory is built as a hidden temporary sibling and only
renamed to its final name when every file is complete; an earlier run in the same place is
moved aside first and removed only after the new one is in place.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyproj
import shapely


def _umask_mode(base: int) -> int:
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


_FILE_MODE = _umask_mode(0o666)
_DIR_MODE = _umask_mode(0o777)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it to ``target`` if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.chmod(_FILE_MODE)  # mkstemp creates 0600; results are meant to be shared like any file
    try:
        yield tmp
        tmp.replace(target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json(obj: Any, target: str | os.PathLike[str]) -> Path:
    """Write JSON (UTF-8, sorted keys, 2-space indent) atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(
            json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n",
            encoding="utf-8",
        )
    return Path(target)


#: what makes Excel or LibreOffice read a cell as a formula (OWASP, CSV Injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$")


def spreadsheet_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would take for a formula, prefixed with ``'`` (OWASP:
    cells starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return); numbers, and
    text that is a plain number such as ``-5`` or ``+3,5``, stay as they are."""
    risky = isinstance(value, str) and value.startswith(_FORMULA_START)
    return "'" + value if risky and not _PLAIN_NUMBER.match(value) else value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with :func:`spreadsheet_cell` applied to every text cell and column name
    (numeric columns untouched; the frame itself is not modified)."""
    out = frame.rename(columns=lambda c: spreadsheet_cell(c) if isinstance(c, str) else c)
    for i, col in enumerate(out.columns):
        s = out.iloc[:, i]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = s.cat.categories
            if cats.dtype == object or pd.api.types.is_string_dtype(cats.dtype):
                new = [spreadsheet_cell(c) for c in cats]
                if new != list(cats):
                    out[col] = s.cat.rename_categories(new)
        elif s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            text = s.astype("string")
            risky = text.str.match(r"^[=+\-@\t\r]").fillna(False).to_numpy(bool)
            if risky.any():
                values = s.astype(object).to_numpy(copy=True)
                values[risky] = [spreadsheet_cell(v) for v in values[risky]]
                out[col] = pd.Series(values, index=s.index, dtype=s.dtype)
    return out


def write_csv(frame: pd.DataFrame, target: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write a CSV atomically (no index, '.' decimal, UTF-8 unless told otherwise); text
    cells that a spreadsheet would run as formulas are neutralised (:func:`spreadsheet_safe`)."""
    kwargs.setdefault("index", False)
    with atomic_path(target) as tmp:
        spreadsheet_safe(frame).to_csv(tmp, **kwargs)
    return Path(target)


#: rows per Parquet row group: also the slice converted to Arrow at a time
PARQUET_ROWS_PER_GROUP = 262_144


def write_parquet(
    frame: pd.DataFrame | gpd.GeoDataFrame,
    target: str | os.PathLike[str],
    *,
    rows_per_group: int = PARQUET_ROWS_PER_GROUP,
) -> Path:
    """Write (Geo)Parquet atomically; GeoDataFrames become GeoParquet 1.0 with their CRS.

    Categorical text columns are written as plain strings. The frame is converted to Arrow
    one row group at a time, so writing millions of rows needs memory for one group, not a
    second copy of the frame.
    """
    with atomic_path(target) as tmp:
        if isinstance(frame, gpd.GeoDataFrame):
            _write_geoframe(frame, tmp, rows_per_group)
        else:
            pq.write_table(pa.Table.from_pandas(_decoded(frame), preserve_index=False), tmp)
    return Path(target)


def _decoded(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as their values (``string`` for text categories)."""
    cats = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    if not cats:
        return frame
    out = frame.copy(deep=False)
    for col in cats:
        categories = frame[col].cat.categories
        kind = "string" if categories.dtype == object or categories.dtype == "string" else None
        out[col] = frame[col].astype(kind) if kind else np.asarray(frame[col])
    return out


def write_points_parquet(
    frame: pd.DataFrame,
    x: np.ndarray,
    y: np.ndarray,
    crs: str,
    target: str | os.PathLike[str],
    *,
    rows_per_group: int = PARQUET_ROWS_PER_GROUP,
) -> Path:
    """GeoParquet of ``frame`` plus a point ``geometry`` column made from coordinates.

    The same file as ``write_parquet(GeoDataFrame(frame, geometry=points_from_xy(x, y)))``,
    without ever creating the Point objects (216 bytes each: 1 GB for 5M addresses).
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if not (len(x) == len(y) == len(frame)):
        raise ValueError(f"{len(x)} x and {len(y)} y values for {len(frame)} rows")
    meta: dict[str, Any] = {"encoding": "WKB", "geometry_types": ["Point"] if len(x) else []}
    meta["crs"] = pyproj.CRS.from_user_input(crs).to_json_dict()
    finite = np.isfinite(x) & np.isfinite(y)
    if finite.any():
        xs, ys = x[finite], y[finite]
        meta["bbox"] = [float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())]
    geometry: _Geometries = {"geometry": (lambda a, b: point_wkb(x[a:b], y[a:b]), meta)}
    columns = [*frame.columns, "geometry"]
    with atomic_path(target) as tmp:
        _write_geoparquet(frame, geometry, columns, "geometry", tmp, rows_per_group)
    return Path(target)


#: per geometry column: (WKB of rows a..b, GeoParquet column metadata)
_Geometries = dict[str, tuple[Callable[[int, int], pa.Array], dict[str, Any]]]


def _write_geoframe(frame: gpd.GeoDataFrame, path: Path, rows_per_group: int) -> None:
    geo_cols = [c for c in frame.columns if isinstance(frame[c].dtype, gpd.array.GeometryDtype)]

    def wkb(col: str) -> Callable[[int, int], pa.Array]:
        values = np.asarray(frame[col].values)
        return lambda a, b: _wkb(values[a:b])

    geometry: _Geometries = {c: (wkb(c), _geo_column(frame[c])) for c in geo_cols}
    plain = frame.drop(columns=geo_cols)
    columns = list(frame.columns)
    _write_geoparquet(plain, geometry, columns, frame.geometry.name, path, rows_per_group)


#: columns of unique values (written without a dictionary; the file reads back the same)
_DISTINCT = ("address_id",)


def _write_geoparquet(
    plain: pd.DataFrame,
    geometry: _Geometries,
    columns: list[str],
    primary: str,
    path: Path,
    rows_per_group: int,
) -> None:
    """GeoParquet 1.0.0: the ``plain`` columns and WKB geometry columns in ``columns``
    order, plus the ``geo`` file metadata; one row group converted at a time."""
    geo = {
        "version": "1.0.0",
        "primary_column": primary,
        "columns": {c: meta for c, (_, meta) in geometry.items()},
    }
    schema, slices = arrow_slices(
        plain,
        {c: wkb for c, (wkb, _) in geometry.items()},
        columns,
        rows_per_group,
        metadata={b"geo": json.dumps(geo).encode()},
    )
    # WKB (and an id column) holds a different value in every row: a dictionary would be
    # built and dropped for each row group, and min/max of WKB bytes tell a reader nothing
    dictionary = [c for c in columns if c not in geometry and c not in _DISTINCT]
    stats = [c for c in columns if c not in geometry]
    with pq.ParquetWriter(
        path, schema, use_dictionary=dictionary, write_statistics=stats
    ) as writer:
        for part in _one_ahead(slices):
            writer.write_table(part)


_END = object()


def _one_ahead(items: Iterator[pa.Table]) -> Iterator[pa.Table]:
    """``items``, each made on a second thread while the caller uses the one before (Arrow
    converts and casts the next row group while Parquet encodes this one, both mostly
    without the GIL); an error making an item is raised here."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(next, items, _END)
        while (item := pending.result()) is not _END:
            pending = pool.submit(next, items, _END)
            yield item


def arrow_slices(
    plain: pd.DataFrame,
    binary: Mapping[str, Callable[[int, int], pa.Array]],
    columns: list[str],
    rows_per_slice: int,
    metadata: Mapping[bytes, bytes] | None = None,
) -> tuple[pa.Schema, Iterator[pa.Table]]:
    """``plain`` as Arrow tables of ``rows_per_slice`` rows (at least one, maybe empty),
    with the binary columns ``binary`` (rows a..b -> array, e.g. WKB) in ``columns`` order:
    one schema for every slice; categoricals as plain strings; one slice converted at a
    time, so a large frame never exists twice."""
    plain_schema = _schema(plain)
    fields = {f.name: f for f in plain_schema}
    fields.update({c: pa.field(c, pa.binary()) for c in binary})
    meta = {**(plain_schema.metadata or {}), **(metadata or {})}
    schema = pa.schema([fields[c] for c in columns], metadata=meta)

    def slices() -> Iterator[pa.Table]:
        for start in range(0, max(len(plain), 1), rows_per_slice):
            stop = min(start + rows_per_slice, len(plain))
            # categoricals convert as Arrow dictionaries (codes, no per-row text) and are
            # cast to plain strings in Arrow
            part = pa.Table.from_pandas(plain.iloc[start:stop], preserve_index=False)
            part = part.cast(plain_schema)
            arrays = [binary[c](start, stop) if c in binary else part.column(c) for c in columns]
            yield pa.Table.from_arrays(arrays, schema=schema)

    return schema, slices()


#: little-endian 2D WKB Point: byte order (1), geometry type (1), x, y; 21 bytes, unpadded
_WKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])


def _wkb(geoms: np.ndarray) -> pa.Array:
    """WKB of the geometries as an Arrow binary array.

    Columns of plain 2D points (address layers: millions of rows) are encoded with numpy,
    byte for byte what GEOS writes; anything else goes through ``shapely.to_wkb``.
    """
    types = shapely.get_type_id(geoms)
    if (
        0 < len(geoms) < 2**31 // _WKB_POINT.itemsize  # int32 offsets
        and (types == shapely.GeometryType.POINT).all()
        and not shapely.has_z(geoms).any()
        and not shapely.is_empty(geoms).any()
    ):
        return point_wkb(shapely.get_x(geoms), shapely.get_y(geoms))
    return pa.array(shapely.to_wkb(geoms), pa.binary())


def point_wkb(x: np.ndarray, y: np.ndarray) -> pa.Array:
    """WKB Points from coordinates, encoded with numpy (fewer than 2**31 / 21 points)."""
    rec = np.empty(len(x), dtype=_WKB_POINT)
    rec["order"], rec["type"] = 1, 1
    rec["x"], rec["y"] = x, y
    offsets = np.arange(0, _WKB_POINT.itemsize * (len(x) + 1), _WKB_POINT.itemsize)
    buffers = [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(rec.view(np.uint8))]
    return pa.Array.from_buffers(pa.binary(), len(x), buffers)


def _schema(plain: pd.DataFrame) -> pa.Schema:
    """One Arrow schema for every row group of ``plain``: inferred from its column types,
    object columns from their first value (a slice of one could be all None)."""
    head = pa.Schema.from_pandas(_decoded(plain.iloc[:0]), preserve_index=False)
    fields = []
    for f in head:
        if pa.types.is_null(f.type):
            values = plain[f.name].dropna()
            if len(values):
                f = f.with_type(pa.array(values.iloc[:1].tolist()).type)
        fields.append(f)
    return pa.schema(fields, metadata=head.metadata)


#: shapely type id -> GeoParquet geometry type name
_GEOMETRY_TYPES = {
    shapely.GeometryType.POINT: "Point",
    shapely.GeometryType.LINESTRING: "LineString",
    shapely.GeometryType.LINEARRING: "LineString",
    shapely.GeometryType.POLYGON: "Polygon",
    shapely.GeometryType.MULTIPOINT: "MultiPoint",
    shapely.GeometryType.MULTILINESTRING: "MultiLineString",
    shapely.GeometryType.MULTIPOLYGON: "MultiPolygon",
    shapely.GeometryType.GEOMETRYCOLLECTION: "GeometryCollection",
}


def _geo_column(values: gpd.GeoSeries) -> dict[str, Any]:
    """GeoParquet column metadata: encoding, geometry types, PROJJSON CRS and bbox."""
    geoms = np.asarray(values.values)
    present = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    type_ids = np.unique(shapely.get_type_id(present))
    types = sorted({_GEOMETRY_TYPES[shapely.GeometryType(t)] for t in type_ids})
    meta: dict[str, Any] = {"encoding": "WKB", "geometry_types": types}
    if values.crs is not None:
        meta["crs"] = values.crs.to_json_dict()
    if len(present):
        meta["bbox"] = [float(v) for v in shapely.total_bounds(present)]
    return meta


class RunDirectory:
    """A run directory that appears complete or not at all.

    Use as a context manager: files are written under :attr:`path` (a temporary sibling);
    on success it is renamed to the final location, on error it is removed and any earlier
    directory at the final location is left untouched.
    """

    def __init__(self, final: str | os.PathLike[str]) -> None:
        self.final = Path(final)
        self.path: Path = self.final

    def __enter__(self) -> RunDirectory:
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(
            tempfile.mkdtemp(
                prefix=f".{self.final.name}.", suffix=".partial", dir=self.final.parent
            )
        )
        self.path.chmod(_DIR_MODE)  # mkdtemp creates 0700
        return self

    def subdirectory(self, name: str) -> Path:
        """A new directory ``name`` inside the run directory (e.g. a cluster run's parts)."""
        path = self.path / name
        path.mkdir()
        path.chmod(_DIR_MODE)
        return path

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        old: Path | None = None
        if self.final.exists():
            old = self.final.with_name(f".{self.final.name}.old-{os.getpid()}")
            if old.exists():
                shutil.rmtree(old)
            self.final.replace(old)
        try:
            self.path.replace(self.final)
        except OSError:
            if old is not None:
                old.replace(self.final)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
