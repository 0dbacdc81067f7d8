"""GeoParquet address parts read lazily by Dask tasks, for addresses that stay on a cluster.

:func:`read_geoparquet_parts` opens a GeoParquet file or a directory of parts (local or any
fsspec URL the workers can read), checks its GeoParquet metadata and returns a lazy
``dask.dataframe`` with the geometry as WKB in the column ``geometry``. Reading happens in
the workers' tasks (:mod:`coverage.cluster.frames`, :mod:`coverage.cluster.run`), each part
fused with what is done to it, so no address passes through the client.

Dask is optional: ``dask.dataframe`` is imported only when this function runs (its callers
check that Dask is installed and say how to install it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa

from coverage.errors import InputDataError

__all__ = ["GeoParquetParts", "read_geoparquet_parts"]

#: uncompressed bytes per partition read from GeoParquet: ~250k addresses (point, id, ags,
#: households, site type; about 65 bytes each). Dask joins partitions where only some of a
#: file's columns are read (two of them when half are), so tasks get 250k-1M addresses:
#: a few hundred MB of work each, and enough tasks to keep every worker busy to the end
_PART_BYTES = "16 MiB"


class GeoParquetParts(NamedTuple):
    """GeoParquet read by plain Dask tasks: the geometry column as WKB."""

    frame: Any  # dask.dataframe.DataFrame
    crs: Any  # pyproj.CRS or None

    @property
    def columns(self) -> Any:
        return self.frame.columns


def read_geoparquet_parts(path: str | os.PathLike[str], columns: Sequence[str]) -> GeoParquetParts:
    """The ``columns`` (those the file has) of a GeoParquet file or directory, lazily,
    with the geometry as WKB in the column ``geometry`` (whatever its name in the file).

    Raises
    ------
    InputDataError
        The path does not exist, is not Parquet, has no GeoParquet metadata, or its
        geometry is not WKB-encoded; the message says how to convert the file.
    """
    import dask.dataframe as dd
    import pyarrow.dataset as ds

    text = os.fspath(path)
    if "://" not in text and not Path(text).exists():
        raise InputDataError(
            f"{path}: no such file or directory; give a GeoParquet file or a directory of parts"
        )
    try:
        schema = ds.dataset(text, format="parquet").schema
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputDataError(
            f"{path}: cannot read as Parquet ({exc}); the addresses must be GeoParquet: convert "
            "them once, e.g. geopandas.read_file(path).to_parquet('addresses.parquet') or "
            "ogr2ogr -f Parquet addresses.parquet path"
        ) from exc
    try:
        geo = json.loads(schema.metadata[b"geo"])
        name = geo["primary_column"]
        encoding = geo["columns"][name].get("encoding", "WKB")
    except (KeyError, TypeError, ValueError) as exc:
        raise InputDataError(
            f"{path}: no GeoParquet metadata (the 'geo' key); write the addresses with "
            "geopandas or dask-geopandas to_parquet"
        ) from exc
    if encoding.upper() != "WKB":
        raise InputDataError(
            f"{path}: geometry column {name!r} is encoded as {encoding}; write it as WKB "
            "(to_parquet(..., geometry_encoding='WKB'))"
        )
    crs = geo["columns"][name].get("crs", "OGC:CRS84")  # GeoParquet: absent means CRS84
    if crs is not None:
        from pyproj import CRS

        crs = CRS.from_user_input(crs)
    wanted = [c for c in columns if c in schema.names and c != name]
    frame = dd.read_parquet(
        text,
        columns=[name, *dict.fromkeys(wanted)],
        dtype_backend="pyarrow",
        # row groups, not whole files: one 5M-address file is otherwise one partition
        # (one task, 8 GB); row groups are joined up to this size
        split_row_groups="adaptive",
        blocksize=_PART_BYTES,
    )
    if name != "geometry":
        frame = frame.rename(columns={name: "geometry"})
    return GeoParquetParts(frame, crs)
