"""The address-offer pairs of a run: the kernel's (by location) merged with the offer lists'
(by key), chunk by chunk, so a run never holds all pairs at once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pandas as pd

from coverage.kernel.join import ChunkedJoin, iter_points_in_polygons, merge_pairs


def offer_list_pairs(
    polygons: np.ndarray,
    list_tables: list[pd.DataFrame],
    list_pairs: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """The offer lists' (address, offer row) pairs, sorted by address then offer.

    Offer rows count in the offer table: the coverage polygons, then the rows of each
    offer list in turn.
    """
    offsets = np.cumsum([len(polygons), *(len(t) for t in list_tables)])[:-1]
    addr = [np.asarray(a, dtype=np.int64) for a, _ in list_pairs]
    offer = [
        np.asarray(o, dtype=np.int64) + off for (_, o), off in zip(list_pairs, offsets, strict=True)
    ]
    a = np.concatenate(addr) if addr else np.empty(0, np.int64)
    o = np.concatenate(offer) if offer else np.empty(0, np.int64)
    order = np.lexsort((o, a))
    return a[order], o[order]


class PairChunks:
    """Address-offer pairs chunk by chunk: ``(start, stop, address_idx, offer_idx)``.

    ``address_idx`` is local to the chunk ``[start, stop)``; pairs are sorted by address, then
    offer. Offers are the coverage polygons followed by the rows of each offer list (whose
    pairs, ``list_pairs``, come from address matching); ``join_s`` accumulates the time spent
    producing them.
    """

    def __init__(
        self,
        source: Iterator[tuple[int, int, np.ndarray, np.ndarray]],
        list_pairs: tuple[np.ndarray, np.ndarray],
    ) -> None:
        self.source, self.join_s = source, 0.0
        self.list_addr, self.list_offer = list_pairs

    def __iter__(self) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
        it = iter(self.source)
        while True:
            t = time.perf_counter()
            try:
                start, stop, p, q = next(it)
            except StopIteration:
                return
            p, q = with_list_pairs(start, stop, p, q, (self.list_addr, self.list_offer))
            self.join_s += time.perf_counter() - t
            yield start, stop, p, q


def with_list_pairs(
    start: int,
    stop: int,
    p: np.ndarray,
    q: np.ndarray,
    list_pairs: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's pairs of the addresses ``start:stop`` (local indices) merged with the
    offer lists' pairs of those addresses (:func:`offer_list_pairs`), sorted."""
    list_addr, list_offer = list_pairs
    lo, hi = np.searchsorted(list_addr, [start, stop])
    return merge_pairs(p, q, list_addr[lo:hi] - start, list_offer[lo:hi])


def pair_chunks(
    x: np.ndarray,
    y: np.ndarray,
    polygons: np.ndarray,
    list_tables: list[pd.DataFrame],
    list_pairs: list[tuple[np.ndarray, np.ndarray]],
    chunk_size: int,
) -> PairChunks:
    """The pairs of the coverage polygons (this machine's kernel) plus the offer lists'."""
    source = iter_points_in_polygons(x, y, polygons, chunk_size=chunk_size)
    return PairChunks(source, offer_list_pairs(polygons, list_tables, list_pairs))


def chunked_join(
    x: np.ndarray, y: np.ndarray, polygons: np.ndarray, chunk_size: int
) -> ChunkedJoin:
    """The coverage polygons' join prepared for chunks computed on several threads."""
    return ChunkedJoin(x, y, polygons, chunk_size=chunk_size)
