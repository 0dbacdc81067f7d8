"""The synthetic Suedwestfalen demo: committed sources, determinism, shape of the data."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage.demo.build import DEMO_AS_OF, DemoData, generate_demo
from coverage.demo.settlements import gemeinde_population
from coverage.errors import SourceReadError
from coverage.io.demo_files import (
    BOUNDARIES_FILE,
    DATA_DIR_ENV,
    data_dir,
    load_demo_sources,
)
from coverage.schema import (
    ADDRESS_COLUMNS,
    OFFER_COLUMNS,
    SiteType,
    Technology,
    validate_addresses,
    validate_offers,
)

SCALE = 0.02
SEED = 20261125

#: domain.md section 1.8, written out independently of the build script (the oracle).
DOMAIN_AGS = {
    "05958": "004 008 012 016 020 024 028 032 036 040 044 048",
    "05962": "004 008 012 016 020 024 028 032 036 040 044 048 052 056 060",
    "05966": "004 008 012 016 020 024 028",
    "05970": "004 008 012 016 020 024 028 032 036 040 044",
    "05974": "004 008 012 016 020 024 028 032 036 040 044 048 052 056",
}
EXPECTED_GEMEINDEN = sorted(k + g for k, gs in DOMAIN_AGS.items() for g in gs.split())
WIRED = {"ftth", "fttb", "hfc_docsis31", "hfc", "vdsl", "adsl"}


@pytest.fixture(scope="module")
def sources() -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    boundaries, places = load_demo_sources()
    return boundaries[boundaries["level"] == "gemeinde"].reset_index(drop=True), places


@pytest.fixture(scope="module")
def demo(sources: tuple[gpd.GeoDataFrame, pd.DataFrame]) -> DemoData:
    return generate_demo(*sources, scale=SCALE, seed=SEED)


def test_committed_boundaries_are_the_59_gemeinden_and_5_kreise() -> None:
    path = data_dir() / BOUNDARIES_FILE
    assert path.stat().st_size < 250_000
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in raw  # RFC 7946: WGS84 implied, no crs member
    frame = gpd.read_file(path)
    assert frame.crs.to_epsg() == 4326
    gem = frame[frame["level"] == "gemeinde"]
    krs = frame[frame["level"] == "kreis"]
    assert len(frame) == 64
    assert sorted(gem["ags"]) == EXPECTED_GEMEINDEN
    assert sorted(krs["ags"]) == sorted(DOMAIN_AGS)
    assert (gem["kreis_ags"] == gem["ags"].str[:5]).all()
    assert (krs["kreis_ags"] == krs["ags"]).all()
    assert shapely.is_valid(frame.geometry.values).all()
    # each Kreis is exactly the union of its Gemeinden (shared edges kept by the build)
    metric = frame.to_crs(25832)
    for ags, kreis in zip(krs["ags"], metric.loc[krs.index].geometry, strict=True):
        union = shapely.union_all(
            metric[metric["kreis_ags"].eq(ags) & metric["level"].eq("gemeinde")].geometry.values
        )
        assert shapely.symmetric_difference(kreis, union).area < 1.0


def test_places_cover_every_gemeinde(sources: tuple[gpd.GeoDataFrame, pd.DataFrame]) -> None:
    gemeinden, places = sources
    assert set(places["ags"]) == set(gemeinden["ags"])
    geoms = gemeinden.set_index("ags").geometry
    inside = [
        geoms[a].contains(shapely.Point(x, y))
        for a, x, y in places[["ags", "x", "y"]].itertuples(index=False)
    ]
    assert all(inside)


def test_same_seed_same_frames_other_seed_other_frames(
    sources: tuple[gpd.GeoDataFrame, pd.DataFrame], demo: DemoData
) -> None:
    again = generate_demo(*sources, scale=SCALE, seed=SEED)
    pd.testing.assert_frame_equal(
        demo.addresses.drop(columns="geometry"), again.addresses.drop(columns="geometry")
    )
    assert (demo.addresses.geometry.to_wkb() == again.addresses.geometry.to_wkb()).all()
    pd.testing.assert_frame_equal(
        demo.coverage.drop(columns="geometry"), again.coverage.drop(columns="geometry")
    )
    assert (demo.coverage.geometry.to_wkb() == again.coverage.geometry.to_wkb()).all()

    other = generate_demo(*sources, scale=SCALE, seed=SEED + 1)
    assert (
        len(other.coverage) != len(demo.coverage)
        or not (other.coverage.geometry.to_wkb() == demo.coverage.geometry.to_wkb()).all()
    )
    n = min(len(other.addresses), len(demo.addresses))
    assert not np.array_equal(other.addresses.geometry.x[:n], demo.addresses.geometry.x[:n])


def test_counts_follow_population_per_kreis(
    sources: tuple[gpd.GeoDataFrame, pd.DataFrame], demo: DemoData
) -> None:
    gemeinden, places = sources
    assert 380_000 * SCALE * 0.9 < len(demo.addresses) < 380_000 * SCALE * 1.1
    pop = pd.Series(gemeinde_population(gemeinden, places), index=gemeinden["ags"].to_numpy())
    expected = pop.groupby(pop.index.str[:5]).sum() / pop.sum()
    actual = demo.addresses["ags"].str[:5].value_counts(normalize=True)
    assert set(actual.index) == set(expected.index)
    assert (actual.reindex(expected.index) - expected).abs().max() < 0.02


def test_addresses_lie_inside_their_gemeinde(
    sources: tuple[gpd.GeoDataFrame, pd.DataFrame], demo: DemoData
) -> None:
    gemeinden, _ = sources
    a = demo.addresses
    for ags, poly in zip(gemeinden["ags"], gemeinden.geometry, strict=True):
        sel = (a["ags"] == ags).to_numpy()
        assert sel.any(), ags
        assert shapely.contains_xy(poly, a.geometry.x[sel], a.geometry.y[sel]).all(), ags


def test_addresses_have_canonical_columns_and_plausible_values(demo: DemoData) -> None:
    a = demo.addresses
    assert list(a.columns) == [*ADDRESS_COLUMNS, "geometry"]
    assert {c: str(a[c].dtype) for c in ADDRESS_COLUMNS} == ADDRESS_COLUMNS
    assert a.crs.to_epsg() == 25832
    _, report = validate_addresses(a, source="demo")
    assert report.rows_out == len(a)
    assert a["address_id"].str.fullmatch(r"DEMO-\d{8}-\d{6}").all()
    assert a["address_id"].is_unique
    assert a["postcode"].isna().all()
    assert a["house_number"].str.fullmatch(r"\d+").all()
    assert set(a["suffix"].dropna()) <= {"a", "b"}
    assert a["street"].str.contains("ß").any() and a["street"].str.contains("-").any()
    share = a["site_type"].value_counts(normalize=True)
    assert set(share.index) == {s.value for s in SiteType}
    assert 0.84 < share["private"] < 0.92 and 0.05 < share["business"] < 0.10
    assert 0.015 < share["farm"] < 0.035
    assert (a.loc[a["site_type"] == "farm", "households"] == 1).all()
    assert a.loc[a["site_type"] == "business", "households"].isin([0, 1]).all()
    assert (
        a["place"].str.contains("Ortsteil").any() and a["place"].isin(["Siegen", "Iserlohn"]).any()
    )


def test_coverage_is_valid_fictional_and_inside_the_region(
    sources: tuple[gpd.GeoDataFrame, pd.DataFrame], demo: DemoData
) -> None:
    c = demo.coverage
    assert list(c.columns) == [*OFFER_COLUMNS, "geometry"]
    assert {k: str(c[k].dtype) for k in OFFER_COLUMNS} == OFFER_COLUMNS
    assert c.crs.to_epsg() == 25832
    assert 2_000 < len(c) < 20_000
    assert shapely.is_valid(c.geometry.values).all()
    region = shapely.union_all(sources[0].geometry.values).buffer(1.0)
    assert shapely.within(c.geometry.values, region).all()
    assert c["provider"].str.contains("Demo").all()
    assert set(c["technology"]) <= {t.value for t in Technology}
    assert (c["source"] == "demo synthetic").all()
    assert (c["as_of"] == pd.Timestamp(DEMO_AS_OF)).all()
    _, report = validate_offers(c, source="demo")
    assert report.repaired == 0 and report.rows_out == len(c)
    wired = c[c["technology"].isin(WIRED)]
    assert wired["latency_ms"].between(5, 25).all()


def test_planned_rollouts_fall_on_both_sides_of_the_36_month_horizon(demo: DemoData) -> None:
    c = demo.coverage
    planned = c[c["status"] == "planned"]
    assert len(planned) > 0
    assert c.loc[c["status"] == "existing", "available_from"].isna().all()
    horizon = pd.Timestamp(date(DEMO_AS_OF.year + 3, DEMO_AS_OF.month, DEMO_AS_OF.day))
    dates = planned["available_from"]
    assert dates.notna().all()
    assert (dates > pd.Timestamp(DEMO_AS_OF)).all()
    assert (dates <= horizon).any() and (dates > horizon).any()


def test_gigabit_picture_resembles_the_sauerland(
    sources: tuple[gpd.GeoDataFrame, pd.DataFrame], demo: DemoData
) -> None:
    """A rough oracle of the Gigabit-RL 2.0 rule: regional shares and town vs upland.

    Gigabit: a wired offer >= 500 Mbit/s or of a gigabit technology, existing or planned
    within 36 months; black/grey/white count existing NGA (>= 30 Mbit/s) providers.
    """
    a, c = demo.addresses, demo.coverage
    horizon = pd.Timestamp(date(DEMO_AS_OF.year + 3, DEMO_AS_OF.month, DEMO_AS_OF.day))
    now = c["status"] == "existing"
    soon = (c["status"] == "planned") & (c["available_from"] <= horizon)
    wired = c[(now | soon) & c["technology"].isin(WIRED)]
    pairs = gpd.sjoin(a[["geometry"]], wired, predicate="within")
    gig = (pairs["down_mbps"] >= 500) | pairs["technology"].isin(["ftth", "fttb", "hfc_docsis31"])
    gigabit = gig.groupby(level=0).any().reindex(a.index, fill_value=False)
    nga_rows = pairs[(pairs["down_mbps"] >= 30) & (pairs["status"] == "existing")]
    nga = nga_rows.groupby(level=0)["provider"].nunique().reindex(a.index, fill_value=0)
    cls = pd.Series(
        np.select([gigabit, nga >= 2, nga == 1], ["gigabit", "black", "grey"], "white"),
        index=a.index,
    )
    share = cls.value_counts(normalize=True)
    assert 0.55 <= share["gigabit"] <= 0.72
    assert 0.04 <= share["black"] <= 0.15
    assert 0.13 <= share["grey"] <= 0.27
    assert 0.05 <= share["white"] <= 0.15
    names = dict(zip(sources[0]["ags"], sources[0]["name"], strict=True))
    by_name = (cls == "gigabit").groupby(a["ags"].map(names)).mean()
    upland = by_name[["Hallenberg", "Medebach", "Schmallenberg", "Winterberg"]].mean()
    towns = by_name[["Siegen", "Lüdenscheid", "Iserlohn", "Soest", "Lippstadt"]].mean()
    assert towns > 0.7 and upland < towns - 0.25


def test_written_inputs_are_readable_and_marked_synthetic(demo_inputs) -> None:  # type: ignore[no-untyped-def]
    a = gpd.read_parquet(demo_inputs.addresses)
    c = gpd.read_parquet(demo_inputs.coverage)
    assert a.crs.to_epsg() == 25832 and c.crs.to_epsg() == 25832
    assert len(a) == demo_inputs.addresses_count and len(c) == demo_inputs.coverage_count
    assert demo_inputs.as_of == DEMO_AS_OF
    assert demo_inputs.boundaries.read_bytes() == (data_dir() / BOUNDARIES_FILE).read_bytes()
    readme = (demo_inputs.addresses.parent / "DEMO_README.txt").read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme


def test_missing_data_dir_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    with pytest.raises(SourceReadError, match=DATA_DIR_ENV):
        data_dir()
    with pytest.raises(SourceReadError, match="not found"):
        load_demo_sources(tmp_path)
