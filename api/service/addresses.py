"""Per-address results of one run: filters, opaque cursors, nearest/text lookup, run diff.

One :class:`AddressTable` per run is built lazily (and cached by :class:`api.service.results.Results`):
the attribute table, lon/lat (WGS84) and working-CRS coordinates as numpy arrays, a scipy
cKDTree on the working-CRS coordinates (metres) for nearest-address lookup, and a dictionary
of normalised ``street + number (+ place)`` keys for text lookup.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
from pyproj import Transformer
from scipy.spatial import cKDTree

from api.service.errors import ApiError
from coverage.errors import NotFoundError

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_STREET_ABBREV = ((re.compile(r"str\.?$"), "strasse"), (re.compile(r"str\.?(?=\s)"), "strasse"))
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_STREET_NUMBER = re.compile(
    r"^(?P<street>.*?\D)\s*(?P<number>\d+\s*[a-zA-Z]?(?:\s*[-/]\s*\d+[a-zA-Z]?)?)$"
)
_POSTCODE = re.compile(r"^\d{4,5}\s+")


def normalise(text: str | None) -> str:
    """Lower case, umlauts folded (ä -> ae, ß -> ss), 'str.' -> 'strasse', only [0-9a-z]."""
    if not text:
        return ""
    value = unicodedata.normalize("NFC", str(text)).lower().translate(_UMLAUTS)
    value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    for pattern, repl in _STREET_ABBREV:
        value = pattern.sub(repl, value)
    return _NON_ALNUM.sub("", value)


def parse_query(q: str) -> tuple[str, str, str]:
    """'Hauptstraße 5a, 59581 Warstein' -> ('hauptstrasse', '5a', 'warstein')."""
    head, _, place = q.partition(",")
    match = _STREET_NUMBER.match(head.strip())
    if not match:
        raise ApiError(
            422,
            "query_unparsed",
            f"cannot read {q!r} as 'street number[, place]', e.g. 'Hauptstraße 5, Warstein'",
        )
    place = _POSTCODE.sub("", place.strip())
    return normalise(match["street"]), normalise(match["number"]), normalise(place)


@dataclass
class AddressTable:
    """The per-address table of one run, with coordinates and lookup indexes."""

    run_id: str
    frame: pd.DataFrame
    lon: np.ndarray
    lat: np.ndarray
    x: np.ndarray
    y: np.ndarray
    crs: str
    _tree: cKDTree | None = None
    _text: dict[str, list[int]] = field(default_factory=dict)
    _ids: dict[str, int] = field(default_factory=dict)
    _to_working: Transformer | None = None
    _cells: list[tuple[str, Callable[[int], Any]]] = field(default_factory=list, repr=False)
    #: One builder per lazy index (concurrent first requests wait instead of building too);
    #: one lock per index, so that nothing waits for the build of an unrelated one.
    _locks: dict[str, threading.Lock] = field(
        default_factory=lambda: {k: threading.Lock() for k in ("ids", "tree", "text", "cells")},
        repr=False,
        compare=False,
    )

    def row(self, i: int) -> dict[str, Any]:
        """Row ``i`` as JSON-ready values: ``clean_value`` of each cell of ``frame.iloc[i]``.

        ``frame.iloc[i]`` builds a pandas Series (about 100 us for 35 columns); reading each
        cell from a zero-copy Arrow view of its column gives the same values in a fifth of
        the time (lookup and address detail are hot). Columns of other types read the
        pandas array.
        """
        from api.service.responses import clean_value

        if not self._cells:
            with self._locks["cells"]:
                if not self._cells:
                    self._cells = [(c, _cell_reader(self.frame[c])) for c in self.frame.columns]
        return {c: clean_value(read(i)) for c, read in self._cells}

    @property
    def nearest_ready(self) -> bool:
        """True once the KD-tree for :meth:`nearest` is built (lookups are then cheap)."""
        return self._tree is not None

    @property
    def text_ready(self) -> bool:
        """True once the text index for :meth:`find_text` is built."""
        return bool(self._text)

    @property
    def rows_ready(self) -> bool:
        """True once the column readers of :meth:`row` are set up."""
        return bool(self._cells)

    # -- filters and cursors -----------------------------------------------------------------
    def mask(
        self,
        *,
        ags: str | None = None,
        klass: str | None = None,
        eligible: bool | None = None,
        site_type: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
    ) -> np.ndarray:
        """Boolean mask of the rows matching every given filter (bbox in lon/lat, inclusive)."""
        keep = np.ones(len(self.frame), dtype=bool)
        f = self.frame
        if ags:
            keep &= f["ags"].astype("string").str.startswith(ags).fillna(False).to_numpy(dtype=bool)
        if klass:
            keep &= (f["class"].astype("string") == klass).fillna(False).to_numpy(dtype=bool)
        if eligible is not None:
            keep &= (f["eligible"].astype("boolean") == eligible).fillna(False).to_numpy(dtype=bool)
        if site_type:
            keep &= (
                (f["site_type"].astype("string") == site_type).fillna(False).to_numpy(dtype=bool)
            )
        if bbox is not None:
            keep &= bbox_mask(self.lon, self.lat, bbox)
        return keep

    def index_of(self, address_id: str) -> int:
        """Row position of an address id (NotFoundError when absent); the index is built once."""
        if not self._ids:
            with self._locks["ids"]:
                if not self._ids:
                    ids = self.frame["address_id"].astype("string").fillna("")
                    self._ids = {v: i for i, v in reversed(list(enumerate(ids.tolist())))}
        hit = self._ids.get(address_id)
        if hit is None:
            raise NotFoundError(f"address {address_id!r} is not in run {self.run_id}")
        return hit

    # -- lookup ------------------------------------------------------------------------------
    def nearest(self, lon: float, lat: float) -> tuple[int, float]:
        """Row position of the nearest address and its distance in metres (working CRS)."""
        if self._tree is None:
            with self._locks["tree"]:
                if self._tree is None:
                    self._to_working = Transformer.from_crs("OGC:CRS84", self.crs, always_xy=True)
                    self._tree = cKDTree(
                        np.column_stack([self.x, self.y])
                    )  # last: see nearest_ready
        assert self._to_working is not None
        x, y = self._to_working.transform(lon, lat)
        if not (np.isfinite(x) and np.isfinite(y)):
            raise ApiError(
                422,
                "coordinates_invalid",
                f"lon={lon}, lat={lat} cannot be projected to {self.crs}",
            )
        dist, idx = self._tree.query([x, y], k=1)
        return int(idx), float(dist)

    def find_text(self, q: str) -> tuple[int, int]:
        """Row position of the address matching ``q`` and how many candidates matched."""
        street, number, place = parse_query(q)
        if not self._text:
            with self._locks["text"]:
                if not self._text:
                    self._text = _text_index(self.frame)
                    freeze_long_lived()
        hits = self._text.get(f"{street}|{number}|{place}") if place else None
        if not hits:
            hits = self._text.get(f"{street}|{number}|")
        if not hits:
            raise NotFoundError(f"no address matches {q!r} in run {self.run_id}")
        return hits[0], len(hits)


def page(
    table: AddressTable,
    *,
    ags: str | None,
    klass: str | None,
    eligible: bool | None,
    site_type: str | None,
    bbox: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[np.ndarray, int, str | None]:
    """One page of matching row positions, the number matched and the next cursor (or None)."""
    box = parse_bbox(bbox) if bbox else None
    key = filter_key(ags, klass, eligible, site_type, box)
    after = decode_cursor(cursor, table.run_id, key) if cursor else -1
    mask = table.mask(ags=ags, klass=klass, eligible=eligible, site_type=site_type, bbox=box)
    matches = np.flatnonzero(mask)
    remaining = matches[matches > after]
    rows = remaining[:limit]
    more = len(remaining) > limit
    return rows, len(matches), encode_cursor(table.run_id, int(rows[-1]), key) if more else None


def bbox_mask(
    lon: np.ndarray, lat: np.ndarray, bbox: tuple[float, float, float, float]
) -> np.ndarray:
    """Points inside the lon/lat box (edges included)."""
    minx, miny, maxx, maxy = bbox
    return (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)


def _text_index(frame: pd.DataFrame) -> dict[str, list[int]]:
    def col(name: str) -> list[str]:
        if name not in frame.columns:
            return [""] * len(frame)
        return [
            normalise(v) if isinstance(v, str) else ""
            for v in frame[name].astype(object).where(frame[name].notna(), None)
        ]

    street, number, suffix, place = col("street"), col("house_number"), col("suffix"), col("place")
    index: dict[str, list[int]] = {}
    for i, (s, n, x, p) in enumerate(zip(street, number, suffix, place, strict=True)):
        if not s or not n:
            continue
        for key in {f"{s}|{n}{x}|{p}", f"{s}|{n}{x}|"}:
            index.setdefault(key, []).append(i)
    return index


def _arrow_safe(kind: pa.DataType) -> bool:
    """Arrow types whose ``as_py`` cleans to what the pandas cell cleans to."""
    t = pa.types
    return bool(
        t.is_string(kind)
        or t.is_large_string(kind)
        or t.is_integer(kind)
        or t.is_floating(kind)
        or t.is_boolean(kind)
        or t.is_timestamp(kind)
    )


def _cell_reader(column: pd.Series) -> Callable[[int], Any]:
    """A fast reader of one column's cells (see :meth:`AddressTable.row`)."""
    values = column.array
    if column.dtype != object:  # object columns may hold anything: read them as pandas does
        try:
            arrow = pa.array(column, from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError):
            arrow = None
        if arrow is not None and _arrow_safe(arrow.type):
            return lambda i: arrow[i].as_py()
    return values.__getitem__


def freeze_long_lived() -> None:
    """Take what exists now (imports, a run's table and indexes) out of the cyclic GC's sight.

    A full collection walks every tracked object: with the text index of a 400k-address run
    that is 100-200 ms with the GIL held, a pause that every request in flight waits for
    (it set the p99 of lookups). Frozen objects are still freed by reference counting when
    dropped; only reference cycles among them would outlive their last user.
    """
    gc.collect()
    gc.freeze()


def load_address_table(run_id: str, path: Path) -> AddressTable:
    """Read ``addresses.parquet`` once: attributes, lon/lat and working-CRS coordinates."""
    return address_table(run_id, gpd.read_parquet(path))


def address_table(run_id: str, geo: gpd.GeoDataFrame) -> AddressTable:
    """The table of addresses read from a run's ``addresses.parquet`` (or a part of it)."""
    crs = geo.crs.to_string() if geo.crs is not None else "EPSG:25832"
    pts = geo.geometry.values
    x, y = np.asarray(pts.x, dtype=float), np.asarray(pts.y, dtype=float)
    lon, lat = Transformer.from_crs(crs, "OGC:CRS84", always_xy=True).transform(x, y)
    frame = pd.DataFrame(geo.drop(columns=geo.geometry.name)).reset_index(drop=True)
    return AddressTable(run_id, frame, np.asarray(lon), np.asarray(lat), x, y, crs)


# -- opaque cursors ---------------------------------------------------------------------------
def filter_key(*parts: object) -> str:
    """A short hash of the filters a cursor belongs to."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:12]


def encode_cursor(run_id: str, position: int, key: str) -> str:
    """Opaque cursor: continue after row ``position`` under the same filters."""
    return (
        base64.urlsafe_b64encode(orjson.dumps({"r": run_id, "p": position, "f": key}))
        .decode()
        .rstrip("=")
    )


def decode_cursor(cursor: str, run_id: str, key: str) -> int:
    """Row position of a cursor; 400 when it is malformed or belongs to other filters."""
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        position = int(data["p"])
        ok = data["r"] == run_id and data["f"] == key and position >= -1
    except (ValueError, KeyError, TypeError):
        ok, position = False, -1
    if not ok:
        raise ApiError(
            400,
            "cursor_invalid",
            "the cursor is malformed or belongs to another run or other filters",
        )
    return position


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """'minlon,minlat,maxlon,maxlat' (WGS84) -> tuple; 400 when malformed."""
    try:
        parts = tuple(float(p) for p in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 4 or not all(np.isfinite(parts)):
        raise ApiError(
            400, "bbox_invalid", "bbox must be minlon,minlat,maxlon,maxlat in degrees (WGS84)"
        )
    minx, miny, maxx, maxy = parts
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ApiError(
            400,
            "bbox_invalid",
            "bbox must satisfy -180 <= minlon <= maxlon <= 180 and -90 <= minlat <= maxlat <= 90",
        )
    return minx, miny, maxx, maxy


_ADDRESS_FIELDS = (
    "street",
    "house_number",
    "suffix",
    "postcode",
    "place",
    "ags",
    "site_type",
    "households",
)


def explain(table: AddressTable, i: int) -> dict[str, Any]:
    """One address with its full explanation: class, reason, best/planned offers, networks."""
    row = table.row(i)

    def group(prefix: str) -> dict[str, Any] | None:
        values = {c.removeprefix(prefix): row[c] for c in row if c.startswith(prefix)}
        return values if any(v is not None for v in values.values()) else None

    return {
        "address_id": row.get("address_id"),
        "address": {k: row.get(k) for k in _ADDRESS_FIELDS if k in row},
        "location": {"lon": round(float(table.lon[i]), 7), "lat": round(float(table.lat[i]), 7)},
        "class": row.get("class"),
        "eligible": row.get("eligible"),
        "reason_code": row.get("reason_code"),
        "reason": row.get("reason"),
        "site_rule": row.get("site_rule"),
        "best_offer": group("best_"),
        "planned_offer": group("planned_"),
        "networks": {"now": row.get("networks_now"), "planned": row.get("networks_planned")},
        "profile": {"id": row.get("profile_id"), "version": row.get("profile_version")},
    }


def page_features(table: AddressTable, rows: np.ndarray) -> list[dict[str, Any]]:
    """GeoJSON point features (lon/lat) for the given row positions."""
    from api.service.responses import records

    props = records(table.frame.iloc[rows])
    return [
        {
            "type": "Feature",
            "id": p.get("address_id"),
            "geometry": {
                "type": "Point",
                "coordinates": [round(float(table.lon[r]), 7), round(float(table.lat[r]), 7)],
            },
            "properties": p,
        }
        for r, p in zip(rows.tolist(), props, strict=True)
    ]


def page_records(table: AddressTable, rows: np.ndarray) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts with ``lon``/``lat`` (WGS84) added."""
    from api.service.responses import records

    items = records(table.frame.iloc[rows])
    for item, r in zip(items, rows.tolist(), strict=True):
        item["lon"], item["lat"] = round(float(table.lon[r]), 7), round(float(table.lat[r]), 7)
    return items
