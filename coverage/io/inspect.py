"""``gapmap inspect FILE``: what a file is, how it would be read, and what is wrong with it.

:func:`inspect_file` never raises for bad *content*: a file that cannot be read yields a
report whose ``problems`` carry the reader's message (missing files still raise).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely

from coverage.crs import REGIONS, crs_label, gauss_krueger_zone, to_lonlat
from coverage.errors import GapmapError, SourceReadError
from coverage.io.aliases import OFFER_ALIASES, canonical_address_columns, name_key
from coverage.io.detect import VECTOR_SUFFIXES, describe, detect_format, read_any
from coverage.io.layername import layer_source, split_source
from coverage.io.offers import read_offer_list
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
    #: the layers of a multi-layer file, in the form every file option accepts
    layers: list[str] = field(default_factory=list)
    #: False when the file could not be read at all (the CLI exits 2)
    readable: bool = True
    #: file column -> what ``gapmap run`` does with it
    columns: dict[str, str] = field(default_factory=dict)

    def to_text(self) -> str:
        """A plain-text rendering for the CLI (one fact per line)."""
        lines = [
            f"file:      {self.path}",
            f"format:    {self.format} ({self.format_reason})",
            f"crs:       {self.crs or 'none'}" + (f" - {self.crs_how}" if self.crs_how else ""),
            f"features:  {self.feature_count:,}",
        ]
        if self.layers:
            lines.append("layers:")
            lines += [f"  {name}" for name in self.layers]
        if self.fields_mapped:
            lines.append("fields:")
            lines += [f"  {src} -> {dst}" for src, dst in self.fields_mapped.items()]
        if self.columns:
            lines.append("columns (what gapmap run does with each):")
            lines += [f"  {src}: {what}" for src, what in self.columns.items()]
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
    role: str | None = None,
    columns: Mapping[str, str] | None = None,
    values: Mapping[str, Mapping[str, str]] | None = None,
    header_row: int | None = None,
) -> InspectReport:
    """Detect, read and check a file with the readers ``gapmap run`` uses; see :class:`InspectReport`.

    Parameters
    ----------
    crs
        A stated CRS, passed to the reader (files without one cannot be placed otherwise).
    region
        Region code for the "outside" check (``de``, ``us``, ``uk``); default ``us`` for FCC
        formats, else ``de``.
    layer
        Layer of a multi-layer file; ``path`` may also name it, ``file.gpkg|layername=NAME``.
        Without it a multi-layer file is reported with its layer names.
    role
        How ``run`` would use the file: ``addresses``, ``offers``, ``coverage`` or
        ``boundaries``; default: ``offers`` for workbooks and tables with technology and
        download columns, else as detected.
    columns, values, header_row
        The column mapping, value mappings and header row ``run`` would be given.
    """
    label = os.fspath(path)
    file, layer = split_source(path, layer)
    guess = detect_format(file)
    report = InspectReport(path=label, format=guess.name, format_reason=guess.reason)
    if guess.name == "raster":
        return _inspect_raster(file, report)
    report.layers = _layers(file)
    role = role or _default_role(file, guess.name)
    try:
        if role == "offers":
            return _inspect_offers(path, report, columns, values, header_row)
        read = read_any(file, kind=guess.name, crs=crs, layer=layer, columns=columns)
        frame = read.frame
        if role is None and guess.name == "vector" and _points(frame):
            role = "addresses"
        if role == "addresses":
            frame, notes, renamed = canonical_address_columns(frame, values=values, source=label)
            report.notes += notes
            report.columns = _address_columns(read, renamed, split=any("split" in n for n in notes))
    except SourceReadError as exc:
        if "file not found" in str(exc):
            raise
        return _unreadable(report, exc)
    except GapmapError as exc:
        return _unreadable(report, exc)
    report.crs = crs_label(read.crs) if read.crs is not None else None
    report.crs_how = read.crs_how
    report.feature_count = read.rows
    report.fields_mapped = describe(guess.name)
    report.notes = list(read.notes) + report.notes
    for note in read.notes:
        low = note.lower()
        # documented sentinels (Zensus -1/-9) are read as missing by design: a note, not a problem
        if "encoding" in low or "decoded as" in low or low.startswith("dropped"):
            report.problems.append(note)
    if "address_id" in read.frame.columns and "provider" not in read.frame.columns:
        report.notes.append(derive_site_types(read.frame)[1])
    _check_ids(read, report)
    if hasattr(read.frame, "geometry") and read.crs is not None:
        _check_geometry(read, report, region or ("us" if guess.name in _US_FORMATS else "de"))
    return report


_ROLES = ("addresses", "offers", "coverage", "boundaries")


def _default_role(file: Path, kind: str) -> str | None:
    if file.suffix.lower() in (".xlsx", ".xlsm"):
        return "offers"
    if kind != "csv":
        return None
    try:
        head = file.read_bytes()[:4096].decode("utf-8", errors="replace").splitlines()[:10]
    except OSError:
        return None
    known = {OFFER_ALIASES.get(name_key(c)) for line in head for c in re.split(r"[;,\t]", line)}
    return "offers" if {"technology", "down_mbps"} <= known else "addresses"


def _points(frame: object) -> bool:
    geom = getattr(frame, "geometry", None)
    return (
        geom is not None and len(geom) > 0 and bool((shapely.get_type_id(geom.values) == 0).all())
    )


def _layers(file: Path) -> list[str]:
    if file.suffix.lower() not in VECTOR_SUFFIXES or file.suffix.lower() == ".gml":
        return []
    try:
        names = [str(n) for n, _ in pyogrio.list_layers(file)]
    except Exception:  # the reader reports the unreadable file itself
        return []
    return [layer_source(file, n) for n in names] if len(names) > 1 else []


def _unreadable(report: InspectReport, exc: Exception) -> InspectReport:
    report.readable = False
    report.problems.append(f"cannot read: {exc}")
    return report


def _address_columns(read: RawLayer, renamed: dict[str, str], *, split: bool) -> dict[str, str]:
    used = {"address_id", "ags", "street", "house_number", "suffix", "postcode", "place",
            "site_type", "households"}  # fmt: skip
    out = {}
    for col in read.frame.columns:
        name = str(col)
        if name == "geometry":
            continue
        target = renamed.get(name, name)
        out[name] = f"-> {target}" if target in used else "not used (kept out of the results)"
        if split and target == "street":
            out[name] = "-> street, house_number, suffix (split: street and number in one column)"
    for note in read.notes:
        if note.startswith("coordinates from columns "):
            for c in note.removeprefix("coordinates from columns ").split("/"):
                out[c] = "coordinates"
    return out


def _inspect_offers(
    path: str | os.PathLike[str],
    report: InspectReport,
    columns: Mapping[str, str] | None,
    values: Mapping[str, Mapping[str, str]] | None,
    header_row: int | None,
) -> InspectReport:
    """An offer list as ``run --offers`` reads it: columns, header row, technology labels."""
    from coverage.schema import _EXACT_TECH
    from coverage.technology import classify_label

    offers = read_offer_list(path, columns=columns, values=values, header_row=header_row)
    report.format = f"offer list ({offers.format})"
    report.format_reason = "read the way gapmap run reads an offer list"
    report.feature_count = offers.rows
    report.notes += list(offers.notes)
    mapped = dict(offers.mapped)
    for col in offers.frame.columns:
        src = next((k for k, v in mapped.items() if v == col), str(col))
        report.columns[src] = f"-> {col}"
    frame = offers.frame
    if "technology" in frame:
        labels = frame["technology"].astype("string").str.strip().value_counts()
        unknown = []
        for label, n in labels.items():
            canonical = classify_label(label, _EXACT_TECH)
            report.notes.append(f"technology {label!r} ({n} rows) -> {canonical or 'UNKNOWN'}")
            if canonical is None:
                unknown.append(f"{label!r} ({n} rows)")
        if unknown:
            report.problems.append(
                f"unknown technology label(s): {', '.join(unknown)}; run stops on them unless "
                "they are mapped (--offers-values technology:LABEL=VALUE)"
            )
    missing = [c for c in ("provider", "technology", "down_mbps", "up_mbps") if c not in frame]
    if missing:
        report.problems.append(
            f"missing required column(s) {', '.join(missing)}; map them with --offers-columns"
        )
    keys = {"address_id"} & set(frame) or {"street", "house_number"} & set(frame)
    if not keys:
        report.problems.append(
            "no address key: neither an address id nor street and house number columns"
        )
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
    gk = gauss_krueger_zone(cx, cy, region) if out.all() else None
    if gk is not None:
        report.problems.append(
            f"all {int(ok.sum())} feature(s) lie outside {region.name} when read as {report.crs}, "
            f"but fit Gauss-Krüger zone {gk - 31464}: state --crs EPSG:{gk}"
        )
    elif out.any():
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
