"""Atomic writers: nothing half-written, and a failed run leaves earlier results intact.

Single files are written to a temporary sibling and renamed into place (``os.replace`` is
atomic on one filesystem). A run directory is built as a hidden temporary sibling and only
renamed to its final name when every file is complete; an earlier run in the same place is
moved aside first and removed only after the new one is in place.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd


def _umask_mode(base: int) -> int:
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


_FILE_MODE = _umask_mode(0o666)
_DIR_MODE = _umask_mode(0o777)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it to ``target`` if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.chmod(_FILE_MODE)  # mkstemp creates 0600; results are meant to be shared like any file
    try:
        yield tmp
        tmp.replace(target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json(obj: Any, target: str | os.PathLike[str]) -> Path:
    """Write JSON (UTF-8, sorted keys, 2-space indent) atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(
            json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n",
            encoding="utf-8",
        )
    return Path(target)


def write_csv(frame: pd.DataFrame, target: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write a CSV atomically (no index, '.' decimal, UTF-8 unless told otherwise)."""
    kwargs.setdefault("index", False)
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, **kwargs)
    return Path(target)


def write_parquet(frame: pd.DataFrame | gpd.GeoDataFrame, target: str | os.PathLike[str]) -> Path:
    """Write (Geo)Parquet atomically; GeoDataFrames become GeoParquet with their CRS."""
    with atomic_path(target) as tmp:
        frame.to_parquet(tmp, index=False)
    return Path(target)


class RunDirectory:
    """A run directory that appears complete or not at all.

    Use as a context manager: files are written under :attr:`path` (a temporary sibling);
    on success it is renamed to the final location, on error it is removed and any earlier
    directory at the final location is left untouched.
    """

    def __init__(self, final: str | os.PathLike[str]) -> None:
        self.final = Path(final)
        self.path: Path = self.final

    def __enter__(self) -> RunDirectory:
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(
            tempfile.mkdtemp(
                prefix=f".{self.final.name}.", suffix=".partial", dir=self.final.parent
            )
        )
        self.path.chmod(_DIR_MODE)  # mkdtemp creates 0700
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        old: Path | None = None
        if self.final.exists():
            old = self.final.with_name(f".{self.final.name}.old-{os.getpid()}")
            if old.exists():
                shutil.rmtree(old)
            self.final.replace(old)
        try:
            self.path.replace(self.final)
        except OSError:
            if old is not None:
                old.replace(self.final)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
