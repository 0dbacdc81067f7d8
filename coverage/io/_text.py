"""Shared plumbing for the format readers: sniffing, Arrow CSV reading, number parsing.

Everything here is vectorised over Arrow arrays, so a five-million-row delimited file is
read without one Python object per row. Rows in messages are 1-based *data* rows (the
header line, if any, is not counted).
"""

from __future__ import annotations

import codecs
import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from pyproj import CRS

from coverage.errors import InputDataError, SourceReadError
from coverage.io.encoding import refuse_mixed_encoding
from coverage.io.hashing import sha256_file
from coverage.io.vector import RawLayer

SAMPLE_BYTES = 1 << 16
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass
class Sniff:
    """The first lines of a text file, decoded, and the encoding that decoded them."""

    lines: list[str]
    encoding: str
    notes: list[str] = field(default_factory=list)

    @property
    def first(self) -> str:
        return self.lines[0] if self.lines else ""

    def delimiter(self) -> str:
        """The most frequent of ``, ; TAB |`` in the first line (comma when none occurs)."""
        counts = {d: self.first.count(d) for d in DELIMITER_NAMES}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def check_file(path: str | os.PathLike[str]) -> tuple[Path, str]:
    """Return ``(Path, label)``; raise SourceReadError/InputDataError for missing/empty files."""
    file = Path(path)
    label = os.fspath(path)
    if not file.exists():
        raise SourceReadError(f"{label}: file not found")
    if file.is_dir():
        raise SourceReadError(f"{label}: is a directory; give the data file itself")
    if file.stat().st_size == 0:
        raise InputDataError(f"{label}: the file is empty (0 bytes)")
    return file, label


def digest(file: Path, label: str) -> str:
    try:
        return sha256_file(file)
    except OSError as exc:
        raise SourceReadError(f"{label}: cannot open the file ({exc.strerror or exc})") from exc


def sniff(file: Path, label: str, *, n: int = 5) -> Sniff:
    """Decode the first ``n`` lines: UTF-8 (BOM stripped) or, failing that, cp1252/Latin-1."""
    try:
        with file.open("rb") as fh:
            sample = fh.read(SAMPLE_BYTES)
    except OSError as exc:
        raise SourceReadError(f"{label}: cannot open the file ({exc.strerror or exc})") from exc
    encoding = "utf-8"
    notes: list[str] = []
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 3:  # a character cut at the sample's end is fine
            encoding = single_byte(sample)
    text = codecs.decode(sample, encoding, errors="replace").removeprefix("\ufeff")
    lines = [ln for ln in text.splitlines()[:n] if ln.strip()]
    if not lines:
        raise InputDataError(f"{label}: the file holds no text lines")
    return Sniff(lines=lines, encoding=encoding, notes=notes)


def single_byte(data: bytes) -> str:
    """cp1252 if it decodes (German Excel/Windows), else Latin-1 (decodes everything)."""
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


def read_strings(
    file: Path,
    label: str,
    *,
    names: list[str],
    delimiter: str,
    skip_rows: int,
    encoding: str,
) -> tuple[pa.Table, str, list[str]]:
    """Read a delimited file with every column as a string; returns (table, encoding, notes).

    UTF-8 that turns out wrong past the sniffed sample is retried as cp1252/Latin-1 (noted).
    Rows with the wrong number of fields are an InputDataError naming their data rows.
    """
    notes: list[str] = []
    convert = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()), null_values=[""], strings_can_be_null=True
    )
    while True:
        read = pa_csv.ReadOptions(column_names=names, skip_rows=skip_rows, encoding=encoding)
        parse = pa_csv.ParseOptions(delimiter=delimiter)
        try:
            table = pa_csv.read_csv(
                file, read_options=read, parse_options=parse, convert_options=convert
            )
            break
        except pa.ArrowInvalid as exc:
            if "invalid UTF8" in str(exc) and encoding == "utf-8":
                encoding = "cp1252"
                continue
            if "Expected" in str(exc) and "columns" in str(exc):
                _raise_field_count(file, label, names, delimiter, skip_rows, encoding, exc)
            raise InputDataError(
                f"{label}: malformed delimited text ({exc}); check the delimiter "
                f"({DELIMITER_NAMES.get(delimiter, delimiter)}) and quoting"
            ) from exc
        except UnicodeDecodeError as exc:
            if encoding == "cp1252":  # one of cp1252's five undefined bytes: Latin-1 decodes all
                encoding = "latin-1"
                continue
            raise SourceReadError(f"{label}: cannot decode the file as {encoding} ({exc})") from exc
        except (pa.ArrowException, OSError) as exc:
            raise SourceReadError(
                f"{label}: cannot read the file ({exc}); it may be truncated"
            ) from exc
    if encoding != "utf-8":
        refuse_mixed_encoding(file, label)
        notes.append(f"encoding fix: decoded as {encoding} (the file is not UTF-8)")
    return table, encoding, notes


def _raise_field_count(
    file: Path,
    label: str,
    names: list[str],
    delimiter: str,
    skip_rows: int,
    encoding: str,
    exc: Exception,
) -> None:
    """Slow diagnostic pass (single-threaded, only on failure) to name the bad rows."""
    bad: list[tuple[int, int]] = []

    def handler(row: pa_csv.InvalidRow) -> str:
        bad.append((int(row.number or 0) - skip_rows, row.actual_columns))
        return "skip"

    read = pa_csv.ReadOptions(
        column_names=names, skip_rows=skip_rows, encoding=encoding, use_threads=False
    )
    parse = pa_csv.ParseOptions(delimiter=delimiter, invalid_row_handler=handler)
    convert = pa_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
    with contextlib.suppress(pa.ArrowException):
        pa_csv.read_csv(file, read_options=read, parse_options=parse, convert_options=convert)
    if not bad:
        raise InputDataError(f"{label}: malformed delimited text ({exc})") from exc
    rows = ", ".join(f"{r} ({n} fields)" for r, n in bad[:5])
    raise InputDataError(
        f"{label}: {len(bad)} data row(s) do not have {len(names)} fields: rows {rows}; "
        f"expected {', '.join(names)} separated by {DELIMITER_NAMES.get(delimiter, delimiter)!r}; "
        "fix or remove those rows"
    ) from exc


def rows_text(mask: np.ndarray | pd.Series, n: int = 5) -> str:
    """'3, 7, 9' - the first ``n`` true positions of ``mask`` as 1-based row numbers."""
    arr = np.asarray(mask, dtype=bool)
    return ", ".join(str(int(i) + 1) for i in np.flatnonzero(arr)[:n])


def strings(column: pa.ChunkedArray | pa.Array) -> pd.Series:
    """Arrow strings -> pandas ``string`` dtype, whitespace trimmed, empty -> NA."""
    trimmed = pc.utf8_trim_whitespace(column)
    out = pd.Series(trimmed.to_pandas(), dtype="string")
    return out.mask(out == "")


def numbers(
    column: pa.ChunkedArray | pa.Array,
    name: str,
    label: str,
    *,
    decimal_comma: bool = False,
    allow_missing: bool = False,
    na_tokens: tuple[str, ...] = (),
) -> np.ndarray:
    """Strings -> float64. Non-numeric cells are an InputDataError naming rows and field.

    Missing (empty) cells become NaN when ``allow_missing``; ``na_tokens`` (e.g. "-", "–")
    are also treated as missing.
    """
    cleaned = pc.utf8_trim_whitespace(column)
    if decimal_comma:
        cleaned = pc.replace_substring(cleaned, ",", ".")
    if na_tokens:
        cleaned = pc.if_else(
            pc.is_in(cleaned, pa.array(list(na_tokens))), pa.scalar(None, pa.string()), cleaned
        )
    cleaned = pc.if_else(pc.equal(cleaned, ""), pa.scalar(None, pa.string()), cleaned)
    try:
        parsed = pc.cast(cleaned, pa.float64())
        out = np.asarray(parsed.to_numpy(zero_copy_only=False), dtype="float64")
    except pa.ArrowInvalid:
        out = pd.to_numeric(pd.Series(cleaned.to_pandas()), errors="coerce").to_numpy(
            dtype="float64"
        )
        raw = np.asarray(pc.is_null(cleaned).to_numpy(zero_copy_only=False), dtype=bool)
        garbage = np.isnan(out) & ~raw
        first = pd.Series(column.to_pandas()).iloc[int(np.flatnonzero(garbage)[0])]
        raise InputDataError(
            f"{label}: field {name} is not a number at data row(s) {rows_text(garbage)} "
            f"(first: {first!r}); fix or remove those rows"
        ) from None
    if not allow_missing and np.isnan(out).any():
        raise InputDataError(
            f"{label}: field {name} is empty at data row(s) {rows_text(np.isnan(out))}; "
            "every row needs a value there"
        )
    return out


def raw_layer(
    frame: pd.DataFrame,
    *,
    crs: CRS | None,
    crs_how: str,
    label: str,
    fmt: str,
    sha: str,
    notes: list[str],
) -> RawLayer:
    """Wrap a frame as a RawLayer (``crs`` None only for tables without geometry)."""
    if isinstance(frame, gpd.GeoDataFrame) and crs is not None:
        frame = frame.set_crs(crs, allow_override=True)
    return RawLayer(
        frame=frame,
        crs=crs,  # type: ignore[arg-type]
        crs_how=crs_how,
        source=label,
        format=fmt,
        rows=len(frame),
        sha256=sha,
        notes=tuple(notes),
    )
