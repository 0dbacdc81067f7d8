"""Record keys and cell keys of the cell key method.

Every address gets a record key, a pseudo-random integer in ``0..P-1`` (``P`` = the prime
2^28 - 57), computed with SipHash-2-4 (keyed by a secret) from its ``address_id``: the same
address always has the same key under the same secret, and nobody without the secret can
compute it. Households are records of their own: an address with ``h`` households adds
``h * u mod P`` to a household cell key, ``u`` being a second keyed hash of the address
(uniform on ``0..P-1`` for ``0 < h < P`` because ``P`` is prime).

A cell key is the sum of the keys of the records in the cell, modulo ``P``, divided by
``P``: a number in [0, 1) that depends only on which records the cell holds (Thompson,
Broadfoot and Elazar 2013; sdcTools ``cellKey``: ``ck = sum(rk) mod 1``). Integer sums
keep it exact and independent of the order of summation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import numpy as np
import numpy.typing as npt
import pandas as pd

from coverage.errors import GapmapError
from coverage.strhash import hash_strings

__all__ = ["MODULUS", "CellKeyer", "cell_keys"]

#: the modulus of record keys and cell keys (a prime just below 2^28)
MODULUS = 2**28 - 57
_HALF, _LOW = 14, 2**14 - 1


def _hash_key(secret: bytes, purpose: str) -> str:
    digest = hmac.new(secret, purpose.encode("ascii"), hashlib.sha256).digest()
    return base64.b64encode(digest[:12]).decode("ascii")  # 16 ASCII characters: 96 key bits


class CellKeyer:
    """Record keys for addresses and their households, from a secret of >= 16 bytes."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise GapmapError("cell key secret: at least 16 bytes are needed")
        self._address_key = _hash_key(secret, "gapmap record key: address")
        self._household_key = _hash_key(secret, "gapmap record key: households")

    @staticmethod
    def _ids(address_ids: pd.Series) -> pd.Series:
        """The ids as strings (NA as ""), converted once for both keys."""
        return pd.Series(address_ids, dtype="string").fillna("")

    @staticmethod
    def _hash(ids: pd.Series, key: str) -> npt.NDArray[np.int64]:
        # pandas' keyed SipHash of each string (``pandas.util.hash_array``, as
        # ``hash_pandas_object`` computes it for a string Series), compiled (coverage.strhash)
        h = hash_strings(ids, key)
        return (h % np.uint64(MODULUS)).astype(np.int64)

    def address_keys(self, address_ids: pd.Series) -> npt.NDArray[np.int64]:
        """One record key per address (``0..MODULUS-1``)."""
        return self._hash(self._ids(address_ids), self._address_key)

    def household_keys(
        self, address_ids: pd.Series, households: npt.ArrayLike
    ) -> npt.NDArray[np.int64]:
        """Per address the sum of its households' record keys (mod ``MODULUS``)."""
        return self._household_sums(self._ids(address_ids), households)

    def record_keys(
        self, address_ids: pd.Series, households: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """:meth:`address_keys` and :meth:`household_keys` at once (the ids converted to
        text once for both)."""
        ids = self._ids(address_ids)
        return self._hash(ids, self._address_key), self._household_sums(ids, households)

    def _household_sums(self, ids: pd.Series, households: npt.ArrayLike) -> npt.NDArray[np.int64]:
        hh = pd.to_numeric(pd.Series(households), errors="coerce").fillna(0).to_numpy("int64")
        u = self._hash(ids, self._household_key)
        return (hh % MODULUS) * u % MODULUS  # < 2^56: exact in int64


def cell_keys(
    rows: npt.ArrayLike, n_rows: int, keys: npt.ArrayLike, mask: npt.ArrayLike | None = None
) -> npt.NDArray[np.float64]:
    """Cell keys in [0, 1): per row ``r`` the sum of ``keys`` where ``rows == r`` (and
    ``mask``), modulo ``MODULUS``, over ``MODULUS``. Rows < 0 belong to no cell. ``keys`` may
    be record keys or key sums of already grouped records (sums are additive mod ``P``)."""
    r = np.asarray(rows, dtype=np.int64)
    k = np.asarray(keys, dtype=np.int64) % MODULUS
    sel = r >= 0
    if mask is not None:
        sel &= np.asarray(mask, dtype=bool)
    r, k = r[sel], k[sel]
    # keys < 2^28 split into 14-bit halves: each half's float sum stays below 2^53 (exact)
    # for up to 2^39 records per cell
    hi = np.bincount(r, weights=k >> _HALF, minlength=n_rows).astype(np.int64) % MODULUS
    lo = np.bincount(r, weights=k & _LOW, minlength=n_rows).astype(np.int64) % MODULUS
    return ((hi << _HALF) % MODULUS + lo) % MODULUS / MODULUS


def key_sums(keys: npt.ArrayLike) -> np.int64:
    """The sum of keys modulo ``MODULUS`` (for grouping records before the cell keys)."""
    return np.int64(int(np.asarray(keys, dtype=np.int64).sum() % MODULUS))
