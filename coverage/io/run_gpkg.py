"""``gapmap.gpkg`` in every run directory: the results for the GIS office's own tools.

QGIS 3.22 and GDAL 3.6 as Debian 12 ships them have no (Geo)Parquet driver, so a run also
writes one GeoPackage (driver ``GPKG``, named explicitly; GeoPackage version 1.2, which GDAL
3.6 reads without a warning) with the layers

* ``addresses`` (points, working CRS: every column of ``addresses.parquet``),
* ``gap_areas`` (polygons, working CRS; ``area_id`` is the stable id),
* ``gemeinden`` (polygons, working CRS: the Gemeinde boundary with its summary row),
* ``grid_100m`` and ``grid_1km`` (INSPIRE cells as squares in EPSG:3035, the published,
  suppressed counts of ``summary_grid_*.parquet``).

Categorical and string columns are written as text, booleans as GPKG booleans, dates as
dates. Addresses go in slices of :data:`ROWS_PER_SLICE` rows (appended to the layer), so
Point objects for millions of addresses never exist at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

DRIVER = "GPKG"
ROWS_PER_SLICE = 500_000
GRID_CRS = "EPSG:3035"


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categoricals and Arrow strings as object text (GDAL field types stay simple)."""
    out = frame.copy()
    for col in out.columns:
        dtype = out[col].dtype
        if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


def _write(frame: gpd.GeoDataFrame, path: Path, layer: str, kind: str) -> None:
    pyogrio.write_dataframe(
        frame, path, layer=layer, driver=DRIVER, geometry_type=kind,
        promote_to_multi=kind == "MultiPolygon", append=path.exists(),
        dataset_options=None if path.exists() else {"VERSION": "1.2"},
    )  # fmt: skip


def grid_cells(grid: pd.DataFrame, size_m: int) -> gpd.GeoDataFrame:
    """A grid summary with its cells as EPSG:3035 squares (lower-left ``x_ll``, ``y_ll``)."""
    x = grid["x_ll"].to_numpy(dtype=float)
    y = grid["y_ll"].to_numpy(dtype=float)
    return gpd.GeoDataFrame(
        _plain(grid), geometry=shapely.box(x, y, x + size_m, y + size_m), crs=GRID_CRS
    )


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
) -> Path:
    """Write the run's GeoPackage atomically (see the module docstring for its layers)."""
    target = Path(target)
    tmp = target.parent / f".{target.stem}.partial.gpkg"  # GDAL wants the .gpkg suffix
    tmp.unlink(missing_ok=True)
    try:
        x, y = (np.asarray(a, dtype=float) for a in xy)
        for start in range(0, max(len(addresses), 1), ROWS_PER_SLICE):
            part = addresses.iloc[start : start + ROWS_PER_SLICE]
            stop = start + len(part)
            geom = gpd.points_from_xy(x[start:stop], y[start:stop], crs=crs)
            _write(gpd.GeoDataFrame(_plain(part), geometry=geom), tmp, "addresses", "Point")
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
                _write(grid_cells(grid, size), tmp, name, "Polygon")
        tmp.chmod(0o644)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
