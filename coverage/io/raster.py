"""Raster files (GeoTIFF and anything else GDAL reads) through rasterio.

Only this module opens rasters; the sampling maths is in :mod:`coverage.rasters`. Points are
transformed to the raster's CRS explicitly (the points' CRS must be stated); a raster without
a CRS is an error. Only the window covering the points (plus one pixel for bilinear
neighbours) is read, so sampling a few points from a large raster stays cheap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import rasterio
import rasterio.windows
from pyproj import CRS, Transformer
from pyproj.exceptions import ProjError
from rasterio.errors import RasterioError, RasterioIOError

from coverage.crs import crs_label, parse_crs
from coverage.errors import CRSError, InputDataError, SourceReadError
from coverage.io import _text
from coverage.io.drivers import RASTER_DRIVERS, check_content, refuse_remote
from coverage.rasters import METHODS, SampleResult, pixel_coords, sample_grid


@dataclass(frozen=True)
class RasterInfo:
    """What a raster file declares (for inspection reports)."""

    crs: str | None
    width: int
    height: int
    count: int
    dtype: str
    nodata: float | None
    bounds: tuple[float, float, float, float]
    driver: str


def _open(path: str | os.PathLike[str]) -> tuple[Any, str]:
    refuse_remote(os.fspath(path))
    file, label = _text.check_file(path)
    driver = RASTER_DRIVERS.get(file.suffix.lower())
    if driver is None:
        raise SourceReadError(
            f"{label}: unknown raster type {file.suffix or '(no extension)'!r}; supported: "
            f"{', '.join(RASTER_DRIVERS)} (GDAL VRT files are not read: they can name any file "
            "or URL)"
        )
    check_content(file, "raster", label)
    try:
        return rasterio.open(file, driver=driver), label
    except RasterioIOError as exc:
        raise SourceReadError(
            f"{label}: cannot open as a raster ({exc}); the file may be corrupt or not a raster"
        ) from exc
    except RasterioError as exc:
        raise SourceReadError(f"{label}: cannot read the raster ({exc})") from exc


def raster_info(path: str | os.PathLike[str]) -> RasterInfo:
    """CRS (label or None), size, band count, dtype, nodata and bounds of a raster file."""
    src, _label = _open(path)
    with src:
        crs = crs_label(CRS.from_user_input(src.crs.to_wkt())) if src.crs else None
        return RasterInfo(
            crs=crs, width=src.width, height=src.height, count=src.count, dtype=str(src.dtypes[0]),
            nodata=src.nodata, bounds=tuple(src.bounds), driver=src.driver,
        )  # fmt: skip


def sample_raster(
    path: str | os.PathLike[str],
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    points_crs: object,
    *,
    band: int = 1,
    method: str = "nearest",
) -> SampleResult:
    """Sample one band of a raster at points.

    Parameters
    ----------
    path
        Raster file (GeoTIFF, ...). It must declare a CRS.
    x, y
        Point coordinates in ``points_crs`` (e.g. metres in EPSG:25832, or lon/lat).
    points_crs
        The points' CRS (required; never assumed).
    band
        1-based band number.
    method
        "nearest" (value of the pixel containing the point) or "bilinear" (from the four
        surrounding pixel centres; any invalid contributing neighbour -> nodata).

    Returns
    -------
    SampleResult
        ``values`` float64 (NaN unless flag "ok"), ``flags`` in {"ok", "nodata", "outside"},
        the raster's CRS label, the method and band.

    Raises
    ------
    CRSError
        Raster without a CRS, points' CRS missing or not understood, failed transformation.
    InputDataError
        Unknown method, band out of range, x/y of different lengths.
    SourceReadError
        Missing/corrupt raster.
    """
    if method not in METHODS:
        raise InputDataError(f"unknown sampling method {method!r}; use one of {', '.join(METHODS)}")
    xs = np.atleast_1d(np.asarray(x, dtype="float64"))
    ys = np.atleast_1d(np.asarray(y, dtype="float64"))
    if xs.shape != ys.shape:
        raise InputDataError(f"x and y have different lengths ({len(xs)} and {len(ys)})")
    src, label = _open(path)
    with src:
        if src.crs is None:
            raise CRSError(
                f"{label}: the raster has no CRS; assign one (e.g. gdal_edit.py -a_srs EPSG:25832) "
                "- gapmap never guesses a raster's CRS"
            )
        if not 1 <= band <= src.count:
            raise InputDataError(
                f"{label}: band {band} does not exist; the raster has {src.count} band(s)"
            )
        if points_crs is None:
            raise CRSError(f"{label}: the points' CRS is needed to sample the raster; state it")
        raster_crs = CRS.from_user_input(src.crs.to_wkt())
        pts_crs = parse_crs(points_crs, source=f"points sampled from {label}")
        rx, ry = xs, ys
        if not pts_crs.equals(raster_crs, ignore_axis_order=True):
            try:
                tr = Transformer.from_crs(pts_crs, raster_crs, always_xy=True)
                rx, ry = (
                    np.asarray(v, dtype="float64") for v in tr.transform(xs, ys, errcheck=False)
                )
            except ProjError as exc:
                raise CRSError(
                    f"{label}: cannot transform points from {crs_label(pts_crs)} to {crs_label(raster_crs)} ({exc})"
                ) from exc
        transform = tuple(src.transform)[:6]
        col, row = pixel_coords(transform, rx, ry)
        inside = (
            np.isfinite(col)
            & np.isfinite(row)
            & (col >= 0)
            & (col < src.width)
            & (row >= 0)
            & (row < src.height)
        )
        values = np.full(len(xs), np.nan)
        flags = np.full(len(xs), "outside", dtype="<U7")
        if inside.any():
            c0 = max(int(np.floor(col[inside].min())) - 1, 0)
            r0 = max(int(np.floor(row[inside].min())) - 1, 0)
            c1 = min(int(np.floor(col[inside].max())) + 2, src.width)
            r1 = min(int(np.floor(row[inside].max())) + 2, src.height)
            window = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
            try:
                arr = src.read(band, window=window).astype("float64")
                mask = src.read_masks(band, window=window) > 0
            except RasterioError as exc:
                raise SourceReadError(
                    f"{label}: cannot read band {band} ({exc}); the file may be truncated"
                ) from exc
            if src.nodatavals[band - 1] is not None:
                nodata = float(src.nodatavals[band - 1])
                mask &= ~(np.isnan(arr) if np.isnan(nodata) else arr == nodata)
            a, b, c, d, e, f = transform
            wt = (a, b, c + a * c0 + b * r0, d, e, f + d * c0 + e * r0)  # the window's own affine
            v, f = sample_grid(arr, mask, wt, rx[inside], ry[inside], method=method)
            values[inside] = v
            flags[inside] = f
    return SampleResult(
        values=values, flags=flags, crs=crs_label(raster_crs), method=method, band=band
    )


def read_population_raster(path: str | os.PathLike[str], *, band: int = 1) -> tuple[Any, str, str]:
    """A population raster on the INSPIRE grid as a cell table (cell_id, population).

    The raster must be in EPSG:3035 with 100 m or 1 km square pixels aligned to the grid
    (corners on multiples of the pixel size), as Zensus and Eurostat GEOSTAT rasters are.
    Nodata pixels become NA (counted as no inhabitants by DEGURBA). Returns the table, the
    file's SHA-256 and a note on how the grid was decided.
    """
    import pandas as pd

    from coverage.io.hashing import sha256_file
    from coverage.rural.grid_summary import inspire_cell_ids

    src, label = _open(path)
    with src:
        if src.crs is None:
            raise CRSError(f"{label}: the population raster has no CRS; it must be EPSG:3035")
        crs = CRS.from_user_input(src.crs.to_wkt())
        if crs.to_epsg() != 3035:
            raise CRSError(
                f"{label}: population rasters must be on the INSPIRE grid (EPSG:3035), not "
                f"{crs_label(crs)}; warp it with gdalwarp -t_srs EPSG:3035 -tr 1000 1000 -tap"
            )
        a, _, c, _, e, f = tuple(src.transform)[:6]
        size = a
        if size not in (100.0, 1000.0) or e != -size:
            raise InputDataError(
                f"{label}: pixels are {a:g} x {-e:g} m; a population grid needs 100 m or 1000 m square pixels"
            )
        if c % size or f % size:
            raise InputDataError(
                f"{label}: the raster's corner ({c:g}, {f:g}) is not on the {size:g} m INSPIRE grid"
            )
        data = src.read(band, masked=True)
    rows, cols = np.nonzero(~np.ma.getmaskarray(data))
    values = np.asarray(data[rows, cols], dtype="float64")
    x_centre = c + (cols + 0.5) * size
    y_centre = f - (rows + 0.5) * size
    table = pd.DataFrame(
        {
            "cell_id": pd.array(inspire_cell_ids(x_centre, y_centre, int(size)), dtype="string"),
            "population": values,
        }
    )
    return table, sha256_file(path), f"raster on the INSPIRE {size:g} m grid (EPSG:3035)"
