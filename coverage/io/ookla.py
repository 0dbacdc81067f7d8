"""Ookla open data performance tiles (Parquet, Shapefile or CSV).

Columns (Ookla ``performance`` tiles): ``quadkey``, ``tile`` (WKT polygon, EPSG:4326),
``avg_d_kbps``, ``avg_u_kbps``, ``avg_lat_ms``, ``tests``, ``devices`` (newer releases add
``avg_lat_down_ms``/``avg_lat_up_ms``). Tile polygons are computed from the quadkey itself
(Web-Mercator tiling, zoom = quadkey length, 16 for Ookla) and checked against ``tile``
when present. Speeds become Mbit/s (kbps / 1000). Licence: CC BY-NC-SA 4.0 - values are
means of phone/Wi-Fi tests, evidence only (domain.md section 5).
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import shapely
from pyproj import CRS

from coverage.errors import InputDataError, SourceReadError
from coverage.io import _text
from coverage.io.vector import RawLayer, read_vector

OOKLA_MAPPING: dict[str, str] = {
    "quadkey": "quadkey (+ geometry)",
    "avg_d_kbps": "down_mbps",
    "avg_u_kbps": "up_mbps",
    "avg_lat_ms": "latency_ms",
    "tests": "tests",
    "devices": "devices",
}
_REQUIRED = ("quadkey", "avg_d_kbps", "avg_u_kbps", "avg_lat_ms", "tests", "devices")


def quadkey_bounds(
    quadkeys: pd.Series | np.ndarray, *, source: str = "quadkeys"
) -> tuple[np.ndarray, ...]:
    """(west, south, east, north) in degrees (EPSG:4326) of Web-Mercator tiles, vectorised.

    All quadkeys must have the same length (zoom) and consist of the digits 0-3.
    """
    arr = pa.array(pd.Series(quadkeys, dtype="string").str.strip(), type=pa.string())
    n = len(arr)
    lengths = np.asarray(pc.utf8_length(arr).to_numpy(zero_copy_only=False), dtype="float64")
    if arr.null_count:
        bad = np.isnan(lengths)
        raise InputDataError(f"{source}: quadkey is empty at data row(s) {_text.rows_text(bad)}")
    zoom = int(lengths[0]) if n else 16
    bad = (lengths != zoom) | ~np.asarray(
        pc.match_substring_regex(arr, r"^[0-3]+$").to_numpy(zero_copy_only=False), dtype=bool
    )
    if bad.any():
        raise InputDataError(
            f"{source}: quadkey at data row(s) {_text.rows_text(bad)} is not a zoom-{zoom} quadkey "
            f"(digits 0-3, {zoom} long; first: {arr[int(np.flatnonzero(bad)[0])].as_py()!r}); "
            "quadkeys read as numbers lose leading zeros - keep them as text"
        )
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    digits = (data[offsets[0] : offsets[0] + n * zoom].reshape(n, zoom) - ord("0")).astype(np.int64)
    x = np.zeros(n, dtype=np.int64)
    y = np.zeros(n, dtype=np.int64)
    for i in range(zoom):
        x = (x << 1) | (digits[:, i] & 1)
        y = (y << 1) | (digits[:, i] >> 1)
    size = float(2**zoom)
    west = x / size * 360.0 - 180.0
    east = (x + 1) / size * 360.0 - 180.0
    north = np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * y / size))))
    south = np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * (y + 1) / size))))
    return west, south, east, north


def read_ookla_tiles(path: str | os.PathLike[str], *, zoom: int = 16) -> RawLayer:
    """Read Ookla tiles into polygons (EPSG:4326) with speeds in Mbit/s.

    Parameters
    ----------
    zoom
        Used only to restore leading zeros of quadkeys stored as integers.

    Returns
    -------
    RawLayer
        ``quadkey`` (string), ``down_mbps``/``up_mbps`` (float64, kbps / 1000),
        ``latency_ms`` (float64), ``tests``/``devices`` (Int64) and any other columns.
    """
    file, label = _text.check_file(path)
    suffix = file.suffix.lower()
    notes: list[str] = []
    if suffix in (".parquet", ".geoparquet"):
        try:
            frame = pq.read_table(file).to_pandas()
        except (pa.ArrowException, OSError) as exc:
            raise SourceReadError(
                f"{label}: cannot read as Parquet ({exc}); the file may be truncated"
            ) from exc
        fmt = "ookla-parquet"
    elif suffix in (".csv", ".txt"):
        sniffed = _text.sniff(file, label)
        delim = sniffed.delimiter()
        header = [h.strip().strip('"') for h in sniffed.first.split(delim)]
        table, _enc, notes = _text.read_strings(
            file, label, names=header, delimiter=delim, skip_rows=1, encoding=sniffed.encoding
        )
        frame = pd.DataFrame({h: _text.strings(table.column(h)) for h in header})
        fmt = "ookla-csv"
    else:
        raw = read_vector(
            file, crs="EPSG:4326" if suffix != ".zip" and not _has_prj(file) else None
        )
        frame = pd.DataFrame(raw.frame.drop(columns="geometry"))
        notes = list(raw.notes)
        fmt = f"ookla-{raw.format}"
    frame.columns = [str(c) for c in frame.columns]
    lower = {c.lower(): c for c in frame.columns}
    missing = [c for c in _REQUIRED if c not in lower]
    if missing:
        raise InputDataError(
            f"{label}: not an Ookla tile table: column(s) {', '.join(missing)} missing "
            f"(columns found: {', '.join(frame.columns[:15])})"
        )
    frame = frame.rename(columns={lower[c]: c for c in _REQUIRED})
    qk = frame["quadkey"]
    if pd.api.types.is_numeric_dtype(qk):
        qk = qk.astype("Int64").astype("string").str.zfill(zoom)
        notes.append(f"quadkeys stored as numbers: leading zeros restored to zoom {zoom}")
    qk = qk.astype("string")
    west, south, east, north = quadkey_bounds(qk, source=label)
    geoms = shapely.box(west, south, east, north)
    if "tile" in lower:
        _check_tiles(frame[lower["tile"]], geoms, label)
    out = pd.DataFrame({"quadkey": qk.reset_index(drop=True)})
    for src, dst, scale in (
        ("avg_d_kbps", "down_mbps", 1000.0),
        ("avg_u_kbps", "up_mbps", 1000.0),
        ("avg_lat_ms", "latency_ms", 1.0),
    ):
        out[dst] = _num(frame[src], src, label) / scale
    for col in ("tests", "devices"):
        out[col] = pd.array(_num(frame[col], col, label), dtype="Float64").astype("Int64")
    for col in frame.columns:
        if col not in _REQUIRED and col != lower.get("tile") and col not in out:
            out[col] = frame[col].to_numpy()
    notes.append("tile polygons computed from the quadkeys; speeds kbps / 1000 -> Mbit/s")
    gdf = gpd.GeoDataFrame(out, geometry=geoms, crs="EPSG:4326")
    sha = _text.digest(file, label)
    how = "Ookla tiles: Web-Mercator quadkeys, bounds computed in lon/lat (EPSG:4326)"
    return _text.raw_layer(
        gdf, crs=CRS.from_epsg(4326), crs_how=how, label=label, fmt=fmt, sha=sha, notes=notes
    )


def _has_prj(file: Path) -> bool:
    return file.suffix.lower() != ".shp" or file.with_suffix(".prj").exists()


def _num(values: pd.Series, name: str, label: str) -> np.ndarray:
    out = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    bad = np.isnan(out)
    if bad.any():
        raise InputDataError(
            f"{label}: field {name} is empty or not a number at data row(s) {_text.rows_text(bad)}"
        )
    return out


def _check_tiles(tile: pd.Series, geoms: np.ndarray, label: str) -> None:
    """Compare the computed tiles with the ``tile`` WKT on a sample of up to 1,000 rows."""
    idx = np.unique(np.linspace(0, len(tile) - 1, min(len(tile), 1000)).astype(int))
    given = shapely.from_wkt(tile.iloc[idx].to_numpy(dtype=object), on_invalid="ignore")
    if isinstance(tile.iloc[0], bytes | bytearray):
        given = shapely.from_wkb(tile.iloc[idx].to_numpy(dtype=object), on_invalid="ignore")
    diff = np.abs(shapely.bounds(given) - shapely.bounds(geoms[idx])).max(axis=1)
    bad = ~(diff <= 1e-6)
    if bad.any():
        row = int(idx[bad][0]) + 1
        raise InputDataError(
            f"{label}: column tile disagrees with the quadkey at data row {row}; "
            "the quadkey and tile columns do not belong together (or the tile is not EPSG:4326)"
        )
