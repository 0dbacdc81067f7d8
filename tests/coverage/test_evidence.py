"""Evidence packs: contents read back with independent readers, byte-identity, verify, BEAD."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

import api.cli.evidence  # noqa: F401 - registers evidence/verify/publish on the app
from api.cli import main
from coverage import evidence
from coverage.profiles import load_profile
from tests.conftest import TEST_SCALE

WARSTEIN = "05974044"


def gapmap(*args: str | Path) -> int:
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("evidence") / "demo"
    assert gapmap("demo", "--out", out, "--scale", TEST_SCALE) == 0
    return out / "run"


@pytest.fixture(scope="module")
def warstein(run_dir: Path) -> gpd.GeoDataFrame:
    a = gpd.read_parquet(run_dir / "addresses.parquet")
    return a[a["ags"] == WARSTEIN].sort_values("address_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def pack(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pack") / "warstein.zip"
    assert gapmap("evidence", run_dir, "--ags", WARSTEIN, "--out", path, "--no-map") == 0
    return path


@pytest.fixture(scope="module")
def unpacked(pack: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(pack) as zf:
        zf.extractall(root)
    return root


def test_pack_holds_every_layer(unpacked: Path) -> None:
    names = {p.relative_to(unpacked).as_posix() for p in unpacked.rglob("*") if p.is_file()}
    for name in (
        "manifest.json", "METHODOLOGY.md", "addresses.xlsx", "addresses.csv",
        "addresses_excel_de.csv", "summary.csv", "gis/gapmap.gpkg",
        "gis/geojson/addresses.geojson", "gis/geojson/gap_areas.geojson",
        "gis/shapefile/addresses.shp", "gis/shapefile/addresses.shx",
        "gis/shapefile/addresses.dbf", "gis/shapefile/addresses.prj",
        "gis/shapefile/addresses.cpg", "gis/shapefile/FIELDS.csv",
    ):  # fmt: skip
        assert name in names


def test_xlsx_reads_back(unpacked: Path, warstein: gpd.GeoDataFrame, run_dir: Path) -> None:
    """A workbook a Projektträger can print and sort (issue 21): summary first, German sheet
    names and labels, AGS as text, number formats, A4 landscape fit to width with the header
    repeated, Ja/Nein, producer and the run's creation date in the properties."""
    from openpyxl import load_workbook

    wb = load_workbook(unpacked / "addresses.xlsx")
    assert wb.sheetnames == ["Übersicht", "Adressen", "Lückengebiete", "Methodik"]
    ws = wb["Adressen"]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header[:3] == ["Adress-ID", "Straße", "Hausnummer"]
    assert ws.auto_filter.ref == f"A1:AD{len(warstein) + 1}"
    assert ws["A1"].font.bold and ws.column_dimensions["A"].width >= 10
    assert ws.max_row - 1 == len(warstein)
    col = {h: i for i, h in enumerate(header)}
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == warstein["address_id"].tolist()
    assert {r[col["AGS"]] for r in rows} == {WARSTEIN}  # text, leading zero kept
    assert ws.cell(2, col["AGS"] + 1).number_format == "@"
    assert ws.cell(2, col["Haushalte"] + 1).number_format == "#,##0"
    assert {r[col["Förderfähig"]] for r in rows} <= {"Ja", "Nein"}
    classes = {r[col["Klasse"]] for r in rows}
    assert classes <= {"versorgt (Gigabit)", "schwarzer Fleck (≥ 2 Netze)",
                       "grauer Fleck (1 Netz)", "weißer Fleck (0 Netze)"}  # fmt: skip
    techs = {r[col["Technologie heute"]] for r in rows} - {None}
    assert techs and not techs & {"ftth", "fttb", "vdsl", "adsl", "hfc", "hfc_docsis31"}
    reasons = [r[col["Begründung"]] for r in rows]
    assert all(t.split(":")[0] in ("Versorgt", "Schwarzer Fleck", "Grauer Fleck", "Weißer Fleck")
               for t in reasons)  # fmt: skip
    assert not any(w in " ".join(reasons) for w in ("GREY", "WHITE", "best existing", "planned"))
    for sheet in (ws, wb["Übersicht"], wb["Lückengebiete"]):
        assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
        assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$1"
    summary = list(wb["Übersicht"].iter_rows(values_only=True))
    assert summary[0][0] == "Breitband-Versorgung: Nachweis"
    facts = {r[0]: r[1] for r in summary if r and r[0]}
    assert (
        facts["Stichtag"] == "30.06.2026" and facts["Gebiet"] == f"Gemeinde {WARSTEIN} (Warstein)"
    )
    counts = {
        r[0]: r[2] for r in summary if r and r[0] in ("alle Adressen", "förderfähig (alle Klassen)")
    }
    assert counts == {"alle Adressen": len(warstein),
                      "förderfähig (alle Klassen)": int(warstein["eligible"].sum())}  # fmt: skip
    gemeinde = next(r for r in summary if r and r[0] == WARSTEIN)
    assert gemeinde[1] == "Warstein" and gemeinde[2] == len(warstein)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    created = manifest["created"].replace("T", " ").removesuffix("Z")
    assert wb.properties.created.isoformat(sep=" ") == created
    assert wb.properties.creator.startswith("gapmap ")
    methodik = " ".join(str(r[0]) for r in wb["Methodik"].iter_rows(values_only=True) if r[0])
    assert "Stichtag: 30.06.2026" in methodik and "#" not in methodik and "`" not in methodik


def test_german_excel_csv(unpacked: Path, warstein: gpd.GeoDataFrame) -> None:
    raw = (unpacked / "addresses_excel_de.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    frame = pd.read_csv(
        io.BytesIO(raw), sep=";", decimal=",", encoding="utf-8-sig",
        dtype={"Adress-ID": str, "AGS": str, "PLZ": str, "Hausnummer": str},
    )  # fmt: skip
    assert list(frame.columns) == evidence.headers(25832, "de", labels=True)
    assert len(frame) == len(warstein)
    assert (frame["AGS"] == WARSTEIN).all()
    assert frame["Adress-ID"].tolist() == warstein["address_id"].tolist()
    x = frame["Rechtswert (EPSG:25832)"].to_numpy()
    assert x == pytest.approx(warstein.geometry.x.to_numpy(), abs=0.006)
    lat = frame["Breite (WGS84)"].to_numpy()
    assert lat == pytest.approx(warstein.geometry.to_crs(4326).y.to_numpy(), abs=1e-6)
    assert set(frame["Förderfähig"]) <= {"Ja", "Nein"}
    assert "versorgt (Gigabit)" in set(frame["Klasse"]) and "gigabit" not in set(frame["Klasse"])
    # German reasons: the German text of each reason code (coverage.rules.reasons)
    from coverage.rules.reasons import REASON_CODES_DE

    assert frame["Begründung"].tolist() == [
        REASON_CODES_DE[c] for c in frame["Begründungscode"].tolist()
    ]
    down = frame["Download heute (Mbit/s)"].dropna()
    assert down.dtype.kind == "f" and (down >= 0).all()


def test_plain_csv(unpacked: Path, warstein: gpd.GeoDataFrame) -> None:
    frame = pd.read_csv(unpacked / "addresses.csv", dtype={"ags": str, "address_id": str})
    assert frame.columns[7:11].tolist() == ["x_25832", "y_25832", "lon", "lat"]
    assert frame["address_id"].tolist() == warstein["address_id"].tolist()
    assert frame["class"].tolist() == warstein["class"].tolist()


def test_gis_layers_read_back(unpacked: Path, warstein: gpd.GeoDataFrame, run_dir: Path) -> None:
    areas = gpd.read_parquet(run_dir / "gap_areas.parquet")
    n_areas = int((areas["ags"] == WARSTEIN).sum())
    gpkg = unpacked / "gis/gapmap.gpkg"
    assert {name for name, _ in pyogrio.list_layers(gpkg)} == {
        "addresses",
        "gap_areas",
        "boundaries",
    }
    for layer, count in (("addresses", len(warstein)), ("gap_areas", n_areas)):
        info = pyogrio.read_info(gpkg, layer=layer)
        assert info["features"] == count and info["crs"] == "EPSG:25832"
    shp = unpacked / "gis/shapefile"
    info = pyogrio.read_info(shp / "addresses.shp")
    assert info["features"] == len(warstein) and info["crs"] == "EPSG:25832"
    assert all(len(f) <= 10 for f in info["fields"])
    assert pyogrio.read_info(shp / "gap_areas.shp")["features"] == n_areas
    for layer in ("addresses", "gap_areas", "boundaries"):
        assert "ETRS_1989_UTM_Zone_32N" in (shp / f"{layer}.prj").read_text()
        assert (shp / f"{layer}.cpg").read_text().strip() == "UTF-8"
    back = pyogrio.read_dataframe(shp / "addresses.shp")
    assert back["strasse"].tolist() == warstein["street"].tolist()  # umlauts survive (UTF-8)
    fields = pd.read_csv(shp / "FIELDS.csv")
    assert set(back.columns) - {"geometry"} <= set(fields["field"])
    gj = pyogrio.read_info(unpacked / "gis/geojson/addresses.geojson")
    assert gj["features"] == len(warstein) and gj["crs"] == "EPSG:4326"


def test_shapefile_field_names_are_short_and_unique() -> None:
    for mapping in evidence.SHAPEFILE_FIELDS.values():
        assert all(len(v) <= 10 for v in mapping.values())
        assert len(set(mapping.values())) == len(mapping)


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="ogrinfo not on PATH (apt gdal-bin)")
def test_ogrinfo_reads_gpkg_and_shapefile(unpacked: Path, warstein: gpd.GeoDataFrame) -> None:
    for path, layer in (
        (unpacked / "gis/gapmap.gpkg", "addresses"),
        (unpacked / "gis/shapefile/addresses.shp", "addresses"),
    ):
        text = subprocess.run(
            ["ogrinfo", "-ro", "-so", str(path), layer], capture_output=True, text=True, check=True
        ).stdout
        assert f"Feature Count: {len(warstein)}" in text
        assert 'ID["EPSG",25832]' in text or "UTM zone 32N" in text


@pytest.mark.skipif(
    shutil.which("soffice") is None, reason="soffice not on PATH (apt libreoffice-calc)"
)
def test_libreoffice_reads_the_address_sheet(unpacked: Path, tmp_path: Path) -> None:
    """LibreOffice Calc reads the 'Adressen' sheet (the 2nd) with the same rows and ids."""
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
         "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,2",
         "--outdir", str(tmp_path), str(unpacked / "addresses.xlsx")],
        capture_output=True, check=True, timeout=180,
    )  # fmt: skip
    out = next(tmp_path.glob("addresses*.csv"))
    rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    plain = list(csv.reader((unpacked / "addresses.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[0][0] == "Adress-ID" and len(rows) == len(plain)
    assert [r[0] for r in rows[1:]] == [r[0] for r in plain[1:]]


@pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
    reason="soffice/pdftoppm not on PATH (apt libreoffice-calc poppler-utils)",
)
def test_xlsx_prints_a4_landscape_summary_on_one_page(unpacked: Path, tmp_path: Path) -> None:
    """LibreOffice prints the workbook at A4 landscape; the summary sheet is one page with
    the Stichtag and German class names; pages render to PNG (looked at while building)."""
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(unpacked / "addresses.xlsx")],
        capture_output=True, check=True, timeout=180,
    )  # fmt: skip
    pdf = tmp_path / "addresses.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "841.89 x 595.3" in info  # A4 landscape, in points
    first = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Stichtag" in first and "30.06.2026" in first and "weißer Fleck" in first
    assert "Warstein" in first
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
                   check=True)  # fmt: skip
    assert next(tmp_path.glob("p-*1.png")).stat().st_size > 5_000


def test_manifest_hashes_licences_and_counts(unpacked: Path, warstein: gpd.GeoDataFrame) -> None:
    import hashlib

    manifest = json.loads((unpacked / "manifest.json").read_text())
    files = {p.relative_to(unpacked).as_posix() for p in unpacked.rglob("*") if p.is_file()}
    assert set(manifest["files"]) == files - {"manifest.json"}
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((unpacked / name).read_bytes()).hexdigest() == entry["sha256"]
    assert manifest["profile"]["id"] == "de-gigabit-2024"
    assert manifest["profile"]["sha256"] == load_profile("de-gigabit-2024").sha256
    assert manifest["profile"]["source_url"].startswith("https://")
    inputs = {i["kind"]: i for i in manifest["inputs"]}
    assert inputs["boundaries"]["attribution"].startswith("© GeoBasis-DE / BKG (2016)")
    assert inputs["boundaries"]["licence"] == "dl-de/by-2-0"
    assert inputs["addresses"]["licence"] == inputs["coverage"]["licence"] == "SYNTHETIC"
    assert all(len(i["sha256"]) == 64 for i in inputs.values())
    assert manifest["counts"]["addresses"] == len(warstein)
    assert manifest["counts"]["by_class"] == warstein["class"].value_counts().to_dict()
    assert manifest["scope"] == {"kind": "ags", "id": WARSTEIN, "name": "Warstein"}
    text = (unpacked / "METHODOLOGY.md").read_text()
    assert "300 Mbit/s" in text and "36 Monate" in text and f"| {len(warstein)} |" in text


def test_packs_are_byte_identical(run_dir: Path, tmp_path: Path) -> None:
    """Two packs (with the overview map when maps.overview exists) agree in every byte."""
    pack, again = tmp_path / "one.zip", tmp_path / "again.zip"
    assert gapmap("evidence", run_dir, "--ags", WARSTEIN, "--out", pack) == 0
    assert gapmap("evidence", run_dir, "--ags", WARSTEIN, "--out", again) == 0
    with zipfile.ZipFile(pack) as a, zipfile.ZipFile(again) as b:
        assert a.namelist() == b.namelist() == sorted(a.namelist())
        for name in a.namelist():
            assert a.read(name) == b.read(name), name
            assert a.getinfo(name).date_time == (1980, 1, 1, 0, 0, 0)
    assert pack.read_bytes() == again.read_bytes()


def test_verify_passes_and_names_an_edited_file(
    pack: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gapmap("verify", pack) == 0
    edited = tmp_path / "edited.zip"
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(edited, "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "addresses.csv":
                lines = body.decode().split("\n")
                cells = lines[1].split(",")
                cells[12] = str(int(cells[12]) + 1)  # households of the first address
                lines[1] = ",".join(cells)
                body = "\n".join(lines).encode()
            dst.writestr(info, body)
    capsys.readouterr()
    assert gapmap("verify", edited) == 2
    assert "changed: addresses.csv" in capsys.readouterr().out


def test_gap_area_pack(run_dir: Path, tmp_path: Path) -> None:
    areas = gpd.read_parquet(run_dir / "gap_areas.parquet")
    area = areas.sort_values(["addresses", "area_id"]).iloc[-1]
    path = tmp_path / "area.zip"
    args = ("evidence", run_dir, "--gap-area", area["area_id"], "--out", path, "--lang", "en")
    assert gapmap(*args, "--no-map") == 0
    with zipfile.ZipFile(path) as zf:
        table = pd.read_csv(io.BytesIO(zf.read("addresses.csv")), dtype=str)
        assert "addresses_excel_de.csv" in zf.namelist()
        assert "Methodology" in zf.read("METHODOLOGY.md").decode()
    assert len(table) == area["addresses"]
    assert set(table["gap_area_id"]) == {area["area_id"]}


def test_bead_format_needs_a_bead_run(run_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert gapmap("evidence", run_dir, "--format", "bead", "--out", tmp_path / "b.zip") == 2
    assert "us-bead-2022" in capsys.readouterr().err
    assert not (tmp_path / "b.zip").exists()


# --------------------------------------------------------------------------------------------
# BEAD: NTIA location service levels on BDC-format input

NTIA_TECH = {10, 40, 50, 71, 72}
#: (location_id, bsl_flag, [(technology, down, up, low_latency), ...])
LOCATIONS: list[tuple[int, bool, list[tuple[int, int | None, int | None, int]]]] = [
    (1000000001, True, []),  # no row: unserved
    (1000000002, True, [(61, 220, 25, 1)]),  # satellite only: unserved
    (1000000003, True, [(10, 25, 3, 1)]),  # DSL 25/3: underserved
    (1000000004, True, [(10, 24, 3, 1)]),  # below 25: unserved
    (1000000005, True, [(50, 1000, 1000, 1)]),  # fibre: served
    (1000000006, True, [(40, 100, 20, 0)]),  # not low latency: unserved
    (1000000007, True, [(71, 100, 19, 1)]),  # licensed FW, upload 19: underserved
    (1000000008, True, [(72, 100, 20, 1)]),  # licensed-by-rule FW: served
    (1000000009, True, [(70, 300, 30, 1)]),  # unlicensed FW: unserved
    (1000000010, True, [(10, 25, 2, 1), (40, 99, 50, 1)]),  # max over rows: underserved
    (1000000011, True, [(10, 50, 5, 1), (50, 300, 300, 1)]),  # served
    (1000000012, False, [(50, 1000, 1000, 1)]),  # not a BSL: left out
    (1000000013, True, [(40, 1200, 35, 1), (60, 25, 3, 1)]),  # served
    *[(1000000014 + i, True, [(10, 10 + 10 * i, 1 + i, 1)]) for i in range(12)],
]


def ntia_levels(fabric: pd.DataFrame, bdc: pd.DataFrame) -> pd.DataFrame:
    """An independent implementation of the NTIA notebook (row level, max per BSL)."""
    bsl = fabric[fabric["bsl_flag"] == "True"][["location_id"]]
    rows = bdc[bdc["technology"].isin(NTIA_TECH)]
    df = bsl.merge(rows, on="location_id", how="left")

    def level(r: pd.Series) -> int:
        d, u, lat = (
            r["max_advertised_download_speed"],
            r["max_advertised_upload_speed"],
            r["low_latency"],
        )
        if pd.isna(d) or pd.isna(u) or pd.isna(lat) or lat == 0 or d < 25 or u < 3:
            return 0
        if d < 100 or u < 20:
            return 1
        return 2

    df["enum_service_level"] = df.apply(level, axis=1)
    out = df.groupby("location_id")["enum_service_level"].max().reset_index()
    out["service_level"] = out["enum_service_level"].map(
        {0: "Unserved", 1: "Underserved", 2: "Served"}
    )
    return out


def write_fcc_inputs(root: Path) -> tuple[Path, Path, pd.DataFrame, pd.DataFrame]:
    fab, bdc = [], []
    for i, (loc, flag, rows) in enumerate(LOCATIONS):
        fab.append({
            "location_id": loc, "address_primary": f"{i + 1} MAIN ST", "city": "MONTPELIER",
            "state": "VT", "zip": "05602", "zip_suffix": "", "unit_count": 1,
            "bsl_flag": str(flag), "building_type_code": "R", "land_use_code": 1,
            "address_confidence_code": 1, "county_geoid": "50023",
            "block_geoid": f"50023954400{1000 + i}", "h3_9": "892a1f5e1b7ffff",
            "latitude": f"{44.26 + i * 0.001:.6f}", "longitude": f"{-72.575 - i * 0.001:.6f}",
            "fcc_rel": 2312,
        })  # fmt: skip
        for tech, down, up, low in rows:
            bdc.append({
                "frn": "0001234567", "provider_id": 130000 + tech, "brand_name": f"ISP{tech}",
                "location_id": loc, "technology": tech, "max_advertised_download_speed": down,
                "max_advertised_upload_speed": up, "low_latency": low,
                "business_residential_code": "X", "state_usps": "VT",
                "block_geoid": f"50023954400{1000 + i}", "h3_res8_id": "882a1f5e1bfffff",
            })  # fmt: skip
    fabric, avail = pd.DataFrame(fab), pd.DataFrame(bdc)
    fabric.to_csv(root / "fabric.csv", index=False)
    avail.to_csv(root / "bdc.csv", index=False)
    return (
        root / "fabric.csv",
        root / "bdc.csv",
        fabric.astype({"location_id": str}),
        avail.astype({"location_id": str}),
    )


def test_bead_pack_reproduces_the_ntia_method(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    fabric_csv, bdc_csv, fabric, bdc = write_fcc_inputs(tmp_path)
    run = tmp_path / "us"
    code = gapmap("run", "--addresses", fabric_csv, "--offers", bdc_csv, "--profile",
                  "us-bead-2022", "--region", "us", "--as-of", "2024-06-30", "--out", run)  # fmt: skip
    assert code == 0
    out = tmp_path / "bead.zip"
    assert gapmap("evidence", run, "--format", "bead", "--chunk-rows", 10, "--out", out) == 0
    with zipfile.ZipFile(out) as zf:
        parts = sorted(n for n in zf.namelist() if n.startswith("bead/bead_locations_"))
        assert parts == [f"bead/bead_locations_{i:03d}.csv" for i in (1, 2, 3)]
        frames = [pd.read_csv(io.BytesIO(zf.read(n)), dtype={"location_id": str}) for n in parts]
        assert [len(f) for f in frames] == [10, 10, 4]
        summary = pd.read_csv(io.BytesIO(zf.read("bead/bead_service_level_summary.csv")))
    got = pd.concat(frames, ignore_index=True)
    expected = ntia_levels(fabric, bdc)
    assert got.columns.tolist() == ["location_id", "enum_service_level", "service_level"]
    pd.testing.assert_frame_equal(got, expected.astype({"enum_service_level": "int64"}))
    counts = expected["service_level"].value_counts()
    assert dict(zip(summary["service_level"], summary["location_qty"], strict=True)) == {
        k: int(counts.get(k, 0)) for k in ("Unserved", "Underserved", "Served")
    }


def test_bead_layout_chunks_and_counts() -> None:
    profile = load_profile("us-bead-2022")
    classes = ["served", "unserved", "underserved", "unserved"] * 6
    frame = pd.DataFrame(
        {
            "address_id": [str(1000000100 - i) for i in range(24)],
            "class": classes,
            "bsl": [True] * 23 + [False],
        }
    )
    locations = evidence.bead_locations(frame, profile)
    assert len(locations) == 23
    assert locations["location_id"].tolist() == sorted(locations["location_id"], key=int)
    parts = evidence.chunks(locations, 10)
    assert [len(p) for p in parts] == [10, 10, 3]
    summary = evidence.bead_summary(locations)
    assert summary.to_dict("list") == {
        "service_level": ["Unserved", "Underserved", "Served"],
        "location_qty": [11, 6, 6],
    }
    with pytest.raises(ValueError, match="us-bead-2022"):
        evidence.bead_locations(frame, load_profile("de-gigabit-2023"))


def test_uk_omr_layout() -> None:
    profile = load_profile("uk-gigabit-omr")
    frame = gpd.GeoDataFrame(
        {
            "address_id": ["100023336956", "10090000001", "200001"],
            "ags": ["E09000033"] * 3,
            "class": ["white", "under_review", "black"],
            "eligible": [True, False, False],
            "best_provider": [None, "Openreach", "CityFibre"],
            "reason": ["no gigabit", "plan at risk", "two networks"],
        },
        geometry=shapely.points([(529000, 179000), (529100, 179100), (529200, 179200)]),
        crs="EPSG:27700",
    )
    table = evidence.uk_omr_table(frame, profile)
    assert table.columns[:2].tolist() == ["UPRN", "classification"]
    assert dict(zip(table["UPRN"], table["classification"], strict=True)) == {
        "100023336956": "White", "10090000001": "Under Review", "200001": "Black",
    }  # fmt: skip
    assert table.loc[table["UPRN"] == "200001", "existing_supplier"].item() == "CityFibre"
    with pytest.raises(ValueError, match="uk-gigabit-omr"):
        evidence.uk_omr_table(frame, load_profile("de-gigabit-2023"))


def test_xlsx_neutralises_formulas_and_keeps_numbers() -> None:
    """A street named like a formula is text with a leading apostrophe; numbers stay numbers
    (OWASP CSV injection), in the table, the summary and the methodology sheet alike."""
    from datetime import UTC, datetime

    from openpyxl import load_workbook

    from coverage.evidence_sheets import Sheet
    from coverage.io.xlsx import workbook_bytes

    table = pd.DataFrame({"street": ["=1+1", "@SUM(A1)", "Hauptstr."], "n": [-1, 2, 3]})
    counts = pd.DataFrame({"class": ["+white"], "n": [3]})
    data = workbook_bytes(
        lang="de",
        created=datetime(2026, 6, 30, tzinfo=UTC),
        creator="gapmap",
        title="Test",
        summary_name="Übersicht",
        summary_lines=[("=Titel", "-Wert")],
        summary_blocks=[("Klassen", Sheet("k", counts, ["Klasse", "Anzahl"], ["text", "int"]))],
        tables=[Sheet("Adressen", table, ["=Straße", "Anzahl"], ["text", "int"])],
        text_name="Methodik",
        text="# Methodik\n- erste Regel\n=x",
    )
    wb = load_workbook(io.BytesIO(data))
    rows = list(wb["Adressen"].iter_rows(values_only=True))
    assert rows[0] == ("'=Straße", "Anzahl")
    assert rows[1:] == [("'=1+1", -1), ("'@SUM(A1)", 2), ("Hauptstr.", 3)]
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    summary = [v for row in wb["Übersicht"].iter_rows(values_only=True) for v in row if v]
    assert "'=Titel" in summary and "'-Wert" in summary and "'+white" in summary
    meth = [r[0] for r in wb["Methodik"].iter_rows(values_only=True)]
    assert meth == ["Methodik", "\u2022 erste Regel", "'=x"]
