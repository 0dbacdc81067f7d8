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


#: Columns that hold keys with meaningful leading zeros (AGS) or ids: text in excel-de.
TEXT_KEYS = ("ags", "ags_a", "ags_b", "address_id", "area_id", "gap_area_id", "cell_id",
             "gemeinde_ags")  # fmt: skip


def excel_de(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as German Excel reads it: decimal comma, keys kept as text.

    Keys (:data:`TEXT_KEYS`) are written as ``="05974044"``, the form Excel opens as text,
    so an AGS keeps its leading zero; the value is a constant string built here from an
    8-digit key or id, never user text. Booleans are WAHR/FALSCH-free ``Ja``/``Nein``. Every
    other text cell is neutralised as in the plain dialect (no formulas).
    """
    from coverage.io.writers import spreadsheet_safe

    out = spreadsheet_safe(frame)
    for col in out.columns:
        values = out[col]
        if col in TEXT_KEYS:
            out[col] = values.map(
                lambda v: "" if pd.isna(v) else '="' + str(v).replace('"', "") + '"'
            )
        elif pd.api.types.is_bool_dtype(values):
            out[col] = values.map(lambda v: "" if pd.isna(v) else ("Ja" if v else "Nein"))
    return out


def _csv_chunks_de(frame: pd.DataFrame) -> Iterator[bytes]:
    frame = excel_de(frame)
    opts: dict[str, Any] = {"index": False, "sep": ";", "decimal": ",", "lineterminator": "\r\n"}
    yield b"\xef\xbb\xbf" + frame.head(0).to_csv(**opts).encode("utf-8")
    for start in range(0, len(frame), _CHUNK_ROWS):
        yield frame.iloc[start : start + _CHUNK_ROWS].to_csv(header=False, **opts).encode("utf-8")


def csv_response(frame: pd.DataFrame, filename: str, dialect: str = "plain") -> StreamingResponse:
    """Stream a table as CSV (header first, then chunks of rows).

    ``dialect``: ``plain`` (UTF-8, ``,``, decimal point) or ``excel-de`` (UTF-8 with BOM,
    ``;``, decimal comma, CRLF, AGS and ids as text, Ja/Nein), which German Excel opens with
    a double click.
    """
    chunks = _csv_chunks_de(frame) if dialect == "excel-de" else _csv_chunks(frame)
    return StreamingResponse(
        chunks,
        media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def csv_bytes(frame: pd.DataFrame, dialect: str = "plain") -> bytes:
    """The whole body :func:`csv_response` streams, as one piece (for prepared answers)."""
    chunks = _csv_chunks_de(frame) if dialect == "excel-de" else _csv_chunks(frame)
    return b"".join(chunks)


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


def table_response(
    frame: pd.DataFrame, f: str, filename: str, meta: dict[str, Any], dialect: str = "plain"
) -> Response:
    """A table as JSON (``meta`` + ``items``) or as a streamed CSV file (``dialect``)."""
    if f == "csv":
        return csv_response(frame, filename, dialect)
    return ORJSONResponse({**meta, "count": len(frame), "items": records(frame)})
