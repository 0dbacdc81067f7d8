"""Regenerate ``tests/data/formats/real/``: small files in the layouts real senders deliver.

Run: ``.venv/bin/python tests/data/formats/make_real_layouts.py``. Deterministic. The values
are made up (places and streets of Südwestfalen, no real school or building ids); the
*layouts* follow the published ones:

* ``schulen_nrw.csv``: the NRW school register "Grunddaten der Schulen in NRW"
  (schulministerium.nrw.de/BiPo/OpenData/Schuldaten/schuldaten.csv, open.nrw ``msw_001``):
  its header, with street and house number in one ``Strasse`` column, ``Gemeindeschluessel``,
  UTM ``EPSG``/``UTMRechtswert``/``UTMHochwert`` (contact columns left out, as in the shared
  extract); a comma-separated UTF-8 file.
* ``mev_antwort.csv``: a Markterkundung reply as German operators send it: ``;``, cp1252,
  decimal comma, ``Straße;Hausnummer;Zusatz;PLZ;Ort;Betreiber;Technologie;Download;Upload``,
  with the technology labels of real replies (``Glasfaser (FTTH)``, ``Kabel (DOCSIS 3.1)``,
  ``VDSL2-Vectoring``, ``SVDSL``, ``Koax``, ``DOCSIS 3.0``, ``Richtfunk``, ``Satellit``) and
  house-number ranges.
* ``mev_antwort_kopf.xlsx``: the same reply as a workbook with a title row and a two-row
  merged header ("Adresse" over the address columns, "Versorgung" over the offer columns).
* ``hkde_berlin_20.csv``: HK-DE in Berlin's 20-field variant (``...;POT;PSN;AND``), cp1252,
  east with zone prefix 33.
* ``hauskoordinaten_wfs.gml``: house coordinates as a WFS 2.0 GetFeature response (GML 3.2,
  ``wfs:member`` features with ``gml:Point`` in EPSG:25832).
* ``zwei_ebenen.gpkg``: one GeoPackage with two layers, ``adressen`` (points) and
  ``gemeinden`` (polygons), as QGIS users save projects.
* ``vg250_gemischt.geojson``: VG250 rows of three levels in one file (Land, Kreis,
  Gemeinden; ``ADE`` 2/4/6), EPSG:25832.
* ``gebref_essen.txt``: NRW Gebäudereferenzen (15 fields, EPSG:4647, no header) of buildings
  in Essen (AGS 05113000), outside the Südwestfalen boundaries.
* ``breitbandatlas_gemeinden_wide.csv``: a per-Gemeinde Breitbandatlas table
  (``AGS,GEN,<tech>_ge_<Mbit/s>``), as in BNetzA's Paket_3.
* ``adressen_gauss_krueger.csv``: addresses with ``Rechtswert;Hochwert`` in Gauss-Krüger
  zone 3 (EPSG:31467), as in older NRW files.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from pyproj import Transformer

HERE = Path(__file__).parent / "real"

#: (Schulnummer, Schulform, name, PLZ, Ort, "street number", AGS, east, north) - made up
SCHOOLS = [
    ("190001", "02", "Grundschule Am Eichholz", "59821", "Arnsberg", "Eichholzstr. 12", "05958004", 432100, 5697800),
    ("190002", "20", "Gymnasium Laurentianum", "59821", "Arnsberg", "Klosterstraße 3a", "05958004", 432400, 5697950),
    ("190003", "02", "Grundschule Hüsten", "59759", "Arnsberg", "Marktstr. 20-22", "05958004", 428800, 5701000),
    ("190004", "04", "Hauptschule Am Stadtpark", "57072", "Siegen", "Sandstraße 54", "05970040", 437900, 5637900),
    ("190005", "10", "Realschule Am Häusling", "57074", "Siegen", "Am Häusling 2", "05970040", 440200, 5638600),
    ("190006", "02", "Grundschule Schützenplatz", "59964", "Medebach", "Schützenstr. 12", "05958028", 479109, 5671472),
]  # fmt: skip
SCHOOL_HEADER = [
    "Schulnummer", "Schulform", "Schulbezeichnung_1", "Schulbezeichnung_2", "Schulbezeichnung_3",
    "Kurzbezeichnung", "PLZ", "Ort", "Strasse", "Rechtsform", "Gemeindeschluessel",
    "Schulbetriebsschluessel", "Schulbetriebsdatum", "EPSG", "UTMRechtswert", "UTMHochwert",
]  # fmt: skip

#: reply rows: (street as the operator writes it, number, suffix, PLZ, Ort, technology, down, up)
REPLY = [
    ("Eichholzstraße", "12", "", "59821", "Arnsberg", "Glasfaser (FTTH)", "1000", "200"),
    ("Klosterstr.", "3", "a", "59821", "Arnsberg", "Kabel (DOCSIS 3.1)", "1000", "50"),
    ("Marktstraße", "21", "", "59759", "Arnsberg", "VDSL2-Vectoring", "100", "40"),
    ("Sandstr.", "50-56", "", "57072", "Siegen", "SVDSL", "250", "40"),
    ("Am Häusling", "2", "", "57074", "Siegen", "Koax", "400", "25"),
    ("Schützenstraße", "12", "", "59964", "Medebach", "DOCSIS 3.0", "200", "20"),
    ("Schützenstraße", "12", "", "59964", "Medebach", "Richtfunk", "30,5", "10"),
    ("Schützenstraße", "12", "", "59964", "Medebach", "Satellit", "100", "10"),
]  # fmt: skip
REPLY_HEADER = ["Straße", "Hausnummer", "Zusatz", "PLZ", "Ort", "Betreiber", "Technologie", "Download", "Upload"]  # fmt: skip


def schools() -> None:
    rows = [
        [nr, form, name, "", "", f"{ort}, {name}", plz, ort, street, "1", ags, "1", "01.08.2020",
         "EPSG:25832", str(e), str(n)]
        for nr, form, name, plz, ort, street, ags, e, n in SCHOOLS
    ]  # fmt: skip
    pd.DataFrame(rows, columns=SCHOOL_HEADER).to_csv(HERE / "schulen_nrw.csv", index=False)


def reply() -> None:
    frame = pd.DataFrame(
        [[s, n, z, p, o, "Beispiel Netz GmbH", t, d, u] for s, n, z, p, o, t, d, u in REPLY],
        columns=REPLY_HEADER,
    )
    frame.to_csv(HERE / "mev_antwort.csv", sep=";", index=False, encoding="cp1252")
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Antwort"
    ws.append(["Markterkundungsverfahren Kreis Soest - Rückmeldung Beispiel Netz GmbH"])
    ws.append(["Adresse", None, None, None, None, "Versorgung", None, None, None])
    ws.merge_cells("A2:E2")
    ws.merge_cells("F2:I2")
    ws.append(REPLY_HEADER)
    for row in frame.itertuples(index=False):
        ws.append(list(row))
    stamp = datetime(2026, 11, 30, 12, 0, 0)
    wb.properties.created = wb.properties.modified = stamp
    wb.save(HERE / "mev_antwort_kopf.xlsx")


def hkde_berlin() -> None:
    lines = [
        "NBA;OI;QUA;LAN;RBZ;KRS;GMD;OTT;SSS;HNR;ADZ;EEEEEEEE_EEE;NNNNNNN_NNN;STN;PLZ;ONM;ZON;POT;PSN;AND",
        "N;DEBE000000000101;A;11;0;00;004;0402;00001;1;;33385802,013;5816000,099;Aachener Straße;10713;Berlin;;;;2015-04-02",
        "N;DEBE000000000102;A;11;0;00;004;0402;00001;3;a;33385830,500;5816010,250;Aachener Straße;10713;Berlin;;;;2016-11-30",
        "N;DEBE000000000103;B;11;0;00;002;0203;00417;17;;33392250,750;5819400,125;Köpenicker Straße;10997;Berlin;;;;2019-06-14",
    ]
    (HERE / "hkde_berlin_20.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def wfs_gml() -> None:
    members = []
    for i, (street, hnr, plz, ort, e, n) in enumerate(
        [
            ("Eichholzstraße", "12", "59821", "Arnsberg", 432100.0, 5697800.0),
            ("Klosterstraße", "3a", "59821", "Arnsberg", 432400.0, 5697950.0),
            ("Sandstraße", "54", "57072", "Siegen", 437900.0, 5637900.0),
        ],
        start=1,
    ):
        members.append(
            f"""  <wfs:member>
    <hk:Hauskoordinate gml:id="HK.{i}">
      <hk:oi>DENW00000000{i:04d}</hk:oi>
      <hk:strassenname>{street}</hk:strassenname>
      <hk:hausnummer>{hnr}</hk:hausnummer>
      <hk:postleitzahl>{plz}</hk:postleitzahl>
      <hk:ortsname>{ort}</hk:ortsname>
      <hk:position>
        <gml:Point gml:id="P.{i}" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
          <gml:pos>{e:.3f} {n:.3f}</gml:pos>
        </gml:Point>
      </hk:position>
    </hk:Hauskoordinate>
  </wfs:member>"""
        )
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0" '
        'xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:hk="urn:example:hauskoordinaten" '
        'numberMatched="3" numberReturned="3" timeStamp="2026-11-30T12:00:00Z">\n'
        + "\n".join(members)
        + "\n</wfs:FeatureCollection>\n"
    )
    (HERE / "hauskoordinaten_wfs.gml").write_text(text, encoding="utf-8")


def _square(e: float, n: float, half: float) -> shapely.Polygon:
    return shapely.box(e - half, n - half, e + half, n + half)


def two_layer_gpkg() -> None:
    path = HERE / "zwei_ebenen.gpkg"
    path.unlink(missing_ok=True)
    pts = gpd.GeoDataFrame(
        {
            "address_id": [s[0] for s in SCHOOLS[:3]],
            "Strasse": [s[5] for s in SCHOOLS[:3]],
            "PLZ": [s[3] for s in SCHOOLS[:3]],
            "Ort": [s[4] for s in SCHOOLS[:3]],
        },
        geometry=gpd.points_from_xy([s[7] for s in SCHOOLS[:3]], [s[8] for s in SCHOOLS[:3]]),
        crs="EPSG:25832",
    )
    gem = gpd.GeoDataFrame(
        {"ags": ["05958004"], "name": ["Arnsberg"]},
        geometry=[_square(431000, 5699000, 6000)],
        crs="EPSG:25832",
    )
    pts.to_file(path, layer="adressen", driver="GPKG")
    gem.to_file(path, layer="gemeinden", driver="GPKG", mode="a")


def vg250_mixed() -> None:
    rows = [
        ("05", "Nordrhein-Westfalen", 2, "Land", _square(435000, 5670000, 60000)),
        ("05958", "Hochsauerlandkreis", 4, "Kreis", _square(450000, 5680000, 30000)),
        ("05958004", "Arnsberg", 6, "Stadt", _square(431000, 5699000, 6000)),
        ("05958028", "Medebach", 6, "Stadt", _square(479000, 5671500, 4000)),
    ]
    gdf = gpd.GeoDataFrame(
        {
            "AGS": [r[0] for r in rows],
            "GEN": [r[1] for r in rows],
            "ADE": [r[2] for r in rows],
            "BEZ": [r[3] for r in rows],
            "GF": [4] * len(rows),
        },
        geometry=[r[4] for r in rows],
        crs="EPSG:25832",
    )
    path = HERE / "vg250_gemischt.geojson"
    path.unlink(missing_ok=True)
    gdf.to_file(path, driver="GeoJSON")


def gebref_essen() -> None:
    lines = [
        "N;DENW000009900001;A;05;1;13;000;0000;01234;5;;32361200,250;5703400,750;Kettwiger Straße;2022-01-01",
        "N;DENW000009900002;A;05;1;13;000;0000;01234;7;;32361230,000;5703420,000;Kettwiger Straße;2022-01-01",
        "N;DENW000009900003;A;05;1;13;000;0000;04567;1;a;32362100,500;5704100,500;Rüttenscheider Straße;2022-01-01",
    ]
    (HERE / "gebref_essen.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def atlas_gemeinden() -> None:
    frame = pd.DataFrame(
        {
            "AGS": ["05958004", "05958028"],
            "GEN": ["Arnsberg", "Medebach"],
            "all_ge_100": [97.5, 80.1],
            "all_ge_1000": [61.2, 12.0],
            "wired_ge_1000": [61.2, 12.0],
        }
    )
    frame.to_csv(HERE / "breitbandatlas_gemeinden_wide.csv", index=False)


def gauss_krueger() -> None:
    to_gk = Transformer.from_crs("EPSG:25832", "EPSG:31467", always_xy=True)
    rows = []
    for nr, _f, _n, plz, ort, street, _ags, e, n in SCHOOLS[:4]:
        x, y = to_gk.transform(e, n)
        gk = f"{x:.2f};{y:.2f}".replace(".", ",")
        rows.append(f"{nr};{street};{plz};{ort};{gk}")
    text = "ID;Strasse;PLZ;Ort;Rechtswert;Hochwert\n" + "\n".join(rows) + "\n"
    (HERE / "adressen_gauss_krueger.csv").write_text(text, encoding="utf-8")


def main() -> None:
    HERE.mkdir(exist_ok=True)
    schools()
    reply()
    hkde_berlin()
    wfs_gml()
    two_layer_gpkg()
    vg250_mixed()
    gebref_essen()
    atlas_gemeinden()
    gauss_krueger()


if __name__ == "__main__":
    main()
