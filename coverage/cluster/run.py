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
   part, from the set every worker holds once, :func:`coverage.cluster.ship.broadcast_polygons`);
4. write the part's per-address rows as ``addresses/part.NNNNN.parquet`` (GeoParquet, the
   columns of a run's ``addresses.parquet`` without the rural and evidence columns);
5. send back its counts per (ags, class, eligible): a few hundred rows.

The client reads the coverage and boundaries (as ``gapmap run`` does), broadcasts them,
and turns the counts into the Gemeinde and Kreis tables (:func:`coverage.aggregate.summarise`
over grouped rows). No rural gap analysis: gap areas link neighbouring addresses across
parts; run ``gapmap run`` per Land or Kreis for those.

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
from coverage.aggregate import summarise
from coverage.classify import ADDRESS_COLUMNS
from coverage.cluster.connect import INSTALL_HINT, cluster_errors, connect
from coverage.cluster.polygons import PolygonSet
from coverage.cluster.run_part import COUNT_COLUMNS, KEEP, PartTask, merge_counts
from coverage.cluster.ship import broadcast, broadcast_polygons
from coverage.crs import Region, crs_label
from coverage.errors import GapmapError, InputDataError
from coverage.io.geoparquet_parts import read_geoparquet_parts
from coverage.io.writers import RunDirectory, write_csv, write_json
from coverage.privacy.ptable import CkmParams
from coverage.privacy.public import group_records, public_summary
from coverage.profiles import Profile, load_profile
from coverage.run_inputs import (
    LayerSpec,
    boundary_names,
    load_boundaries,
    load_coverage,
    region_for,
)
from coverage.run_records import (
    MANIFEST_VERSION,
    profile_record,
    software_versions,
    validation_record,
)
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
) -> ClusterRunResult:
    """Classify GeoParquet addresses on a Dask cluster; write a run directory.

    Parameters
    ----------
    addresses
        GeoParquet file or directory of parts (local path or fsspec URL every worker can
        read) of address points in the region's working CRS (EPSG:25832 for ``de``), with
        ``address_id`` and optionally ``ags``, ``households``, ``site_type``.
    coverage
        Coverage polygon files with offer columns (read here, as ``gapmap run`` reads them).
    out_dir
        The run directory: ``addresses/part.NNNNN.parquet``, ``summary_gemeinde.csv``,
        ``summary_kreis.csv``, ``summary_gemeinde_public.csv``, ``manifest.json``.
    boundaries
        Gemeinde (and Kreis) polygons: names in the tables, and the ``ags`` of addresses
        without one.

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
        import dask
        import distributed  # noqa: F401
    except ImportError as exc:
        raise GapmapError(
            f"a cluster run needs dask and distributed ({exc}); install them with {INSTALL_HINT}"
        ) from exc

    options = options or ClusterRunOptions()
    t_start = time.perf_counter()
    region = region_for(options.region)
    profile = load_profile(options.profile)
    as_of = options.as_of or date.today()
    if not coverage:
        raise InputDataError("no coverage given; pass at least one --coverage polygon file")

    source = os.fspath(addresses)
    parquet = read_geoparquet_parts(source, (*ADDRESS_COLUMNS, *KEEP))
    _check_address_schema(source, parquet.columns, parquet.crs, region)
    offers, records, reports = load_coverage(coverage, region)
    offer_table = pd.DataFrame(offers.drop(columns="geometry"))
    polygons = PolygonSet(np.asarray(offers.geometry.values, dtype=object))
    gemeinden_ags, gemeinden = np.empty(0, dtype=object), np.empty(0, dtype=object)
    bounds_frame = None
    if boundaries is not None:
        bounds_frame, b_record, b_report = load_boundaries(boundaries, region)
        records.append(b_record)
        reports.append(b_report)
        gem = bounds_frame[bounds_frame["level"] == BoundaryLevel.GEMEINDE.value]
        codes = gem["ags"].to_numpy().astype(str)
        order = np.argsort(codes, kind="stable")
        gemeinden_ags = codes[order]
        gemeinden = np.asarray(gem.geometry.values, dtype=object)[order]
    gemeinden = PolygonSet(gemeinden)

    classes = [c.name for c in profile.classes]
    with (
        connect(options.scheduler, options.workers) as client,
        RunDirectory(out_dir) as rd,
    ):
        parts_dir = rd.subdirectory(_PARTS)
        task = PartTask(
            source=source,
            crs=crs_label(parquet.crs),
            region=region,
            profile=profile,
            options={"as_of": as_of, "include_planned": options.include_planned},
            out_dir=str(parts_dir),
            secret=options.cell_key_secret or secrets.token_bytes(32),
        )
        counts = parquet.frame.map_partitions(
            task,
            dask.delayed(broadcast_polygons(client, polygons)),
            dask.delayed(broadcast(client, offer_table)),
            dask.delayed(broadcast_polygons(client, gemeinden)),
            # once to every worker, not in every task (the EU has ~100k municipalities)
            dask.delayed(broadcast(client, gemeinden_ags)),
            meta=pd.DataFrame({c: pd.Series(dtype=t) for c, t in COUNT_COLUMNS.items()}),
            enforce_metadata=False,
        )
        # optimized: each part's read fused with its task (Dask may also join small files
        # into one part here, so the parts are counted after)
        counts = counts.optimize()
        n_parts = counts.npartitions
        with cluster_errors(options.scheduler), client.as_current():
            grouped = counts.compute()
        written = sorted(p.name for p in parts_dir.glob("part.*.parquet"))
        if len(written) != n_parts:
            raise InputDataError(
                f"the workers wrote {len(written)} of {n_parts} address parts into {parts_dir}; "
                "--out must be a directory every worker can write (a filesystem shared with "
                "this machine when the cluster is remote)"
            )

        grouped = merge_counts(grouped)
        summaries = {
            level: summarise(
                grouped,
                level=level,
                names=boundary_names(bounds_frame, level, region.code),
                classes=classes,
                count="addresses",
            )
            for level in ("gemeinde", "kreis")
        }
        keyed = group_records(grouped, classes)  # cell keys from the workers' key sums
        public = {
            lv: public_summary(summaries[lv], lv, grouped["ags"], keyed, classes, options.ckm)
            for lv in ("gemeinde", "kreis")
        }
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
                "addresses_without_ags": int(grouped.loc[grouped["ags"] == "", "addresses"].sum()),
                "eligible": int(grouped.loc[grouped["eligible"], "addresses"].sum()),
                "by_class": {c: int(by_class.get(c, 0)) for c in classes},
            },
            reports=reports,
        )
        tables = {
            "summary_gemeinde.csv": summaries["gemeinde"],
            "summary_kreis.csv": summaries["kreis"],
            "summary_gemeinde_public.csv": public["gemeinde"],
            "summary_kreis_public.csv": public["kreis"],
        }
        for name, table in tables.items():
            write_csv(table, rd.path / name, float_format="%.4f")
        manifest["files"] = sorted(
            [*(f"{_PARTS}/{name}" for name in written), *tables, "manifest.json"]
        )
        manifest["timings_s"] = {"total": round(time.perf_counter() - t_start, 3)}
        write_json(manifest, rd.path / "manifest.json")
    return ClusterRunResult(Path(out_dir), manifest, summaries["gemeinde"], summaries["kreis"])


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
