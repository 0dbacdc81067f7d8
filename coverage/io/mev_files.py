"""Files of a Markterkundungsverfahren and of a BEAD challenge: the only place they are opened.

Operators get CSV (semicolon, UTF-8 with BOM: what German Excel opens without an import
dialog) and XLSX; text cells that a spreadsheet would run as a formula (starting with
``= + - @`` or a tab) are written with a leading apostrophe. GeoPackages are written with
the GDAL driver named (``GPKG``). BEAD files are plain UTF-8 CSV without BOM, as NTIA's
validator expects; ``unserved.csv`` and ``underserved.csv`` have no header row.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from coverage.errors import InputDataError, SourceReadError
from coverage.io.detect import read_any
from coverage.io.offers import OFFER_ALIASES, _read_csv
from coverage.io.writers import atomic_path

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
REPLY_SHEET = "Rückmeldung"
#: BEAD files written without a header row (NTIA: a bare list of location ids)
BEAD_HEADERLESS = ("unserved.csv", "underserved.csv")


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would evaluate get a leading apostrophe (numbers untouched)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            s = out[col].astype("string")
            risky = s.str.startswith(_FORMULA_START).fillna(False)
            if risky.any():
                out[col] = s.where(~risky, "'" + s)
    return out


def csv_bytes_de(frame: pd.DataFrame) -> bytes:
    """A German spreadsheet CSV: semicolon, decimal comma, UTF-8 with BOM, neutralised."""
    text = neutralise(frame).to_csv(index=False, sep=";", decimal=",", lineterminator="\r\n")
    return b"\xef\xbb\xbf" + text.encode("utf-8")


def write_csv_de(frame: pd.DataFrame, target: str | os.PathLike[str]) -> Path:
    """Write :func:`csv_bytes_de` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(csv_bytes_de(frame))
    return Path(target)


def write_xlsx(sheets: Mapping[str, pd.DataFrame], target: str | os.PathLike[str]) -> Path:
    """A workbook with one sheet per frame (bold frozen header, column widths), neutralised."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    for name, frame in sheets.items():
        ws = wb.create_sheet(name)
        ws.append([str(c) for c in frame.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for row in neutralise(frame).astype(object).itertuples(index=False):
            ws.append([None if v is None or v is pd.NA or v != v else v for v in row])
        for i, col in enumerate(frame.columns, start=1):
            longest = frame[col].astype("string").str.len().max()
            width = max(len(str(col)), int(longest) if pd.notna(longest) else 0)
            ws.column_dimensions[get_column_letter(i)].width = min(width + 2, 80)
    with atomic_path(target) as tmp:
        buf = io.BytesIO()
        wb.save(buf)
        tmp.write_bytes(buf.getvalue())
    return Path(target)


def write_text(text: str, target: str | os.PathLike[str]) -> Path:
    """A UTF-8 text file, atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_gpkg(layers: Mapping[str, gpd.GeoDataFrame], target: str | os.PathLike[str]) -> Path:
    """A GeoPackage (GDAL driver ``GPKG``) with the given layers, atomically."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".gpkg-") as tmp:
        path = Path(tmp) / "layers.gpkg"  # GDAL wants the .gpkg extension while writing
        for i, (name, frame) in enumerate(layers.items()):
            pyogrio.write_dataframe(
                frame, path, layer=name, driver="GPKG", encoding="UTF-8", append=i > 0
            )
        path.chmod(0o644)
        path.replace(target)
    return target


def read_reply_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """An operator's reply in the template (CSV with , ; or tab, or XLSX: the sheet
    'Rückmeldung', else the first), all cells as text; a leading apostrophe is removed."""
    p = Path(path)
    if not p.is_file():
        raise SourceReadError(f"{p}: file not found")
    if p.stat().st_size == 0:
        raise InputDataError(f"{p}: the file is empty (0 bytes)")
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt"):
        frame = _read_csv(p)
    elif suffix in (".xlsx", ".xlsm"):
        try:
            sheets = pd.ExcelFile(p, engine="openpyxl").sheet_names
            sheet = REPLY_SHEET if REPLY_SHEET in sheets else sheets[0]
            frame = pd.read_excel(p, sheet_name=sheet, dtype=str, engine="openpyxl")
        except Exception as exc:  # openpyxl raises several unrelated types for corrupt files
            raise SourceReadError(
                f"{p}: cannot read the workbook ({exc}); save it again as .xlsx"
            ) from exc
    else:
        raise SourceReadError(
            f"{p}: a reply must be .csv or .xlsx (or polygons: .gpkg, .geojson), not {suffix}"
        )
    if len(frame) == 0:
        raise InputDataError(f"{p}: the reply has a header but no rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    if (
        "Adress-ID" not in frame.columns
        and "address_id" not in frame.columns
        and "Straße" not in frame.columns
    ):
        raise InputDataError(
            f"{p}: no column 'Adress-ID' (nor 'Straße'); use the template rueckmeldung_vorlage "
            f"(columns found: {', '.join(frame.columns[:12])})"
        )
    for col in frame.columns:
        s = frame[col].astype("string")
        frame[col] = s.str.replace(r"^'(?=[=+\-@])", "", regex=True)
    return frame


POLYGON_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".zip", ".parquet", ".geoparquet")


def read_polygon_reply(path: str | os.PathLike[str], working_crs: str) -> gpd.GeoDataFrame:
    """Coverage polygons as a reply: German field names mapped (technologie, download,
    upload, verfuegbar_ab), reprojected to the working CRS; validation is the engine's."""
    raw = read_any(path)
    frame = raw.frame
    rename = {
        c: OFFER_ALIASES[str(c).strip().lower()]
        for c in frame.columns
        if str(c).strip().lower() in OFFER_ALIASES
        and OFFER_ALIASES[str(c).strip().lower()] not in frame.columns
    }
    frame = frame.rename(columns=rename)
    if frame.crs is None:
        raise InputDataError(f"{path}: the polygons have no CRS; write them with one (EPSG:25832)")
    return frame.to_crs(working_crs)


def write_bead_files(
    frames: Mapping[str, pd.DataFrame], out_dir: str | os.PathLike[str]
) -> list[Path]:
    """NTIA challenge-process files (``name.csv`` -> frame) into ``out_dir``: UTF-8, no BOM,
    ``\\n`` line ends, no header for the unserved/underserved lists."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in frames.items():
        header = name not in BEAD_HEADERLESS
        text = frame.to_csv(index=False, header=header, lineterminator="\n")
        with atomic_path(out / name) as tmp:
            tmp.write_bytes(text.encode("utf-8"))
        written.append(out / name)
    return written


def read_bead_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A challengers/challenges/CAI table (CSV, UTF-8 with or without BOM), all cells text;
    header names lower-cased and trimmed like NTIA's validator (``CMS number`` kept)."""
    p = Path(path)
    if not p.is_file():
        raise SourceReadError(f"{p}: file not found")
    try:
        frame = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputDataError(f"{p}: not a readable UTF-8 CSV ({exc})") from exc
    frame.columns = [
        "CMS number"
        if str(c).strip().lower() in ("cms number", "cms_number")
        else str(c).strip().lower()
        for c in frame.columns
    ]
    return frame
