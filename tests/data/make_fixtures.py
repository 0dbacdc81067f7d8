"""Regenerate the tiny reader fixtures in tests/data/ (run: python tests/data/make_fixtures.py).

Three addresses in Olpe/Kreis Olpe (NRW) and one coverage polygon, written in every format
``coverage.io.vector.read_vector`` accepts. The coordinates are real-looking EPSG:25832
metres; the lon/lat files hold the same points in degrees. Error cases (truncated files,
zip bombs, path traversal) are built by the tests themselves in a temporary directory.
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

HERE = Path(__file__).resolve().parent

#: The canonical fixture rows; tests compare what the readers return against these.
ADDRESSES = pd.DataFrame(
    {
        "address_id": ["DENW00001", "DENW00002", "DENW00003"],
        "Gemeindeschluessel": ["05966024", "05966024", "05966020"],
        "street": ["Straße des 17. Juni", "Müllerweg", "Kölner Straße"],
        "house_number": ["1", "12a", "007"],
        "postcode": ["57462", "57462", "01234"],
    }
)
X = [412_345.5, 412_400.25, 420_010.0]
Y = [5_656_789.5, 5_656_800.75, 5_660_000.0]


def _points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(ADDRESSES.copy(), geometry=gpd.points_from_xy(X, Y), crs="EPSG:25832")


def _coverage() -> gpd.GeoDataFrame:
    poly = shapely.box(412_000, 5_656_000, 413_000, 5_657_000)
    return gpd.GeoDataFrame(
        {
            "provider": ["Muster Glasfaser GmbH"],
            "technology": ["ftth"],
            "down_mbps": [1000.0],
            "up_mbps": [500.0],
        },
        geometry=[poly],
        crs="EPSG:25832",
    )


def _csv_rows(sep: str, decimal: str, xname: str, yname: str, lonlat: bool = False) -> str:
    pts = _points()
    if lonlat:
        pts = pts.to_crs("EPSG:4326")
    lines = [sep.join([*ADDRESSES.columns, xname, yname])]
    for i, row in ADDRESSES.iterrows():
        g = pts.geometry.iloc[i]
        coords = [f"{g.x:.7f}", f"{g.y:.7f}"] if lonlat else [f"{g.x:.2f}", f"{g.y:.2f}"]
        lines.append(sep.join([*map(str, row), *(c.replace(".", decimal) for c in coords)]))
    return "\n".join(lines) + "\n"


def main() -> None:
    """Write every fixture file (deterministic; safe to re-run)."""
    pts = _points()
    pts.to_parquet(HERE / "addresses.parquet", index=False)
    pts.to_file(HERE / "addresses.gpkg", layer="addresses", engine="pyogrio")

    multi = HERE / "multi.gpkg"
    multi.unlink(missing_ok=True)
    pts.to_file(multi, layer="addresses", engine="pyogrio")
    _coverage().to_file(multi, layer="coverage", engine="pyogrio", mode="a")

    # GeoJSON is lon/lat by definition (RFC 7946)
    _coverage().to_crs("EPSG:4326").to_file(HERE / "coverage.geojson", engine="pyogrio")

    shp_dir = HERE / "shp"
    shp_dir.mkdir(exist_ok=True)
    with warnings.catch_warnings():
        # truncating long names to 10 characters is what real shapefiles do; tests rely on it
        warnings.simplefilter("ignore")
        pts.to_file(shp_dir / "addresses.shp", engine="pyogrio", encoding="UTF-8")
    with zipfile.ZipFile(HERE / "addresses_shp.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(shp_dir.glob("addresses.*")):
            zf.write(part, f"addresses/{part.name}")
        zf.writestr("README.txt", "Adressen Kreis Olpe (test fixture)\n")

    (HERE / "addresses_lonlat.csv").write_text(
        _csv_rows(",", ".", "lon", "lat", lonlat=True), encoding="utf-8"
    )
    (HERE / "addresses_xy.csv").write_text(_csv_rows(",", ".", "x", "y"), encoding="utf-8")
    (HERE / "addresses_semicolon.csv").write_text(
        _csv_rows(";", ",", "Rechtswert", "Hochwert"), encoding="utf-8"
    )
    (HERE / "addresses_bom.csv").write_text(_csv_rows(",", ".", "x", "y"), encoding="utf-8-sig")
    (HERE / "addresses_cp1252.csv").write_bytes(_csv_rows(";", ",", "x", "y").encode("cp1252"))
    (HERE / "addresses_tab.txt").write_text(
        _csv_rows("\t", ".", "easting", "northing"), encoding="utf-8"
    )
    bad = _csv_rows(",", ".", "x", "y").splitlines()
    bad[2] = bad[2].rsplit(",", 2)[0] + ",n/a," + bad[2].rsplit(",", 1)[1]
    (HERE / "addresses_badcoord.csv").write_text("\n".join(bad) + "\n", encoding="utf-8")
    wkt = pd.DataFrame(
        {"address_id": ADDRESSES["address_id"], "wkt": [g.wkt for g in pts.geometry]}
    )
    wkt.to_csv(HERE / "addresses_wkt.csv", index=False)
    with zipfile.ZipFile(HERE / "addresses_csv.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(HERE / "addresses_lonlat.csv", "addresses_lonlat.csv")


if __name__ == "__main__":
    main()
