"""The real Südwestfalen data (skipped unless GAPMAP_SHARED_DATA points at shared/data)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from coverage.io.breitbandatlas import read_breitbandatlas
from coverage.io.detect import detect_format, read_any
from coverage.io.grid import read_inspire_grid
from coverage.io.inspect import inspect_file
from coverage.io.vector import read_vector
from coverage.io.vg250 import read_vg250
from coverage.schema import validate_addresses, validate_boundaries


def test_vg250_gemeinden_and_kreise(shared_data: Path) -> None:
    gem = read_vg250(shared_data / "boundaries" / "vg250_gemeinden_suedwestfalen.geojson")
    krs = read_vg250(shared_data / "boundaries" / "vg250_kreise_suedwestfalen.geojson")
    assert gem.rows == 59 and krs.rows == 5
    assert (gem.frame["level"] == "gemeinde").all() and (krs.frame["level"] == "kreis").all()
    assert (
        gem.frame["ags"].str.fullmatch(r"\d{8}").all()
        and gem.frame["ags"].str.startswith("05").all()
    )
    assert sorted(krs.frame["ags"]) == ["05958", "05962", "05966", "05970", "05974"]
    assert gem.frame["ags"].str[:5].value_counts().to_dict() == {
        "05962": 15, "05974": 14, "05958": 12, "05970": 11, "05966": 7,
    }  # fmt: skip
    validate_boundaries(gem.frame, source=gem.source)
    assert (
        detect_format(shared_data / "boundaries" / "vg250_kreise_suedwestfalen.geojson").name
        == "vg250"
    )


def test_zensus_grid_cells_and_inhabitants(shared_data: Path) -> None:
    layer = read_inspire_grid(shared_data / "population" / "zensus2011_1km_suedwestfalen.csv")
    assert layer.rows == 6537 and int(layer.frame["population"].sum()) == 1_429_833
    assert int(layer.frame["population"].notna().sum()) == 4293
    assert (layer.frame["cell_size_m"] == 1000).all() and layer.crs.to_epsg() == 3035
    assert layer.frame["Frauen_A"].min() >= 0  # -1/-9 never survive as numbers


def test_schools_inside_their_gemeinde(shared_data: Path) -> None:
    schools = read_vector(
        shared_data / "points" / "schulen_nrw_suedwestfalen.csv",
        crs="EPSG:25832",
        x="UTMRechtswert",
        y="UTMHochwert",
        columns={
            "Schulnummer": "address_id",
            "Gemeindeschluessel": "ags",
            "PLZ": "postcode",
            "Ort": "place",
        },
    )
    assert schools.rows == 496
    addresses, _ = validate_addresses(schools.frame, source=schools.source)
    gem = read_vg250(
        shared_data / "boundaries" / "vg250_gemeinden_suedwestfalen.geojson"
    ).frame.to_crs(25832)
    joined = gpd.sjoin(addresses, gem[["ags", "geometry"]], how="left", predicate="covered_by")
    assert len(joined) == 496
    assert (joined["ags_left"] == joined["ags_right"]).all()


def test_breitbandatlas_tables(shared_data: Path) -> None:
    cov = shared_data / "coverage"
    long = read_breitbandatlas(cov / "breitbandatlas_gemeinden_suedwestfalen_long.csv").frame
    assert len(long) == 26845 and long["ags"].nunique() == 59
    assert long["share_pct"].between(0, 100).all()
    wide = read_breitbandatlas(
        cov / "breitbandatlas_gemeinden_suedwestfalen_2021-06_privat_wide.csv"
    ).frame
    assert len(wide) == 59 * 53 and set(wide["stand"]) == {"2021-06"}
    key = ["ags", "technology", "min_mbit_s"]
    recent = long[(long["stand"] == "2021-06") & (long["segment"] == "privat")][[*key, "share_pct"]]
    merged = wide[[*key, "share_pct"]].merge(recent, on=key, suffixes=("_w", "_l"))
    assert len(merged) == len(wide) and (merged["share_pct_w"] == merged["share_pct_l"]).all()


def test_read_any_and_inspect_real_files(shared_data: Path) -> None:
    grid = shared_data / "population" / "zensus2011_1km_suedwestfalen.csv"
    assert read_any(grid).format == "inspire_grid"
    report = inspect_file(grid)
    assert report.feature_count == 6537 and report.crs == "EPSG:3035"
    assert any("sentinel" in n for n in report.notes)
    assert not any("sentinel" in p for p in report.problems)
    clean = inspect_file(shared_data / "boundaries" / "vg250_gemeinden_suedwestfalen.geojson")
    assert clean.problems == [] and clean.feature_count == 59
