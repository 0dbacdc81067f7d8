"""Response helpers: orjson JSON, streamed CSV, GeoJSON feature collections.

Tables are serialised in chunks so that large responses stream instead of being built in
memory at once (fastapi#1277). Missing values become ``null`` (JSON) or empty cells (CSV).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import orjson
import pandas as pd
from fastapi.responses import Response, StreamingResponse

GEOJSON = "application/geo+json"
CSV = "text/csv; charset=utf-8"
_CHUNK_ROWS = 5000
_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    if isinstance(value, pd.Timestamp | dt.date):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(content: Any) -> bytes:
    """orjson with numpy, pandas timestamps and NA."""
    return orjson.dumps(content, default=_default, option=_OPTS)


class ORJSONResponse(Response):
    """JSON response rendered with orjson (numpy-aware)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Serialise ``content``."""
        return dumps(content)


class GeoJSONResponse(ORJSONResponse):
    """A GeoJSON document (``application/geo+json``)."""

    media_type = GEOJSON


def clean_value(value: Any) -> Any:
    """NaN/NA/NaT -> None; numpy scalars -> Python; timestamps -> ISO strings."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp | dt.date):
        return value.isoformat()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of JSON-ready values."""
    cols = list(frame.columns)
    out = []
    for row in frame.itertuples(index=False, name=None):
        out.append({c: clean_value(v) for c, v in zip(cols, row, strict=True)})
    return out


def _csv_chunks(frame: pd.DataFrame) -> Iterator[bytes]:
    """Header, then chunks of rows; no cell a spreadsheet would run as a formula."""
    from coverage.io.writers import spreadsheet_safe

    yield spreadsheet_safe(frame.head(0)).to_csv(index=False).encode("utf-8")
    for start in range(0, len(frame), _CHUNK_ROWS):
        chunk = spreadsheet_safe(frame.iloc[start : start + _CHUNK_ROWS])
        yield chunk.to_csv(index=False, header=False).encode("utf-8")


def csv_response(frame: pd.DataFrame, filename: str) -> StreamingResponse:
    """Stream a table as CSV (header first, then chunks of rows)."""
    return StreamingResponse(
        _csv_chunks(frame),
        media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _feature_chunks(head: dict[str, Any], features: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    yield dumps(head)[:-1] + b',"features":['
    first = True
    for feature in features:
        yield (b"" if first else b",") + dumps(feature)
        first = False
    yield b"]}"


def feature_collection_response(
    head: dict[str, Any], features: Iterable[dict[str, Any]]
) -> StreamingResponse:
    """Stream a GeoJSON FeatureCollection: ``head`` members first, then ``features``."""
    return StreamingResponse(
        _feature_chunks({"type": "FeatureCollection", **head}, features), media_type=GEOJSON
    )


def table_response(frame: pd.DataFrame, f: str, filename: str, meta: dict[str, Any]) -> Response:
    """A table as JSON (``meta`` + ``items``) or as a streamed CSV file."""
    if f == "csv":
        return csv_response(frame, filename)
    return ORJSONResponse({**meta, "count": len(frame), "items": records(frame)})
