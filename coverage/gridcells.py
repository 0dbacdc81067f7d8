"""INSPIRE grid cell codes (EPSG:3035, ETRS89-LAEA) - pure, vectorised.

Cell code: ``CRS3035RES{size}mN{north}E{east}`` of the cell's **lower-left** corner in
metres, optionally prefixed with a country code (``DE_``). ``1km`` is accepted as a spelling
of ``1000m`` when parsing; codes are always written in metres. The short Zensus 2011 form
(``100mN26840E43341``, ``1kmN2689E4337``) counts N and E in units of the cell size and is
accepted too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import shapely

from coverage.errors import InputDataError

_PATTERN = r"^(?:[A-Za-z]{2}_)?(?P<full>CRS3035RES)?(?P<size>\d+)(?P<unit>m|km)N(?P<north>\d+)E(?P<east>\d+)$"


def parse_inspire_cell_id(
    ids: Sequence[str] | np.ndarray | pd.Series, *, source: str = "cell ids"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split INSPIRE cell codes into (size_m, east, north) arrays (int64, metres, lower-left).

    Raises
    ------
    InputDataError
        Any code not in the INSPIRE form, or whose corner is not a multiple of its size
        (rows named, 1-based).
    """
    series = pd.Series(np.asarray(ids, dtype=object), dtype="string").str.strip()
    parts = series.str.extract(_PATTERN)
    bad = parts["size"].isna().to_numpy(dtype=bool)
    if bad.any():
        rows = ", ".join(str(int(i) + 1) for i in np.flatnonzero(bad)[:5])
        raise InputDataError(
            f"{source}: {int(bad.sum())} value(s) are not INSPIRE cell codes (rows {rows}, first: "
            f"{series[bad].iloc[0]!r}); expected e.g. CRS3035RES100mN2689100E4337000"
        )
    size = parts["size"].astype("int64").to_numpy()
    size = np.where(parts["unit"].to_numpy() == "km", size * 1000, size)
    north = parts["north"].astype("int64").to_numpy()
    east = parts["east"].astype("int64").to_numpy()
    short = parts["full"].isna().to_numpy(dtype=bool)
    north = np.where(short, north * size, north)
    east = np.where(short, east * size, east)
    off = (north % size != 0) | (east % size != 0)
    if off.any():
        rows = ", ".join(str(int(i) + 1) for i in np.flatnonzero(off)[:5])
        raise InputDataError(
            f"{source}: cell codes at rows {rows} name a corner that is not on the {int(size[off][0])} m "
            f"grid (first: {series[off].iloc[0]!r}); the code must give the lower-left corner"
        )
    return size, east, north


def inspire_cell_id(
    x: np.ndarray | Sequence[float], y: np.ndarray | Sequence[float], size: int, *, prefix: str = ""
) -> np.ndarray:
    """INSPIRE code of the cell containing each point (x, y in EPSG:3035 metres).

    A point on a cell edge belongs to the cell to its north-east (floor division).
    Returns an object array of str; non-finite input -> None.
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    ok = np.isfinite(x) & np.isfinite(y)
    east = (np.floor(np.where(ok, x, 0) / size) * size).astype("int64")
    north = (np.floor(np.where(ok, y, 0) / size) * size).astype("int64")
    codes = format_cell_ids(np.full(len(x), int(size)), east, north, prefix=prefix)
    out = codes.to_numpy(dtype=object)
    out[~ok] = None
    return out


def format_cell_ids(
    size: np.ndarray, east: np.ndarray, north: np.ndarray, *, prefix: str = ""
) -> pd.Series:
    """INSPIRE codes (``string`` Series) from sizes and lower-left corners (vectorised)."""

    def text(values: np.ndarray) -> pd.Series:
        return pd.Series(np.asarray(values, dtype="int64")).astype("string")

    return f"{prefix}CRS3035RES" + text(size) + "mN" + text(north) + "E" + text(east)


def cell_polygons(east: np.ndarray, north: np.ndarray, size: np.ndarray | int) -> np.ndarray:
    """Square polygons from lower-left corners and sizes (EPSG:3035 metres)."""
    east = np.asarray(east, dtype="float64")
    north = np.asarray(north, dtype="float64")
    size = np.broadcast_to(np.asarray(size, dtype="float64"), east.shape)
    return shapely.box(east, north, east + size, north + size)
