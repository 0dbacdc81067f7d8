"""The result columns that come from an address's offers (best existing and best planned:
provider, technology, speeds, source, date), filled from the two offer rows they come from.

Kept apart from :mod:`coverage.classify` so that the Dask path can rebuild them from the
compact rows its workers send back (:class:`OfferColumns`).
"""

from __future__ import annotations

from typing import Final, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

#: result columns that are attributes of an address's best existing or best planned offer:
#: name -> (which offer, offer column, dtype)
OFFER_COLUMNS: Final[dict[str, tuple[str, str, str]]] = {
    "best_provider": ("best", "provider", "category"),
    "best_technology": ("best", "technology", "category"),
    "best_down_mbps": ("best", "down_mbps", "float64"),
    "best_up_mbps": ("best", "up_mbps", "float64"),
    "best_latency_ms": ("best", "latency_ms", "float64"),
    "best_source": ("best", "source", "category"),
    "planned_provider": ("planned", "provider", "category"),
    "planned_technology": ("planned", "technology", "category"),
    "planned_down_mbps": ("planned", "down_mbps", "float64"),
    "planned_up_mbps": ("planned", "up_mbps", "float64"),
    "planned_available_from": ("planned", "available_from", "datetime64[ms]"),
}


class _OfferColumn(NamedTuple):
    """One offer column, converted once so that any addresses' values are one gather.

    ``values`` holds the value of every offer row with a missing value appended, which
    row -1 (no offer) takes. For ``category`` they are codes into ``categories``
    (-1: missing): the text exists once per distinct value, whatever the number of
    addresses.
    """

    values: np.ndarray
    categories: pd.Index | None

    @classmethod
    def of(cls, offers: pd.DataFrame, col: str, dtype: str) -> _OfferColumn:
        """Column ``col`` of ``offers`` as ``dtype`` (all missing where there is none)."""
        if dtype == "category":
            if col in offers:
                codes, uniques = pd.factorize(offers[col].astype("string"), sort=True)
            else:
                codes, uniques = np.full(len(offers), -1), []
            codes = np.append(codes, -1).astype(np.min_scalar_type(-max(len(uniques), 1)))
            return cls(codes, pd.Index(uniques, dtype="string"))
        kind = np.dtype(dtype).kind
        missing = np.datetime64("NaT") if kind == "M" else np.nan
        if col not in offers:
            return cls(np.full(len(offers) + 1, missing, dtype=dtype), None)
        column = offers[col]
        if column.dtype.kind in "fiu" and kind == "f":
            values = column.to_numpy(dtype=dtype, na_value=np.nan)
        elif column.dtype.kind == "M" and kind == "M":
            values = column.to_numpy(dtype=dtype)
        else:  # element-wise, so converting before the gathers gives what converting after did
            values = column.astype(dtype).to_numpy(dtype=dtype)
        return cls(np.append(values, np.array([missing], dtype=dtype)), None)

    def take(self, rows: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The values of offer ``rows`` (-1: missing), into ``out`` if given."""
        # "wrap" sends -1 to the appended missing value, and fills ``out`` directly ("raise"
        # gathers into a temporary first)
        return np.take(self.values, rows, out=out, mode="wrap")

    def series(self, values: np.ndarray) -> pd.Series:
        """Gathered ``values`` as the result column (no copy)."""
        if self.categories is not None:
            values = pd.Categorical.from_codes(values, categories=self.categories, validate=False)
        return pd.Series(values, copy=False)


def _categories(values: np.ndarray | pd.Series) -> pd.Series:
    """Text values as a categorical Series of strings (NA stays NA)."""
    strings = values.astype("string") if isinstance(values, pd.Series) else _strings(values)
    return pd.Series(pd.Categorical(strings))


def _strings(values: np.ndarray) -> pd.Series:
    """Object array of ``str`` (None/NaN = NA) as a ``string`` Series, via one Arrow
    conversion (about twice as fast as ``pd.Series(values, dtype="string")``)."""
    try:
        arr = pa.array(np.asarray(values, dtype=object), type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # non-str values: let pandas stringify them
        return pd.Series(values, dtype="string")
    return pd.Series(pd.array(arr, dtype="string"))


class OfferColumns:
    """The result columns of :data:`OFFER_COLUMNS` for any addresses: attributes of each
    address's best existing offer (row ``best[i]`` of ``offers``) and best planned offer
    (-1: none, NA). Each offer column is converted once; then every address's value is one
    gather per column, at once (:meth:`__call__`) or a part of the addresses at a time
    (:meth:`empty`, :meth:`fill`, :meth:`frame`).
    """

    def __init__(self, offers: pd.DataFrame) -> None:
        self._columns = {
            name: (which, _OfferColumn.of(offers, col, dtype))
            for name, (which, col, dtype) in OFFER_COLUMNS.items()
        }

    def __call__(self, best: np.ndarray, planned: np.ndarray) -> pd.DataFrame:
        rows = {"best": best, "planned": planned}
        return self.frame(
            {name: column.take(rows[which]) for name, (which, column) in self._columns.items()}
        )

    def empty(self, n: int) -> dict[str, np.ndarray]:
        """Uninitialised values of every offer column for ``n`` addresses."""
        return {
            name: np.empty(n, column.values.dtype) for name, (_, column) in self._columns.items()
        }

    def fill(
        self,
        values: dict[str, np.ndarray],
        where: slice | np.ndarray,
        best: np.ndarray,
        planned: np.ndarray,
    ) -> None:
        """Write the values of addresses ``where`` (a slice or positions in :meth:`empty`'s
        arrays), whose offer rows are ``best`` and ``planned``, into place."""
        rows = {"best": best, "planned": planned}
        for name, (which, column) in self._columns.items():
            if isinstance(where, slice):  # straight into place
                column.take(rows[which], out=values[name][where])
            else:
                values[name][where] = column.take(rows[which])

    def frame(self, values: dict[str, np.ndarray]) -> pd.DataFrame:
        """The offer columns of :meth:`empty`'s arrays once all are filled (no copies)."""
        columns = {name: column.series(values[name]) for name, (_, column) in self._columns.items()}
        n = len(next(iter(values.values()))) if values else 0
        # the gathered arrays are new: no copy (pandas copies arrays by default)
        return pd.DataFrame(columns, index=pd.RangeIndex(n), copy=False)
