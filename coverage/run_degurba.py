"""``gapmap degurba``: the degree of urbanisation alone, from a population grid (and
boundaries), written as its own run directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from coverage import __version__
from coverage.crs import DEFAULT_REGION, REGIONS
from coverage.io.writers import RunDirectory, write_csv, write_json, write_parquet
from coverage.run_inputs import LayerSpec, boundary_names, load_boundaries, load_population
from coverage.run_records import MANIFEST_VERSION
from coverage.schema import BoundaryLevel


@dataclass
class DegurbaResult:
    cells: pd.DataFrame
    gemeinden: pd.DataFrame


def run_degurba(
    population: LayerSpec, boundaries: LayerSpec | None, out_dir: str | Path
) -> DegurbaResult:
    """DEGURBA per 1 km cell (and per Gemeinde when boundaries are given), written atomically.

    Writes ``degurba_cells.parquet`` and ``degurba_gemeinde.csv`` (``ags``, ``name``,
    population shares, ``degurba`` 1 city / 2 town-suburb / 3 rural) plus ``manifest.json``.
    """
    from coverage.rural.analysis import cell_municipality, population_cells_1km
    from coverage.rural.degurba import classify_cells, classify_municipalities

    region = REGIONS[DEFAULT_REGION]
    table, record = load_population(population)
    assert table is not None and record is not None
    cells = classify_cells(population_cells_1km(table))
    records = [record]
    gemeinden = pd.DataFrame(
        columns=[
            "ags",
            "name",
            "population",
            "share_urban_centre",
            "share_urban_cluster",
            "share_rural",
            "degurba",
        ]
    )
    if boundaries is not None:
        bounds, b_record, _ = load_boundaries(boundaries, region)
        records.append(b_record)
        gem = bounds[bounds["level"] == BoundaryLevel.GEMEINDE.value]
        gemeinden = classify_municipalities(cells, cell_municipality(cells, gem))
        gemeinden.insert(1, "name", gemeinden["ags"].map(boundary_names(bounds, "gemeinde")))
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "gapmap_version": __version__,
        "created_by": "gapmap degurba",
        "inputs": records,
        "grid_crs": "EPSG:3035",
        "counts": {
            "cells": len(cells),
            "by_cell_class": {
                str(k): int(v) for k, v in cells["degurba_cell"].value_counts().items()
            },
        },
        "files": ["degurba_cells.parquet", "degurba_gemeinde.csv", "manifest.json"],
    }
    with RunDirectory(out_dir) as rd:
        write_parquet(cells, rd.path / "degurba_cells.parquet")
        write_csv(gemeinden, rd.path / "degurba_gemeinde.csv", float_format="%.4f")
        write_json(manifest, rd.path / "manifest.json")
    return DegurbaResult(cells, gemeinden)
