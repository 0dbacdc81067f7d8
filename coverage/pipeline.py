"""The one orchestrator: readers -> validation -> CRS -> kernel -> rules -> summaries -> run directory.

This is the only engine module where file I/O (through ``coverage.io``) meets the pure steps.
A run is written into a temporary directory and renamed into place when complete, so a failed
run leaves no directory behind and never damages an earlier run at the same path.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage import __version__, run_checks
from coverage.aggregate import summarise
from coverage.discrepancy import (
    DiscrepancyParams,
)
from coverage.errors import InputDataError, RunCancelledError
from coverage.io.run_gpkg import ADDRESS_LIMIT, write_run_gpkg
from coverage.io.writers import (
    RunDirectory,
    write_csv,
    write_json,
    write_parquet,
    write_points_parquet,
)
from coverage.memory import release_free_memory
from coverage.privacy.ptable import CkmParams
from coverage.privacy.public import public_tables
from coverage.profiles import Profile, load_profile, version_warning
from coverage.run_classify import (
    classify_in_chunks,
    classify_in_threads,
    classify_on_dask,
    local_threads,
    rural_executor,
)
from coverage.run_evidence import evidence_columns
from coverage.run_inputs import (
    LayerSpec,
    RunInputs,
    assign_ags_at,
    boundary_names,
    load_address_table,
    load_boundaries,
    load_coverage,
    load_fibre,
    load_offer_lists,
    load_population,
    region_for_profile,
)
from coverage.run_pairs import pair_chunks
from coverage.run_population import population_basis
from coverage.run_projects import RANKINGS, cost_sources, rural_projects
from coverage.run_records import (
    MANIFEST_VERSION,
    profile_record,
    software_versions,
    validation_record,
)
from coverage.rural.analysis import RuralOptions, analyse_rural, rural_counts
from coverage.schema import (
    BoundaryLevel,
)

__all__ = ["LayerSpec", "ProgressCallback", "RunInputs", "RunOptions", "RunResult", "run"]

#: progress(stage, fraction) with fraction in [0, 1] for the whole run; raise to cancel.
ProgressCallback = Callable[[str, float], None]

# Stage name -> (start, end) share of the whole run, for one smooth progress figure.
_STAGES: dict[str, tuple[float, float]] = {
    "read addresses": (0.00, 0.15),
    "read coverage": (0.15, 0.30),
    "read boundaries": (0.30, 0.35),
    "join": (0.35, 0.65),
    "classify": (0.65, 0.80),
    "rural": (0.80, 0.90),
    "aggregate": (0.90, 0.92),
    "write": (0.92, 1.00),
}


#: the orchestrator's interface (LayerSpec and RunInputs live in coverage.run_inputs)
__all__ = ["LayerSpec", "RunInputs", "RunOptions", "RunResult", "run"]


@dataclass(frozen=True)
class RunOptions:
    """What to compute. ``as_of`` None means today (the manifest records the date used)."""

    profile: str = "de-gigabit"
    #: working region; None = the profile's jurisdiction (``run_inputs.region_for_profile``)
    region: str | None = None
    as_of: date | None = None
    include_planned: bool = True
    synthetic_note: str | None = None
    rural: RuralOptions = field(default_factory=RuralOptions)
    discrepancy: DiscrepancyParams = field(default_factory=DiscrepancyParams)
    #: Dask: an existing scheduler ("tcp://host:8786") for the join, classification and gap
    #: areas; ``workers``: without a scheduler, N threads of this process for them (the
    #: join and classification in chunks; the rural step's tasks use one thread per CPU
    #: when not given)
    scheduler: str | None = None
    workers: int | None = None
    #: addresses classified at a time: bounds the per-pair temporaries of the rule engines
    classify_chunk: int = 1_000_000
    #: disclosure control of the public tables (cell key method, README section Privacy)
    ckm: CkmParams = field(default_factory=CkmParams)
    #: secret of the record keys; None: a one-off secret for this run (published values
    #: then differ between runs of the same data: pass a kept secret for publications)
    cell_key_secret: bytes | None = field(default=None, repr=False)
    #: an offer list matching less than this share of its rows stops the run (None: accept)
    min_offer_match: float | None = run_checks.MIN_OFFER_MATCH
    #: gapmap.gpkg holds the addresses layer up to this many addresses (None: always);
    #: beyond, ``gapmap gpkg`` writes it from addresses.parquet when needed
    gpkg_address_limit: int | None = ADDRESS_LIMIT
    extra_manifest: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class RunResult:
    """What a run wrote, in memory. ``table`` holds the per-address results and ``xy`` their
    coordinates in ``crs``; :attr:`addresses` adds Point geometry on first use."""

    run_dir: Path
    manifest: dict[str, Any]
    table: pd.DataFrame
    xy: tuple[np.ndarray, np.ndarray]
    crs: str
    summary_gemeinde: pd.DataFrame
    summary_kreis: pd.DataFrame
    profile: Profile
    gap_areas: gpd.GeoDataFrame

    @cached_property
    def addresses(self) -> gpd.GeoDataFrame:
        """Per-address results with point geometry (working CRS), as in addresses.parquet."""
        return gpd.GeoDataFrame(self.table, geometry=gpd.points_from_xy(*self.xy), crs=self.crs)


class _Progress:
    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.timings: dict[str, float] = {}
        self._t0 = time.perf_counter()

    def stage(self, name: str, within: float = 0.0) -> None:
        if self.callback is None:
            return
        lo, hi = _STAGES[name]
        try:
            self.callback(name, lo + (hi - lo) * within)
        except RunCancelledError:
            raise
        except Exception as exc:  # a callback that raises anything means "stop"
            raise RunCancelledError(f"run cancelled during {name}: {exc}") from exc

    def done(self, name: str, started: float) -> None:
        self.timings[name] = round(time.perf_counter() - started, 3)
        self.stage(name, 1.0)


def run(
    inputs: RunInputs,
    out_dir: str | Path,
    options: RunOptions | None = None,
    progress: ProgressCallback | None = None,
) -> RunResult:
    """Classify every address and write a complete run directory at ``out_dir``.

    Parameters
    ----------
    inputs
        Address layer (points), one or more coverage layers (polygons with offer columns),
        optional boundaries (Gemeinde polygons; Kreis rows supply Kreis names).
    out_dir
        Final run directory. Built in a temporary sibling and renamed when complete; an
        earlier run at this path is replaced only on success.
    options
        Profile id or path, region (working CRS), as-of date and planned-offer switch.
    progress
        ``progress(stage, fraction)``; raising from it cancels the run (nothing is written).

    Returns
    -------
    RunResult with the per-address results (``addresses``: geometry in the working CRS,
    built on first use; ``table`` and ``xy`` without it) and summaries.
    """
    options = options or RunOptions()
    tracker = _Progress(progress)
    as_of = options.as_of or date.today()
    # fail fast on an unknown profile or region: nothing read yet; a family id picks the
    # version in force on the as-of date
    profile = load_profile(options.profile, as_of)
    region = region_for_profile(options.region, profile)
    run_checks.check_atlas(inputs.atlas)
    t_start = time.perf_counter()

    t = time.perf_counter()
    tracker.stage("read addresses")
    # attributes and coordinates: no Point objects (216 bytes each: 1 GB per 5M addresses);
    # the per-address frame gets its geometry only when a caller asks for it
    addresses, xy, addr_record, addr_report = load_address_table(inputs.addresses, region)
    tracker.done("read addresses", t)

    t = time.perf_counter()
    tracker.stage("read coverage")
    if not inputs.coverage and not inputs.offers:
        raise InputDataError(
            "no coverage given; pass at least one --coverage polygon file or --offers list"
        )
    if inputs.coverage:
        offers, cov_records, cov_reports = load_coverage(inputs.coverage, region)
    else:
        offers, cov_records, cov_reports = (
            gpd.GeoDataFrame(geometry=[], crs=region.working_crs),
            [],
            [],
        )
    list_tables, list_pairs, list_records, list_reports, unmatched = load_offer_lists(
        inputs.offers,
        addresses,
        min_match=options.min_offer_match,
    )
    cov_records += list_records
    cov_reports += list_reports
    tracker.done("read coverage", t)

    t = time.perf_counter()
    tracker.stage("read boundaries")
    boundaries = None
    records = [addr_record, *cov_records]
    reports = [addr_report, *cov_reports]
    assigned = 0
    if inputs.boundaries is not None:
        boundaries, b_record, b_report = load_boundaries(inputs.boundaries, region)
        records.append(b_record)
        reports.append(b_report)
        gemeinden = boundaries[boundaries["level"] == BoundaryLevel.GEMEINDE.value]
        addresses["ags"], assigned = assign_ags_at(addresses["ags"], xy, gemeinden)
    summary_ags, outside, warnings = run_checks.inside_boundaries(
        addresses["ags"], boundaries, str(inputs.boundaries.path) if inputs.boundaries else ""
    )
    if note := version_warning(profile, as_of):
        warnings.insert(0, note)
    tracker.done("read boundaries", t)
    attributes = addresses
    del addresses
    release_free_memory()

    # join + classify, one chunk of addresses at a time: the address-offer pairs of a chunk
    # are reduced to its per-address results and dropped, so they are never all in memory
    tracker.stage("join")
    offer_table = pd.concat(
        [pd.DataFrame(offers.drop(columns="geometry")), *list_tables], ignore_index=True
    )
    polygons = np.asarray(offers.geometry.values, dtype=object)
    if options.scheduler:
        results, n_pairs = classify_on_dask(
            xy,
            polygons,
            attributes,
            offer_table,
            list_tables,
            list_pairs,
            profile,
            as_of,
            options,
            tracker,
        )
    elif options.workers and options.workers > 1:
        results, n_pairs = classify_in_threads(
            xy, polygons, attributes, offer_table, list_tables, list_pairs,
            profile, as_of, options, tracker, options.workers,
        )  # fmt: skip
    else:
        chunks = pair_chunks(*xy, polygons, list_tables, list_pairs, options.classify_chunk)
        results, n_pairs = classify_in_chunks(
            attributes, offer_table, chunks, profile, as_of, options, tracker
        )
    per_address = pd.concat([attributes, results], axis=1)
    release_free_memory()  # the last chunk's pairs and temporaries

    t = time.perf_counter()
    tracker.stage("rural")
    gemeinden_gdf = None if boundaries is None else boundaries[boundaries["level"] == "gemeinde"]
    population, population_record = load_population(inputs.population)
    if population_record:
        records.append(population_record)
    elif sparse := run_checks.sparse_rurality_warning(xy, attributes["ags"], gemeinden_gdf):
        warnings.append(sparse)
    fibre, fibre_record = load_fibre(inputs.fibre, region)
    if fibre_record:
        records.append(fibre_record)
    rural_options, population_basis_record = population_basis(
        options.rural,
        grid_given=population is not None,
        households_column=bool(addr_record.get("households_column", True)),
        region_code=region.code,
    )
    with rural_executor(options) as executor:
        rural = analyse_rural(
            per_address,
            gemeinden_gdf,
            xy=xy,
            crs=region.working_crs,
            population=population,
            population_source=population_record["path"] if population_record else "",
            options=rural_options,
            inspire_grid=region.inspire_grid,
            region=region.code,
            fibre=fibre,
            executor=executor,
        )
    projects = rural_projects(rural, profile, as_of)
    evidence, evidence_records = evidence_columns(
        inputs,
        xy,
        rural.address_columns["cell_100m"],
        per_address["best_down_mbps"],
        region,
        options.discrepancy,
    )
    records += evidence_records
    # one frame for every per-address column, built once
    per_address = pd.concat([attributes, results, rural.address_columns, evidence], axis=1)
    release_free_memory()  # GEOS memory of the gap-area unions
    tracker.done("rural", t)

    t = time.perf_counter()
    tracker.stage("aggregate")
    classes = [c.name for c in profile.classes]
    summaries = {}
    # addresses outside the boundaries go to the row without a key, not to a Gemeinde row;
    # as a categorical, every grouping by AGS prefix reads codes, not 5M strings
    counted = per_address.assign(ags=pd.Categorical(summary_ags))
    for level, digits in (("gemeinde", 8), ("kreis", 5)):
        names = boundary_names(boundaries, level, region.code)
        table = summarise(counted, level=level, names=names, classes=classes)
        table = table.merge(rural_counts(counted, digits=digits), on="ags", how="left")
        if level == "gemeinde" and len(rural.degurba_gemeinde):
            table = table.merge(rural.degurba_gemeinde[["ags", "degurba"]], on="ags", how="left")
        summaries[level] = table
    summary_gemeinde, summary_kreis = summaries["gemeinde"], summaries["kreis"]
    secret = options.cell_key_secret or secrets.token_bytes(32)
    public = public_tables(
        counted,  # the same keys as the summaries it protects
        classes=classes,
        summaries=summaries,
        grids={"grid_100m": rural.grid_100m, "grid_1km": rural.grid_1km}
        if region.inspire_grid
        else {},
        degurba=rural.degurba_gemeinde,
        population_estimated=population is None,
        secret=secret,
        params=options.ckm,
    )
    tracker.done("aggregate", t)

    areas = rural.gap_areas
    counts = {
        "addresses": len(per_address),
        "households": int(per_address["households"].sum()),
        "coverage_features": len(offers),
        "offer_list_rows": int(sum(len(t) for t in list_tables)),
        "unmatched_offer_rows": len(unmatched),
        "address_offer_pairs": n_pairs,
        "addresses_without_ags": int(per_address["ags"].isna().sum()),
        "ags_assigned_from_boundaries": assigned,
        **outside,
        "eligible": int(per_address["eligible"].sum()),
        "rural_gap": int(per_address["rural_gap"].sum()),
        "gap_areas": len(areas),
        "discrepancies": int(per_address["discrepancy"].sum())
        if "discrepancy" in per_address
        else None,
        "by_class": {c: int((per_address["class"] == c).sum()) for c in classes},
    }
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "gapmap_version": __version__,
        "created_by": "gapmap run",
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "profile": profile_record(profile),
        "parameters": {
            "region": region.code,
            "as_of": as_of.isoformat(),
            "include_planned": options.include_planned,
            "dask": {"scheduler": options.scheduler, "workers": options.workers}
            if options.scheduler
            else None,
            "threads": None if options.scheduler else local_threads(options),
            "rural_rule": options.rural.rural_rule,
            "population": rural.population_source,
            "population_basis": population_basis_record,
            "disclosure_control": options.ckm.record(bool(options.cell_key_secret)),
            "gap_link_distance_m": options.rural.gaps.link_distance_m,
            "gpkg_address_limit": options.gpkg_address_limit,
            "costs": rural.cost_set.record() if rural.cost_set else None,
            "rankings": RANKINGS,
            **dict(options.extra_manifest),
        },
        "working_crs": region.working_crs,
        "grid_crs": "EPSG:3035",
        "reprojections": [r for r in (rec.get("reprojected_to") for rec in records) if r],
        "inputs": records,
        "validation": validation_record(reports),
        "counts": counts,
        "software": software_versions(),
        "synthetic_data": options.synthetic_note,
        "warnings": warnings,
    }

    t = time.perf_counter()
    tracker.stage("write")
    csv_opts = {"float_format": "%.4f"}
    with RunDirectory(out_dir) as rd:
        files = {
            "addresses.parquet": lambda p: write_points_parquet(
                per_address, *xy, region.working_crs, p
            ),
            "summary_gemeinde.csv": lambda p: write_csv(summary_gemeinde, p, **csv_opts),
            "summary_kreis.csv": lambda p: write_csv(summary_kreis, p, **csv_opts),
            "summary_gemeinde_public.csv": lambda p: write_csv(public["gemeinde"], p, **csv_opts),
            "summary_kreis_public.csv": lambda p: write_csv(public["kreis"], p, **csv_opts),
            "summary_grid_100m.parquet": lambda p: write_parquet(rural.grid_100m, p),
            "summary_grid_1km.parquet": lambda p: write_parquet(rural.grid_1km, p),
            "degurba_gemeinde_public.csv": lambda p: write_csv(public["degurba"], p, **csv_opts),
            "degurba_cells.parquet": lambda p: write_parquet(rural.degurba_cells, p),
            "degurba_gemeinde.csv": lambda p: write_csv(rural.degurba_gemeinde, p, **csv_opts),
            "gap_areas.parquet": lambda p: write_parquet(areas, p),
            "project_areas.csv": lambda p: write_csv(projects, p, **csv_opts),
            "cost_sources.csv": lambda p: write_csv(cost_sources(rural), p),
            "validation.json": lambda p: write_json({"inputs": [r.to_dict() for r in reports]}, p),
        }
        if region.inspire_grid:
            files["summary_grid_100m_public.parquet"] = lambda p: write_parquet(
                public["grid_100m"], p
            )
            files["summary_grid_1km_public.parquet"] = lambda p: write_parquet(
                public["grid_1km"], p
            )
        if boundaries is not None:
            files["boundaries.parquet"] = lambda p: write_parquet(boundaries, p)
        files["gapmap.gpkg"] = lambda p: write_run_gpkg(
            p, addresses=per_address, xy=xy, crs=region.working_crs, gap_areas=areas,
            gemeinden=gemeinden_gdf, summary_gemeinde=summary_gemeinde,
            grids={100: rural.grid_100m, 1000: rural.grid_1km},
            address_limit=options.gpkg_address_limit,
        )  # fmt: skip
        if inputs.offers:
            files["unmatched_offers.csv"] = lambda p: write_csv(unmatched, p)
        # the largest file on a second thread (Arrow encodes and compresses without the
        # GIL) while this one writes the GeoPackage and the tables
        with ThreadPoolExecutor(max_workers=1) as pool:
            writing = pool.submit(files["addresses.parquet"], rd.path / "addresses.parquet")
            for name, write in files.items():
                if name != "addresses.parquet":
                    write(rd.path / name)
            writing.result()
        tracker.done("write", t)
        manifest["timings_s"] = {
            **tracker.timings,
            "total": round(time.perf_counter() - t_start, 3),
        }
        manifest["files"] = sorted([*files, "manifest.json"])
        write_json(manifest, rd.path / "manifest.json")
    return RunResult(
        Path(out_dir),
        manifest,
        per_address,
        xy,
        region.working_crs,
        summary_gemeinde,
        summary_kreis,
        profile,
        areas,
    )
