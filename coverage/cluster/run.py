"""A run over addresses that stay on a Dask cluster (``gapmap cluster-run``).

``gapmap run`` reads every address into one process: fine for Germany's 22.6 million on a
small machine, not for the EU's. Here the addresses stay GeoParquet parts (a file or a
directory, local or any fsspec URL the workers can read), and each worker does, per part,
in one task fused with the part's read:

1. check the fields the run checks (``address_id``, ``site_type``, ``households``, an
   8-digit ``ags``, a point with coordinates inside the region); errors name the
   ``address_id``, the field and the fix;
2. fill a missing ``ags`` from the Gemeinde polygons (smallest AGS on a shared border, as
   :func:`coverage.run_inputs.assign_ags` does);
3. join and classify (:func:`coverage.cluster.frames._classify_part`: the polygons near the
   part, from the set every worker holds once, :func:`coverage.cluster.ship.broadcast_polygons`),
   and keep the rows in memory;
4. the rural step (:mod:`coverage.cluster.rural`): DEGURBA, rural gaps, grid summaries and
   gap areas as ``gapmap run`` computes them, the workers summing what sums;
5. write the part's per-address rows as ``addresses/part.NNNNN.parquet`` (GeoParquet, the
   columns of a run's ``addresses.parquet`` without the evidence columns) and send back
   record-key sums per group: a few rows per Gemeinde and grid cell.

The client reads the coverage and boundaries (as ``gapmap run`` does), broadcasts them,
and turns the sums into the Gemeinde, Kreis, grid and DEGURBA tables and their public
copies (cell key method). Gap areas are numbered by their first address, so their ids
equal those of ``gapmap run`` when the parts hold the addresses in the file's order.

The run directory is built in a temporary sibling and renamed into place only when every
part was written, so a failed run leaves an earlier one intact. The workers write into it:
on a remote cluster ``--out`` must be on a filesystem they share with the client.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coverage import __version__
from coverage.classify import ADDRESS_COLUMNS
from coverage.cluster.connect import INSTALL_HINT, cluster_errors, connect
from coverage.cluster.polygons import PolygonSet
from coverage.cluster.run_part import KEEP, PartTask
from coverage.cluster.run_tables import cluster_tables
from coverage.cluster.rural import rural_on_cluster
from coverage.cluster.rural_part import RuralTask
from coverage.cluster.ship import broadcast, broadcast_polygons
from coverage.costs import load_costs
from coverage.crs import Region, crs_label
from coverage.errors import GapmapError, InputDataError
from coverage.io.geoparquet_parts import read_geoparquet_parts
from coverage.io.writers import RunDirectory, write_csv, write_json, write_parquet
from coverage.privacy.ptable import CkmParams
from coverage.profiles import Profile, load_profile
from coverage.run_inputs import (
    LayerSpec,
    load_boundaries,
    load_coverage,
    load_fibre,
    load_population,
    region_for,
)
from coverage.run_population import population_basis
from coverage.run_projects import RANKINGS, cost_sources, rural_projects
from coverage.run_records import (
    MANIFEST_VERSION,
    profile_record,
    software_versions,
    validation_record,
)
from coverage.rural.analysis import RuralOptions
from coverage.schema import BoundaryLevel, ValidationReport

__all__ = ["ClusterRunOptions", "ClusterRunResult", "cluster_run"]

_PARTS = "addresses"


@dataclass(frozen=True)
class ClusterRunOptions:
    profile: str = "de-gigabit"
    region: str = "de"
    as_of: date | None = None
    include_planned: bool = True
    #: an existing scheduler ("tcp://host:8786") or a connected ``distributed.Client``;
    #: None: a local cluster of ``workers`` processes, started for the run
    scheduler: str | Any | None = None
    workers: int | None = None
    #: disclosure control of the public tables (cell key method, README section Privacy)
    ckm: CkmParams = field(default_factory=CkmParams)
    #: secret of the record keys; None: a one-off secret for this run
    cell_key_secret: bytes | None = field(default=None, repr=False)
    #: the rural step's settings, as in ``gapmap run``
    rural: RuralOptions = field(default_factory=RuralOptions)


@dataclass
class ClusterRunResult:
    out_dir: Path
    manifest: dict[str, Any]
    summary_gemeinde: pd.DataFrame
    summary_kreis: pd.DataFrame


def cluster_run(
    addresses: str | os.PathLike[str],
    coverage: Sequence[LayerSpec],
    out_dir: str | os.PathLike[str],
    options: ClusterRunOptions | None = None,
    *,
    boundaries: LayerSpec | None = None,
    population: LayerSpec | None = None,
    fibre: LayerSpec | None = None,
) -> ClusterRunResult:
    """Classify GeoParquet addresses on a Dask cluster, analyse rural gaps; write a run directory.

    Parameters
    ----------
    addresses
        GeoParquet file or directory of parts (local path or fsspec URL every worker can
        read) of address points in the region's working CRS (EPSG:25832 for ``de``), with
        ``address_id`` and optionally ``ags``, ``households``, ``site_type``.
    coverage
        Coverage polygon files with offer columns (read here, as ``gapmap run`` reads them).
    out_dir
        The run directory: ``addresses/part.NNNNN.parquet`` and the tables of ``gapmap
        run`` (summaries, grids, DEGURBA, gap and project areas, public copies; not the
        per-address GeoPackage), ``manifest.json``.
    boundaries
        Gemeinde (and Kreis) polygons: names in the tables, the ``ags`` of addresses
        without one, DEGURBA per Gemeinde and the clipping of gap areas.
    population, fibre
        A population grid for DEGURBA and a fibre layer gap areas link to, as in ``gapmap run``.

    Raises
    ------
    InputDataError
        Addresses that are not GeoParquet, lack ``address_id``, are in another CRS, or (from
        a worker) a field that fails its check, named by ``address_id``.
        Also: the workers could not write every part into ``out_dir``.
    GapmapError
        Dask is missing, or the cluster fails.
    """
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise GapmapError(
            f"a cluster run needs dask and distributed ({exc}); install them with {INSTALL_HINT}"
        ) from exc

    options = options or ClusterRunOptions()
    t_start = time.perf_counter()
    region = region_for(options.region)
    # a family id picks the version in force on the as-of date, as in gapmap run
    as_of = options.as_of or date.today()
    profile = load_profile(options.profile, as_of)
    if not coverage:
        raise InputDataError("no coverage given; pass at least one --coverage polygon file")

    source = os.fspath(addresses)
    parquet = read_geoparquet_parts(source, (*ADDRESS_COLUMNS, *KEEP))
    _check_address_schema(source, parquet.columns, parquet.crs, region)
    offers, records, reports = load_coverage(coverage, region)
    bounds_frame = None
    if boundaries is not None:
        bounds_frame, b_record, b_report = load_boundaries(boundaries, region)
        records.append(b_record)
        reports.append(b_report)
    population_frame, population_record = load_population(population)
    fibre_geoms, fibre_record = load_fibre(fibre, region)
    records += [r for r in (population_record, fibre_record) if r]
    rural_options, basis_record = population_basis(
        options.rural,
        grid_given=population_frame is not None,
        households_column="households" in parquet.columns,
        region_code=region.code,
    )
    cost_set = load_costs(rural_options.costs or region.code)

    classes = [c.name for c in profile.classes]
    with (
        connect(options.scheduler, options.workers) as client,
        RunDirectory(out_dir) as rd,
    ):
        parts_dir = rd.subdirectory(_PARTS)
        rows, gemeinden = _classified_parts(client, parquet, source, region, profile, offers,
                                            bounds_frame, as_of, options)  # fmt: skip
        n_parts = rows.npartitions
        task = RuralTask(
            crs=crs_label(parquet.crs),
            inspire_grid=region.inspire_grid,
            costs=cost_set,
            served_class=rural_options.served_class,
            radius_m=rural_options.gaps.radius_m,
            rural_rule=rural_options.rural_rule,
            out_dir=str(parts_dir),
            secret=options.cell_key_secret or secrets.token_bytes(32),
        )
        with cluster_errors(options.scheduler), client.as_current():
            parts = client.compute(rows.to_delayed())  # kept on the workers
            done = rural_on_cluster(
                client, parts, task, options=rural_options, gemeinden=gemeinden,
                population=population_frame,
                population_source=population_record["path"] if population_record else "",
                fibre=fibre_geoms, cost_set=cost_set,
            )  # fmt: skip
            del parts
        written = sorted(p.name for p in parts_dir.glob("part.*.parquet"))
        if len(written) != n_parts:
            raise InputDataError(
                f"the workers wrote {len(written)} of {n_parts} address parts into {parts_dir}; "
                "--out must be a directory every worker can write (a filesystem shared with "
                "this machine when the cluster is remote)"
            )

        tables = cluster_tables(done, bounds_frame, region, classes, options.ckm,
                                population_estimated=population_frame is None)  # fmt: skip
        grouped = done.groups["ags"]
        n_addresses = int(grouped["addresses"].sum())
        by_class = grouped.groupby("class", observed=True)["addresses"].sum()
        manifest = _manifest(
            profile=profile,
            region=region,
            as_of=as_of,
            options=options,
            records=[
                {
                    "kind": "addresses",
                    "path": source,
                    "format": "GeoParquet",
                    "parts": n_parts,
                    "rows": n_addresses,
                    "crs": crs_label(parquet.crs),
                },
                *records,
            ],
            counts={
                "addresses": n_addresses,
                "households": int(grouped["households"].sum()),
                "coverage_features": len(offers),
                "address_parts": n_parts,
                "addresses_without_ags": int(grouped.loc[grouped["key"] == "", "addresses"].sum()),
                "eligible": int(grouped.loc[grouped["eligible"], "addresses"].sum()),
                "rural_gap": int(grouped.loc[grouped["rural_gap"], "addresses"].sum()),
                "gap_areas": len(done.rural.gap_areas),
                "gap_area_rows": done.compact_rows,
                "by_class": {c: int(by_class.get(c, 0)) for c in classes},
            },
            reports=reports,
        )
        manifest["parameters"].update(
            rural_rule=rural_options.rural_rule,
            population=done.rural.population_source,
            population_basis=basis_record,
            gap_link_distance_m=rural_options.gaps.link_distance_m,
            # as written (JSON has no tuples): the returned manifest equals the file
            costs={k: list(v) if isinstance(v, tuple) else v for k, v in cost_set.record().items()},
            rankings=RANKINGS,
        )
        tables["gap_areas.parquet"] = done.rural.gap_areas
        tables["project_areas.csv"] = rural_projects(done.rural, profile, as_of)
        tables["cost_sources.csv"] = cost_sources(done.rural)
        if bounds_frame is not None:
            tables["boundaries.parquet"] = bounds_frame
        for name, table in tables.items():
            if name.endswith(".parquet"):
                write_parquet(table, rd.path / name)
            else:
                opts = {} if name == "cost_sources.csv" else {"float_format": "%.4f"}
                write_csv(table, rd.path / name, **opts)
        write_json({"inputs": [r.to_dict() for r in reports]}, rd.path / "validation.json")
        manifest["files"] = sorted(
            [*(f"{_PARTS}/{name}" for name in written), *tables, "validation.json", "manifest.json"]
        )
        manifest["timings_s"] = {
            **done.timings,
            "total": round(time.perf_counter() - t_start, 3),
        }
        write_json(manifest, rd.path / "manifest.json")
    return ClusterRunResult(
        Path(out_dir), manifest, tables["summary_gemeinde.csv"], tables["summary_kreis.csv"]
    )


def _classified_parts(
    client: Any,
    parquet: Any,
    source: str,
    region: Region,
    profile: Profile,
    offers: Any,
    bounds_frame: Any,
    as_of: date,
    options: ClusterRunOptions,
) -> tuple[Any, Any]:
    """The lazy frame of classified parts (each part's read fused with its task) and the
    Gemeinde polygons (None without boundaries)."""
    import dask

    offer_table = pd.DataFrame(offers.drop(columns="geometry"))
    polygons = PolygonSet(np.asarray(offers.geometry.values, dtype=object))
    gemeinden_ags, gemeinden = np.empty(0, dtype=object), np.empty(0, dtype=object)
    gemeinden_gdf = None
    if bounds_frame is not None:
        gemeinden_gdf = bounds_frame[bounds_frame["level"] == BoundaryLevel.GEMEINDE.value]
        codes = gemeinden_gdf["ags"].to_numpy().astype(str)
        order = np.argsort(codes, kind="stable")
        gemeinden_ags = codes[order]
        gemeinden = np.asarray(gemeinden_gdf.geometry.values, dtype=object)[order]
    task = PartTask(
        source=source,
        crs=crs_label(parquet.crs),
        region=region,
        profile=profile,
        options={"as_of": as_of, "include_planned": options.include_planned},
    )
    rows = parquet.frame.map_partitions(
        task,
        dask.delayed(broadcast_polygons(client, polygons)),
        dask.delayed(broadcast(client, offer_table)),
        dask.delayed(broadcast_polygons(client, PolygonSet(gemeinden))),
        # once to every worker, not in every task (the EU has ~100k municipalities)
        dask.delayed(broadcast(client, gemeinden_ags)),
        meta=pd.DataFrame(),
        enforce_metadata=False,
    )
    # optimized: each part's read fused with its task (Dask may also join small files
    # into one part here, so the parts are counted after)
    return rows.optimize(), gemeinden_gdf


def _check_address_schema(source: str, columns: Any, crs: Any, region: Region) -> None:
    """What can be checked before any part is read: the key column and the CRS."""
    if "address_id" not in columns:
        raise InputDataError(
            f"{source}: no column address_id; every address needs a unique id (rename the "
            "key column to address_id)"
        )
    if crs is None:
        raise InputDataError(
            f"{source}: the GeoParquet metadata states no CRS; write the addresses with their "
            f"CRS, in {region.working_crs}"
        )
    if crs_label(crs) != region.working_crs:
        raise InputDataError(
            f"{source}: addresses are in {crs_label(crs)}, a cluster run works in "
            f"{region.working_crs} and does not reproject millions of points on the way; "
            f"reproject them once, e.g. dask_geopandas.read_parquet(path)"
            f".to_crs('{region.working_crs}').to_parquet(new_path)"
        )


def _manifest(
    *,
    profile: Profile,
    region: Region,
    as_of: date,
    options: ClusterRunOptions,
    records: list[dict[str, Any]],
    counts: dict[str, Any],
    reports: list[ValidationReport],
) -> dict[str, Any]:
    scheduler = options.scheduler
    if scheduler is not None and not isinstance(scheduler, str):  # a Client
        scheduler = scheduler.scheduler.address
    return {
        "manifest_version": MANIFEST_VERSION,
        "gapmap_version": __version__,
        "created_by": "gapmap cluster-run",
        "profile": profile_record(profile),
        "parameters": {
            "region": region.code,
            "as_of": as_of.isoformat(),
            "include_planned": options.include_planned,
            "dask": {"scheduler": scheduler, "workers": options.workers},
            "disclosure_control": options.ckm.record(bool(options.cell_key_secret)),
        },
        "working_crs": region.working_crs,
        "inputs": records,
        "validation": validation_record(reports),
        "counts": counts,
        "software": software_versions(),
    }
