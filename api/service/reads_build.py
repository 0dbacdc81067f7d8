"""Building a run's prepared address store (read by :mod:`api.service.reads`).

One directory per run and version, ``<workspace>/reads/<run_id>/addresses-v1/``, written in
a temporary directory beside it and renamed into place, so a reader sees a complete store
or none. What it holds (all arrays as ``.npy``, memory-mapped by the reader):

* ``features.bin``: every address's GeoJSON feature, exactly the bytes the OGC items page
  wrote for it (:func:`api.service.addresses.page_features` then ``responses.dumps``; built
  column by column by :func:`render`), in row
  order, zstd-compressed in blocks of :data:`BLOCK_ROWS` features; ``block_offsets.npy``
  (where each block starts in the file) and ``row_offsets.npy`` (where each feature starts
  in the uncompressed stream, n + 1 entries).
* ``cell_rows.npy``, ``cell_lon.npy``, ``cell_lat.npy``: row positions and their lon/lat
  sorted by (grid cell, row); ``cell_start.npy``: where each cell of the ``nx`` x ``ny``
  grid over the extent begins (CSR). A bbox reads only the slices of the cells it meets.
* ``id_keys.npy``, ``id_rows.npy``: the address ids sorted (fixed-width UTF-8), and the row
  of each (the first row of an id that occurs twice, as the in-memory index answers).
* ``meta.json`` (written last): version, source size and mtime, rows, extent, grid, block
  size and the byte size of every file, so a truncated or foreign file is detected on open.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa

from api.service.addresses import AddressTable, address_table, load_address_table
from api.service.responses import clean_value, dumps

VERSION = 1
DIRNAME = f"addresses-v{VERSION}"
#: Features per compressed block: a page of 100 features touches 2-3 blocks, a scattered
#: page (a bbox across row order) at most one block per feature (~50 us each).
BLOCK_ROWS = 64
#: Mean rows per grid cell the grid aims at (small: a bbox tests few rows outside itself).
CELL_ROWS = 64
MAX_CELLS_PER_AXIS = 4096
#: Addresses read and converted at a time while building, and rendered at a time.
PIECE_ROWS = 65_536
RENDER_ROWS = 16_384
ARRAYS = (
    "block_offsets",
    "row_offsets",
    "cell_rows",
    "cell_lon",
    "cell_lat",
    "cell_start",
    "id_keys",
    "id_rows",
)
CODEC = "zstd"


def source_stamp(path: Path) -> dict[str, int]:
    """What identifies the run's addresses file: a store built from another is stale."""
    st = path.stat()
    return {"size": int(st.st_size), "mtime_ns": int(st.st_mtime_ns)}


def grid_shape(n: int, extent: tuple[float, float, float, float]) -> tuple[int, int]:
    """Cells per axis: about :data:`CELL_ROWS` rows per cell, square in degrees of the box."""
    minx, miny, maxx, maxy = extent
    cells = max(1, n // CELL_ROWS)
    w, h = max(maxx - minx, 1e-9), max(maxy - miny, 1e-9)
    nx = int(np.clip(round(np.sqrt(cells * w / h)), 1, MAX_CELLS_PER_AXIS))
    ny = int(np.clip(round(cells / nx), 1, MAX_CELLS_PER_AXIS))
    return nx, ny


def cell_of(
    lon: np.ndarray, lat: np.ndarray, extent: tuple[float, float, float, float], nx: int, ny: int
) -> tuple[np.ndarray, np.ndarray]:
    """Grid column and row of points (clipped into the grid: the extent is inclusive)."""
    minx, miny, maxx, maxy = extent
    fx = (np.asarray(lon, dtype=float) - minx) / max(maxx - minx, 1e-9) * nx
    fy = (np.asarray(lat, dtype=float) - miny) / max(maxy - miny, 1e-9) * ny
    ix = np.clip(np.floor(fx), 0, nx - 1).astype(np.int64)
    iy = np.clip(np.floor(fy), 0, ny - 1).astype(np.int64)
    return ix, iy


def column_values(column: pd.Series) -> list[Any]:
    """The cells of a column as :func:`api.service.responses.records` makes them (JSON-ready
    Python values, missing -> None), for the common dtypes without a call per cell."""
    kind = column.dtype
    if isinstance(kind, pd.StringDtype):
        return list(column.to_numpy(dtype=object, na_value=None).tolist())
    if isinstance(kind, np.dtype) and kind.kind in "iub":
        return list(column.to_numpy().tolist())
    if isinstance(kind, np.dtype) and kind.kind == "f":
        values = column.to_numpy()
        out = values.astype(object)
        out[np.isnan(values)] = None
        return list(out.tolist())
    return [clean_value(v) for v in column.tolist()]


def render(table: AddressTable, start: int, stop: int) -> list[bytes]:
    """The feature bytes of rows ``start..stop``: what ``dumps`` of
    :func:`api.service.addresses.page_features` gives, built column by column."""
    frame = table.frame.iloc[start:stop]
    names = list(frame.columns)
    props = [dict(zip(names, row, strict=True)) for row in zip(*(column_values(frame[c]) for c in names), strict=True)]  # fmt: skip
    if not names:
        props = [{} for _ in range(stop - start)]
    lon = table.lon[start:stop].tolist()
    lat = table.lat[start:stop].tolist()
    return [
        dumps(
            {
                "type": "Feature",
                "id": p.get("address_id"),
                "geometry": {"type": "Point", "coordinates": [round(x, 7), round(y, 7)]},
                "properties": p,
            }
        )
        for p, x, y in zip(props, lon, lat, strict=True)
    ]


def pieces(run_id: str, path: Path, rows: int = PIECE_ROWS) -> Iterator[AddressTable]:
    """``addresses.parquet`` as consecutive tables of at most ``rows`` addresses, each as
    :func:`api.service.addresses.load_address_table` reads the whole file (the same
    conversion of each batch), so the build never holds every address."""
    try:
        from geopandas.io.arrow import _arrow_to_geopandas, _validate_and_decode_metadata
    except ImportError:  # another geopandas: the whole table at once, as the loader reads it
        yield load_address_table(run_id, path)
        return
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    schema = parquet.schema_arrow
    meta = _validate_and_decode_metadata(schema.metadata)
    for batch in parquet.iter_batches(batch_size=rows):
        part = pa.Table.from_batches([batch], schema=schema)
        yield address_table(run_id, _arrow_to_geopandas(part, meta))


class _Blocks:
    """Features appended in row order, written as compressed blocks of BLOCK_ROWS."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.codec = pa.Codec(CODEC, compression_level=3)
        self.pending: list[bytes] = []
        self.block_offsets = [0]
        self.sizes: list[np.ndarray] = []

    def add(self, parts: list[bytes]) -> None:
        self.sizes.append(np.fromiter(map(len, parts), dtype=np.uint64, count=len(parts)))
        self.pending.extend(parts)
        while len(self.pending) >= BLOCK_ROWS:
            self._flush(self.pending[:BLOCK_ROWS])
            del self.pending[:BLOCK_ROWS]

    def _flush(self, parts: list[bytes]) -> None:
        blob = self.codec.compress(b"".join(parts), asbytes=True)
        self.fh.write(blob)
        self.block_offsets.append(self.block_offsets[-1] + len(blob))

    def close(self) -> tuple[np.ndarray, np.ndarray]:
        if self.pending:
            self._flush(self.pending)
            self.pending = []
        sizes = np.concatenate([np.zeros(1, dtype=np.uint64), *self.sizes])
        return np.array(self.block_offsets, dtype=np.uint64), np.cumsum(sizes, dtype=np.uint64)


def _ids(table: AddressTable) -> np.ndarray:
    """The address ids as UTF-8 bytes (missing ids as "", as the in-memory index keys them)."""
    if "address_id" not in table.frame.columns:
        return np.full(len(table.lon), b"", dtype="S1")
    ids = table.frame["address_id"].astype("string").fillna("").tolist()
    return np.array([s.encode("utf-8") for s in ids], dtype=object).astype(bytes)


def build(run_id: str, addresses: Path, target: Path, piece_rows: int = PIECE_ROWS) -> None:
    """Build the store of ``addresses`` (the run's ``addresses.parquet``) at ``target``.

    Reads the file in pieces converted as the in-memory loader converts it (same values,
    same lon/lat), writes everything into a temporary sibling and renames it into place;
    an existing store at ``target`` is replaced. At most one piece of the table is held
    (:data:`PIECE_ROWS` addresses) besides lon/lat and the ids of every address.
    """
    stamp = source_stamp(addresses)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        lons, lats, ids = [], [], []
        with (tmp / "features.bin").open("wb") as fh:
            blocks = _Blocks(fh)
            for piece in pieces(run_id, addresses, piece_rows):
                for start in range(0, len(piece.lon), RENDER_ROWS):
                    blocks.add(render(piece, start, min(start + RENDER_ROWS, len(piece.lon))))
                lons.append(np.asarray(piece.lon, dtype=float))
                lats.append(np.asarray(piece.lat, dtype=float))
                ids.append(_ids(piece))
                del piece
            block_offsets, row_offsets = blocks.close()
        lon = np.concatenate(lons) if lons else np.zeros(0)
        lat = np.concatenate(lats) if lats else np.zeros(0)
        n = len(lon)
        if n:
            extent = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
        else:
            extent = (0.0, 0.0, 0.0, 0.0)
        nx, ny = grid_shape(n, extent)
        ix, iy = cell_of(lon, lat, extent, nx, ny)
        cell = iy * nx + ix
        order = np.lexsort((np.arange(n), cell))
        cell_start = np.searchsorted(cell[order], np.arange(nx * ny + 1), side="left")
        width = max([1, *(k.dtype.itemsize for k in ids)])
        keys = np.concatenate(ids).astype(f"S{width}") if ids else np.zeros(0, dtype="S1")
        id_rows = np.argsort(keys, kind="stable")
        id_keys = keys[id_rows]
        arrays: dict[str, np.ndarray] = {
            "block_offsets": block_offsets,
            "row_offsets": row_offsets,
            "cell_rows": order.astype(np.int64),
            "cell_lon": lon[order],
            "cell_lat": lat[order],
            "cell_start": cell_start.astype(np.int64),
            "id_keys": id_keys,
            "id_rows": id_rows.astype(np.int64),
        }
        for name, values in arrays.items():
            np.save(tmp / f"{name}.npy", values, allow_pickle=False)
        files = {p.name: p.stat().st_size for p in sorted(tmp.iterdir())}
        meta: dict[str, Any] = {
            "version": VERSION,
            "run_id": run_id,
            "source": stamp,
            "rows": n,
            "extent": list(extent),
            "grid": [nx, ny],
            "block_rows": BLOCK_ROWS,
            "codec": CODEC,
            "files": files,
        }
        with (tmp / "meta.json").open("w", encoding="utf-8") as fh:
            json.dump(meta, fh)
            fh.flush()
            os.fsync(fh.fileno())
        _replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _replace(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` to ``target``; an old store is moved aside first and removed after."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}-{id(tmp)}")
        target.rename(old)
    try:
        tmp.rename(target)
    except OSError:  # another process put its store there meanwhile: the opener checks it
        shutil.rmtree(tmp, ignore_errors=True)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


__all__ = ["BLOCK_ROWS", "DIRNAME", "VERSION", "build", "cell_of", "grid_shape", "source_stamp"]
