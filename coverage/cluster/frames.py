"""Classification of addresses that stay on the cluster: the workers read, join and
classify their own partitions, so no address passes through the client.

:func:`coverage.cluster.classify.classify_distributed` serves ``gapmap run``: the client holds
every address (it reads them, and writes the run's outputs), cuts them along a Hilbert
curve and ships the partitions. Beyond one machine's memory (the EU's addresses) the
addresses stay where they are: GeoParquet parts, spatially sorted (e.g. by dask-geopandas'
``spatial_shuffle()``), or a ``dask_geopandas.GeoDataFrame``; :func:`classify_frame`
returns a lazy Dask frame of result rows, one partition per address partition, which the
workers write or reduce themselves (``to_parquet``, ``value_counts``, ``groupby``).

Data flow:

1. the client converts every polygon to WKB once (kept for later calls over the same
   geometry objects: :class:`coverage.cluster.polygons.PolygonSet`) and broadcasts them,
   with their bounding boxes and the offer table, to every worker
   (:func:`coverage.cluster.ship.broadcast_polygons`);
2. one task per address partition, fused by Dask with the read of the partition
   (:func:`coverage.io.geoparquet_parts.read_geoparquet_parts` for a path): it takes the
   polygons whose bounding box meets its points' bounding box, joins its points with the
   local kernel (:meth:`coverage.cluster.polygons.Polygons.join`, as every task of the
   room does) and classifies them: :data:`~coverage.classify.RESULT_COLUMNS`, indexed like
   the addresses. The tasks need no data but their partition and what every
   worker holds, so no address moves between workers or through the client; spatially
   compact partitions (a sorted GeoParquet, ``spatial_shuffle()``) need fewest polygons.

Dask and dask-geopandas are optional: imported only when :func:`classify_frame` runs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from coverage.classify import ADDRESS_COLUMNS, classify
from coverage.cluster.connect import INSTALL_HINT
from coverage.cluster.polygons import Polygons, PolygonSet
from coverage.cluster.ship import broadcast, broadcast_polygons
from coverage.errors import GapmapError, InputDataError
from coverage.io.geoparquet_parts import GeoParquetParts, read_geoparquet_parts
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
    """The classification step over address points that stay on the cluster; lazy.

    Parameters
    ----------
    addresses : dask_geopandas.GeoDataFrame, or path of GeoParquet
        Address points in the polygons' projected CRS (EPSG:25832 in Germany), with the
        columns of :data:`~coverage.classify.ADDRESS_COLUMNS` where present. Missing or
        empty points match no polygon. A path (a GeoParquet file or a directory of parts,
        as ``to_parquet`` writes them; local or any fsspec URL the workers can read) is
        read by the tasks themselves, each part fused with its classification: nothing
        moves between workers. (dask-geopandas' own ``read_parquet`` is a separate task
        whose geometries Dask may move to another worker before classifying.) Spatially
        compact partitions (sorted GeoParquet parts, ``spatial_shuffle()``) need the
        fewest polygons.
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
        offers are scattered through it and stay on its cluster while the result lives:
        compute the result there (it is the default client, or ``with client.as_current()``).

    Returns
    -------
    dask.dataframe.DataFrame
        The ``keep`` columns, then :data:`~coverage.classify.RESULT_COLUMNS`, per address,
        indexed and partitioned like ``addresses``; row for row what
        :func:`coverage.classify.classify` gives for the same points computed locally,
        except that its categorical columns are strings (``string[pyarrow]``: one type for
        every partition, so ``to_parquet`` writes the parts as they come).

    Raises
    ------
    GapmapError
        Dask, distributed or dask-geopandas is missing, or there is no client.
    InputDataError
        ``addresses`` is neither a dask-geopandas frame nor GeoParquet, or is in degrees
        (the points must be in the polygons' projected CRS); when computed: a geometry
        that is not a point.
    """
    try:
        import dask
        import dask_geopandas
        from distributed import get_client
    except ImportError as exc:
        raise GapmapError(
            f"classifying a Dask frame needs dask, distributed and dask-geopandas ({exc}); "
            f"install them with {INSTALL_HINT} 'dask-geopandas>=0.4'"
        ) from exc
    if isinstance(addresses, str | os.PathLike):
        addresses = read_geoparquet_parts(addresses, (*ADDRESS_COLUMNS, *keep))
    elif not isinstance(addresses, dask_geopandas.GeoDataFrame):
        raise InputDataError(
            f"addresses must be a dask_geopandas.GeoDataFrame or a GeoParquet path, got "
            f"{type(addresses).__name__}; read them with dask_geopandas.read_parquet(...) "
            "or dask_geopandas.from_geopandas(frame, npartitions=...)"
        )
    crs = addresses.crs
    if crs is not None and crs.is_geographic:
        raise InputDataError(
            f"addresses are in {crs.name} (degrees); the coverage polygons are in metres: "
            "reproject first, e.g. addresses.to_crs(25832)"
        )
    polygon_set = PolygonSet(polygons)
    if len(offers) < len(polygon_set):
        raise ValueError(
            f"offers has {len(offers)} rows, fewer than the {len(polygon_set)} polygons"
        )
    if client is None:
        try:
            client = get_client()
        except ValueError as exc:
            raise GapmapError(
                "classify_frame needs a Dask client: connect one first, e.g. "
                "distributed.Client('tcp://host:8786'), or pass client="
            ) from exc

    # every polygon once as WKB, with its bounding box, on every worker: each task takes
    # the polygons near its own points, so any partitioning is right (compact partitions
    # are faster), and the task depends on nothing but data every worker has, so it runs
    # fused with the read of its partition, wherever that is, and no address moves
    polygons_future = broadcast_polygons(client, polygon_set)
    offers_future = broadcast(client, offers)

    options = {"as_of": as_of, "include_planned": include_planned}
    columns = [c for c in ADDRESS_COLUMNS if c in addresses.columns]
    kept = list(dict.fromkeys(c for c in keep if c in addresses.columns and c != "geometry"))
    frame = addresses.frame if isinstance(addresses, GeoParquetParts) else addresses
    meta = _classify_part(frame._meta, Polygons.empty(), offers, profile, columns, kept, options)
    result = frame.map_partitions(
        _classify_part,
        dask.delayed(polygons_future),
        dask.delayed(offers_future),
        profile,
        columns,
        kept,
        options,
        meta=meta,
        enforce_metadata=False,
    )
    # fused now (read and classification one task per part, for a path): operations the
    # caller adds later (to_parquet's) are not fused with the read again, and unfused,
    # Dask may classify a part on another worker than the one that read it
    return result.optimize()


def _strings(values: pd.Categorical) -> pd.arrays.ArrowStringArray:
    """A categorical as Arrow strings. Each partition has its own categories, and pandas
    stores their codes as int8 or int16 by how many there are, while Dask's
    ``to_parquet`` holds every part to the first one's types; strings have one type (and
    Parquet dictionary-encodes them again in the file)."""
    codes = pa.array(values.codes, mask=values.codes < 0, type=pa.int32())
    categories = pa.array(np.asarray(values.categories, dtype=object), type=pa.large_string())
    decoded = pa.DictionaryArray.from_arrays(codes, categories).cast(pa.large_string())
    return pd.arrays.ArrowStringArray(decoded)


def _classify_part(
    frame: pd.DataFrame,
    polygons: Polygons,
    offers: pd.DataFrame,
    profile: Profile,
    columns: list[str],
    kept: list[str],
    options: dict[str, Any],
    xy: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Worker task: join and classify one partition of address points over the polygons
    whose box meets the partition's points' box (of the copy every worker holds:
    :func:`coverage.cluster.ship.broadcast_polygons`); the ``kept`` address columns in
    front. ``xy``: the points' coordinates, if already read."""
    x, y = _coordinates(frame) if xy is None else xy
    p, q = polygons.join(x, y, dtype=np.int64)
    attrs = pd.DataFrame({c: frame[c].to_numpy() for c in columns}, index=pd.RangeIndex(len(frame)))
    result = classify(attrs, offers, p, q, profile, **options)
    for col in result.columns[result.dtypes == "category"]:
        result[col] = _strings(result[col].array)
    result.index = frame.index
    if kept:
        result = pd.concat([frame[kept], result], axis=1)
    return result


def _coordinates(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """x, y of the partition's address points (NaN for missing or empty ones)."""
    points = frame["geometry"]
    if points.dtype != "geometry":  # WKB read by plain Dask (from GeoParquet), Arrow-backed
        wkb = pa.array(points)  # no copy for Arrow-backed; bytes objects copied once
        if isinstance(wkb, pa.ChunkedArray):
            wkb = wkb.combine_chunks()
        xy = _point_wkb_coordinates(wkb)
        if xy is not None:  # all plain 2D points (or missing)
            return xy
        points = shapely.from_wkb(np.asarray(points, dtype=object))
    else:
        points = np.asarray(points.array, dtype=object)
    types = shapely.get_type_id(points)
    bad = ~np.isin(types, (-1, int(shapely.GeometryType.POINT)))
    if bad.any():
        row = frame.index[int(np.flatnonzero(bad)[0])]
        raise InputDataError(
            f"address {row!r}: geometry is a {points[bad][0].geom_type}, not a point; give "
            "addresses as points (e.g. their centroids)"
        )
    return shapely.get_x(points), shapely.get_y(points)


#: little-endian WKB of a 2D point: byte order 1, type 1, then x and y as float64
_POINT_WKB_HEAD = np.array([1, 1, 0, 0, 0], dtype=np.uint8)


def _point_wkb_coordinates(wkb: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """x, y of an Arrow binary array of WKB that are all little-endian 2D points (21
    bytes) or null (NaN), read straight from its buffers; None when any is something
    else (then shapely decodes them). A fraction of ``shapely.from_wkb``'s time for the
    point layout GeoParquet writers use."""
    if not pa.types.is_binary(wkb.type) and not pa.types.is_large_binary(wkb.type):
        return None
    n = len(wkb)
    valid = np.ones(n, dtype=bool) if wkb.null_count == 0 else ~wkb.is_null().to_numpy(False)
    offset_type = np.int64 if pa.types.is_large_binary(wkb.type) else np.int32
    _, offsets, data = wkb.buffers()
    offsets = np.frombuffer(offsets, dtype=offset_type)[wkb.offset : wkb.offset + n + 1]
    if not (np.diff(offsets)[valid] == 21).all():
        return None
    raw = np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(-1, 21)
    if not (raw[:, :5] == _POINT_WKB_HEAD).all():
        return None
    coords = np.full((n, 2), np.nan)
    coords[valid] = raw[:, 5:].copy().view("<f8")
    return coords[:, 0], coords[:, 1]
