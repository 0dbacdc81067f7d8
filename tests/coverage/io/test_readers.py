"""Format readers on tiny fixtures in the real layouts (tests/data/formats, make_formats.py)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from coverage.errors import CRSError, InputDataError, SourceReadError
from coverage.io.breitbandatlas import read_breitbandatlas
from coverage.io.detect import detect_format, read_any
from coverage.io.fcc import read_fcc_bdc, read_fcc_fabric
from coverage.io.grid import read_inspire_grid
from coverage.io.hkde import read_hkde
from coverage.io.inspect import inspect_file
from coverage.io.nrw import read_nrw_gebref
from coverage.io.ookla import quadkey_bounds, read_ookla_tiles
from coverage.io.vg250 import read_vg250
from coverage.rural.gridcells import inspire_cell_id, parse_inspire_cell_id
from coverage.schema import validate_addresses, validate_boundaries, validate_offers
from tests.paths import DATA as _DATA

FORMATS = _DATA / "formats"
ADDRESS_COLUMNS = [
    "address_id", "ags", "street", "house_number", "suffix", "postcode", "place", "site_type", "households",
]  # fmt: skip


# ----------------------------------------------------------------------------- HK-DE / NRW


def test_hkde_with_header_strips_zone_prefix() -> None:
    layer = read_hkde(FORMATS / "hkde_header.csv")
    f = layer.frame
    assert list(f.columns[:9]) == ADDRESS_COLUMNS
    assert (
        layer.crs.to_epsg() == 25832
        and "prefix removed" in layer.crs_how
        and "4647" in layer.crs_how
    )
    assert f["address_id"].tolist() == ["DENW000000000001", "DENW000000000002", "DENW000000000003"]
    assert f["ags"].tolist() == ["05958004", "05958004", "05970040"]
    assert f["street"][2] == "Kölner Straße" and f["suffix"][1] == "a" and pd.isna(f["suffix"][0])
    assert f["postcode"].tolist() == ["59755", "59755", "57072"] and f["place"][2] == "Siegen"
    assert (f.geometry.x[0], f.geometry.y[0]) == (433000.5, 5698000.25)
    out, _ = validate_addresses(f, source=layer.source)
    assert len(out) == 3


def test_hkde_keep_zone_prefix_and_stated_crs() -> None:
    kept = read_hkde(FORMATS / "hkde_header.csv", strip_zone=False)
    assert kept.crs.to_epsg() == 4647 and kept.frame.geometry.x[0] == 32433000.5
    assert read_hkde(FORMATS / "hkde_header.csv", crs="EPSG:4647").crs.to_epsg() == 25832
    with pytest.raises(CRSError, match="zone prefix 32"):
        read_hkde(FORMATS / "hkde_header.csv", crs="EPSG:4326")


def test_hkde_cp1252_without_header_six_digit_east() -> None:
    layer = read_hkde(FORMATS / "hkde_noheader_cp1252.csv")
    assert layer.frame["street"][0] == "Hauptstraße" and layer.frame["street"][2] == "Kölner Straße"
    assert any("cp1252" in n for n in layer.notes)
    assert layer.crs.to_epsg() == 25832 and "6 integer digits" in layer.crs_how
    assert layer.frame.geometry.x[0] == 433000.5
    with pytest.raises(CRSError, match="no zone prefix"):
        read_hkde(FORMATS / "hkde_noheader_cp1252.csv", crs="EPSG:4647")


def test_hkde_mixed_eastings_name_rows() -> None:
    with pytest.raises(InputDataError, match=r"mixed.*rows 1, 3.*rows 2"):
        read_hkde(FORMATS / "hkde_mixed.csv")


def test_hkde_wrong_field_count_names_row() -> None:
    with pytest.raises(InputDataError, match=r"rows 2 \(17 fields\)"):
        read_hkde(FORMATS / "hkde_short_row.csv")


def test_hkde_bad_coordinate_and_keys(tmp_path: Path) -> None:
    rows = (FORMATS / "hkde_header.csv").read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "\n".join([rows[0], rows[1], rows[2].replace("32433010,000", "abc")]) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(InputDataError, match=r"EAST.*row\(s\) 2.*'abc'"):
        read_hkde(bad)
    bad.write_text(
        "\n".join([rows[1], rows[2].replace(";05;9;58;", ";05;X;58;")]) + "\n", encoding="utf-8"
    )
    with pytest.raises(InputDataError, match=r"8-digit AGS at data row\(s\) 2"):
        read_hkde(bad)
    with pytest.raises(InputDataError, match="NRW"):
        read_hkde(FORMATS / "nrw" / "gebref.txt")


def test_nrw_gebref_with_keys_file_and_header() -> None:
    layer = read_nrw_gebref(FORMATS / "nrw" / "gebref.txt")
    f = layer.frame
    assert f["address_id"].tolist() == ["DENW000002207504", "DENW000002207505"]
    assert f["ags"].tolist() == ["05958004", "05970040"]
    assert f["place"].tolist() == ["Arnsberg", "Siegen"] and f["postcode"].isna().all()
    assert f["street"][0] == "Minoritenstraße" and f["suffix"][1] == "b"
    assert layer.crs.to_epsg() == 25832 and f.geometry.x[0] == pytest.approx(433100.06)
    assert f["as_of"][0] == pd.Timestamp("2022-01-01")
    headed = read_nrw_gebref(FORMATS / "nrw_header" / "gebref.txt")
    assert headed.rows == 2 and headed.frame["place"].isna().all()
    assert any("no gebref_schluessel" in n for n in headed.notes)


# ----------------------------------------------------------------------------- grid


def test_parse_and_build_inspire_ids() -> None:
    size, east, north = parse_inspire_cell_id(
        [
            "CRS3035RES100mN2689100E4337000",
            "DE_CRS3035RES1000mN3065000E4188000",
            "1kmN2689E4337",
            "100mN26840E43341",
        ]
    )
    assert size.tolist() == [100, 1000, 1000, 100]
    assert east.tolist() == [4337000, 4188000, 4337000, 4334100]
    assert north.tolist() == [2689100, 3065000, 2689000, 2684000]
    ids = inspire_cell_id([4337050.0, 4337000.0, np.nan], [2689199.9, 2689100.0, 1.0], 100)
    assert ids.tolist() == [
        "CRS3035RES100mN2689100E4337000",
        "CRS3035RES100mN2689100E4337000",
        None,
    ]
    with pytest.raises(InputDataError, match="rows 2"):
        parse_inspire_cell_id(["CRS3035RES100mN2689100E4337000", "N2689100E4337000"])
    with pytest.raises(InputDataError, match="lower-left"):
        parse_inspire_cell_id(["CRS3035RES100mN2689150E4337000"])


def test_zensus2022_semicolon_sentinels_and_dashes() -> None:
    layer = read_inspire_grid(FORMATS / "zensus2022_100m.csv")
    f = layer.frame
    assert layer.crs.to_epsg() == 3035
    assert f["cell_size_m"].tolist() == [100] * 4
    assert f["population"].dtype == "Int64"
    assert f["population"].tolist()[0] == 12 and f["population"].isna().tolist() == [
        False,
        True,
        True,
        False,
    ]
    assert f["Durchschnittsalter"][0] == 41.5 and f["Durchschnittsalter"][1:].isna().all()
    assert f["werterlaeuternde_Zeichen"][3] == "KLAMMERN"
    assert shapely.equals(f.geometry[0], shapely.box(4188000, 3065000, 4188100, 3065100))
    assert any("-9" in n for n in layer.notes) and any("placeholder" in n for n in layer.notes)


def test_grid_short_ids_prefix_and_strings() -> None:
    short = read_inspire_grid(FORMATS / "zensus2011_100m_short.csv").frame
    assert short["cell_id"][0] == "CRS3035RES100mN3065000E4188000"
    pref = read_inspire_grid(FORMATS / "inspire_de_prefix.csv")
    assert pref.frame["cell_id"][0] == "CRS3035RES1000mN3065000E4188000"
    assert pref.frame["AGS"][0] == "05970008"  # leading zero kept
    assert pref.frame["population"].isna().tolist() == [False, True]


def test_grid_centre_disagrees_with_id(tmp_path: Path) -> None:
    p = tmp_path / "g.csv"
    p.write_text(
        "Gitter_ID_1km,x_mp_1km,y_mp_1km,Einwohner\nCRS3035RES1000mN3065000E4188000,4189500,3065500,3\n"
    )
    with pytest.raises(InputDataError, match="disagree at data row"):
        read_inspire_grid(p)


# ----------------------------------------------------------------------------- VG250


def test_vg250_gpkg_layers_drop_water() -> None:
    gem = read_vg250(FORMATS / "vg250.gpkg", layer="vg250_gem")
    assert gem.rows == 2 and gem.frame["ags"].tolist() == ["05958004", "05970040"]
    assert (gem.frame["level"] == "gemeinde").all() and any("GF != 4" in n for n in gem.notes)
    krs = read_vg250(FORMATS / "vg250.gpkg", layer="vg250_krs")
    assert krs.frame["ags"].tolist() == ["05958", "05970"] and (krs.frame["level"] == "kreis").all()
    out, _ = validate_boundaries(krs.frame, source=krs.source)
    assert len(out) == 2


def test_vg250_shapefile_numeric_ags_padded() -> None:
    layer = read_vg250(FORMATS / "vg250_shp" / "VG250_GEM.shp")
    assert layer.frame["ags"].tolist() == ["05958004", "05970040"]
    assert layer.frame["level"][0] == "gemeinde"


# ----------------------------------------------------------------------------- Breitbandatlas


def test_breitbandatlas_grid_layout() -> None:
    layer = read_breitbandatlas(FORMATS / "breitbandatlas_grid.csv")
    f = layer.frame
    assert layer.crs is None and list(f.columns) == [
        "cell_id", "stand", "segment", "technology", "min_mbit_s", "share_pct",
    ]  # fmt: skip
    row = f[(f["technology"] == "fttc") & (f["cell_id"] == "CRS3035RES100mN3065000E4188100")]
    assert row["share_pct"].item() == 55.25 and row["min_mbit_s"].item() == 50
    assert (
        set(f["technology"]) == {"all", "ftth_b", "fttc", "hfc"}
        and (f["segment"] == "privat").all()
    )
    assert f["share_pct"].isna().sum() == 1


def test_breitbandatlas_rejects_percentages_out_of_range() -> None:
    with pytest.raises(InputDataError, match=r"wired_ge_100.*row\(s\) 2.*187.61"):
        read_breitbandatlas(FORMATS / "breitbandatlas_bad_pct.csv")


# ----------------------------------------------------------------------------- Ookla


def test_quadkey_bounds_known_tiles() -> None:
    w, s, e, n = quadkey_bounds(pd.Series(["0", "3"]))
    assert w.tolist() == [-180.0, 0.0] and e.tolist() == [0.0, 180.0]
    assert n[0] == pytest.approx(85.0511287798) and s[1] == pytest.approx(-85.0511287798)
    with pytest.raises(InputDataError, match="row"):
        quadkey_bounds(pd.Series(["0123", "0124"]))


@pytest.mark.parametrize("name", ["ookla_tiles.csv", "ookla_tiles.parquet"])
def test_ookla_tiles(name: str) -> None:
    layer = read_ookla_tiles(FORMATS / name)
    f = layer.frame
    assert layer.crs.to_epsg() == 4326
    assert f["down_mbps"].tolist() == [105.0, 48.21, 250.5] and f["up_mbps"][0] == 20.0
    assert f["tests"].tolist() == [12, 3, 40] and f["devices"].tolist() == [5, 2, 17]
    assert f["quadkey"][0].startswith("1202") and len(f["quadkey"][0]) == 16
    assert f.geometry[0].contains(shapely.Point(8.02 - 1e-4, 50.87))


# ----------------------------------------------------------------------------- FCC


def test_fcc_fabric_addresses() -> None:
    layer = read_fcc_fabric(FORMATS / "fcc_fabric.csv")
    f = layer.frame
    assert layer.crs.to_epsg() == 4326
    assert f["address_id"].tolist() == ["1000000001", "1000000002", "1000000003"]
    assert f["house_number"].tolist()[:2] == ["123", "45B"] and f["street"][2] == "RURAL ROUTE 2"
    assert f["postcode"][0] == "05602" and f["households"].tolist() == [1, 12, 0]
    # the reader keeps building_type_code; coverage.sites derives site_type from it
    assert f["building_type_code"].tolist() == ["R", "X", "B"]
    assert validate_addresses(f, source="fabric")[0]["site_type"].tolist() == [
        "private",
        "private",
        "business",
    ]
    assert f["bsl"].tolist() == [True, True, False] and any("bsl_flag" in n for n in layer.notes)
    out, _ = validate_addresses(f, source=layer.source)
    assert len(out) == 3
    with pytest.raises(CRSError):
        read_fcc_fabric(FORMATS / "fcc_fabric.csv", crs="EPSG:25832")


@pytest.mark.parametrize("name", ["fcc_bdc.csv", "fcc_bdc.zip"])
def test_fcc_bdc_offers(name: str) -> None:
    layer = read_fcc_bdc(FORMATS / name)
    f = layer.frame
    assert f["technology"].tolist() == [
        "adsl",
        "ftth",
        "satellite_ngso",
        "hfc",
        "satellite_geo",
        "other",
    ]
    assert (
        f["fcc_technology"].tolist() == [10, 50, 61, 40, 60, 0]
        and f["fcc_technology"].dtype == "int64"
    )
    assert f["provider"][2] == "Starlink" and f["address_id"][3] == "1000000002"
    assert f["low_latency"].tolist() == [True, True, True, True, False, False]
    assert f["down_mbps"][1] == 1000.0 and f["frn"][0] == "0001234567"
    out, _ = validate_offers(f[f["fcc_technology"] != 0], source=layer.source, spatial=False)
    assert out["fcc_technology"].tolist() == [10, 50, 61, 40, 60]


def test_fcc_bdc_unknown_code_and_unsafe_zip(tmp_path: Path) -> None:
    lines = (FORMATS / "fcc_bdc.csv").read_text().splitlines()
    bad = tmp_path / "bdc.csv"
    bad.write_text("\n".join([lines[0], lines[1], lines[2].replace(",50,1000", ",55,1000")]) + "\n")
    with pytest.raises(InputDataError, match=r"technology.*row\(s\) 2.*55"):
        read_fcc_bdc(bad)
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../escape.csv", "\n".join(lines))
    with pytest.raises(InputDataError, match="refusing"):
        read_fcc_bdc(evil)


# ----------------------------------------------------------------------------- detect / read_any / inspect


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("hkde_header.csv", "hkde"),
        ("hkde_noheader_cp1252.csv", "hkde"),
        ("nrw/gebref.txt", "nrw_gebref"),
        ("nrw_header/gebref.txt", "nrw_gebref"),
        ("zensus2022_100m.csv", "inspire_grid"),
        ("inspire_de_prefix.csv", "inspire_grid"),
        ("breitbandatlas_grid.csv", "breitbandatlas"),
        ("ookla_tiles.csv", "ookla"),
        ("ookla_tiles.parquet", "ookla"),
        ("fcc_fabric.csv", "fcc_fabric"),
        ("fcc_bdc.csv", "fcc_bdc"),
        ("fcc_bdc.zip", "fcc_bdc"),
        ("vg250.gpkg", "vg250"),
        ("vg250_shp/VG250_GEM.shp", "vg250"),
    ],
)
def test_detect_format(name: str, kind: str) -> None:
    guess = detect_format(FORMATS / name)
    assert guess.name == kind and guess.reason


def test_read_any_dispatch_and_fallback(tmp_path: Path) -> None:
    assert read_any(FORMATS / "hkde_header.csv").format == "hkde"
    assert read_any(FORMATS / "vg250.gpkg", layer="vg250_krs").rows == 2
    generic = tmp_path / "pts.csv"
    generic.write_text("id,lon,lat\na,8.0,51.0\n")
    layer = read_any(generic, columns={"id": "address_id"})
    assert detect_format(generic).name == "csv" and layer.frame["address_id"][0] == "a"
    with pytest.raises(InputDataError, match="unknown format kind"):
        read_any(generic, kind="nonsense")
    with pytest.raises(SourceReadError, match="not found"):
        detect_format(tmp_path / "missing.csv")


def test_inspect_report_good_and_bad(tmp_path: Path) -> None:
    good = inspect_file(FORMATS / "hkde_noheader_cp1252.csv")
    assert good.format == "hkde" and good.crs == "EPSG:25832" and good.feature_count == 3
    assert good.fields_mapped["OI"] == "address_id"
    assert any("cp1252" in p for p in good.problems)
    text = good.to_text()
    assert "hkde" in text and "OI -> address_id" in text
    grid = inspect_file(FORMATS / "zensus2022_100m.csv")
    # documented sentinels are read as missing by design: a note, not a problem
    assert any("sentinel" in n for n in grid.notes)
    assert not any("sentinel" in p for p in grid.problems)
    rows = (FORMATS / "hkde_header.csv").read_text(encoding="utf-8").splitlines()
    dup = tmp_path / "dup.csv"
    far = rows[3].replace("32438000,125;5638000,875", "32438000,125;5038000,875")
    dup.write_text("\n".join([rows[1], rows[1], far]) + "\n", encoding="utf-8")
    report = inspect_file(dup)
    assert any("duplicate address_id" in p for p in report.problems)
    assert any("outside Germany" in p and "rows 3" in p for p in report.problems)
    broken = inspect_file(FORMATS / "hkde_mixed.csv")
    assert broken.feature_count == 0 and "mixed" in broken.problems[0]


def test_hkde_large_file_reads_every_row(tmp_path: Path) -> None:
    """100,000 rows in the real layout read completely, keys and coordinates intact (the
    parser's speed is a bench figure, not a test)."""

    n = 100_000
    rng = np.random.default_rng(1)
    east = np.char.replace(np.char.mod("%.3f", 32_400_000 + rng.random(n) * 80_000), ".", ",")
    north = np.char.replace(np.char.mod("%.3f", 5_600_000 + rng.random(n) * 100_000), ".", ",")
    oid = np.char.add("DENW", np.char.zfill(np.arange(n).astype(str), 12))
    head = np.char.add(np.char.add(";", oid), ";A;05;9;58;004;0001;00010;12;;")
    body = np.char.add(np.char.add(np.char.add(head, east), ";"), north)
    lines = np.char.add(body, ";Hauptstraße;59755;Arnsberg;;")
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines.tolist()) + "\n", encoding="utf-8")
    layer = read_hkde(path)
    assert layer.rows == n and layer.frame["ags"].iloc[-1] == "05958004"
