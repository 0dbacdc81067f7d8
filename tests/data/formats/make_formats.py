"""Regenerate the tiny format fixtures in this folder (exact real field names and order).

Run: ``.venv/bin/python tests/data/formats/make_formats.py``. Deterministic; coordinates lie
in Südwestfalen (EPSG:25832 around Arnsberg/Siegen, EPSG:3035 cells nearby).
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

HERE = Path(__file__).parent

HKDE_HEADER = (
    "NBA;OI;QUA;LAN;RBZ;KRS;GMD;OTT;SSS;HNR;ADZ;EEEEEEEE,EEE;NNNNNNN,NNN;STN;PLZ;ONM;ZON;POT"
)
HKDE_ROWS = [
    ";DENW000000000001;A;05;9;58;004;0001;00010;12;;32433000,500;5698000,250;Hauptstraße;59755;Arnsberg;;Neheim",
    ";DENW000000000002;A;05;9;58;004;0001;00010;12;a;32433010,000;5698005,000;Hauptstraße;59755;Arnsberg;;Neheim",
    ";DENW000000000003;B;05;9;70;040;0002;00200;7;;32438000,125;5638000,875;Kölner Straße;57072;Siegen;;",
]
NRW_ROWS = [
    "N;DENW000002207504;A;05;9;58;004;0000;12741;6;;32433100,060;5698090,386;Minoritenstraße;2022-01-01",
    "N;DENW000002207505;A;05;9;70;040;0000;00031;1;b;32438100,000;5638100,000;Weidenauer Straße;2022-01-01",
]
NRW_KEYS = [
    "L;05;;;;Nordrhein-Westfalen",
    "R;05;9;;;Arnsberg",
    "K;05;9;58;;Hochsauerlandkreis",
    "G;05;9;58;004;Arnsberg",
    "G;05;9;70;040;Siegen",
]


def quadkey(lon: float, lat: float, zoom: int) -> str:
    n = 2**zoom
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return "".join(str(((x >> i) & 1) | (((y >> i) & 1) << 1)) for i in range(zoom - 1, -1, -1))


def tile_wkt(key: str) -> str:
    x = y = 0
    for ch in key:
        d = int(ch)
        x, y = (x << 1) | (d & 1), (y << 1) | (d >> 1)
    n = 2 ** len(key)

    def lat(yy: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * yy / n))))

    w, e = x / n * 360 - 180, (x + 1) / n * 360 - 180
    return shapely.box(w, lat(y + 1), e, lat(y)).wkt


def write(name: str, lines: list[str], encoding: str = "utf-8") -> None:
    path = HERE / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))


def main() -> None:
    write("hkde_header.csv", [HKDE_HEADER, *HKDE_ROWS])
    six = [r.replace(";32433", ";433").replace(";32438", ";438") for r in HKDE_ROWS]
    write("hkde_noheader_cp1252.csv", six, encoding="cp1252")
    write("hkde_mixed.csv", [HKDE_ROWS[0], six[1], HKDE_ROWS[2]])
    write("hkde_short_row.csv", [HKDE_ROWS[0], HKDE_ROWS[1].rsplit(";", 1)[0], HKDE_ROWS[2]])
    write("nrw/gebref.txt", NRW_ROWS)
    write("nrw/gebref_schluessel.txt", NRW_KEYS)
    write(
        "nrw_header/gebref.txt",
        [
            "NBA;OI;QUA;LAN;RBZ;KRS;GMD;OTT;SSS;HNR;ADZ;ZZEEEEEE,EEE;NNNNNNN,NNN;STN;JJJJ-MM-TT",
            *NRW_ROWS,
        ],
    )

    write("zensus2022_100m.csv", [
        "GITTER_ID_100m;x_mp_100m;y_mp_100m;Einwohner;Durchschnittsalter;werterlaeuternde_Zeichen",
        "CRS3035RES100mN3065000E4188000;4188050;3065050;12;41,5;",
        "CRS3035RES100mN3065000E4188100;4188150;3065050;–;–;",
        "CRS3035RES100mN3065100E4188000;4188050;3065150;-1;-1;",
        "CRS3035RES100mN3065100E4188100;4188150;3065150;3;-9;KLAMMERN",
    ])  # fmt: skip
    write("zensus2011_100m_short.csv", [
        "Gitter_ID_100m;x_mp_100m;y_mp_100m;Einwohner",
        "100mN30650E41880;4188050;3065050;7",
        "100mN30650E41881;4188150;3065050;-1",
    ])  # fmt: skip
    write("inspire_de_prefix.csv", [
        "cell_id,Einwohner,AGS",
        "DE_CRS3035RES1000mN3065000E4188000,120,05970008",
        "DE_CRS3035RES1000mN3066000E4188000,-9,05970008",
    ])  # fmt: skip
    write("breitbandatlas_grid.csv", [
        "id;down_fn_hh_alle_1000;down_fn_hh_ftthb_1000;down_fn_hh_fttc_50;down_fn_hh_hfc_400",
        "CRS3035RES100mN3065000E4188000;80,5;40;100;0",
        "CRS3035RES100mN3065000E4188100;;0;55,25;12",
    ])  # fmt: skip
    write("breitbandatlas_bad_pct.csv", [
        "AGS,GEN,all_ge_1000,wired_ge_100",
        "05958004,Arnsberg,93.94,98.18",
        "05958008,Bestwig,0.8761,187.61",
    ])  # fmt: skip

    keys = [quadkey(8.02, 50.87, 16), quadkey(7.65, 51.21, 16), quadkey(8.06, 51.40, 16)]
    ookla = pd.DataFrame({
        "quadkey": keys, "tile": [tile_wkt(k) for k in keys],
        "avg_d_kbps": [105000, 48210, 250500], "avg_u_kbps": [20000, 9800, 40100],
        "avg_lat_ms": [18, 25, 11], "tests": [12, 3, 40], "devices": [5, 2, 17],
    })  # fmt: skip
    ookla.to_csv(HERE / "ookla_tiles.csv", index=False)
    ookla.to_parquet(HERE / "ookla_tiles.parquet", index=False)

    write("fcc_fabric.csv", [
        ("location_id,address_primary,city,state,zip,zip_suffix,unit_count,bsl_flag,building_type_code,"
        "land_use_code,address_confidence_code,county_geoid,block_geoid,h3_9,latitude,longitude,fcc_rel"),
        "1000000001,123 MAIN ST,MONTPELIER,VT,05602,,1,True,R,1,1,50023,500239544001000,892a1f5e1b7ffff,44.260059,-72.575387,2312",
        "1000000002,45B ELM ST,MONTPELIER,VT,05602,1234,12,True,X,1,1,50023,500239544001001,892a1f5e1b7ffff,44.261000,-72.576000,2312",
        "1000000003,RURAL ROUTE 2,MONTPELIER,VT,05602,,0,False,B,2,2,50023,500239544001002,892a1f5e1b7ffff,44.262000,-72.577000,2312",
    ])  # fmt: skip
    bdc = [
        ("frn,provider_id,brand_name,location_id,technology,max_advertised_download_speed,max_advertised_upload_speed,"
        "low_latency,business_residential_code,state_usps,block_geoid,h3_res8_id"),
        "0001234567,130077,Consolidated,1000000001,10,25,3,1,R,VT,500239544001000,882a1f5e1bfffff",
        "0001234567,130077,Consolidated,1000000001,50,1000,1000,1,X,VT,500239544001000,882a1f5e1bfffff",
        "0009876543,290111,Starlink,1000000001,61,220,25,1,R,VT,500239544001000,882a1f5e1bfffff",
        "0005555555,130099,Comcast,1000000002,40,1200,35,1,X,VT,500239544001001,882a1f5e1bfffff",
        "0007777777,130100,HughesNet,1000000003,60,25,3,0,B,VT,500239544001002,882a1f5e1bfffff",
        "0008888888,130101,OtherCo,1000000003,0,10,1,0,B,VT,500239544001002,882a1f5e1bfffff",
    ]  # fmt: skip
    write("fcc_bdc.csv", bdc)
    with zipfile.ZipFile(HERE / "fcc_bdc.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bdc_50_fixed_broadband_J24.csv", "\n".join(bdc) + "\n")

    sq = shapely.box
    gem = gpd.GeoDataFrame({
        "ADE": [6, 6, 6], "GF": [4, 4, 2], "BSG": [1, 1, 1],
        "ARS": ["059580004004", "059700040040", "059580004004"],
        "AGS": ["05958004", "05970040", "05958004"], "GEN": ["Arnsberg", "Siegen", "Arnsberg"],
        "BEZ": ["Stadt", "Stadt", "Stadt"],
    }, geometry=[sq(430000, 5690000, 440000, 5705000), sq(430000, 5630000, 445000, 5645000),
                 sq(432000, 5692000, 433000, 5693000)], crs="EPSG:25832")  # fmt: skip
    krs = gpd.GeoDataFrame({
        "ADE": [4, 4], "GF": [4, 4], "ARS": ["05958", "05970"], "AGS": ["05958", "05970"],
        "GEN": ["Hochsauerlandkreis", "Siegen-Wittgenstein"], "BEZ": ["Kreis", "Kreis"],
    }, geometry=[sq(420000, 5680000, 470000, 5720000), sq(420000, 5620000, 460000, 5660000)], crs="EPSG:25832")  # fmt: skip
    gpkg = HERE / "vg250.gpkg"
    gpkg.unlink(missing_ok=True)
    gem.to_file(gpkg, layer="vg250_gem", driver="GPKG")
    krs.to_file(gpkg, layer="vg250_krs", driver="GPKG")
    shp_dir = HERE / "vg250_shp"
    shp_dir.mkdir(exist_ok=True)
    numeric = gem.drop(columns=["ADE"]).assign(AGS=lambda f: f["AGS"].astype(int))
    numeric.to_file(shp_dir / "VG250_GEM.shp")


if __name__ == "__main__":
    main()
