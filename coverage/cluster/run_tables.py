"""The tables of a cluster run from the workers' record-key sums: the Gemeinde and Kreis
summaries, the grid summaries, the DEGURBA tables and their public copies, each built by
the function ``gapmap run`` uses (grouped rows stand for their addresses: ``count``)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from coverage.aggregate import summarise
from coverage.cluster.rural import ClusterRural
from coverage.crs import Region
from coverage.privacy.ptable import CkmParams
from coverage.privacy.public import group_records, public_degurba, public_grid, public_summary
from coverage.run_inputs import boundary_names
from coverage.rural.analysis import rural_counts

__all__ = ["cluster_tables"]


def cluster_tables(
    done: ClusterRural,
    boundaries: pd.DataFrame | None,
    region: Region,
    classes: Sequence[str],
    ckm: CkmParams,
    *,
    population_estimated: bool,
) -> dict[str, pd.DataFrame]:
    """File name -> table, as ``gapmap run`` names and fills them."""
    rural = done.rural
    grouped = done.groups["ags"].rename(columns={"key": "ags"})
    summaries = {}
    for level, digits in (("gemeinde", 8), ("kreis", 5)):
        names = boundary_names(boundaries, level, region.code)
        table = summarise(grouped, level=level, names=names, classes=classes, count="addresses")
        table = table.merge(
            rural_counts(grouped, digits=digits, count="addresses"), on="ags", how="left"
        )
        if level == "gemeinde" and len(rural.degurba_gemeinde):
            table = table.merge(rural.degurba_gemeinde[["ags", "degurba"]], on="ags", how="left")
        summaries[level] = table
    records = group_records(grouped, classes)  # cell keys from the workers' key sums
    out = {
        "summary_gemeinde.csv": summaries["gemeinde"],
        "summary_kreis.csv": summaries["kreis"],
        **{
            f"summary_{lv}_public.csv": public_summary(
                summaries[lv], lv, grouped["ags"], records, classes, ckm
            )
            for lv in ("gemeinde", "kreis")
        },
        "summary_grid_100m.parquet": rural.grid_100m,
        "summary_grid_1km.parquet": rural.grid_1km,
        "degurba_gemeinde_public.csv": public_degurba(rural.degurba_gemeinde, population_estimated),
        "degurba_cells.parquet": rural.degurba_cells,
        "degurba_gemeinde.csv": rural.degurba_gemeinde,
    }
    if region.inspire_grid:
        for name, grid in (("grid_100m", rural.grid_100m), ("grid_1km", rural.grid_1km)):
            groups = done.groups[name]
            out[f"summary_{name}_public.parquet"] = public_grid(
                grid, groups["key"], group_records(groups, classes), ckm
            )
    return out
