"""What a Gemeinde and a US office see: Kriterienkatalog points, rankings named, US labels."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from api.cli import main
from tests.conftest import TEST_SCALE
from tests.coverage.test_evidence import write_fcc_inputs


def gapmap(*args: str | Path) -> int:
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("kk") / "demo"
    assert gapmap("demo", "--out", out, "--scale", TEST_SCALE) == 0
    return out / "run"


def test_run_says_which_ranking_it_shows_and_lists_cost_sources(demo_run: Path) -> None:
    manifest = json.loads((demo_run / "manifest.json").read_text())
    assert set(manifest["parameters"]["rankings"]) == {"screening", "official"}
    assert manifest["parameters"]["costs"]["currency"] == "EUR"
    sources = pd.read_csv(demo_run / "cost_sources.csv")
    assert sources["source"].str.len().min() > 10
    assert {"routing_factor", "civil.paved", "connection"} <= set(sources["item"])
    areas = pd.read_parquet(demo_run / "gap_areas.parquet")
    ranked = areas[areas["screening_rank"].notna()]
    assert (ranked["addresses"] >= 10).all()  # no single address ranks
    assert (areas["cost_low"] <= areas["cost_central"]).all()
    assert (areas["cost_central"] <= areas["cost_high"]).all()
    projects = pd.read_csv(demo_run / "project_areas.csv", dtype={"ags": str})
    assert {"kk_points", "kk_rank", "kk_status", "kk_nachholbedarf_input"} <= set(projects.columns)


def test_kriterien_prints_every_input_and_exports_them(
    demo_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "kk.csv"
    assert gapmap("kriterien", demo_run, "--ags", "05974044", "--out", out) == 0
    text = capsys.readouterr().out
    for word in ("Nachholbedarf", "Synergienutzung", "Einwohnerdichte", "Interkommunale",
                 "inputs to add", "fast lane from 350"):  # fmt: skip
        assert word in text
    table = pd.read_csv(out, dtype={"ags": str})
    assert table["ags"].tolist() == ["05974044"] and table["name"].tolist() == ["Warstein"]
    assert table["kk_synergie_source"].iloc[0].startswith("missing")
    assert table["kk_kooperation_input"].iloc[0] == 1
    assert gapmap("kriterien", demo_run, "--ags", "05974044", "--ags", "05974040",
                  "--ewa", "50", "--out", out) == 0  # fmt: skip
    joint = pd.read_csv(out, dtype={"ags": str}).iloc[0]
    assert joint["ags"] == "05974044+05974040" and joint["kk_kooperation_input"] == 2
    assert joint["kk_kooperation_source"] == "number of --ags given"
    assert joint["kk_synergie_points"] >= 0 and joint["kk_missing"] != joint["kk_missing"]  # NaN


def test_kriterien_rejects_an_unknown_gemeinde(
    demo_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gapmap("kriterien", demo_run, "--ags", "99999999") == 2
    assert "--ags 99999999: no such Gemeinde" in capsys.readouterr().err


def test_a_us_run_uses_us_parameters_and_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fabric, bdc, *_ = write_fcc_inputs(tmp_path)
    run = tmp_path / "us"
    assert gapmap("run", "--addresses", fabric, "--offers", bdc, "--profile", "us-bead-2022",
                  "--region", "us", "--as-of", "2024-06-30", "--out", run) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "County" in text and "USD/connection" in text
    for german in ("Kreis", "AGS", "Gemeinde", "EUR"):
        assert german not in text
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["parameters"]["costs"]["id"] == "us"
    areas = pd.read_parquet(run / "gap_areas.parquet")
    assert set(areas["currency"]) == {"USD"}
    assert gapmap("kriterien", run) == 2
    assert "belongs to de-gigabit-2023, de-gigabit-2024" in capsys.readouterr().err


def test_evidence_pack_says_which_ranking_its_gap_areas_carry(
    demo_run: Path, tmp_path: Path
) -> None:
    import zipfile

    pack = tmp_path / "pack.zip"
    assert gapmap("evidence", demo_run, "--ags", "05974044", "--out", pack, "--no-map") == 0
    with zipfile.ZipFile(pack) as zf:
        text = zf.read("METHODOLOGY.md").decode("utf-8")
    assert "Screening-Wert von gapmap" in text and "nicht der amtliche Kriterienkatalog" in text
    assert "Kostensatz `de` (EUR, Preisstand 2024)" in text


def test_kriterien_for_user_drawn_project_areas(
    demo_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import geopandas as gpd

    bounds = gpd.read_parquet(demo_run / "boundaries.parquet")
    warstein = bounds[(bounds["level"] == "gemeinde") & (bounds["ags"] == "05974044")]
    drawn = gpd.GeoDataFrame(
        {"name": ["Warstein Nord"]}, geometry=warstein.geometry.buffer(-1000).values,
        crs=bounds.crs,
    ).to_crs("EPSG:4326")  # fmt: skip
    path = tmp_path / "areas.geojson"
    drawn.to_file(path, driver="GeoJSON")
    out = tmp_path / "kk.csv"
    assert gapmap("kriterien", demo_run, "--area", path, "--name-column", "name", "--out", out) == 0
    row = pd.read_csv(out, dtype={"ags_touched": str}).iloc[0]
    whole = pd.read_csv(demo_run / "project_areas.csv", dtype={"ags": str}).set_index("ags")
    gem = whole.loc["05974044"]
    assert row["ags"] == "Warstein Nord" and row["ags_touched"] == "05974044"
    assert 0 < row["addresses"] <= gem["addresses"]
    assert row["cost_central"] <= gem["cost_central"] + 1e-6
    assert row["kk_kooperation_input"] == 1
    # the Kriterium measures the Gemeinde: its density, and below-30 over all its addresses
    assert row["kk_teilhabe_input"] == pytest.approx(gem["density_per_km2"], rel=1e-3)
    assert row["kk_nachholbedarf_input"] == pytest.approx(
        100 * row["below_30"] / gem["addresses_total"], rel=1e-3
    )
    assert gapmap("kriterien", demo_run, "--area", path, "--name-column", "Name") == 2
    assert "no column 'Name' for --name-column" in capsys.readouterr().err
