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
import numpy.typing as npt
import pandas as pd
import shapely

from coverage.errors import InputDataError

_PATTERN = r"^(?:[A-Za-z]{2}_)?(?P<full>CRS3035RES)?(?P<size>\d+)(?P<unit>m|km)N(?P<north>\d+)E(?P<east>\d+)$"


def parse_inspire_cell_id(
    ids: Sequence[str] | np.ndarray | pd.Series,
    *,
    source: str = "cell ids",
    allow_short: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split INSPIRE cell codes into (size_m, east, north) arrays (int64, metres, lower-left).

    ``allow_short`` False accepts only the full ``CRS3035RES...`` form (as gapmap writes it).

    Raises
    ------
    InputDataError
        Any code not in the INSPIRE form, or whose corner is not a multiple of its size
        (rows named, 1-based).
    """
    series = pd.Series(np.asarray(ids, dtype=object), dtype="string").str.strip()
    parts = series.str.extract(_PATTERN)
    bad = parts["size"].isna().to_numpy(dtype=bool)
    if not allow_short:
        bad = bad | parts["full"].isna().to_numpy(dtype=bool)
    if bad.any():
        rows = ", ".join(str(int(i) + 1) for i in np.flatnonzero(bad)[:5])
        raise InputDataError(
            f"{source}: {int(bad.sum())} value(s) are not an INSPIRE id (rows {rows}, first: "
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


_SIZES = {100: "100m", 1000: "1000m"}
#: cell keys are counted over their whole range (no sort) when it spans at most this many
#: keys or twice the points, whichever is more
_DENSE_KEYS = 2_000_000


def _check_size(size_m: int) -> int:
    size = int(size_m)
    if size != size_m or size <= 0:
        raise InputDataError(
            f"grid cell size must be a positive whole number of metres, got {size_m!r}"
        )
    return size


def cell_lower_left(
    x3035: npt.ArrayLike, y3035: npt.ArrayLike, size_m: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Lower-left corner (metres, EPSG:3035) of the cell holding each point.

    A point on a cell edge belongs to the cell to its north-east (floor semantics), as in
    INSPIRE. Returns ``(x_ll, y_ll, valid)``; non-finite coordinates give ``valid`` False
    and corner 0.
    """
    size = _check_size(size_m)
    x = np.asarray(x3035, dtype="float64")
    y = np.asarray(y3035, dtype="float64")
    if x.shape != y.shape:
        raise InputDataError(f"x3035 and y3035 differ in length ({x.size} vs {y.size})")
    valid = np.isfinite(x) & np.isfinite(y)
    xs = np.where(valid, x, 0.0)
    ys = np.where(valid, y, 0.0)
    x_ll = (np.floor(xs / size) * size).astype("int64")
    y_ll = (np.floor(ys / size) * size).astype("int64")
    return x_ll, y_ll, valid


def inspire_cell_ids(
    x3035: npt.ArrayLike, y3035: npt.ArrayLike, size_m: int
) -> npt.NDArray[np.object_]:
    """INSPIRE cell ids ``CRS3035RES{size}mN{north_ll}E{east_ll}`` for points in EPSG:3035.

    Parameters
    ----------
    x3035, y3035
        Easting and northing in metres, EPSG:3035. Points on a cell edge go to the cell to
        their north-east.
    size_m
        Cell size in metres, e.g. 100 or 1000 (written ``100m``/``1000m`` as in the Zensus).

    Returns
    -------
    numpy.ndarray
        Object array of ``str``; ``None`` where a coordinate is NaN or infinite.
    """
    codes, names = _cell_codes(x3035, y3035, size_m)
    out = np.full(codes.shape, None, dtype=object)
    valid = codes >= 0
    out[valid] = names[codes[valid]]
    return out


def inspire_cell_categorical(x3035: npt.ArrayLike, y3035: npt.ArrayLike, size_m: int) -> pd.Series:
    """:func:`inspire_cell_ids` as a categorical Series: each cell's id is held once."""
    codes, names = _cell_codes(x3035, y3035, size_m)
    return pd.Series(pd.Categorical.from_codes(codes, pd.Index(names, dtype="string")))


def _cell_codes(
    x3035: npt.ArrayLike, y3035: npt.ArrayLike, size_m: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.object_]]:
    """Per point the position of its cell among the distinct cells (-1 for non-finite
    coordinates), and the distinct cells' ids ordered by (north, east)."""
    size = _check_size(size_m)
    x_ll, y_ll, valid = cell_lower_left(x3035, y3035, size)
    codes = np.full(x_ll.shape, -1, dtype=np.intp)
    if not valid.any():
        return codes, np.empty(0, dtype=object)
    north, east = y_ll[valid], x_ll[valid]
    # one name per distinct cell: count or sort a packed int64 key (cell row, cell column)
    # instead of a row-wise unique over (north, east) pairs
    row, col = north // size, east // size
    rmin, cmin = row.min(), col.min()
    row -= rmin
    col -= cmin
    ncols = int(col.max()) + 1
    span = (int(row.max()) + 1) * ncols
    whole = not (north % size).any() and not (east % size).any()  # else the row misses it
    if span <= max(_DENSE_KEYS, 2 * north.size) and whole:
        # the distinct keys in order by a count over their range, no sort; the corners,
        # whole multiples of the size, come back exactly from row and column
        key = row * ncols + col
        present = np.bincount(key, minlength=span) > 0
        inverse = (np.cumsum(present, dtype=np.intp) - 1)[key]
        cell_key = np.flatnonzero(present)
        cell_n = (cell_key // ncols + rmin) * size
        cell_e = (cell_key % ncols + cmin) * size
    elif span < 2**62:
        key = row * ncols + col
        order = np.argsort(key)
        ordered = key[order]
        first = np.ones(key.size, dtype=bool)
        np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
        inverse = np.empty(key.size, dtype=np.intp)
        inverse[order] = np.cumsum(first) - 1
        cell_n, cell_e = north[order[first]], east[order[first]]
    else:  # cells spread too far apart to pack
        uniq, inverse = np.unique(np.stack([north, east], axis=1), axis=0, return_inverse=True)
        cell_n, cell_e = uniq[:, 0], uniq[:, 1]
    label = _SIZES.get(size, f"{size}m")
    names = np.array(
        [
            f"CRS3035RES{label}N{n}E{e}"
            for n, e in zip(cell_n.tolist(), cell_e.tolist(), strict=True)
        ],
        dtype=object,
    )
    codes[valid] = inverse.reshape(-1)
    return codes, names


def inspire_cell_id(
    x: np.ndarray | Sequence[float], y: np.ndarray | Sequence[float], size: int, *, prefix: str = ""
) -> np.ndarray:
    """INSPIRE code of the cell containing each point (x, y in EPSG:3035 metres).

    A point on a cell edge belongs to the cell to its north-east (floor division).
    Returns an object array of str; non-finite input -> None. ``prefix`` (e.g. ``DE_``) is
    put in front of every code.
    """
    out = inspire_cell_ids(x, y, size)
    if prefix:
        ok = out != None  # noqa: E711 - elementwise on an object array
        out[ok] = [prefix + code for code in out[ok]]
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
