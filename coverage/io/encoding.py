"""Text encoding checks shared by every delimited-text reader."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from coverage.errors import InputDataError

# a UTF-8 multi-byte sequence; German cp1252 text practically never contains one
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")


def refuse_mixed_encoding(file: Path, label: str) -> None:
    """A file that is partly UTF-8 and partly cp1252 cannot be decoded right either way.

    Called when a reader had to fall back from UTF-8: if the bytes also hold valid UTF-8
    multi-byte sequences, the file mixes encodings, and the first line that is not UTF-8
    is named.
    """
    data = file.read_bytes()
    if not _UTF8_SEQUENCE.search(data):
        return
    for number, line in enumerate(data.splitlines(), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            raise InputDataError(
                f"{label}: mixed encoding: most text is UTF-8 but line {number} is not (e.g. "
                f"{line[:60]!r}); re-save the whole file as UTF-8"
            ) from None


#: single-byte encodings tried after UTF-8, in this order: cp1252 (Windows "ANSI", what German
#: Excel writes) leaves five bytes undefined; Latin-1 decodes every byte (the last resort)
SINGLE_BYTE = ("cp1252", "latin-1")
#: CSV delimiters gapmap recognises -> their names in messages
CSV_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}


def sniff_encoding(sample: bytes, *, whole: bool) -> str:
    """The first of UTF-8, cp1252, Latin-1 that decodes the sample (a cut last char is fine)."""
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if whole or exc.start < len(sample) - 3:
            for encoding in SINGLE_BYTE:
                with contextlib.suppress(UnicodeDecodeError):
                    sample.decode(encoding)
                    return encoding
    return "utf-8"


def sniff_delimiter(first_line: str) -> str:
    """The most frequent of comma, semicolon and tab in the header line (comma if none)."""
    counts = {d: first_line.count(d) for d in CSV_DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","
