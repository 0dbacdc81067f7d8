"""Per-cell and per-region counts of addresses, households, eligible and rural-gap addresses.

Grid cells are INSPIRE / GeoGitter cells in EPSG:3035 (ETRS89-LAEA), the grid of the Zensus
and of the Breitbandatlas (domain.md 1.4, 7.1): a cell is named by the metres of its
lower-left corner, ``CRS3035RES100mN3065000E4188000`` (100 m) or
``CRS3035RES1000mN3065000E4188000`` (1 km). The caller transforms the address coordinates
to EPSG:3035 and passes plain ``x3035``/``y3035`` arrays (metres, easting and northing).

Counts here are exact. Publish them only through :func:`coverage.privacy.public.public_grid`
(cell key method), and compute region totals (:func:`region_total`) from the exact table.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from coverage.errors import InputDataError
from coverage.rural.gridcells import (
    _check_size,
    cell_lower_left,
    inspire_cell_categorical,
    inspire_cell_ids,
    parse_inspire_cell_id,
)

__all__ = [
    "BASE_COUNT_COLUMNS",
    "BASE_SHARES",
    "cell_lower_left",
    "inspire_cell_ids",
    "parse_inspire_cell_ids",
    "region_total",
    "summarise_by",
    "summarise_cells",
    "summarise_grid",
]

#: Count columns every summary carries; class columns ``addresses_<class>`` come on top.
BASE_COUNT_COLUMNS = (
    "addresses",
    "households",
    "eligible",
    "eligible_households",
    "rural_gap",
    "rural_gap_households",
)
#: Share column -> (numerator, denominator); a share is NaN where the denominator is 0.
BASE_SHARES = {
    "share_eligible": ("eligible", "addresses"),
    "share_eligible_households": ("eligible_households", "households"),
    "share_rural_gap": ("rural_gap", "addresses"),
}


def parse_inspire_cell_ids(cell_ids: Sequence[str] | pd.Series) -> pd.DataFrame:
    """Split INSPIRE ids into ``size_m``, ``x_ll``, ``y_ll`` (int64, metres, EPSG:3035).

    Raises InputDataError naming the first id that is not an INSPIRE id.
    """
    size, east, north = parse_inspire_cell_id(
        pd.Series(cell_ids, dtype="string"), allow_short=False
    )
    return pd.DataFrame({"size_m": size, "x_ll": east, "y_ll": north})


def _bool(values: npt.ArrayLike | None, n: int, name: str) -> npt.NDArray[np.bool_]:
    if values is None:
        return np.zeros(n, dtype=bool)
    if isinstance(values, np.ndarray) and values.dtype == bool:  # as the rural step has them
        if values.shape != (n,):
            raise InputDataError(f"{name} has {values.size} values for {n} addresses")
        return values
    arr = pd.array(values, dtype="boolean")
    if len(arr) != n:
        raise InputDataError(f"{name} has {len(arr)} values for {n} addresses")
    return arr.to_numpy(dtype=bool, na_value=False)


def summarise_by(
    keys: npt.ArrayLike,
    *,
    households: npt.ArrayLike | None = None,
    eligible: npt.ArrayLike | None = None,
    rural_gap: npt.ArrayLike | None = None,
    address_class: npt.ArrayLike | None = None,
    key_name: str = "key",
    count: npt.ArrayLike | None = None,
) -> pd.DataFrame:
    """Count addresses per key (a cell id, an AGS, a Kreis key ...).

    Parameters
    ----------
    keys
        One key per address; addresses with a missing key (None/NA) are left out.
    households
        Households per address (NA counts as 0); default 1 per address.
    eligible, rural_gap
        Boolean flags per address; NA counts as False.
    address_class
        Optional class label per address (e.g. white/grey/black); adds one column
        ``addresses_<class>`` per label (NA labels are not counted in any class column).
    count
        Addresses each row stands for (grouped rows: ``households`` is then the group's
        households); default 1 per row.

    Returns
    -------
    pandas.DataFrame
        One row per key, sorted by key: ``key_name``, the :data:`BASE_COUNT_COLUMNS`
        (int64), ``addresses_<class>`` (int64) and the :data:`BASE_SHARES` (float64, NaN
        where the denominator is 0).
    """
    # counts by integer key codes and bincount: no per-address frame, no string hashing when
    # the keys arrive as a categorical (the grid cells of a run do)
    key = keys if isinstance(keys, pd.Series) else pd.Series(keys)
    if not isinstance(key.dtype, pd.CategoricalDtype):
        key = key.astype("string")
    n = len(key)
    if households is None:
        hh = np.ones(n)
    elif isinstance(households, np.ndarray) and households.dtype.kind in "iu":
        hh = households  # integers already: no conversion of millions of values
    else:
        hh = pd.to_numeric(pd.Series(households), errors="coerce").fillna(0).to_numpy(float)
    if hh.shape[0] != n:
        raise InputDataError(f"households has {hh.shape[0]} values for {n} addresses")
    elig = _bool(eligible, n, "eligible")
    rural = _bool(rural_gap, n, "rural_gap") & elig
    hh = hh.astype("int64")
    codes, uniques = pd.factorize(key, use_na_sentinel=True)
    present = codes >= 0
    codes = codes[present]
    k = len(uniques)

    # addresses per row: 1, or the size of each group of addresses (``count``)
    each = np.ones(n, dtype="int64") if count is None else np.asarray(count, dtype="int64")
    if each.shape[0] != n:
        raise InputDataError(f"count has {each.shape[0]} values for {n} rows")

    everywhere = bool(present.all())

    def total(
        weights: npt.NDArray[np.int64] | None, where: npt.NDArray[np.bool_] | None = None
    ) -> npt.NDArray[np.int64]:
        """Sum of ``weights`` (None: 1 each) per key over the rows ``where`` (None: all)."""
        if not everywhere:
            weights = None if weights is None else weights[present]
            where = None if where is None else where[present]
        if where is None:
            return np.bincount(codes, weights=weights, minlength=k).astype("int64")
        w = None if weights is None else weights[where]
        return np.bincount(codes[where], weights=w, minlength=k).astype("int64")

    plain = None if count is None else each
    columns = {
        "addresses": total(plain),
        "households": total(hh),
        "eligible": total(plain, elig),
        "eligible_households": total(hh, elig),
        "rural_gap": total(plain, rural),
        "rural_gap_households": total(hh, rural),
    }
    if address_class is not None:
        cls_codes, labels = pd.factorize(pd.Series(address_class), use_na_sentinel=True)
        if len(cls_codes) != n:
            raise InputDataError(f"address_class has {len(cls_codes)} values for {n} addresses")
        for code in np.argsort(np.asarray(labels.astype(str)), kind="stable"):
            columns[f"addresses_{labels[code]}"] = total(plain, cls_codes == code)
    names = np.asarray(uniques.astype(str), dtype=object)
    order = np.argsort(names, kind="stable")  # rows sorted by key, as groupby(sort=True)
    out = pd.DataFrame({key_name: pd.array(names[order], dtype="string")})
    for col, values in columns.items():
        out[col] = values[order]
    for share, (num, den) in BASE_SHARES.items():
        denom = out[den].to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[share] = np.where(denom > 0, out[num].to_numpy(float) / denom, np.nan)
    return out


def summarise_grid(
    x3035: npt.ArrayLike,
    y3035: npt.ArrayLike,
    *,
    size_m: int = 100,
    households: npt.ArrayLike | None = None,
    eligible: npt.ArrayLike | None = None,
    rural_gap: npt.ArrayLike | None = None,
    address_class: npt.ArrayLike | None = None,
    cells: pd.Series | None = None,
) -> pd.DataFrame:
    """Counts per INSPIRE cell (100 m or 1 km) from address points in EPSG:3035.

    Same columns as :func:`summarise_by` with key ``cell_id``, plus ``x_ll``/``y_ll``
    (lower-left corner, metres, EPSG:3035). Only cells holding at least one address appear
    (empty cells are not listed). Addresses with non-finite coordinates are left out.
    ``cells``: the points' cells as :func:`inspire_cell_categorical` gives them, when the
    caller has them already.
    """
    size = _check_size(size_m)
    if cells is None:
        cells = inspire_cell_categorical(x3035, y3035, size)
    if not isinstance(cells.dtype, pd.CategoricalDtype):
        return summarise_cells(cells, households=households, eligible=eligible,
                               rural_gap=rural_gap, address_class=address_class)  # fmt: skip
    out = summarise_by(cells, households=households, eligible=eligible, rural_gap=rural_gap,
                       address_class=address_class, key_name="cell_id")  # fmt: skip
    # each cell's corner from its points, not by parsing the ids (a regex per cell that
    # holds the GIL while the gap areas run beside): the ids were written from these corners
    x_ll, y_ll, _ = cell_lower_left(x3035, y3035, size)
    codes = np.asarray(cells.cat.codes.to_numpy(), dtype=np.intp)
    if codes.shape != x_ll.shape:
        raise InputDataError(f"cells has {codes.size} values for {x_ll.size} addresses")
    named = codes >= 0
    corner_x = np.zeros(len(cells.cat.categories), dtype="int64")
    corner_y = np.zeros(len(cells.cat.categories), dtype="int64")
    corner_x[codes[named]] = x_ll[named]
    corner_y[codes[named]] = y_ll[named]
    row = pd.Index(cells.cat.categories).get_indexer(out["cell_id"])
    out.insert(1, "x_ll", corner_x[row])
    out.insert(2, "y_ll", corner_y[row])
    return out


def summarise_cells(
    cell_ids: npt.ArrayLike,
    *,
    households: npt.ArrayLike | None = None,
    eligible: npt.ArrayLike | None = None,
    rural_gap: npt.ArrayLike | None = None,
    address_class: npt.ArrayLike | None = None,
    count: npt.ArrayLike | None = None,
) -> pd.DataFrame:
    """:func:`summarise_grid` from the INSPIRE cell id of each address (or of each group of
    addresses with ``count``, as :func:`summarise_by`)."""
    out = summarise_by(
        cell_ids,
        households=households,
        eligible=eligible,
        rural_gap=rural_gap,
        address_class=address_class,
        key_name="cell_id",
        count=count,
    )
    corners = parse_inspire_cell_ids(out["cell_id"])
    out.insert(1, "x_ll", corners["x_ll"].to_numpy())
    out.insert(2, "y_ll", corners["y_ll"].to_numpy())
    return out


def region_total(
    summary: pd.DataFrame, *, name: str = "total", key_name: str | None = None
) -> pd.DataFrame:
    """One row summing every count column of a raw summary and recomputing the shares.

    ``key_name`` (default: the first column) gets the value ``name``. Coordinates
    (``x_ll``/``y_ll``) are dropped. Compute totals from the raw table: totals of a
    suppressed table would be wrong (and would let readers recover suppressed values).
    """
    key_name = key_name or str(summary.columns[0])
    shares = set(BASE_SHARES)
    counts = [
        c
        for c in summary.columns
        if c not in shares
        and c not in (key_name, "x_ll", "y_ll")
        and pd.api.types.is_numeric_dtype(summary[c])
    ]
    row: dict[str, object] = {key_name: name}
    for col in counts:
        row[col] = int(summary[col].sum())
    for share, (num, den) in BASE_SHARES.items():
        if num in row and den in row:
            den_v = float(row[den])  # type: ignore[arg-type]
            row[share] = float(row[num]) / den_v if den_v > 0 else np.nan  # type: ignore[arg-type]
    out = pd.DataFrame([row])
    out[key_name] = out[key_name].astype("string")
    return out
