"""Evidence workbooks a Projektträger can print and sort (openpyxl, write-only mode).

Summary sheet first (the area, the rule set and Stichtag, counts per class, per Gemeinde and
the gap areas), then the address table, the gap areas and the methodology. Every sheet:
column widths from its content, number formats per column kind (thousands separators,
percentages, dates as dates; AGS and ids as text so Excel keeps their leading zeros),
booleans as Ja/Nein (Yes/No), A4 landscape fitted to one page width with the header row
repeated on every page, frozen header and autofilter on the tables. Document properties
carry the producer (gapmap and its version) and the run's creation date, so the same run
gives the same bytes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from coverage.evidence_sheets import Sheet
from coverage.io.writers import spreadsheet_cell
from coverage.texts import YES_NO

#: kind -> Excel number format (text columns get '@', i.e. stay text on re-entry)
FORMATS = {
    "text": "@", "int": "#,##0", "dec1": "#,##0.0", "dec2": "#,##0.00", "dec7": "0.0000000",
    "pct": "0.0%", "eur": "#,##0 [$€-407]", "date": "DD.MM.YYYY", "bool": "@",
}  # fmt: skip
_MAX_WIDTH = 40
_HEADER_FILL = "1F4E78"


def _plain(line: str) -> str:
    """A Markdown line as plain text (no #, **, backticks, table pipes)."""
    line = re.sub(r"^#+\s*", "", line)
    line = line.replace("**", "").replace("`", "")
    if line.startswith("|"):
        if set(line) <= set("|-: "):
            return ""
        line = "   ".join(p.strip() for p in line.strip("|").split("|"))
    return line


def _value(v: Any, kind: str, yes_no: tuple[str, str]) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and v != v) or v is pd.NaT:
        return None
    if kind == "bool":
        return yes_no[0] if bool(v) else yes_no[1]
    if kind == "date":
        return pd.Timestamp(v).to_pydatetime().date()
    if kind == "text":
        return spreadsheet_cell(str(v))  # never a formula (OWASP)
    return float(v) if kind not in ("int",) else round(float(v))


class _Book:
    def __init__(self, lang: str, created: datetime, creator: str, title: str) -> None:
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font, PatternFill

        self.wb = Workbook(write_only=True)
        self.wb.properties.creator = creator
        self.wb.properties.lastModifiedBy = creator
        self.wb.properties.title = title
        self.wb.properties.language = "de-DE" if lang == "de" else "en-GB"
        self.wb.properties.created = self.wb.properties.modified = created
        self.yes_no = YES_NO[lang]
        self.head_font = Font(bold=True, color="FFFFFF")
        self.head_fill = PatternFill("solid", fgColor=_HEADER_FILL)
        self.wrap = Alignment(wrap_text=True, vertical="top")
        self.bold = Font(bold=True)
        self.title_font = Font(bold=True, size=14)

    def _print_setup(self, ws: Any, title_row: int | None) -> None:
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = 9  # A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.gridLines = False
        if title_row is not None:
            ws.print_title_rows = f"{title_row}:{title_row}"

    def _widths(self, ws: Any, sheets: Sequence[Sheet], offset: int = 0) -> None:
        from openpyxl.utils import get_column_letter

        widths: dict[int, int] = {}
        for sheet in sheets:
            for i, (head, kind) in enumerate(zip(sheet.headers, sheet.kinds, strict=True)):
                col = sheet.frame.iloc[:, i]
                if kind == "date":
                    longest = 10
                elif kind == "text":
                    lengths = col.astype("string").str.len()
                    longest = int(lengths.max()) if lengths.notna().any() else 0
                else:
                    longest = 14
                want = min(max(min(len(head), 30), longest, 8) + 2, _MAX_WIDTH)
                widths[i + offset] = max(widths.get(i + offset, 0), want)
        for i, w in widths.items():
            ws.column_dimensions[get_column_letter(i + 1)].width = w

    def _header(self, ws: Any, headers: Sequence[str]) -> list[Any]:
        from openpyxl.cell import WriteOnlyCell

        row = []
        for text in headers:
            cell = WriteOnlyCell(ws, value=spreadsheet_cell(text))
            cell.font, cell.fill, cell.alignment = self.head_font, self.head_fill, self.wrap
            row.append(cell)
        return row

    def _rows(self, ws: Any, sheet: Sheet) -> None:
        from openpyxl.cell import WriteOnlyCell

        formats = [FORMATS[k] for k in sheet.kinds]
        columns = [sheet.frame.iloc[:, i].to_numpy(dtype=object) for i in range(len(sheet.kinds))]
        for r in range(len(sheet.frame)):
            row = []
            for values, kind, fmt in zip(columns, sheet.kinds, formats, strict=True):
                cell = WriteOnlyCell(ws, value=_value(values[r], kind, self.yes_no))
                cell.number_format = fmt
                row.append(cell)
            ws.append(row)

    def table(self, sheet: Sheet) -> None:
        from openpyxl.utils import get_column_letter

        ws = self.wb.create_sheet(sheet.name)
        ws.freeze_panes = "A2"
        self._print_setup(ws, 1)
        self._widths(ws, [sheet])
        ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.headers))}{len(sheet.frame) + 1}"
        if sheet.printed:
            ws.print_area = f"A1:{get_column_letter(sheet.printed)}{len(sheet.frame) + 1}"
        ws.append(self._header(ws, sheet.headers))
        self._rows(ws, sheet)

    def summary(
        self, name: str, lines: Sequence[tuple[str, str]], blocks: Sequence[tuple[str, Sheet]]
    ) -> None:
        from openpyxl.cell import WriteOnlyCell

        ws = self.wb.create_sheet(name, 0)
        self._print_setup(ws, None)
        self._widths(ws, [b for _, b in blocks])
        first = True
        for key, value in lines:
            cell = WriteOnlyCell(ws, value=spreadsheet_cell(key))
            cell.font = self.title_font if first else self.bold
            ws.append([cell, spreadsheet_cell(value)] if value else [cell])
            first = False
        for title, block in blocks:
            ws.append([])
            head = WriteOnlyCell(ws, value=title)
            head.font = self.bold
            ws.append([head])
            ws.append(self._header(ws, block.headers))
            self._rows(ws, block)

    def text(self, name: str, body: str) -> None:
        ws = self.wb.create_sheet(name)
        self._print_setup(ws, None)
        ws.column_dimensions["A"].width = 120
        for line in body.splitlines():
            line = _plain(line)
            # Markdown bullets as bullets, not as "'- ": a cell may not start with "-"
            ws.append([spreadsheet_cell("\u2022 " + line[2:] if line.startswith("- ") else line)])

    def bytes(self) -> bytes:
        buf = io.BytesIO()
        self.wb.save(buf)
        return buf.getvalue()


def workbook_bytes(
    *,
    lang: str,
    created: datetime,
    creator: str,
    title: str,
    summary_name: str,
    summary_lines: Sequence[tuple[str, str]],
    summary_blocks: Sequence[tuple[str, Sheet]],
    tables: Sequence[Sheet],
    text_name: str,
    text: str,
) -> bytes:
    """The workbook: summary sheet first, then ``tables``, then ``text`` (plain lines)."""
    book = _Book(lang, created, creator, title)
    for sheet in tables:
        book.table(sheet)
    book.text(text_name, text)
    book.summary(summary_name, summary_lines, summary_blocks)
    return book.bytes()
