"""A run's prepared address store, read by the OGC API (built by :mod:`api.service.reads_build`).

The arrays are memory-mapped (the operating system's page cache holds what is hot; the
service holds no run's addresses), the features are read with ``os.pread`` (no shared file
position, so any thread may read). A page without bbox is the rows ``offset..offset+limit``;
a page with a bbox reads the grid cells the box meets, tests those rows' lon/lat (edges
included, as :func:`api.service.addresses.bbox_mask`), puts the matches back in row order,
and answers numberMatched and the page from them. The feature bytes are the ones the
in-memory path wrote, so a page is identical to it byte for byte.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from api.service import reads_build
from api.service.reads_build import ARRAYS, DIRNAME, VERSION, cell_of, source_stamp

log = logging.getLogger("gapmap.reads")


class StoreInvalidError(Exception):
    """The store on disk is missing, incomplete, stale or damaged (it is built again)."""


class AddressReads:
    """One run's prepared address store, opened read-only."""

    def __init__(self, path: Path, run_id: str, source: Path) -> None:
        self._fd = -1
        try:
            meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreInvalidError(f"{path}: meta.json missing or unreadable") from exc
        if not isinstance(meta, dict) or meta.get("version") != VERSION:
            raise StoreInvalidError(f"{path}: not a version {VERSION} store")
        if meta.get("run_id") != run_id:
            raise StoreInvalidError(f"{path}: built for run {meta.get('run_id')!r}, not {run_id}")
        if meta.get("source") != source_stamp(source):
            raise StoreInvalidError(f"{path}: {source.name} changed since the store was built")
        files = meta.get("files") or {}
        for name in [*(f"{a}.npy" for a in ARRAYS), "features.bin"]:
            p = path / name
            if not p.is_file() or p.stat().st_size != files.get(name):
                raise StoreInvalidError(f"{path}: {name} missing or not the size written")
        try:
            # plain ndarray views of the maps: indexing a np.memmap costs ten times more
            arrays = {a: np.asarray(np.load(path / f"{a}.npy", mmap_mode="r")) for a in ARRAYS}
        except (OSError, ValueError) as exc:
            raise StoreInvalidError(f"{path}: an array cannot be read ({exc})") from exc
        self.rows = int(meta["rows"])
        self.extent = tuple(float(v) for v in meta["extent"])
        self.nx, self.ny = (int(v) for v in meta["grid"])
        self.block_rows = int(meta["block_rows"])
        self._codec = pa.Codec(meta["codec"])
        self._a = arrays
        n = self.rows
        nblocks = (n + self.block_rows - 1) // self.block_rows
        shapes = {
            "block_offsets": nblocks + 1,
            "row_offsets": n + 1,
            "cell_rows": n,
            "cell_lon": n,
            "cell_lat": n,
            "cell_start": self.nx * self.ny + 1,
            "id_keys": n,
            "id_rows": n,
        }
        for name, length in shapes.items():
            if arrays[name].shape != (length,):
                raise StoreInvalidError(
                    f"{path}: {name}.npy has {arrays[name].shape}, not ({length},)"
                )
        if int(arrays["block_offsets"][-1]) != files["features.bin"]:
            raise StoreInvalidError(f"{path}: features.bin does not end where its blocks do")
        self._fd = os.open(path / "features.bin", os.O_RDONLY)

    def close(self) -> None:
        """Release the file (the arrays go with the object)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()

    # -- queries ---------------------------------------------------------------------------
    def matching(self, bbox: tuple[float, float, float, float] | None) -> np.ndarray | range:
        """Row positions inside ``bbox`` (lon/lat, edges included), in row order."""
        n = self.rows
        if bbox is None:
            return range(n)
        minx, miny, maxx, maxy = bbox
        ex0, ey0, ex1, ey1 = self.extent
        if n == 0 or maxx < ex0 or minx > ex1 or maxy < ey0 or miny > ey1:
            return range(0)
        if minx <= ex0 and miny <= ey0 and maxx >= ex1 and maxy >= ey1:
            return range(n)  # the box holds every address
        (ix0, ix1), (iy0, iy1) = cell_of(
            np.array([minx, maxx]), np.array([miny, maxy]), self.extent, self.nx, self.ny
        )
        start = self._a["cell_start"]
        lon, lat, rows = self._a["cell_lon"], self._a["cell_lat"], self._a["cell_rows"]
        hits = []
        for iy in range(int(iy0), int(iy1) + 1):
            s = int(start[iy * self.nx + int(ix0)])
            e = int(start[iy * self.nx + int(ix1) + 1])
            if e > s:
                x, y = lon[s:e], lat[s:e]
                keep = (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)
                hits.append(rows[s:e][keep])
        if not hits:
            return range(0)
        found = np.concatenate(hits)
        m = len(found)
        if m * max(1, int(m).bit_length()) <= n // 4:
            return np.sort(found)
        mask = np.zeros(n, dtype=bool)  # many matches: a mask puts them in order in O(n)
        mask[found] = True
        return np.flatnonzero(mask)

    def features(self, rows: Sequence[int] | np.ndarray) -> list[bytes]:
        """The GeoJSON feature bytes of ``rows`` (in the order given)."""
        offsets, blocks, br = self._a["row_offsets"], self._a["block_offsets"], self.block_rows
        idx = np.asarray(rows, dtype=np.int64)
        if len(idx) == 0:
            return []
        starts, ends = offsets[idx].tolist(), offsets[idx + 1].tolist()
        bs = idx // br
        firsts = bs * br
        lasts = np.minimum(firsts + br, self.rows)
        bases, tops = offsets[firsts].tolist(), offsets[lasts].tolist()
        los, his = blocks[bs].tolist(), blocks[bs + 1].tolist()
        cache: dict[int, bytes] = {}
        out = []
        for b, s, e, base, top, lo, hi in zip(
            bs.tolist(), starts, ends, bases, tops, los, his, strict=True
        ):
            data = cache.get(b)
            if data is None:
                raw = os.pread(self._fd, hi - lo, lo)
                data = self._codec.decompress(raw, decompressed_size=top - base, asbytes=True)
                cache[b] = data
            out.append(data[s - base : e - base])
        return out

    def page(
        self, bbox: tuple[float, float, float, float] | None, offset: int, limit: int
    ) -> tuple[list[bytes], int]:
        """One page of feature bytes and numberMatched."""
        rows = self.matching(bbox)
        return self.features(rows[offset : offset + limit]), len(rows)

    def row_of(self, address_id: str) -> int | None:
        """Row of an address id (the first one when an id occurs twice), or None."""
        keys, rows = self._a["id_keys"], self._a["id_rows"]
        key = address_id.encode("utf-8")
        if len(key) > keys.dtype.itemsize:
            return None
        i = int(np.searchsorted(keys, np.array(key, dtype=keys.dtype), side="left"))
        if i < len(keys) and keys[i] == key:
            return int(rows[i])
        return None


def store_dir(workspace: Path, run_id: str) -> Path:
    """Where the store of a run lives (server-generated run ids only)."""
    return workspace / "reads" / run_id / DIRNAME


def open_or_build(workspace: Path, run_id: str, source: Path) -> AddressReads:
    """Open the run's store; build it (again) when it is missing, stale or damaged."""
    path = store_dir(workspace, run_id)
    if path.is_dir():
        try:
            return AddressReads(path, run_id, source)
        except StoreInvalidError as exc:
            log.warning("rebuilding the address store of run %s: %s", run_id, exc)
            shutil.rmtree(path, ignore_errors=True)
    reads_build.build(run_id, source, path)
    return AddressReads(path, run_id, source)


def feature_collection(head: dict[str, Any], features: list[bytes]) -> bytes:
    """The FeatureCollection body: ``head`` members, then the features (as streamed before)."""
    from api.service.responses import dumps

    start = dumps({"type": "FeatureCollection", **head})[:-1] + b',"features":['
    return start + b",".join(features) + b"]}"


__all__ = ["AddressReads", "StoreInvalidError", "feature_collection", "open_or_build", "store_dir"]
