"""Measured speeds and atlas shares beside the class, and the discrepancy flags."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.discrepancy import (
    DiscrepancyParams,
    atlas_share_at_cells,
    flag_discrepancies,
    measured_at_points,
)
from coverage.io.demo_files import DemoInputs
from coverage.pipeline import LayerSpec, RunInputs, RunOptions, run

P = DiscrepancyParams(claim_min_mbps=1000, measured_ratio=0.25, min_tests=10, min_devices=3)


def _tiles() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "down_mbps": [80.0, 900.0, 50.0],
            "up_mbps": [20.0, 100.0, 10.0],
            "latency_ms": [15.0, 10.0, 30.0],
            "tests": [40, 25, 2],
            "devices": [12, 9, 1],
        },
        geometry=[
            shapely.box(0, 0, 10, 10),
            shapely.box(10, 0, 20, 10),
            shapely.box(20, 0, 30, 10),
        ],
    )


def test_measured_values_and_status_per_point() -> None:
    x = np.array([5.0, 15.0, 25.0, 50.0, 10.0])
    y = np.array([5.0, 5.0, 5.0, 5.0, 5.0])
    m = measured_at_points(x, y, _tiles(), P)
    assert list(m["measured_status"]) == ["ok", "ok", "too_few_tests", "no_tile", "ok"]
    assert m["measured_down_mbps"].iloc[0] == 80.0
    # on the shared edge x=10 the tile with more tests wins (40 > 25)
    assert m["measured_down_mbps"].iloc[4] == 80.0
    assert pd.isna(m["measured_down_mbps"].iloc[3]) and pd.isna(m["measured_tests"].iloc[3])


def test_flags_only_with_enough_tests_and_a_gigabit_claim() -> None:
    x = np.array([5.0, 15.0, 25.0, 50.0, 5.0])
    y = np.full(5, 5.0)
    m = measured_at_points(x, y, _tiles(), P)
    claims = pd.Series([1000.0, 1000.0, 1000.0, 1000.0, 250.0])
    out = flag_discrepancies(claims, m, None, P)
    # 80 < 0.25 x 1000 -> flagged; 900 fine; 2 tests too few; no tile; 250 is no gigabit claim
    assert list(out["discrepancy"]) == [True, False, False, False, False]
    assert out["discrepancy_reason"].iloc[0] == "MEASURED_BELOW_CLAIM"
    assert out["discrepancy_reason"].isna().sum() == 4


def test_atlas_zero_share_where_operator_claims_gigabit() -> None:
    atlas = pd.DataFrame(
        {
            "cell_id": ["C1", "C1", "C2", "C3", "C3"],
            "stand": ["2024-06", "2025-06", "2025-06", "2025-06", "2025-06"],
            "technology": ["all"] * 5,
            "min_mbit_s": [1000, 1000, 1000, 1000, 100],
            "share_pct": [50.0, 0.0, 80.0, 0.0, 100.0],
        }
    )
    cells = pd.Series(["C1", "C2", "C3", "C9"])
    share = atlas_share_at_cells(cells, atlas, P)
    assert share.tolist()[:3] == [0.0, 80.0, 0.0] and pd.isna(share.iloc[3])
    out = flag_discrepancies(pd.Series([1000.0, 1000.0, 100.0, 1000.0]), None, share, P)
    assert list(out["discrepancy"]) == [True, False, False, False]
    assert out["discrepancy_reason"].iloc[0] == "ATLAS_ZERO_WHERE_CLAIMED"


def _quadkey(lon: float, lat: float, zoom: int = 16) -> str:
    n = 2**zoom
    tx = int((lon + 180.0) / 360.0 * n)
    lat_r = math.radians(lat)
    ty = int((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n)
    digits = []
    for i in range(zoom, 0, -1):
        mask = 1 << (i - 1)
        digits.append(str((1 if tx & mask else 0) + (2 if ty & mask else 0)))
    return "".join(digits)


def test_run_reports_measured_evidence_and_flags(demo_inputs: DemoInputs, tmp_path: Path) -> None:
    base = run(
        RunInputs(
            LayerSpec(demo_inputs.addresses),
            (LayerSpec(demo_inputs.coverage),),
            LayerSpec(demo_inputs.boundaries),
        ),
        tmp_path / "base",
        RunOptions(as_of=demo_inputs.as_of),
    )
    giga = base.addresses[base.addresses["best_down_mbps"] >= 1000].head(40).to_crs(4326)
    keys = sorted({_quadkey(p.x, p.y) for p in giga.geometry})
    tiles = pd.DataFrame(
        {
            "quadkey": keys,
            "avg_d_kbps": 60_000,
            "avg_u_kbps": 10_000,
            "avg_lat_ms": 25,
            "tests": 50,
            "devices": 20,
        }
    )
    path = tmp_path / "ookla_fixed.csv"
    tiles.to_csv(path, index=False)
    result = run(
        RunInputs(
            LayerSpec(demo_inputs.addresses),
            (LayerSpec(demo_inputs.coverage),),
            LayerSpec(demo_inputs.boundaries),
            measured=LayerSpec(path),
        ),
        tmp_path / "measured",
        RunOptions(as_of=demo_inputs.as_of),
    )
    a = result.addresses.set_index("address_id")
    checked = a.loc[giga["address_id"]]
    assert (checked["measured_status"] == "ok").all()
    assert (checked["measured_down_mbps"] == 60.0).all()
    assert checked["discrepancy"].all()
    assert (checked["discrepancy_reason"] == "MEASURED_BELOW_CLAIM").all()
    # the class never changes because of measurements: evidence only
    assert (a["class"] == base.addresses.set_index("address_id")["class"]).all()
    assert result.manifest["counts"]["discrepancies"] == int(a["discrepancy"].sum())
    assert any(i["kind"] == "measured" for i in result.manifest["inputs"])
