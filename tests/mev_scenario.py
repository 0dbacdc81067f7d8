"""Two operators' replies to an MEV, made from its operator package as an operator would.

``Demo Glasfaser Sauerland`` fills the XLSX template: FTTH today where the published list
names it, planned FTTH at grey and white addresses (most with a date inside the horizon, some
without a date, some beyond). Its first version has four errors (a mistyped address id, an
impossible speed, an unknown technology, an impossible date); the second corrects them.
``Demo Kabelnetz`` answers with polygons (GeoPackage): its DOCSIS 3.1 areas, an FTTH area
over some of the Glasfaser addresses with other speeds (a conflict), and a planned FTTH area
without a date.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

GLASFASER, KABEL = "Demo Glasfaser Sauerland", "Demo Kabelnetz"
DATE_OK, DATE_LATE = "30.06.2028", "31.12.2031"


def unpack(package_zip: Path, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(package_zip) as zf:
        zf.extractall(out)
    return out


def glasfaser_reply(package: Path, out: Path, *, with_errors: bool) -> Path:
    """The template filled by Demo Glasfaser Sauerland (XLSX)."""
    t = pd.read_excel(package / "rueckmeldung_vorlage.xlsx", sheet_name="Rückmeldung", dtype=str)
    pub = pd.read_csv(package / "adressen.csv", sep=";", dtype=str, encoding="utf-8-sig")
    assert (t["Adress-ID"] == pub["Adress-ID"]).all()
    now = (pub["bester Anbieter (Bestand)"] == GLASFASER).to_numpy()
    t.loc[now, ["Technologie heute", "Download heute (Mbit/s)", "Upload heute (Mbit/s)"]] = [
        "FTTH",
        "1000",
        "1000",
    ]
    gaps = pub.index[pub["förderfähig (Bestand)"].eq("ja") & ~now].to_numpy()
    planned = gaps[: len(gaps) // 2]
    cols = ["Technologie geplant", "Download geplant (Mbit/s)", "Upload geplant (Mbit/s)"]
    t.loc[planned, cols] = ["FTTH", "1000", "1000"]
    t.loc[planned, "Fertigstellung geplant (Datum)"] = DATE_OK
    t.loc[planned[:3], "Fertigstellung geplant (Datum)"] = pd.NA
    t.loc[planned[3:6], "Fertigstellung geplant (Datum)"] = DATE_LATE
    t["Betreiber"] = GLASFASER
    if with_errors:
        t.loc[planned[6], "Adress-ID"] = str(t.loc[planned[6], "Adress-ID"]) + "X"
        t.loc[planned[7], "Download geplant (Mbit/s)"] = "100000"
        t.loc[planned[8], "Technologie geplant"] = "Glasfaser-Turbo"
        t.loc[planned[9], "Fertigstellung geplant (Datum)"] = "31.13.2027"
    path = out / f"glasfaser_v{1 if with_errors else 2}.xlsx"
    t.to_excel(path, sheet_name="Rückmeldung", index=False)
    return path


def kabel_reply(package: Path, coverage: gpd.GeoDataFrame, out: Path) -> Path:
    """Demo Kabelnetz's polygons (GeoPackage, EPSG:25832)."""
    area = gpd.read_file(package / "projektgebiet.gpkg", layer="projektgebiet")
    pts = gpd.read_file(package / "projektgebiet.gpkg", layer="adressen")
    pub = pd.read_csv(package / "adressen.csv", sep=";", dtype=str, encoding="utf-8-sig")
    outline = shapely.union_all(area.geometry.values)
    cable = coverage[(coverage["provider"] == KABEL) & coverage.intersects(outline)]
    rows = [
        {
            "technologie": "hfc_docsis31",
            "download": 1000.0,
            "upload": 50.0,
            "status": "existing",
            "verfuegbar_ab": None,
            "geometry": g,
        }
        for g in cable.geometry
    ]
    glas = pts[pub["bester Anbieter (Bestand)"].eq(GLASFASER).to_numpy()]
    if len(glas):
        rows.append({"technologie": "ftth", "download": 1000.0, "upload": 200.0, "status": "existing",
                     "verfuegbar_ab": None, "geometry": glas.geometry.iloc[:5].buffer(5).union_all()})  # fmt: skip
    white = pts[pub["Klasse (Bestand)"].str.startswith("Weißer Fleck").to_numpy()]
    rows.append({"technologie": "ftth", "download": 1000.0, "upload": 1000.0, "status": "planned",
                 "verfuegbar_ab": None, "geometry": white.geometry.iloc[-4:].buffer(5).union_all()})  # fmt: skip
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=area.crs)
    path = out / "kabelnetz.gpkg"
    frame.to_file(path, driver="GPKG", engine="pyogrio")
    return path
