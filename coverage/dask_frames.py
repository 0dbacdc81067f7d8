"""Classification of a dask-geopandas frame of addresses: the workers read, join and
classify their own partitions, so no address passes through the client.

:func:`coverage.distributed.classify_distributed` serves ``gapmap run``: the client holds
every address (it reads them, and writes the run's outputs), cuts them along a Hilbert
curve and ships the partitions. Beyond one machine's memory (the EU's addresses) the
addresses stay where they are: a ``dask_geopandas.GeoDataFrame`` (typically
``dask_geopandas.read_parquet`` of GeoParquet parts, spatially sorted, e.g. by
``spatial_shuffle()``), and :func:`classify_frame` returns a lazy Dask frame of result rows,
one partition per address partition, which the workers write or reduce themselves
(``to_parquet``, ``value_counts``, ``groupby``).

Data flow:

1. the partitions' extents: ``addresses.spatial_partitions`` (GeoParquet parts written by
   geopandas or dask-geopandas carry their bounding boxes), computed once if unknown;
2. per partition, the client picks the polygons whose bounding box meets the partition's
   extent and scatters them once as WKB (:class:`coverage.distributed._Shipper`'s format;
   the WKB of each polygon is converted once), with the offer table broadcast;
3. per partition, a task reads the partition, joins its points with the local kernel and
   classifies them: :data:`~coverage.classify.RESULT_COLUMNS`, indexed like the addresses.

Dask and dask-geopandas are optional: imported only when :func:`classify_frame` runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import shapely

from coverage.classify import ADDRESS_COLUMNS, classify
from coverage.distributed import _INSTALL_HINT, _pack_wkb, _polygon_wkb, _unpack_wkb
from coverage.errors import GapmapError, InputDataError
from coverage.join import points_in_polygons
from coverage.join_reduce import _as_geometry_array
from coverage.profiles import Profile

__all__ = ["classify_frame"]


def classify_frame(
    addresses: Any,
    polygons: np.ndarray | Any,
    offers: pd.DataFrame,
    profile: Profile,
    *,
    as_of: date,
    include_planned: bool = True,
    keep: Sequence[str] = ("address_id",),
    client: Any = None,
) -> Any:
    """The classification step over a dask-geopandas frame of address points; lazy.

    Parameters
    ----------
    addresses : dask_geopandas.GeoDataFrame
        Address points in the polygons' projected CRS (EPSG:25832 in Germany), with the
        columns of :data:`~coverage.classify.ADDRESS_COLUMNS` where present. Missing or
        empty points match no polygon. Spatially compact partitions (sorted GeoParquet
        parts, ``spatial_shuffle()``) need only the polygons near them.
    polygons : array or sequence of shapely geometries
        Coverage areas; polygon ``j`` is row ``j`` of ``offers``.
    offers : pandas.DataFrame
        The canonical offer table (the polygons' rows first, in order).
    profile, as_of, include_planned
        As for :func:`coverage.classify.classify`.
    keep : sequence of str
        Address columns carried into the result, in front, where present (default
        ``address_id``: the key to join the results back, as ``spatial_shuffle`` replaces
        the index; add ``ags`` to group by Gemeinde on the workers).
    client : distributed.Client, optional
        Default: the current client (``distributed.get_client()``). The polygons and
        offers are scattered through it and stay on the cluster while the result lives.

    Returns
    -------
    dask.dataframe.DataFrame
        The ``keep`` columns, then :data:`~coverage.classify.RESULT_COLUMNS`, per address,
        indexed and partitioned like ``addresses``; row for row what :func:`coverage.classify.classify` gives for the
        same points computed locally. Categorical columns have unknown categories
        (each partition has its own).

    Raises
    ------
    GapmapError
        Dask, distributed or dask-geopandas is missing, or there is no client.
    InputDataError
        ``addresses`` is not a dask-geopandas frame or is in degrees (the points must be in
        the polygons' projected CRS); when computed: a geometry that is not a point.
    """
    try:
        import dask
        import dask.dataframe as dd
        import dask_geopandas
        from dask.dataframe.utils import clear_known_categories
        from distributed import get_client
    except ImportError as exc:
        raise GapmapError(
            f"classifying a Dask frame needs dask, distributed and dask-geopandas ({exc}); "
            f"install them with {_INSTALL_HINT} 'dask-geopandas>=0.4'"
        ) from exc
    if not isinstance(addresses, dask_geopandas.GeoDataFrame):
        raise InputDataError(
            f"addresses must be a dask_geopandas.GeoDataFrame, got {type(addresses).__name__}; "
            "read them with dask_geopandas.read_parquet(...) or "
            "dask_geopandas.from_geopandas(frame, npartitions=...)"
        )
    crs = addresses.crs
    if crs is not None and crs.is_geographic:
        raise InputDataError(
            f"addresses are in {crs.name} (degrees); the coverage polygons are in metres: "
            "reproject first, e.g. addresses.to_crs(25832)"
        )
    geoms = _as_geometry_array(polygons)
    if len(offers) < len(geoms):
        raise ValueError(f"offers has {len(offers)} rows, fewer than the {len(geoms)} polygons")
    if client is None:
        try:
            client = get_client()
        except ValueError as exc:
            raise GapmapError(
                "classify_frame needs a Dask client: connect one first, e.g. "
                "distributed.Client('tcp://host:8786'), or pass client="
            ) from exc

    extents = addresses.spatial_partitions
    if extents is not None:
        boxes = shapely.bounds(np.asarray(extents.values, dtype=object))  # (partitions, 4)
    else:  # unknown: one pass over the data (finite coordinates only)
        boxes = addresses.geometry.map_partitions(_extent, meta=_extent(addresses._meta.geometry))
        boxes = boxes.compute().to_numpy(dtype=np.float64)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    bounds = shapely.bounds(geoms)  # NaN for missing: compares False
    wkb, converted = _polygon_wkb(geoms)
    poly_dtype = np.min_scalar_type(max(len(geoms) - 1, 0))

    polygon_batches = []
    for x0, y0, x1, y1 in boxes:
        near = np.flatnonzero(
            present
            & (bounds[:, 0] <= x1)
            & (bounds[:, 2] >= x0)
            & (bounds[:, 1] <= y1)
            & (bounds[:, 3] >= y0)
        )
        new = near[~converted[near]]
        wkb[new] = shapely.to_wkb(geoms[new])
        converted[new] = True
        polygon_batches.append((near.astype(poly_dtype), *_pack_wkb(wkb[near].tolist())))
    # one scatter call: the batches spread over the workers, the offers to every worker
    batch_futures = client.scatter(polygon_batches, hash=False)
    offers_future = client.scatter(offers, broadcast=True, hash=False)

    options = {"as_of": as_of, "include_planned": include_planned}
    columns = [c for c in ADDRESS_COLUMNS if c in addresses.columns]
    kept = list(dict.fromkeys(c for c in keep if c in addresses.columns))
    no_polygons = (np.empty(0, poly_dtype), *_pack_wkb([]))
    meta = _classify_part(addresses._meta, no_polygons, offers, profile, columns, kept, options)
    meta = clear_known_categories(meta, cols=list(meta.select_dtypes("category").columns))
    task = dask.delayed(_classify_part, pure=False)
    parts = [
        task(part, batch, offers_future, profile, columns, kept, options)
        for part, batch in zip(addresses.to_delayed(), batch_futures, strict=True)
    ]
    return dd.from_delayed(parts, meta=meta, divisions=addresses.divisions, verify_meta=False)


def _extent(points: Any) -> pd.DataFrame:
    """Bounding box of a partition's finite points as one row (NaN without any)."""
    xy = shapely.get_coordinates(np.asarray(points.array, dtype=object))
    xy = xy[np.isfinite(xy).all(axis=1)]
    box = [*xy.min(axis=0), *xy.max(axis=0)] if len(xy) else [np.nan] * 4
    return pd.DataFrame([box], columns=["minx", "miny", "maxx", "maxy"])


def _classify_part(
    frame: pd.DataFrame,
    polygons: tuple[np.ndarray, np.ndarray, np.ndarray],
    offers: pd.DataFrame,
    profile: Profile,
    columns: list[str],
    kept: list[str],
    options: dict[str, Any],
) -> pd.DataFrame:
    """Worker task: join and classify one partition of address points; the ``kept``
    address columns in front."""
    polygon_ids, buffer, sizes = polygons
    points = np.asarray(frame.geometry.array, dtype=object)
    types = shapely.get_type_id(points)
    bad = ~np.isin(types, (-1, int(shapely.GeometryType.POINT)))
    if bad.any():
        row = frame.index[int(np.flatnonzero(bad)[0])]
        raise InputDataError(
            f"address {row!r}: geometry is a {points[bad][0].geom_type}, not a point; give "
            "addresses as points (e.g. their centroids)"
        )
    x, y = shapely.get_x(points), shapely.get_y(points)  # NaN for missing/empty
    p, q = points_in_polygons(x, y, _unpack_wkb(buffer, sizes))
    q = np.take(polygon_ids.astype(np.int64), q)
    attrs = pd.DataFrame({c: frame[c].to_numpy() for c in columns}, index=pd.RangeIndex(len(frame)))
    result = classify(attrs, offers, p, q, profile, **options)
    result.index = frame.index
    if kept:
        result = pd.concat([frame[kept], result], axis=1)
    return result
