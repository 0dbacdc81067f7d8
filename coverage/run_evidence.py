"""Evidence columns of a run: measured speeds, Breitbandatlas shares, sampled rasters and
discrepancy flags per address (the inputs ``--measured``, ``--atlas``, ``--raster``), read
through ``coverage.io`` and computed by ``coverage.discrepancy``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from coverage.crs import Region, crs_label
from coverage.discrepancy import (
    DiscrepancyParams,
    atlas_share_at_cells,
    flag_discrepancies,
    measured_at_points,
)
from coverage.io.detect import read_any
from coverage.io.hashing import sha256_file
from coverage.run_inputs import RunInputs

__all__ = ["evidence_columns"]


def evidence_columns(
    inputs: RunInputs,
    xy: tuple[np.ndarray, np.ndarray],
    cell_100m: pd.Series,
    best_down: pd.Series,
    region: Region,
    params: DiscrepancyParams,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Measured speeds, atlas shares, sampled rasters and discrepancy flags per address.

    ``xy`` are the address coordinates (working CRS); ``cell_100m`` their INSPIRE cells and
    ``best_down`` their best existing download (Mbit/s), both indexed like the addresses.
    """
    from coverage.io.ookla import read_ookla_tiles
    from coverage.io.raster import sample_raster

    cols: list[pd.DataFrame] = []
    records: list[dict[str, Any]] = []
    measured = atlas = None
    if inputs.measured is not None:
        raw = read_ookla_tiles(inputs.measured.path)
        tiles = raw.frame.to_crs(region.working_crs)
        measured = measured_at_points(xy[0], xy[1], tiles, params)
        cols.append(measured)
        records.append(
            {
                "kind": "measured",
                "path": raw.source,
                "format": raw.format,
                "sha256": raw.sha256,
                "rows": raw.rows,
                "crs": crs_label(raw.crs),
                "crs_from": raw.crs_how,
                "reprojected_to": region.working_crs,
            }
        )
    if inputs.atlas is not None:
        raw = read_any(inputs.atlas.path, kind="breitbandatlas")
        atlas = atlas_share_at_cells(cell_100m, pd.DataFrame(raw.frame), params)
        cols.append(pd.DataFrame({"atlas_share_pct": atlas}))
        records.append(
            {
                "kind": "atlas",
                "path": raw.source,
                "format": raw.format,
                "sha256": raw.sha256,
                "rows": raw.rows,
                "crs": None,
                "crs_from": raw.crs_how,
                "reprojected_to": None,
            }
        )
    for name, spec in inputs.rasters:
        sample = sample_raster(spec.path, xy[0], xy[1], region.working_crs)
        cols.append(
            pd.DataFrame(
                {
                    f"raster_{name}": sample.values,
                    f"raster_{name}_flag": pd.array(sample.flags, dtype="string"),
                }
            )
        )
        records.append(
            {
                "kind": f"raster:{name}",
                "path": str(spec.path),
                "format": "raster",
                "sha256": sha256_file(spec.path),
                "rows": len(best_down),
                "crs": sample.crs,
                "crs_from": "declared in the file",
                "reprojected_to": None,
            }
        )
    if measured is not None or atlas is not None:
        cols.append(flag_discrepancies(best_down, measured, atlas, params))
    frame = pd.concat(cols, axis=1) if cols else pd.DataFrame(index=best_down.index)
    frame.index = best_down.index
    return frame, records
