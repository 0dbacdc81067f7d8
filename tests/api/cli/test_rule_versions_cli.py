"""A newcomer's runs: a profile family picks its version by date; FCC Fabric + BDC files with
empty cells classify as the NTIA notebook does, without a --region flag."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from api.cli import main


def gapmap(*args: str | Path) -> int:
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def de_inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("de")
    addresses = d / "addresses.csv"
    addresses.write_text(
        "address_id,ags,street,house_number,x,y\n"
        "A1,05966024,Hauptstr.,1,412345.5,5656789.5\n"
        "A2,05966024,Hauptstr.,2,412360.5,5656789.5\n"
        "A3,05966024,Hauptstr.,3,412375.5,5656789.5\n",
        encoding="utf-8",
    )
    offers = d / "offers.csv"
    offers.write_text(
        "address_id,provider,technology,down_mbps,up_mbps\n"
        "A1,Kabel Nord,hfc,500,50\n"  # 2023: >= 500 down serves; 2024: 50 up < 150
        "A2,Telekom,vdsl,100,40\n"
        "A2,Stadtwerk,vdsl,100,40\n"  # 2023: two NGA operators (black); 2024: none > 100
        "A3,Telekom,vdsl,250,40\n"
        "A3,Telekom GmbH,hfc,250,25\n",  # one operator with two technologies: grey
        encoding="utf-8",
    )
    return addresses, offers


@pytest.mark.parametrize(
    ("as_of", "version", "classes"),
    [
        ("2023-06-01", "de-gigabit-2023", ["gigabit", "black", "grey"]),
        ("2025-06-01", "de-gigabit-2024", ["grey", "white", "grey"]),
    ],
)
def test_family_and_date_pick_the_version(
    de_inputs: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    as_of: str,
    version: str,
    classes: list[str],
) -> None:
    addresses, offers = de_inputs
    out = tmp_path / "run"
    code = gapmap(
        "run", "--addresses", addresses, "--addresses-crs", "EPSG:25832", "--offers", offers,
        "--profile", "de-gigabit", "--as-of", as_of, "--out", out,
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert f"rules: {version} (family de-gigabit, in force on {as_of}" in " ".join(printed.split())
    manifest = json.loads((out / "manifest.json").read_text())
    prof = manifest["profile"]
    assert prof["id"] == version and prof["family"] == "de-gigabit"
    assert prof["selected_by"] == f"family de-gigabit, in force on {as_of}"
    assert prof["source_document"] and prof["valid_from"]
    table = (
        pd.read_csv(out / "addresses.csv", dtype=str) if (out / "addresses.csv").is_file() else None
    )
    frame = (
        table
        if table is not None
        else pd.read_parquet(out / "addresses.parquet").drop(columns="geometry")
    )
    frame = frame.set_index("address_id").loc[["A1", "A2", "A3"]]
    assert list(frame["class"]) == classes
    assert set(frame["profile_id"]) == {version}


def test_default_is_the_version_in_force_and_a_superseded_version_warns(
    de_inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Gigabit-RL 2.0 as amended on 30.04.2024 replaced the 2023 tests: a run without
    --profile on a 2026 Stichtag uses de-gigabit-2024; naming de-gigabit-2023 still runs it
    but the report and manifest say it is not the text in force."""
    addresses, offers = de_inputs
    base = ["run", "--addresses", addresses, "--addresses-crs", "EPSG:25832", "--offers", offers,
            "--as-of", "2026-12-06"]  # fmt: skip
    assert gapmap(*base, "--out", tmp_path / "d") == 0
    manifest = json.loads((tmp_path / "d" / "manifest.json").read_text())
    assert manifest["profile"]["id"] == "de-gigabit-2024"
    assert not any("in force" in w for w in manifest["warnings"])
    capsys.readouterr()
    assert gapmap(*base, "--profile", "de-gigabit-2023", "--out", tmp_path / "o") == 0
    printed = " ".join(capsys.readouterr().out.split())
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["profile"]["id"] == "de-gigabit-2023"
    note = manifest["warnings"][0]
    assert "de-gigabit-2023 was in force until 2024-04-29" in note
    assert "the version in force then is de-gigabit-2024" in note
    assert "--profile de-gigabit" in note and "de-gigabit-2023 was in force until" in printed


def test_date_outside_every_version_exits_2(
    de_inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    addresses, offers = de_inputs
    code = gapmap(
        "run", "--addresses", addresses, "--addresses-crs", "EPSG:25832", "--offers", offers,
        "--profile", "de-gigabit", "--as-of", "2020-01-01", "--out", tmp_path / "r",
    )  # fmt: skip
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "de-gigabit-2023: 2023-03-31 to 2024-04-29" in err
    assert not (tmp_path / "r").exists()


def test_region_mismatch_names_both(
    de_inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    addresses, offers = de_inputs
    code = gapmap(
        "run", "--addresses", addresses, "--offers", offers, "--profile", "us-bead-2022",
        "--region", "DE", "--out", tmp_path / "r",
    )  # fmt: skip
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "region 'de' does not match profile us-bead-2022 (jurisdiction US)" in err


FABRIC = """location_id,address_primary,city,state,zip,zip_suffix,unit_count,bsl_flag,building_type_code,land_use_code,address_confidence_code,county_geoid,block_geoid,h3_9,latitude,longitude,fcc_rel
1000000001,1 MAIN ST,MONTPELIER,VT,05602,,1,True,R,1,1,50023,500239544001000,892a1f5e1b7ffff,44.2600,-72.5750,2312
1000000002,2 MAIN ST,MONTPELIER,VT,05602,,1,True,R,1,1,50023,500239544001000,892a1f5e1b7ffff,44.2601,-72.5751,2312
1000000003,3 MAIN ST,MONTPELIER,VT,05602,,1,True,B,1,1,50023,500239544001000,892a1f5e1b7ffff,44.2602,-72.5752,2312
1000000004,4 MAIN ST,MONTPELIER,VT,05602,,1,True,R,1,1,50023,500239544001000,892a1f5e1b7ffff,44.2603,-72.5753,2312
1000000005,5 MAIN ST,MONTPELIER,VT,05602,,1,True,R,1,1,50023,500239544001000,892a1f5e1b7ffff,44.2604,-72.5754,2312
1000000006,6 MAIN ST,MONTPELIER,VT,05602,,1,True,R,1,1,50023,500239544001000,892a1f5e1b7ffff,44.2605,-72.5755,2312
"""
BDC = """frn,provider_id,brand_name,location_id,technology,max_advertised_download_speed,max_advertised_upload_speed,low_latency,business_residential_code,state_usps,block_geoid,h3_res8_id
0001,130077,Consolidated,1000000001,50,1000,1000,1,R,VT,500239544001000,882a1f5e1bfffff
0001,130077,Consolidated,1000000002,10,,3,1,R,VT,500239544001000,882a1f5e1bfffff
0002,130099,Comcast,1000000002,40,50,,1,X,VT,500239544001000,882a1f5e1bfffff
0002,130099,Comcast,1000000003,40,300,20,1,B,VT,500239544001000,882a1f5e1bfffff
0003,130100,Wisp,1000000004,71,50,10,,R,VT,500239544001000,882a1f5e1bfffff
0003,130100,Wisp,1000000005,71,50,10,1,R,VT,500239544001000,882a1f5e1bfffff
0004,290111,Starlink,1000000006,61,220,25,1,R,VT,500239544001000,882a1f5e1bfffff
"""


def ntia_levels(bdc: pd.DataFrame, fabric: pd.DataFrame) -> dict[str, str]:
    """The NTIA notebook's calculate_service_level, row by row, then the max per location."""

    def level(row: pd.Series) -> int:
        down, up, ll = (
            row["max_advertised_download_speed"],
            row["max_advertised_upload_speed"],
            row["low_latency"],
        )
        if pd.isna(down) or pd.isna(up) or pd.isna(ll) or ll == 0 or down < 25 or up < 3:
            return 0
        if down < 100 or up < 20:
            return 1
        return 2

    rows = bdc[bdc["technology"].isin([10, 40, 50, 71, 72])]
    best = rows.assign(level=rows.apply(level, axis=1)).groupby("location_id")["level"].max()
    names = {0: "unserved", 1: "underserved", 2: "served"}
    return {str(loc): names[int(best.get(loc, 0))] for loc in fabric["location_id"]}


def test_bead_newcomer_on_fabric_and_bdc_with_empty_cells(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fabric, bdc = tmp_path / "fabric.csv", tmp_path / "bdc.csv"
    fabric.write_text(FABRIC, encoding="utf-8")
    bdc.write_text(BDC, encoding="utf-8")
    out = tmp_path / "r"
    code = gapmap(
        "run", "--addresses", fabric, "--offers", bdc, "--profile", "us-bead-2022", "--out", out
    )
    printed = capsys.readouterr()
    assert code == 0, printed.err
    frame = pd.read_parquet(out / "addresses.parquet").drop(columns="geometry")
    got = dict(zip(frame["address_id"].astype(str), frame["class"].astype(str), strict=True))
    expected = ntia_levels(pd.read_csv(bdc), pd.read_csv(fabric))
    assert got == expected
    # the hand check of the same rows: empty download (row 2), empty upload (row 3) and empty
    # low_latency (row 5) are level 0; business-only rows count like any other
    assert expected == {
        "1000000001": "served",
        "1000000002": "unserved",
        "1000000003": "served",
        "1000000004": "unserved",
        "1000000005": "underserved",
        "1000000006": "unserved",
    }
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["region"] == "us"
    validation = json.loads((out / "validation.json").read_text())
    text = json.dumps(validation)
    assert "3 availability row(s) with an empty download, upload or low_latency cell" in text


def test_bdc_file_given_as_coverage_says_to_use_offers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The FCC BDC availability file is keyed by location_id and has no geometry: given to
    --coverage (polygons) it is refused with the option that takes it, and nothing is written."""
    fabric, bdc = tmp_path / "fabric.csv", tmp_path / "fcc_bdc.csv"
    fabric.write_text(FABRIC, encoding="utf-8")
    bdc.write_text(BDC, encoding="utf-8")
    code = gapmap("run", "--addresses", fabric, "--coverage", bdc, "--profile", "us-bead",
                  "--out", tmp_path / "r")  # fmt: skip
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "fcc_bdc.csv: has no geometry" in err and "goes to --offers instead" in err
    assert not (tmp_path / "r").exists()
