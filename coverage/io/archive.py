"""Safe zip extraction: user-supplied archives are untrusted input.

Every entry is checked *before* anything is written, so a refused archive leaves nothing
behind: no absolute paths, no ``..`` components (zip slip), no symlinks, a bounded number of
files, a bounded total size and a bounded compression ratio (zip bombs). The checks use the
sizes declared in the central directory; extraction then copies with a running byte budget, so
an entry that lies about its size cannot write more than was declared either.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO

from coverage.errors import InputDataError, SourceReadError

#: Entries smaller than this are not ratio-checked: tiny files (a .cpg, a blank .dbf) can
#: compress extremely well without being a threat; a bomb needs a large expanded size.
RATIO_MIN_BYTES = 1 << 20

_DRIVE = re.compile(r"^[A-Za-z]:")
_COPY_CHUNK = 1 << 20


def _refuse(zip_label: str, entry: str, problem: str) -> InputDataError:
    return InputDataError(
        f"{zip_label}: refusing entry {entry!r}: {problem}; the archive is not safe to unpack"
    )


def _check_name(zip_label: str, name: str) -> PurePosixPath:
    """Return the entry's relative path or raise for absolute paths and '..' components."""
    # zip names use '/', but archives made on Windows sometimes carry '\\'; treat both as separators
    normalised = name.replace("\\", "/")
    if normalised.startswith("/") or _DRIVE.match(normalised):
        raise _refuse(zip_label, name, "absolute path")
    parts = [p for p in normalised.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _refuse(zip_label, name, "path leaves the extraction directory ('..')")
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    # Unix mode bits live in the high 16 bits of external_attr (set by Info-ZIP and Python)
    return stat.S_ISLNK(info.external_attr >> 16)


def safe_extract(
    zip_path: str | os.PathLike[str],
    dest_dir: str | os.PathLike[str],
    *,
    max_total_bytes: int = 2_000_000_000,
    max_files: int = 10_000,
    max_ratio: float = 200,
    ratio_min_bytes: int = RATIO_MIN_BYTES,
) -> list[Path]:
    """Extract a zip archive into ``dest_dir`` after checking every entry.

    Parameters
    ----------
    zip_path
        The archive to extract.
    dest_dir
        An existing (normally temporary, empty) directory to extract into.
    max_total_bytes
        Refuse archives whose entries expand to more than this many bytes in total.
    max_files
        Refuse archives with more entries than this.
    max_ratio
        Refuse entries whose uncompressed size exceeds ``max_ratio`` times their compressed
        size (zip bombs). Only entries larger than ``ratio_min_bytes`` are checked.
    ratio_min_bytes
        Smallest uncompressed entry size subject to the ratio check.

    Returns
    -------
    list of Path
        The extracted regular files (directories excluded), in archive order.

    Raises
    ------
    SourceReadError
        The archive is missing or is not a readable zip file.
    InputDataError
        An entry is unsafe (absolute path, '..', symlink, duplicate), or the archive has too
        many files, expands too far, or compresses suspiciously well. These checks run before
        anything is written; only an entry that lies about its size is caught mid-way (extract
        into a temporary directory so that a partial result is discarded).
    """
    label = os.fspath(zip_path)
    dest = Path(dest_dir).resolve()
    try:
        archive = zipfile.ZipFile(zip_path)
    except FileNotFoundError as exc:
        raise SourceReadError(f"{label}: file not found") from exc
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise SourceReadError(
            f"{label}: not a readable zip archive ({exc}); the file may be truncated"
        ) from exc

    with archive:
        infos = archive.infolist()
        if len(infos) > max_files:
            raise _refuse(
                label,
                infos[max_files].filename,
                f"the archive has {len(infos)} entries (limit {max_files})",
            )
        plan: list[tuple[zipfile.ZipInfo, Path]] = []
        seen: set[PurePosixPath] = set()
        total = 0
        for info in infos:
            rel = _check_name(label, info.filename)
            if _is_symlink(info):
                raise _refuse(label, info.filename, "symbolic link")
            if info.is_dir():
                continue
            if rel in seen:
                # a later duplicate would silently replace an earlier, already-checked file
                raise _refuse(label, info.filename, "duplicate entry name")
            seen.add(rel)
            total += info.file_size
            if total > max_total_bytes:
                raise _refuse(
                    label,
                    info.filename,
                    f"the archive expands to more than {max_total_bytes:,} bytes",
                )
            if info.file_size > ratio_min_bytes and info.file_size > max_ratio * max(
                info.compress_size, 1
            ):
                ratio = info.file_size / max(info.compress_size, 1)
                raise _refuse(
                    label,
                    info.filename,
                    f"compression ratio {ratio:,.0f}:1 exceeds {max_ratio:,.0f}:1 (zip bomb?)",
                )
            target = dest.joinpath(*rel.parts)
            # belt and braces: the name checks above should make this impossible
            if not target.resolve().is_relative_to(dest):
                raise _refuse(label, info.filename, "path leaves the extraction directory")
            plan.append((info, target))

        extracted: list[Path] = []
        budget = max_total_bytes
        for info, target in plan:
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as src, target.open("wb") as out:
                    written = _copy_limited(src, out, limit=min(info.file_size, budget))
            except _LimitExceededError as exc:
                raise _refuse(label, info.filename, "it expands beyond its declared size") from exc
            except (
                zipfile.BadZipFile,
                EOFError,
                OSError,
                NotImplementedError,
                RuntimeError,
            ) as exc:
                # RuntimeError: encrypted entries; NotImplementedError: unsupported compression
                raise SourceReadError(f"{label}: cannot extract {info.filename!r} ({exc})") from exc
            budget -= written
            extracted.append(target)
    return extracted


class _LimitExceededError(Exception):
    """Internal: an entry produced more bytes than allowed."""


def _copy_limited(src: IO[bytes], out: IO[bytes], *, limit: int) -> int:
    """Copy at most ``limit`` bytes; raise _LimitExceededError if the source has more."""
    written = 0
    # ask for one byte beyond the limit so an over-long entry is detected, not truncated
    while block := src.read(min(_COPY_CHUNK, limit - written + 1)):
        written += len(block)
        if written > limit:
            raise _LimitExceededError
        out.write(block)
    return written


#: Which member of an extracted zip is the layer. A zipped shapefile often also carries a
#: readme .txt or metadata, so the groups are tried in order and the first non-empty one counts.
LAYER_GROUPS: tuple[tuple[str, ...], ...] = (
    (".shp",),
    (".gpkg",),
    (".geojson", ".json"),
    (".parquet", ".geoparquet"),
    (".csv",),
    (".txt",),
)


def pick_layer_member(
    members: list[Path], root: Path, source: str, *, layer: str | None = None
) -> tuple[Path, str | None]:
    """Choose the data file among the files extracted from a zip.

    Parameters
    ----------
    members
        Extracted files, as returned by :func:`safe_extract`.
    root
        The extraction directory (for names relative to the archive).
    source
        The archive as the user named it (for messages).
    layer
        Picks one of several candidates by file name, with or without extension.

    Returns
    -------
    tuple of (Path, str or None)
        The chosen file, and ``layer`` if it was not used up choosing the file (it may then
        name a layer inside a GeoPackage).

    Raises
    ------
    InputDataError
        No readable file, or several candidates and ``layer`` does not pick exactly one.
    """
    # macOS resource forks (__MACOSX/, ._name) are not data
    usable = [m for m in members if "__MACOSX" not in m.parts and not m.name.startswith(".")]
    for group in LAYER_GROUPS:
        found = [m for m in usable if m.suffix.lower() in group]
        if len(found) == 1:
            return found[0], None if layer in (found[0].stem, found[0].name) else layer
        if found:
            chosen = [m for m in found if layer in (m.stem, m.name)] if layer else []
            if len(chosen) == 1:
                return chosen[0], None
            names = ", ".join(m.relative_to(root).as_posix() for m in found)
            raise InputDataError(
                f"{source}: the zip holds {len(found)} candidate layers ({names}); "
                f"name one in the file option as '{source}|layername=NAME' (NAME: the file name "
                "without extension)"
            )
    listing = ", ".join(m.relative_to(root).as_posix() for m in members[:20]) or "nothing"
    raise InputDataError(f"{source}: the zip holds no readable layer (found: {listing})")


__all__ = ["LAYER_GROUPS", "RATIO_MIN_BYTES", "pick_layer_member", "safe_extract"]
