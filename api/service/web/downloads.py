"""Downloads of the pages: tables for German Excel (CSV, XLSX), GeoPackage, evidence packs.

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, tab or carriage return) are prefixed with an apostrophe. Built files (GeoPackage,
evidence packs) are kept per run under ``<workspace>/downloads/<run_id>/`` (names built from
validated ids only) and written atomically.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import pandas as pd

_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def neutralise(value: object) -> object:
    """A text cell that would start a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def _text_columns(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise, na_action="ignore")
    return out


def csv_excel(frame: pd.DataFrame) -> bytes:
    """CSV as German Excel opens it: ``;``, decimal comma, UTF-8 with BOM, CRLF."""
    text = _text_columns(frame).to_csv(index=False, sep=";", decimal=",", lineterminator="\r\n")
    return b"\xef\xbb\xbf" + text.encode("utf-8")


def xlsx(frame: pd.DataFrame, sheet: str) -> bytes:
    """One worksheet with a bold, frozen header."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    ws.append([str(c) for c in frame.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for row in _text_columns(frame).astype(object).itertuples(index=False):
        ws.append([None if v is None or v is pd.NA or v != v else v for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def built(path: Path, build: Callable[[Path], None]) -> Path:
    """``path`` once built (one builder at a time per file; atomic rename into place)."""
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(str(path), threading.Lock())
    with lock:
        if path.is_file():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix)
        os.close(fd)
        try:
            build(Path(tmp))
            Path(tmp).replace(path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    return path


def write_gpkg(addresses: Path, out: Path) -> None:
    """The run's addresses as a GeoPackage (GDAL driver GPKG)."""
    import geopandas as gpd

    frame = gpd.read_parquet(addresses)
    out.unlink(missing_ok=True)
    frame.to_file(out, driver="GPKG", layer="addresses", engine="pyogrio")


def write_evidence(run_dir: Path, out: Path, ags: str | None, lang: str) -> None:
    """An evidence pack (``gapmap evidence``) for the run or one Gemeinde/Kreis."""
    from coverage.errors import GapmapError
    from coverage.io.evidence_pack import PackOptions, read_run, write_pack

    run = read_run(run_dir)
    png = None
    try:
        from coverage.io.rundir import load_run
        from maps.overview import render_overview_png

        png = render_overview_png(load_run(run_dir, ags=ags), ags=ags, lang=lang)
    except (ImportError, GapmapError):
        png = None  # the pack is complete without the picture; its manifest says so
    write_pack(run, out, PackOptions(ags=ags, lang=lang), overview_png=png)
