"""Sampling a raster band at points - pure maths on arrays (no files, no CRS handling).

Conventions: ``transform`` is the 6-tuple affine ``(a, b, c, d, e, f)`` of rasterio/GDAL
(``x = a*col + b*row + c``, ``y = d*col + e*row + f``), so pixel (row, col) covers
``[col, col+1) x [row, row+1)`` in pixel space and its centre is at ``(col+0.5, row+0.5)``.
Points are in the raster's CRS already. Every point gets a flag:

* ``"outside"`` - the point lies outside the raster extent (value NaN, never an IndexError);
* ``"nodata"`` - the pixel (nearest) or any contributing neighbour (bilinear, weight > 0) is
  invalid (nodata value, NaN, masked) - value NaN, never the sentinel as a number;
* ``"ok"`` - a finite value.

Bilinear interpolation uses the four pixel centres around the point; at the raster's outer
half-pixel edge the edge pixels are repeated (clamped), so points inside the extent always
get a value from valid pixels only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FLAGS = ("ok", "nodata", "outside")
METHODS = ("nearest", "bilinear")


@dataclass(frozen=True, eq=False)
class SampleResult:
    """Sampled values (float64, NaN where not ok), per-point flags and provenance."""

    values: np.ndarray
    flags: np.ndarray
    crs: str | None
    method: str
    band: int = 1

    def counts(self) -> dict[str, int]:
        """How many points got each flag."""
        return {f: int((self.flags == f).sum()) for f in FLAGS}


def pixel_coords(
    transform: Sequence[float], x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Fractional (col, row) of points via the inverse affine transform."""
    a, b, c, d, e, f = (float(v) for v in transform[:6])
    det = a * e - b * d
    if det == 0:
        raise ValueError("the raster transform is singular (zero pixel size)")
    dx = np.asarray(x, dtype="float64") - c
    dy = np.asarray(y, dtype="float64") - f
    col = (e * dx - b * dy) / det
    row = (-d * dx + a * dy) / det
    return col, row


def sample_grid(
    values: np.ndarray,
    valid: np.ndarray,
    transform: Sequence[float],
    x: np.ndarray,
    y: np.ndarray,
    *,
    method: str = "nearest",
) -> tuple[np.ndarray, np.ndarray]:
    """Sample a 2-D array at points; returns (values float64, flags array of str).

    Parameters
    ----------
    values
        2-D band (rows, cols).
    valid
        Boolean array of the same shape, False for nodata/masked pixels. NaN pixels are
        treated as invalid regardless.
    transform
        Affine coefficients (a, b, c, d, e, f) of ``values``.
    x, y
        Point coordinates in the raster's CRS (non-finite -> "outside").
    method
        "nearest" or "bilinear".
    """
    if method not in METHODS:
        raise ValueError(f"unknown sampling method {method!r}; use one of {', '.join(METHODS)}")
    arr = np.asarray(values, dtype="float64")
    ok_pix = np.asarray(valid, dtype=bool) & np.isfinite(arr)
    height, width = arr.shape
    col, row = pixel_coords(transform, x, y)
    n = col.shape[0]
    out = np.full(n, np.nan)
    flags = np.full(n, "outside", dtype="<U7")
    inside = (
        np.isfinite(col)
        & np.isfinite(row)
        & (col >= 0)
        & (col < width)
        & (row >= 0)
        & (row < height)
    )
    if not inside.any():
        return out, flags
    ci, ri = col[inside], row[inside]
    if method == "nearest":
        c0 = np.floor(ci).astype(np.int64)
        r0 = np.floor(ri).astype(np.int64)
        good = ok_pix[r0, c0]
        vals = np.where(good, arr[r0, c0], np.nan)
    else:
        cx, ry = ci - 0.5, ri - 0.5
        c0 = np.floor(cx).astype(np.int64)
        r0 = np.floor(ry).astype(np.int64)
        fx, fy = cx - c0, ry - r0
        vals = np.zeros(len(ci))
        good = np.ones(len(ci), dtype=bool)
        for dr, dc, w in (
            (0, 0, (1 - fx) * (1 - fy)),
            (0, 1, fx * (1 - fy)),
            (1, 0, (1 - fx) * fy),
            (1, 1, fx * fy),
        ):
            rr = np.clip(r0 + dr, 0, height - 1)
            cc = np.clip(c0 + dc, 0, width - 1)
            pix_ok = ok_pix[rr, cc]
            good &= pix_ok | (w == 0)
            vals += np.where(pix_ok, arr[rr, cc], 0.0) * w
        vals = np.where(good, vals, np.nan)
    out[inside] = vals
    flags[inside] = np.where(good, "ok", "nodata")
    return out, flags
