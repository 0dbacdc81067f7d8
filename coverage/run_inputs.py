"""Inputs of a run: how each input file is read, validated, checked for CRS and reprojected.

The reading half of the orchestrator (:mod:`coverage.pipeline`): every function here combines a
reader from ``coverage.io`` with the pure validation of ``coverage.schema`` and the CRS policy
of ``coverage.crs``, and returns frames in the working CRS plus a record for the manifest.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.crs import (
    REGIONS,
    Region,
    Reprojection,
    check_coordinates,
    check_region_bounds,
    crs_label,
)
from coverage.errors import CRSError, InputDataError, NotFoundError, ProfileError
from coverage.io.aliases import apply_value_mappings, canonical_address_columns
from coverage.io.detect import RASTER_SUFFIXES, detect_format, read_any
from coverage.io.fcc import empty_cells_note, level0_rows
from coverage.io.offers import OfferList, read_offer_list
from coverage.io.points import PointLayer, read_points
from coverage.io.vector import RawLayer
from coverage.kernel.join import points_in_polygons
from coverage.matching import UNMATCHED_FIELDS, match_offers
from coverage.memory import release_free_memory
from coverage.profiles import Profile
from coverage.run_checks import MIN_OFFER_MATCH, match_summary
from coverage.schema import (
    ValidationReport,
    validate_addresses,
    validate_boundaries,
    validate_offers,
)
from coverage.schema_addresses import validate_address_points
from coverage.strhash import compile_ahead


@dataclass(frozen=True)
class LayerSpec:
    """One input file and how to read it."""

    path: Path
    crs: str | None = None
    columns: Mapping[str, str] | None = None
    layer: str | None = None
    #: canonical column -> {value in the file: value to use} (``--offers-values`` ...)
    values: Mapping[str, Mapping[str, str]] | None = None
    #: 1-based row holding the column names (offer list workbooks with a title above)
    header_row: int | None = None


@dataclass(frozen=True)
class RunInputs:
    """Input files of a run. Coverage polygons and address-keyed offer lists may be combined."""

    addresses: LayerSpec
    coverage: tuple[LayerSpec, ...] = ()
    boundaries: LayerSpec | None = None
    offers: tuple[LayerSpec, ...] = ()
    population: LayerSpec | None = None
    measured: LayerSpec | None = None  # Ookla-style tiles: measured speeds as evidence
    atlas: LayerSpec | None = None  # Breitbandatlas table keyed by 100 m cell
    rasters: tuple[tuple[str, LayerSpec], ...] = ()  # name -> raster sampled at addresses
    fibre: LayerSpec | None = None  # existing fibre (PoPs, routes): gap-area link targets


#: Regions a profile's ``jurisdiction`` may run in; the first is the default.
JURISDICTION_REGIONS: dict[str, tuple[str, ...]] = {
    "de": ("de",),
    "eu": ("de",),  # EU rules: every EU member region gapmap knows
    "us": ("us",),
    "uk": ("uk",),
}


def region_for_profile(code: str | None, profile: Profile) -> Region:
    """The region of a run: ``code`` (case-insensitive) or, when None, the profile's
    jurisdiction. A region the profile's jurisdiction does not cover is an error naming both."""
    jurisdiction = profile.jurisdiction.strip().lower()
    allowed = JURISDICTION_REGIONS.get(jurisdiction, tuple(REGIONS))
    if code is None or not code.strip():
        return region_for(allowed[0])
    region = region_for(code)
    if region.code not in allowed:
        raise ProfileError(
            f"region {region.code!r} does not match profile {profile.id} (jurisdiction "
            f"{profile.jurisdiction}); use --region {allowed[0]} or leave --region out, or pick a "
            f"profile for {region.code.upper()}"
        )
    return region


def region_for(code: str) -> Region:
    try:
        return REGIONS[code.strip().lower()]
    except KeyError:
        raise NotFoundError(
            f"unknown region {code!r}; known: {', '.join(sorted(REGIONS))}"
        ) from None


def _input_record(
    raw: RawLayer | PointLayer, kind: str, report: ValidationReport, reproj: Reprojection | None
) -> dict[str, Any]:
    return {
        "kind": kind,
        "path": str(raw.source),
        "format": raw.format,
        "sha256": raw.sha256,
        "rows": raw.rows,
        "rows_used": report.rows_out,
        "crs": crs_label(raw.crs),
        "crs_from": raw.crs_how,
        "reprojected_to": reproj.to_crs if reproj else None,
    }


def _to_working(
    frame: gpd.GeoDataFrame, raw: RawLayer | PointLayer, region: Region
) -> tuple[gpd.GeoDataFrame, Reprojection | None]:
    if frame.crs is not None and crs_label(frame.crs) == region.working_crs:
        return frame, None
    out = frame.to_crs(region.working_crs)
    return out, Reprojection(raw.source, crs_label(raw.crs), region.working_crs, raw.crs_how)


@contextmanager
def crs_option(option: str) -> Iterator[None]:
    """Name the option that states this file's CRS in a CRS message (the engine's messages
    say "the file's CRS option"; ``gapmap run`` has one per kind of file)."""
    try:
        yield
    except CRSError as exc:
        raise CRSError(f"{exc} (gapmap run: {option})") from exc


def load_addresses(
    spec: LayerSpec, region: Region
) -> tuple[gpd.GeoDataFrame, dict[str, Any], ValidationReport]:
    with crs_option("--addresses-crs"):
        return _load_addresses(spec, region)


def _load_addresses(
    spec: LayerSpec, region: Region
) -> tuple[gpd.GeoDataFrame, dict[str, Any], ValidationReport]:
    raw = read_any(spec.path, crs=spec.crs, columns=spec.columns, layer=spec.layer)
    return _finish_addresses(raw, spec, region)


def _finish_addresses(
    raw: RawLayer, spec: LayerSpec, region: Region
) -> tuple[gpd.GeoDataFrame, dict[str, Any], ValidationReport]:
    named, notes, _ = canonical_address_columns(raw.frame, values=spec.values, source=raw.source)
    frame, report = validate_addresses(named, source=raw.source)
    del named
    geom = frame.geometry.values
    check_coordinates(geom.x, geom.y, raw.crs, source=raw.source, region=region, what="addresses")
    frame, reproj = _to_working(frame, raw, region)
    record = _input_record(raw, "addresses", report, reproj)
    record["households_column"] = "households" in raw.frame.columns
    record["notes"] = [*raw.notes, *notes]
    del raw
    release_free_memory()  # the reader's and the validation's copies
    return frame, record, report


def load_address_table(
    spec: LayerSpec, region: Region
) -> tuple[pd.DataFrame, tuple[np.ndarray, np.ndarray], dict[str, Any], ValidationReport]:
    """:func:`load_addresses` as the attribute frame and the coordinates (working CRS): a
    GeoParquet file of plain points never becomes Point objects (``io.points``); the same
    checks, messages, frame, coordinates and record."""
    compile_ahead()  # the id check's compiled hash, while the file is read
    with crs_option("--addresses-crs"):
        raw = read_points(spec.path, crs=spec.crs, columns=spec.columns, layer=spec.layer)
        if isinstance(raw, RawLayer):
            frame, record, report = _finish_addresses(raw, spec, region)
            geom = frame.geometry.values
            return pd.DataFrame(frame.drop(columns="geometry")), (geom.x, geom.y), record, report
        named, notes, _ = canonical_address_columns(
            raw.frame, values=spec.values, source=raw.source
        )
        table, report = validate_address_points(named, raw.x, raw.y, source=raw.source)
        del named
        x, y = raw.x, raw.y
        check_coordinates(x, y, raw.crs, source=raw.source, region=region, what="addresses")
        reproj = None
        if crs_label(raw.crs) != region.working_crs:
            points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=raw.crs)
            moved, reproj = _to_working(points, raw, region)  # type: ignore[arg-type]
            x, y = moved.geometry.values.x, moved.geometry.values.y
    record = _input_record(raw, "addresses", report, reproj)
    record["households_column"] = "households" in raw.frame.columns
    record["notes"] = [*raw.notes, *notes]
    return table, (x, y), record, report


def load_coverage(
    specs: Sequence[LayerSpec], region: Region
) -> tuple[gpd.GeoDataFrame, list[dict[str, Any]], list[ValidationReport]]:
    frames, records, reports = [], [], []
    for spec in specs:
        with crs_option("--coverage-crs"):
            raw = read_any(spec.path, crs=spec.crs, columns=spec.columns, layer=spec.layer)
        if not isinstance(raw.frame, gpd.GeoDataFrame):
            raise InputDataError(
                f"{raw.source}: has no geometry (no geometry, WKT or longitude/latitude "
                "columns), but --coverage takes coverage areas (polygons). A table of offers "
                "per address or location (such as the FCC BDC availability file, keyed by "
                "location_id) goes to --offers instead."
            )
        mapped, _ = apply_value_mappings(raw.frame, spec.values, raw.source)
        frame, report = validate_offers(
            mapped, source=raw.source, spatial=True, value_option="--coverage-values"
        )
        with crs_option("--coverage-crs"):
            check_region_bounds(
                tuple(frame.total_bounds),
                raw.crs,
                source=raw.source,
                region=region,
                what="coverage features",
            )
        frame, reproj = _to_working(frame, raw, region)
        frames.append(frame)
        records.append(_input_record(raw, "coverage", report, reproj))
        reports.append(report)
    offers = gpd.GeoDataFrame(
        pd.concat(frames, ignore_index=True), geometry="geometry", crs=region.working_crs
    )
    return offers, records, reports


def read_offers(spec: LayerSpec) -> OfferList:
    """An offer list: FCC BDC availability CSVs by their own reader, anything else as MEV lists."""
    if (
        Path(spec.path).suffix.lower() in (".csv", ".zip")
        and detect_format(spec.path).name == "fcc_bdc"
    ):
        raw = read_any(spec.path, kind="fcc_bdc")
        return OfferList(pd.DataFrame(raw.frame), raw.source, "fcc_bdc", raw.rows, raw.sha256)
    return read_offer_list(
        spec.path, columns=spec.columns, values=spec.values, header_row=spec.header_row
    )


def load_offer_lists(
    specs: Sequence[LayerSpec],
    addresses: pd.DataFrame,
    *,
    min_match: float | None = MIN_OFFER_MATCH,
) -> tuple[
    list[pd.DataFrame],
    list[tuple[np.ndarray, np.ndarray]],
    list[dict[str, Any]],
    list[ValidationReport],
    pd.DataFrame,
]:
    """Read, validate and match address-keyed offer lists; unmatched rows are collected, not dropped.

    A list of which less than ``min_match`` of the rows match an address stops the run with
    the reasons counted (None accepts any share; the CLI's ``--accept-unmatched``).
    """
    tables, pairs, records, reports, unmatched = [], [], [], [], []
    for spec in specs:
        raw = read_offers(spec)
        table, report = validate_offers(
            raw.frame, source=raw.source, spatial=False, value_option="--offers-values"
        )
        if raw.format == "fcc_bdc" and (empty := level0_rows(table)):
            report.warnings.append(empty_cells_note(empty))
        match = match_offers(addresses, raw.frame)
        share = match.matched_rows / max(raw.rows, 1)
        if min_match is not None and share < min_match:
            raise InputDataError(match_summary(raw.source, raw.rows, match, min_match))
        if len(match.unmatched):
            report.warnings.append(
                f"{len(match.unmatched)} offer row(s) matched no address (see unmatched_offers.csv)"
            )
            unmatched.append(match.unmatched.assign(source=raw.source))
        several = match.several if match.several is not None else pd.DataFrame()
        if len(several):
            rows = ", ".join(map(str, several["row"].head(5)))
            report.warnings.append(
                f"{len(several)} offer row(s) apply to several address records with the same "
                f"street, number and place (rows {rows}); the offer is counted for each of them"
            )
        tables.append(table)
        pairs.append((match.addr_idx, match.offer_idx))
        reports.append(report)
        records.append(
            {
                "kind": "offers",
                "path": raw.source,
                "format": raw.format,
                "sha256": raw.sha256,
                "rows": raw.rows,
                "rows_matched": match.matched_rows,
                "rows_unmatched": len(match.unmatched),
                "rows_applied_to_several_addresses": len(several),
                "matched_by": match.method_counts,
                "notes": list(getattr(raw, "notes", ())),
            }
        )
    columns = ["source", "row", "reason", *UNMATCHED_FIELDS]
    frame = pd.concat(unmatched, ignore_index=True) if unmatched else pd.DataFrame(columns=columns)
    return tables, pairs, records, reports, frame.reindex(columns=columns)


def load_fibre(
    spec: LayerSpec | None, region: Region
) -> tuple[np.ndarray | None, dict[str, Any] | None]:
    """A user's fibre layer (points: PoPs, distribution points; lines: routes) as shapely
    geometries in the working CRS, or None. Rows without geometry or with polygons are errors
    naming the row: a link target must be a point or a line."""
    if spec is None:
        return None, None
    raw = read_any(spec.path, crs=spec.crs, columns=spec.columns, layer=spec.layer)
    frame = raw.frame
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        raise InputDataError(f"{raw.source}: fibre layer has no geometry; give points or lines")
    kinds = frame.geometry.geom_type.to_numpy()
    ok = pd.Series(kinds).isin(["Point", "MultiPoint", "LineString", "MultiLineString"])
    if not ok.all():
        row = int(np.flatnonzero(~ok.to_numpy())[0])
        raise InputDataError(
            f"{raw.source}: row {row + 1}, field geometry: {kinds[row] or 'empty'} is not a "
            "point or line; a fibre layer holds PoPs (points) or routes (lines): drop or fix the row"
        )
    if frame.crs is None:
        raise InputDataError(
            f"{raw.source}: fibre layer has no CRS; save it with one (GeoPackage, GeoJSON)"
        )
    frame, reproj = _to_working(frame, raw, region)
    record = {"kind": "fibre", "path": str(raw.source), "format": raw.format,
              "sha256": raw.sha256, "rows": raw.rows, "rows_used": len(frame),
              "crs": crs_label(raw.crs), "crs_from": raw.crs_how,
              "reprojected_to": reproj.to_crs if reproj else None}  # fmt: skip
    return np.asarray(frame.geometry.values, dtype=object), record


def load_population(spec: LayerSpec | None) -> tuple[pd.DataFrame | None, dict[str, Any] | None]:
    """An INSPIRE population grid (Zensus-style CSV) as a cell table, or None."""
    if spec is None:
        return None, None
    from coverage.io.grid import read_inspire_grid
    from coverage.io.raster import read_population_raster

    if Path(spec.path).suffix.lower() in RASTER_SUFFIXES:
        frame, sha, how = read_population_raster(spec.path)
        fmt, rows = "raster", len(frame)
    else:
        raw = read_inspire_grid(spec.path)
        frame = pd.DataFrame(raw.frame.drop(columns="geometry", errors="ignore"))
        sha, how, fmt, rows = raw.sha256, raw.crs_how, raw.format, raw.rows
    record = {
        "kind": "population",
        "path": str(spec.path),
        "format": fmt,
        "sha256": sha,
        "rows": rows,
        "crs": "EPSG:3035",
        "crs_from": how,
        "reprojected_to": None,
    }
    return frame, record


def load_boundaries(
    spec: LayerSpec, region: Region
) -> tuple[gpd.GeoDataFrame, dict[str, Any], ValidationReport]:
    with crs_option("--boundaries-crs"):
        raw = read_any(spec.path, crs=spec.crs, columns=spec.columns, layer=spec.layer)
        frame, report = validate_boundaries(raw.frame, source=raw.source)
        check_region_bounds(
            tuple(frame.total_bounds), raw.crs, source=raw.source, region=region, what="boundaries"
        )
    frame, reproj = _to_working(frame, raw, region)
    return frame, _input_record(raw, "boundaries", report, reproj), report


def assign_ags(addresses: gpd.GeoDataFrame, gemeinden: gpd.GeoDataFrame) -> tuple[pd.Series, int]:
    """Fill missing ``ags`` from the Gemeinde polygon covering each address.

    Returns the completed ags column and how many addresses were assigned. An address on a
    shared border goes to the Gemeinde with the smallest AGS (deterministic).
    """
    geom = addresses.geometry.values
    return assign_ags_at(addresses["ags"], (geom.x, geom.y), gemeinden)


def assign_ags_at(
    ags: pd.Series, xy: tuple[np.ndarray, np.ndarray], gemeinden: gpd.GeoDataFrame
) -> tuple[pd.Series, int]:
    """:func:`assign_ags` for addresses given as their ``ags`` column and coordinates."""
    ags = ags.copy()
    missing = ags.isna().to_numpy()
    if not missing.any() or len(gemeinden) == 0:
        return ags, 0
    idx = np.flatnonzero(missing)
    x, y = np.asarray(xy[0])[idx], np.asarray(xy[1])[idx]
    order = np.argsort(gemeinden["ags"].to_numpy().astype(str), kind="stable")
    polys = gemeinden.geometry.values[order]
    p_idx, g_idx = points_in_polygons(x, y, np.asarray(polys, dtype=object))
    first = np.unique(p_idx, return_index=True)[1]
    codes = gemeinden["ags"].to_numpy()[order][g_idx[first]]
    ags.iloc[idx[p_idx[first]]] = codes
    return ags, len(first)


def boundary_names(
    boundaries: gpd.GeoDataFrame | None, level: str, region: str = "de"
) -> dict[str, str]:
    """Key -> name of a level: the boundary file's names, Kreise completed from the shipped
    Destatis table (German runs only; ``coverage.io.kreise``)."""
    names: dict[str, str] = {}
    if level == "kreis" and region == "de":
        from coverage.io.kreise import german_kreise

        names.update(german_kreise())
    if boundaries is None:
        return names
    sel = boundaries[(boundaries["level"] == level) & boundaries["name"].notna()]
    names.update(zip(sel["ags"].astype(str), sel["name"].astype(str), strict=True))
    return names
