"""``gapmap.gpkg`` in every run directory: the results for the GIS office's own tools.

QGIS 3.22 and GDAL 3.6 as Debian 12 ships them have no (Geo)Parquet driver, so a run also
writes one GeoPackage (driver ``GPKG``, named explicitly; GeoPackage version 1.2, which GDAL
3.6 reads without a warning) with the layers

* ``addresses`` (points, working CRS: every column of ``addresses.parquet``) when the run
  has at most ``address_limit`` addresses (:data:`ADDRESS_LIMIT` by default: a layer of
  millions of points is gigabytes of SQLite and the slowest file of a run); a larger run
  leaves it out and :func:`write_addresses_gpkg` (``gapmap gpkg``) writes the same layer
  from ``addresses.parquet`` when someone needs it, for the whole run or a Kreis or
  Gemeinde,
* ``gap_areas`` (polygons, working CRS; ``area_id`` is the stable id),
* ``gemeinden`` (polygons, working CRS: the Gemeinde boundary with its summary row),
* ``grid_100m`` and ``grid_1km`` (INSPIRE cells as squares in EPSG:3035, the published,
  suppressed counts of ``summary_grid_*.parquet``).

Categorical and string columns are written as text, booleans as GPKG booleans, dates as
dates. Addresses and grid cells go to GDAL as Arrow tables of :data:`ROWS_PER_SLICE` rows
(``pyogrio.write_arrow``: one layer creation, one transaction, the spatial index built once
at the end), so Point objects for millions of addresses never exist.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyogrio
import pyproj

from coverage.errors import InputDataError
from coverage.io.writers import arrow_slices, point_wkb

DRIVER = "GPKG"
ROWS_PER_SLICE = 500_000
GRID_CRS = "EPSG:3035"
#: runs with more addresses leave the ``addresses`` layer out of ``gapmap.gpkg``
ADDRESS_LIMIT = 1_000_000


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categoricals and Arrow strings as object text (GDAL field types stay simple)."""
    out = frame.copy()
    for col in out.columns:
        dtype = out[col].dtype
        if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


def _options(path: Path) -> dict[str, object]:
    return {
        "driver": DRIVER,
        "append": path.exists(),
        "dataset_options": None if path.exists() else {"VERSION": "1.2"},
    }


def _write(frame: gpd.GeoDataFrame, path: Path, layer: str, kind: str) -> None:
    pyogrio.write_dataframe(
        frame, path, layer=layer, geometry_type=kind,
        promote_to_multi=kind == "MultiPolygon", **_options(path),
    )  # fmt: skip


def _crs_text(crs: str) -> str:
    """The CRS as ``pyogrio.write_dataframe`` hands it to GDAL (EPSG code, else WKT1)."""
    parsed = pyproj.CRS.from_user_input(crs)
    epsg = parsed.to_epsg()
    return f"EPSG:{epsg}" if epsg else parsed.to_wkt("WKT1_GDAL")


def _write_slices(
    path: Path, layer: str, kind: str, crs: str, schema: pa.Schema, slices: Iterator[pa.Table]
) -> None:
    """One layer from Arrow tables with a WKB column ``geometry``."""
    batches = (batch for table in slices for batch in table.to_batches())
    pyogrio.write_arrow(
        pa.RecordBatchReader.from_batches(schema, batches), path, layer=layer,
        geometry_name="geometry", geometry_type=kind, crs=_crs_text(crs), **_options(path),
    )  # fmt: skip


def _write_arrow(
    frame: pd.DataFrame,
    wkb: Callable[[int, int], pa.Array],
    path: Path,
    layer: str,
    kind: str,
    crs: str,
) -> None:
    """``frame``'s columns and the geometry ``wkb(a, b)`` of rows a..b, slice by slice."""
    columns = [*frame.columns, "geometry"]
    schema, slices = arrow_slices(frame, {"geometry": wkb}, columns, ROWS_PER_SLICE)
    _write_slices(path, layer, kind, crs, schema, slices)


#: little-endian WKB Polygon of one ring of five 2D points: 93 bytes, unpadded
_WKB_SQUARE = np.dtype(
    [("order", "u1"), ("type", "<u4"), ("rings", "<u4"), ("points", "<u4"), ("xy", "<f8", (10,))]
)


def square_wkb(x: np.ndarray, y: np.ndarray, size: float) -> pa.Array:
    """WKB of the squares with lower left corners ``x``, ``y``, encoded with numpy: byte for
    byte ``shapely.to_wkb(shapely.box(x, y, x + size, y + size))`` (the same ring, from the
    lower right corner counter-clockwise), without a GEOS polygon per cell."""
    x0, y0 = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    x1, y1 = x0 + size, y0 + size
    rec = np.empty(len(x0), dtype=_WKB_SQUARE)
    rec["order"], rec["type"], rec["rings"], rec["points"] = 1, 3, 1, 5
    rec["xy"] = np.column_stack([x1, y0, x1, y1, x0, y1, x0, y0, x1, y0])
    step = _WKB_SQUARE.itemsize
    offsets = np.arange(0, step * (len(x0) + 1), step, dtype=np.int64)
    buffers = [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(rec.view(np.uint8))]
    return pa.Array.from_buffers(pa.binary(), len(x0), buffers)


def _write_grid(grid: pd.DataFrame, size_m: int, path: Path, layer: str) -> None:
    x = grid["x_ll"].to_numpy(dtype=float)
    y = grid["y_ll"].to_numpy(dtype=float)

    def squares(a: int, b: int) -> pa.Array:
        return square_wkb(x[a:b], y[a:b], size_m)

    _write_arrow(grid, squares, path, layer, "Polygon", GRID_CRS)


def write_run_gpkg(
    target: str | Path,
    *,
    addresses: pd.DataFrame,
    xy: tuple[np.ndarray, np.ndarray],
    crs: str,
    gap_areas: gpd.GeoDataFrame | None,
    gemeinden: gpd.GeoDataFrame | None,
    summary_gemeinde: pd.DataFrame,
    grids: Mapping[int, pd.DataFrame],
    address_limit: int | None = ADDRESS_LIMIT,
) -> Path:
    """Write the run's GeoPackage atomically (see the module docstring for its layers;
    ``address_limit`` None writes the addresses layer whatever the run's size, and so does
    a run without any other layer)."""
    target = Path(target)
    tmp = target.parent / f".{target.stem}.partial.gpkg"  # GDAL wants the .gpkg suffix
    tmp.unlink(missing_ok=True)
    try:
        others = any(f is not None and len(f) for f in (gap_areas, gemeinden, *grids.values()))
        if address_limit is None or len(addresses) <= address_limit or not others:
            x, y = (np.asarray(a, dtype=float) for a in xy)
            points = lambda a, b: point_wkb(x[a:b], y[a:b])  # noqa: E731
            _write_arrow(addresses, points, tmp, "addresses", "Point", crs)
        if gap_areas is not None and len(gap_areas):
            _write(
                gpd.GeoDataFrame(_plain(gap_areas), crs=gap_areas.crs),
                tmp,
                "gap_areas",
                "MultiPolygon",
            )
        if gemeinden is not None and len(gemeinden):
            shapes = gemeinden[["ags", "name", "geometry"]].copy()
            shapes["ags"] = shapes["ags"].astype(str)
            table = summary_gemeinde.drop(columns=["name"], errors="ignore").copy()
            table["ags"] = table["ags"].astype(str)
            merged = shapes.merge(table, on="ags", how="left").sort_values("ags")
            _write(
                gpd.GeoDataFrame(_plain(merged), crs=gemeinden.crs),
                tmp,
                "gemeinden",
                "MultiPolygon",
            )
        for size, grid in sorted(grids.items()):
            if len(grid):
                name = f"grid_{size}m" if size < 1000 else f"grid_{size // 1000}km"
                _write_grid(grid, size, tmp, name)
        tmp.chmod(0o644)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def write_addresses_gpkg(
    addresses_parquet: str | Path, target: str | Path, *, ags: str | None = None
) -> int:
    """The ``addresses`` layer of a run's GeoPackage, from its ``addresses.parquet``: every
    address, or those whose AGS starts with ``ags`` (a Gemeinde or Kreis key). Written
    atomically; returns the number of addresses."""
    source, target = Path(addresses_parquet), Path(target)
    if not source.is_file():
        raise InputDataError(f"{source}: no addresses.parquet; give a gapmap run directory")
    if ags is not None and not (ags.isdigit() and 2 <= len(ags) <= 8):
        raise InputDataError(f"--ags {ags!r}: give the leading digits of an AGS (2 to 8)")
    dataset = ds.dataset(source, format="parquet")
    names = dataset.schema.names
    if "geometry" not in names:
        raise InputDataError(f"{source}: no geometry column; is it a gapmap run's file?")
    geo = json.loads((dataset.schema.metadata or {}).get(b"geo", b"{}"))
    crs = pyproj.CRS.from_json_dict(geo["columns"]["geometry"]["crs"])
    where = None if ags is None else pc.starts_with(ds.field("ags"), pattern=ags)
    scanner = dataset.scanner(filter=where, batch_size=ROWS_PER_SLICE)
    tmp = target.parent / f".{target.stem}.partial.gpkg"
    tmp.unlink(missing_ok=True)
    count = 0

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal count
        for batch in scanner.to_batches():
            count += batch.num_rows
            yield batch

    try:
        schema = dataset.schema.remove_metadata()
        reader = pa.RecordBatchReader.from_batches(schema, batches())
        pyogrio.write_arrow(
            reader, tmp, layer="addresses", geometry_name="geometry", geometry_type="Point",
            crs=_crs_text(crs.to_string()), **_options(tmp),
        )  # fmt: skip
        tmp.chmod(0o644)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return count
