"""The classification step of ``gapmap run --workers/--scheduler`` on a Dask cluster.

The client holds every address (it read them, and writes the run's outputs). It cuts them
along a Hilbert curve (:mod:`coverage.cluster.partitions`) and ships each partition, with
the address columns ``classify`` reads, its offer-list pairs and the polygons near it
(:class:`coverage.cluster.ship.Shipper`), to a worker as the worker becomes free
(:class:`coverage.cluster.ship.Tasks`). The task joins *and* classifies on the worker and
sends back compact rows, which the client writes into place as they arrive
(:class:`_Results`). Results equal the local run's row for row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import shapely

from coverage.classify import (
    ADDRESS_COLUMNS,
    OFFER_COLUMNS,
    RESULT_COLUMNS,
    OfferColumns,
    classify,
    classify_offers,
)
from coverage.cluster.connect import cluster_errors, connect
from coverage.cluster.partitions import partition, partition_count, row_slice
from coverage.cluster.polygons import Polygons, PolygonSet
from coverage.cluster.ship import Shipper, Tasks, broadcast, narrowest
from coverage.kernel.join import merge_pairs
from coverage.profiles import Profile

__all__ = ["classify_distributed"]

#: integer result columns that travel in the narrowest dtype and arrive as int32
_NETWORK_COLUMNS = ("networks_now", "networks_planned")


def classify_distributed(
    x: np.ndarray,
    y: np.ndarray,
    polygons: np.ndarray | Sequence[shapely.Geometry],
    addresses: pd.DataFrame,
    offers: pd.DataFrame,
    profile: Profile,
    *,
    as_of: date,
    include_planned: bool = True,
    list_pairs: tuple[np.ndarray, np.ndarray] | None = None,
    scheduler: str | Any | None = None,
    workers: int | None = None,
    partitions: int | None = None,
    chunk_size: int = 1_000_000,
    cell_size: float | None = None,
) -> tuple[pd.DataFrame, int]:
    """The classification step on a Dask cluster: each address classified over its pairs.

    Equal, row for row, to :func:`coverage.classify.classify` of ``addresses`` over the
    pairs of :func:`coverage.kernel.join.points_in_polygons` (polygon ``j`` is row ``j`` of
    ``offers``) merged with ``list_pairs``, which is what ``gapmap run`` computes locally.
    The points are cut into spatial partitions as in
    :func:`coverage.cluster.join.points_in_polygons_distributed`; each partition's task
    joins *and* classifies its addresses on the worker, so only compact result rows come
    back (about 20 bytes per address, the offer columns as the two offer rows they come
    from, instead of 2-3 bytes per pair), and the client only writes them into place as
    they arrive and takes the offer columns from the offer rows.

    Parameters
    ----------
    x, y, polygons
        As for :func:`coverage.cluster.join.points_in_polygons_distributed`.
    addresses
        One row per point; only :data:`~coverage.classify.ADDRESS_COLUMNS` travel.
    offers
        The canonical offer table: the coverage polygons' rows first (in order), then any
        offer-list rows. Sent once to every worker.
    profile, as_of, include_planned
        As for :func:`coverage.classify.classify`.
    list_pairs
        (address positions, ``offers`` rows) matched by key rather than location.
    scheduler, workers, partitions, chunk_size, cell_size
        As for :func:`coverage.cluster.join.points_in_polygons_distributed`.

    Returns
    -------
    results, pairs
        :data:`~coverage.classify.RESULT_COLUMNS` with a RangeIndex aligned to
        ``addresses``, and the number of address-offer pairs classified.
    """
    x = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    y = np.ascontiguousarray(y, dtype=np.float64).reshape(-1)
    polygon_set = PolygonSet(polygons)
    n = len(x)
    if len(y) != n or len(addresses) != n:
        raise ValueError(f"x, y and addresses differ in length: {n}, {len(y)}, {len(addresses)}")
    if len(offers) < len(polygon_set):
        raise ValueError(
            f"offers has {len(offers)} rows, fewer than the {len(polygon_set)} polygons"
        )
    # text columns travel as categories: codes, not one Python string per address
    attrs = pd.DataFrame(
        {c: addresses[c].astype("category").array for c in ADDRESS_COLUMNS if c in addresses},
        index=pd.RangeIndex(n),
    )
    list_addr, list_offer = (np.asarray(a, dtype=np.int64) for a in (list_pairs or ([], [])))
    options = {"as_of": as_of, "include_planned": include_planned}
    if n == 0:
        return classify(attrs, offers, list_addr, list_offer, profile, **options), 0

    with connect(scheduler, workers) as client:
        worker_list = sorted(client.scheduler_info().get("workers", {}))
        found = partition(x, y, partition_count(n, len(worker_list), partitions))
        parts = list(found.parts) if found else []
        # points with non-finite coordinates are in no partition: one more group
        unplaced = np.flatnonzero(~(np.isfinite(x) & np.isfinite(y)))
        extra = _partition_extras(n, [*parts, unplaced], attrs, list_addr, list_offer)
        offers_data = broadcast(client, offers)
        args = (offers_data, profile, options, chunk_size, cell_size)
        shipper = Shipper(
            client,
            x,
            y,
            polygon_set,
            found,
            _classify_partition,
            args,
            extra,
            point_ids=False,  # the client keeps them
        )
        tasks = Tasks(shipper, worker_list)
        if len(unplaced):  # classified over their offer-list pairs only
            batch = (x[unplaced], y[unplaced], None, Polygons.empty())
            batch += extra(len(parts), unplaced)
            tasks.add(client.submit(_classify_partition, batch, *args, pure=False), unplaced)
        results = _Results(n, OfferColumns(offers))
        with cluster_errors(scheduler):
            for (rows, pairs), group in tasks:
                results.add(group, rows, pairs)
        del tasks, offers_data
    return results.frame(), results.pairs


class _Results:
    """The result rows of :func:`classify_distributed`, written into place as the tasks'
    compact rows arrive (so only the last task's share of this work is left once every
    worker is done).

    Each column of an arriving group is written straight into place, the offer columns
    taken from the group's offer rows. Categorical codes go through one growing list of
    categories per column, and are renumbered at the end only where that list is not
    sorted. The result is what :func:`coverage.classify.concat_results` of the rows, put
    back in address order, gives.
    """

    def __init__(self, n: int, offer_columns: OfferColumns) -> None:
        self.n, self.pairs, self.offer_columns = n, 0, offer_columns
        self.offer_values = offer_columns.empty(n)
        self.values: dict[str, np.ndarray] = {}
        self.categories: dict[str, pd.Index] = {}

    def add(self, idx: np.ndarray, rows: pd.DataFrame, pairs: int) -> None:
        """The compact rows of the addresses ``idx`` (see :func:`_classify_partition`)."""
        self.pairs += pairs
        where = row_slice(idx)
        best, planned = rows["best"].to_numpy(), rows["planned"].to_numpy()
        self.offer_columns.fill(self.offer_values, where, best, planned)
        for col in rows.columns.drop(["best", "planned"]):
            column = rows[col]
            if isinstance(column.dtype, pd.CategoricalDtype):
                values, codes = self._codes(col, column.array), column.cat.codes.to_numpy()
            else:
                values, codes = None, column.to_numpy()
            if col not in self.values:
                dtype = np.int32 if values is not None or col in _NETWORK_COLUMNS else codes.dtype
                self.values[col] = np.empty(self.n, dtype=dtype)
            self.values[col][where] = codes if values is None else values[codes]

    def _codes(self, col: str, values: pd.Categorical) -> np.ndarray:
        """This column's codes for each of ``values``' categories, then -1 (missing)."""
        categories = values.categories
        known = self.categories.setdefault(col, categories)
        where = known.get_indexer(categories)
        if (where < 0).any():  # new categories go to the end
            known = self.categories[col] = known.append(categories[where < 0])
            where = known.get_indexer(categories)
        return np.append(where, -1).astype(np.int32)

    def frame(self) -> pd.DataFrame:
        """All rows, in address order, columns :data:`RESULT_COLUMNS`."""
        columns = dict(self.offer_columns.frame(self.offer_values).items())
        for col, values in self.values.items():
            if col in self.categories:
                categories = self.categories[col]
                order = categories.argsort()
                if (np.diff(order) < 0).any():  # renumber in sorted order
                    renumber = np.empty(len(order) + 1, dtype=np.int32)
                    renumber[order] = np.arange(len(order))
                    renumber[-1] = -1
                    values = renumber[values]
                    categories = categories[order]
                codes = values.astype(np.min_scalar_type(-max(len(categories), 1)))
                columns[col] = pd.Categorical.from_codes(codes, categories, validate=False)
            else:
                columns[col] = values
        frame = pd.DataFrame(columns, index=pd.RangeIndex(self.n), copy=False)
        return frame[list(RESULT_COLUMNS)]


def _partition_extras(
    n: int,
    groups: list[np.ndarray],
    attrs: pd.DataFrame,
    list_addr: np.ndarray,
    list_offer: np.ndarray,
) -> Callable[[int, np.ndarray], tuple[Any, ...]]:
    """``extra`` of :class:`~coverage.cluster.ship.Shipper` for :func:`_classify_partition`:
    group ``j``'s address columns and its offer-list pairs, with addresses as positions in
    the group."""
    group_of = np.zeros(n, dtype=np.int32)
    position = np.zeros(n, dtype=np.int64)
    for j, idx in enumerate(groups):
        group_of[idx] = j
        position[idx] = np.arange(len(idx))
    owner = group_of[list_addr]
    by_group = np.argsort(owner, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=len(groups)))])

    def extra(j: int, idx: np.ndarray) -> tuple[Any, ...]:
        rows = by_group[bounds[j] : bounds[j + 1]]
        part = attrs.iloc[row_slice(idx)].reset_index(drop=True)
        return part, position[list_addr[rows]], list_offer[rows]

    return extra


def _classify_partition(
    batch: tuple[Any, ...],
    offers: pd.DataFrame,
    profile: Profile,
    options: dict[str, Any],
    chunk_size: int,
    cell_size: float | None,
) -> tuple[pd.DataFrame, int]:
    """Worker task: join and classify one partition's addresses (see
    :func:`classify_distributed`).

    Returns their result rows in the partition's order, and the number of pairs. The rows
    travel compact: the columns taken from offers (:data:`OFFER_COLUMNS`, 56 of about 70
    bytes per address) are replaced by the two offer rows they come from, ``best`` and
    ``planned`` (both, like the network counts, in the narrowest integer type).
    """
    x, y, _, near, attrs, list_addr, list_offer = batch
    # q: the polygon's row in `offers`
    p, q = near.join(x, y, dtype=np.int32, chunk_size=chunk_size, cell_size=cell_size)
    p, q = merge_pairs(p, q, list_addr, list_offer)  # ordered as in the local run
    found = classify_offers(attrs, offers, p, q, profile, **options)
    rows = found.results.drop(columns=list(OFFER_COLUMNS))
    for col in _NETWORK_COLUMNS:
        rows[col] = rows[col].astype(narrowest(rows[col].to_numpy()))
    rows_dtype = np.min_scalar_type(-len(offers))  # offer rows and -1 (none)
    rows["best"] = found.best.astype(rows_dtype)
    rows["planned"] = found.planned.astype(rows_dtype)
    return rows, len(p)
