"""``gapmap inspect FILE``: what a file is, how it would be read, and what is wrong with it.

:func:`inspect_file` never raises for bad *content*: a file that cannot be read yields a
report whose ``problems`` carry the reader's message (missing files still raise).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from coverage.crs import REGIONS, crs_label, to_lonlat
from coverage.errors import GapmapError, SourceReadError
from coverage.io.detect import describe, detect_format, read_any
from coverage.io.raster import raster_info
from coverage.io.vector import RawLayer
from coverage.sites import derive_site_types

_ID_COLUMNS = ("address_id", "cell_id", "quadkey", "ags")
_US_FORMATS = ("fcc_fabric", "fcc_bdc")


@dataclass
class InspectReport:
    """The findings for one file (counts are features/rows of the canonical frame)."""

    path: str
    format: str
    format_reason: str
    crs: str | None = None
    crs_how: str | None = None
    feature_count: int = 0
    fields_mapped: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_text(self) -> str:
        """A plain-text rendering for the CLI (one fact per line)."""
        lines = [
            f"file:      {self.path}",
            f"format:    {self.format} ({self.format_reason})",
            f"crs:       {self.crs or 'none'}" + (f" - {self.crs_how}" if self.crs_how else ""),
            f"features:  {self.feature_count:,}",
        ]
        if self.fields_mapped:
            lines.append("fields:")
            lines += [f"  {src} -> {dst}" for src, dst in self.fields_mapped.items()]
        if self.notes:
            lines.append("notes:")
            lines += [f"  - {n}" for n in self.notes]
        lines.append("problems:" if self.problems else "problems:  none found")
        lines += [f"  ! {p}" for p in self.problems]
        return "\n".join(lines) + "\n"


def inspect_file(
    path: str | os.PathLike[str],
    *,
    crs: object | None = None,
    region: str | None = None,
    layer: str | None = None,
) -> InspectReport:
    """Detect, read and check a file; see :class:`InspectReport`.

    Parameters
    ----------
    crs
        A stated CRS, passed to the reader (files without one cannot be placed otherwise).
    region
        Region code for the "outside" check (``de``, ``us``, ``uk``); default ``us`` for FCC
        formats, else ``de``.
    layer
        Layer of a multi-layer file (GeoPackage); without it a multi-layer file is reported
        with its layer names.
    """
    label = os.fspath(path)
    guess = detect_format(path)
    report = InspectReport(path=label, format=guess.name, format_reason=guess.reason)
    if guess.name == "raster":
        return _inspect_raster(path, report)
    try:
        read = read_any(path, kind=guess.name, crs=crs, layer=layer)
    except SourceReadError as exc:
        if "file not found" in str(exc):
            raise
        report.problems.append(f"cannot read: {exc}")
        return report
    except GapmapError as exc:
        report.problems.append(f"cannot read: {exc}")
        return report
    report.crs = crs_label(read.crs) if read.crs is not None else None
    report.crs_how = read.crs_how
    report.feature_count = read.rows
    report.fields_mapped = describe(guess.name)
    report.notes = list(read.notes)
    for note in read.notes:
        low = note.lower()
        if "encoding" in low or "decoded as" in low:
            report.problems.append(note)
        elif "sentinel" in low:
            report.problems.append(f"sentinel values found: {note}")
        elif low.startswith("dropped"):
            report.problems.append(note)
    if "address_id" in read.frame.columns and "provider" not in read.frame.columns:
        report.notes.append(derive_site_types(read.frame)[1])
    _check_ids(read, report)
    if hasattr(read.frame, "geometry") and read.crs is not None:
        _check_geometry(read, report, region or ("us" if guess.name in _US_FORMATS else "de"))
    return report


def _check_ids(layer: RawLayer, report: InspectReport) -> None:
    frame = layer.frame
    if "geometry" not in frame:
        return  # tables (Breitbandatlas, BDC) repeat keys by design
    for col in _ID_COLUMNS:
        if col in frame:
            ids = frame[col]
            dup = ids.duplicated(keep=False) & ids.notna()
            if dup.any():
                first = np.flatnonzero(dup.to_numpy(dtype=bool))[:5] + 1
                report.problems.append(
                    f"duplicate {col}: {int(ids[dup].nunique())} value(s) repeated in {int(dup.sum())} rows "
                    f"(rows {', '.join(map(str, first))}, e.g. {ids[dup].iloc[0]!r})"
                )
            return


def _check_geometry(layer: RawLayer, report: InspectReport, region_code: str) -> None:
    geoms = np.asarray(layer.frame.geometry.values, dtype=object)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        report.problems.append(
            f"{int(empty.sum())} feature(s) without geometry (rows {_rows(empty)})"
        )
    invalid = ~empty & ~shapely.is_valid(geoms)
    if invalid.any():
        reason = shapely.is_valid_reason(geoms[invalid][0])
        report.problems.append(
            f"{int(invalid.sum())} invalid geometr(y/ies) (features {_rows(invalid)}; first: {reason}); "
            "they are repaired with make_valid during validation"
        )
    ok = ~empty
    if not ok.any():
        return
    b = shapely.bounds(geoms[ok])
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    region = REGIONS[region_code]
    try:
        lon, lat = to_lonlat(cx, cy, layer.crs)
    except Exception as exc:
        report.problems.append(f"cannot transform to lon/lat for the region check ({exc})")
        return
    w, s, e, n = region.lonlat_bounds
    out = ~((lon >= w) & (lon <= e) & (lat >= s) & (lat <= n))
    if out.any():
        rows = np.flatnonzero(ok)[out]
        mask = np.zeros(len(geoms), dtype=bool)
        mask[rows] = True
        report.problems.append(
            f"{int(out.sum())} of {int(ok.sum())} feature(s) lie outside {region.name} when read as "
            f"{report.crs} (rows {_rows(mask)}); check the CRS"
        )


def _inspect_raster(path: str | os.PathLike[str], report: InspectReport) -> InspectReport:
    try:
        info = raster_info(path)
    except GapmapError as exc:
        report.problems.append(f"cannot read: {exc}")
        return report
    report.crs = info.crs
    report.crs_how = "declared in the file" if info.crs else None
    report.feature_count = info.width * info.height
    report.notes.append(
        f"{info.driver} {info.width} x {info.height} pixels, {info.count} band(s) of {info.dtype}, "
        f"nodata {info.nodata}, bounds {tuple(round(v, 3) for v in info.bounds)}"
    )
    if info.crs is None:
        report.problems.append("the raster has no CRS; assign one before sampling")
    if info.nodata is None:
        report.problems.append(
            "no nodata value declared; every pixel will be taken as a real value"
        )
    return report


def _rows(mask: np.ndarray | pd.Series) -> str:
    return ", ".join(str(int(i) + 1) for i in np.flatnonzero(np.asarray(mask, dtype=bool))[:5])
