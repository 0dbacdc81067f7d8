"""Files in the layouts real senders deliver (tests/data/formats/real, made by
make_real_layouts.py from the published layouts) are read, not refused or silently emptied."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from coverage.crs import REGIONS, gauss_krueger_zone
from coverage.errors import CRSError, InputDataError
from coverage.io.aliases import (
    canonical_address_columns,
    name_key,
    parse_value_mapping,
    split_street_number,
)
from coverage.io.detect import detect_format, read_any
from coverage.io.inspect import inspect_file
from coverage.io.kreise import german_kreise
from coverage.io.layername import split_source
from coverage.io.offers import read_offer_list
from coverage.io.vector import read_vector
from coverage.schema import validate_boundaries, validate_offers
from tests.paths import DATA

REAL = DATA / "formats" / "real"


def test_layername_form_is_split_once_for_every_reader() -> None:
    assert split_source("a/b.gpkg|layername=adressen") == (Path("a/b.gpkg"), "adressen")
    assert split_source("a/b.gpkg|layerid=1") == (Path("a/b.gpkg"), "#1")
    assert split_source("a/b.gpkg") == (Path("a/b.gpkg"), None)
    with pytest.raises(InputDataError, match=r"layername=NAME"):
        split_source("a/b.gpkg|table=x")
    with pytest.raises(InputDataError, match="named twice"):
        split_source("a/b.gpkg|layername=a", "b")
    gpkg = REAL / "zwei_ebenen.gpkg"
    assert read_any(f"{gpkg}|layername=gemeinden").rows == 1
    assert read_any(f"{gpkg}|layername=adressen").rows == 3
    assert detect_format(f"{gpkg}|layername=adressen").name == "vector"


def test_aliases_are_compared_without_case_umlauts_or_punctuation() -> None:
    assert name_key("Haus-Nr.") == name_key("hausnr") == "hausnr"
    assert name_key("Straße") == "strasse"
    frame = pd.DataFrame(
        {
            "ID": ["1"],
            "Straße": ["Hauptstr."],
            "HNR": ["3"],
            "Zusatz": ["b"],
            "Postleitzahl": ["59755"],
            "Gemeinde": ["Arnsberg"],
            "Gemeindeschlüssel": ["05958004"],
        }
    )
    out, notes, renamed = canonical_address_columns(frame, source="x")
    canonical = ["address_id", "street", "house_number", "suffix", "postcode", "place", "ags"]
    assert list(out[canonical].iloc[0]) == [
        "1", "Hauptstr.", "3", "b", "59755", "Arnsberg", "05958004",
    ]  # fmt: skip
    # the file's own columns stay (site types are derived from e.g. Schulnummer/Schulform)
    assert set(frame.columns) <= set(out.columns)
    assert renamed["Straße"] == "street" and "columns recognised" in notes[0]


def test_a_canonical_column_wins_over_an_alias() -> None:
    frame = pd.DataFrame({"street": ["A"], "Strasse": ["B"], "house_number": ["1"]})
    out, _, renamed = canonical_address_columns(frame, source="x")
    assert renamed == {} and list(out["street"]) == ["A"] and "Strasse" in out


@pytest.mark.parametrize(
    ("combined", "street", "number", "suffix"),
    [
        ("Schützenstr. 12", "Schützenstr.", "12", None),
        ("Am Markt 3a", "Am Markt", "3", "a"),
        ("Marktstr. 20-22", "Marktstr.", "20-22", None),
        ("Straße des 17. Juni 5", "Straße des 17. Juni", "5", None),
        ("Hauptstraße, 7 B", "Hauptstraße", "7", "B"),
    ],
)
def test_combined_street_column_is_split(
    combined: str, street: str, number: str, suffix: str | None
) -> None:
    frame = pd.DataFrame({"street": [combined, "Ohne Nummer", "Dorfstr. 1"]})
    out, note = split_street_number(frame)
    assert (out["street"][0], out["house_number"][0]) == (street, number)
    assert (pd.NA if suffix is None else suffix) is out["suffix"][0] or out["suffix"][0] == suffix
    # a row without a number keeps its street and is counted in the note
    assert out["street"][1] == "Ohne Nummer" and pd.isna(out["house_number"][1])
    assert note is not None and "3 row(s)" not in note and "1 row(s) without a number" in note


def test_school_register_layout_reads_as_addresses() -> None:
    raw = read_vector(REAL / "schulen_nrw.csv")
    # the register names its CRS in the EPSG column; coordinates are UTMRechtswert/UTMHochwert
    assert raw.crs.to_epsg() == 25832 and "CRS from column EPSG (EPSG:25832)" in raw.notes
    frame, notes, _ = canonical_address_columns(raw.frame, source=raw.source)
    row = frame.iloc[0]
    assert (row["address_id"], row["street"], row["house_number"], row["ags"]) == (
        "190001", "Eichholzstr.", "12", "05958004",
    )  # fmt: skip
    assert frame.loc[1, "suffix"] == "a" and frame.loc[2, "house_number"] == "20-22"
    assert any("split" in n for n in notes)


def test_reply_csv_and_merged_header_workbook_read_the_same() -> None:
    csv = read_offer_list(REAL / "mev_antwort.csv")
    xlsx = read_offer_list(REAL / "mev_antwort_kopf.xlsx")
    assert csv.rows == xlsx.rows == 8
    assert any("row 3" in n for n in xlsx.notes)  # title + merged header skipped
    cols = ["street", "house_number", "postcode", "place", "technology", "down_mbps"]
    pd.testing.assert_frame_equal(
        csv.frame[cols].astype("string"), xlsx.frame[cols].astype("string"), check_dtype=False
    )
    assert csv.frame.loc[6, "down_mbps"] == "30.5"  # decimal comma
    stated = read_offer_list(REAL / "mev_antwort_kopf.xlsx", header_row=3)
    assert stated.rows == 8
    with pytest.raises(InputDataError, match="header row 40 does not exist"):
        read_offer_list(REAL / "mev_antwort_kopf.xlsx", header_row=40)


def test_every_real_technology_label_is_read() -> None:
    offers = read_offer_list(REAL / "mev_antwort.csv").frame
    table, _ = validate_offers(offers, source="reply", spatial=False)
    assert list(table["technology"]) == [
        "ftth", "hfc_docsis31", "vdsl", "vdsl", "hfc", "hfc", "fwa_licensed", "satellite_geo",
    ]  # fmt: skip


def test_unknown_labels_are_reported_together_with_counts_and_rows() -> None:
    offers = pd.DataFrame(
        {
            "provider": "P",
            "technology": ["Mobilfunk", "ftth", "Quantenfunk?", "Mobilfunk", "Mobilfunk"],
            "down_mbps": "100",
            "up_mbps": "10",
        }
    )
    with pytest.raises(InputDataError) as err:
        validate_offers(offers, source="reply.csv", spatial=False, value_option="--offers-values")
    text = str(err.value)
    assert "2 unknown label(s)" in text
    assert "'Mobilfunk' (3 row(s): 1, 4, 5)" in text and "'Quantenfunk?' (1 row(s): 3)" in text
    assert "--offers-values technology:LABEL=VALUE" in text


def test_value_mapping_inline_and_from_a_file(tmp_path: Path) -> None:
    assert parse_value_mapping("technology:Mobilfunk=mobile_lte;Koax=hfc", "--offers-values") == (
        "technology",
        {"Mobilfunk": "mobile_lte", "Koax": "hfc"},
    )
    table = tmp_path / "werte.csv"
    table.write_text("von;nach\nGlasfaser Vodafone;ftth\n", encoding="utf-8")
    assert parse_value_mapping(f"technology={table}", "--offers-values") == (
        "technology",
        {"Glasfaser Vodafone": "ftth"},
    )
    mapped = read_offer_list(
        REAL / "mev_antwort.csv", values={"technology": {"satellit": "satellite_ngso"}}
    )
    assert mapped.frame["technology"].iloc[-1] == "satellite_ngso"  # case-insensitive
    with pytest.raises(InputDataError, match=r"expected FIELD=FILE\.csv"):
        parse_value_mapping("technology", "--offers-values")


def test_hkde_berlin_20_fields() -> None:
    assert detect_format(REAL / "hkde_berlin_20.csv").name == "hkde"
    raw = read_any(REAL / "hkde_berlin_20.csv")
    assert raw.rows == 3 and raw.crs.to_epsg() == 25833
    assert list(raw.frame["changed"]) == ["2015-04-02", "2016-11-30", "2019-06-14"]
    assert raw.frame["street"].iloc[2] == "Köpenicker Straße"  # cp1252 decoded
    assert raw.frame["ags"].iloc[0] == "11000004"


def test_wfs_gml_house_coordinates_without_side_files() -> None:
    raw = read_any(REAL / "hauskoordinaten_wfs.gml")
    assert raw.rows == 3 and raw.crs.to_epsg() == 25832
    frame, _, _ = canonical_address_columns(raw.frame, source=raw.source)
    assert list(frame["street"]) == ["Eichholzstraße", "Klosterstraße", "Sandstraße"]
    assert not list(REAL.glob("*.gfs"))  # GDAL must not write a schema file beside the input


def test_mixed_level_boundaries_split_by_level_never_padded() -> None:
    raw = read_any(REAL / "vg250_gemischt.geojson")
    frame, _ = validate_boundaries(raw.frame, source=raw.source)
    assert sorted(zip(frame["ags"], frame["level"], strict=True)) == [
        ("05958", "kreis"), ("05958004", "gemeinde"), ("05958028", "gemeinde"),
    ]  # fmt: skip
    assert any("set aside 1 land" in n for n in raw.notes)
    # a generic file: levels from the key length, a 12-digit ARS is a Gemeinde
    generic = raw.frame.iloc[:0].copy()
    import geopandas as gpd
    import shapely

    generic = gpd.GeoDataFrame(
        {"ags": ["05", "059", "05958", "059580004004"], "name": ["NRW", "Arnsberg", "HSK", "A"]},
        geometry=[shapely.box(0, 0, 1, 1)] * 4,
        crs="EPSG:25832",
    )
    frame, report = validate_boundaries(generic, source="b")
    assert list(zip(frame["ags"], frame["level"], strict=True)) == [
        ("05958", "kreis"), ("05958004", "gemeinde"),
    ]  # fmt: skip
    assert "set aside 1 land, 1 regierungsbezirk" in report.warnings[0]


def test_shipped_kreis_table_has_every_kreis() -> None:
    kreise = german_kreise()
    assert len(kreise) == 401  # 400 today + Eisenach (merged 2021-07-01), kept for old files
    assert kreise["05958"] == "Hochsauerlandkreis" and kreise["05974"] == "Soest"
    assert all(len(k) == 5 and k.isdigit() for k in kreise)


def test_gauss_krueger_suggested_when_every_point_fits() -> None:
    with pytest.raises(CRSError, match=r"Gauss-Krüger zone 3 \(EPSG:31467"):
        read_vector(REAL / "adressen_gauss_krueger.csv")
    raw = read_vector(REAL / "adressen_gauss_krueger.csv", crs="EPSG:31467")
    geom = raw.frame.geometry.values
    assert gauss_krueger_zone(geom.x, geom.y, REGIONS["de"]) == 31467
    # plain UTM coordinates fit no GK zone
    assert gauss_krueger_zone([432100.0], [5697800.0], REGIONS["de"]) is None


def test_per_gemeinde_atlas_table_is_read_as_such() -> None:
    raw = read_any(REAL / "breitbandatlas_gemeinden_wide.csv")
    assert "cell_id" not in raw.frame and set(raw.frame["ags"]) == {"05958004", "05958028"}


def test_inspect_reads_as_run_does() -> None:
    report = inspect_file(REAL / "mev_antwort_kopf.xlsx")
    assert report.format == "offer list (xlsx)" and report.feature_count == 8
    assert report.columns["Straße"] == "-> street" and report.problems == []
    assert any("'Koax' (1 rows) -> hfc" in n for n in report.notes)
    multi = inspect_file(REAL / "zwei_ebenen.gpkg")
    assert not multi.readable
    assert multi.layers == [
        f"{REAL / 'zwei_ebenen.gpkg'}|layername=adressen",
        f"{REAL / 'zwei_ebenen.gpkg'}|layername=gemeinden",
    ]
    schools = inspect_file(REAL / "schulen_nrw.csv")
    assert schools.columns["Strasse"].startswith("-> street, house_number, suffix")
    assert schools.columns["Schulform"].startswith("not used")
    assert schools.columns["UTMRechtswert"] == "coordinates"
