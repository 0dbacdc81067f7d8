"""Build the bad-input corpus: each file is a classic way real inputs go wrong.

Run from the repository root: ``python tests/data/bad/make_bad.py``. The expected outcome of
every file (error class and message fragment, or a repair count) is in ``expected.toml``;
``tests/coverage/io/test_bad_corpus.py`` feeds each file to ``gapmap run`` as a user would.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import shapely

HERE = Path(__file__).resolve().parent
# Warstein, in EPSG:25832 and lon/lat
X0, Y0 = 460_000.0, 5_701_000.0
LON0, LAT0 = 8.35, 51.44


def _addresses(n: int = 5) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "address_id": [f"B{i}" for i in range(n)],
            "ags": "05974044",
            "street": "Hauptstraße",
            "house_number": [str(i + 1) for i in range(n)],
        },
        geometry=shapely.points([X0 + 50 * i for i in range(n)], [Y0] * n),
        crs="EPSG:25832",
    )


def _coverage(geoms: list[shapely.Geometry]) -> gpd.GeoDataFrame:
    n = len(geoms)
    return gpd.GeoDataFrame(
        {
            "provider": ["Demo Glasfaser"] * n,
            "technology": ["ftth"] * n,
            "down_mbps": [1000.0] * n,
            "up_mbps": [500.0] * n,
        },
        geometry=geoms,
        crs="EPSG:25832",
    )


def _square(size: float = 400.0) -> shapely.Polygon:
    return shapely.box(X0 - 100, Y0 - 100, X0 - 100 + size, Y0 - 100 + size)


def build() -> None:
    (HERE / "empty.csv").write_bytes(b"")

    buf = HERE / "_whole.gpkg"
    _addresses().to_file(buf, driver="GPKG")
    data = buf.read_bytes()
    (HERE / "truncated.gpkg").write_bytes(data[: len(data) // 3])
    buf.unlink()
    pbuf = io.BytesIO()
    _addresses().to_parquet(pbuf)
    (HERE / "truncated.parquet").write_bytes(pbuf.getvalue()[:300])

    lines = ["address_id|lon|lat", *(f"P{i}|{LON0 + i / 1000:.5f}|{LAT0:.5f}" for i in range(5))]
    (HERE / "wrong_delimiter.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    utf8 = "address_id,street,lon,lat\nM1,Hauptstraße,8.35,51.44\n".encode()
    cp1252 = "M2,Mühlenweg,8.36,51.44\n".encode("cp1252")
    (HERE / "mixed_encoding.csv").write_bytes(
        utf8 + cp1252 + "M3,Brückenstraße,8.37,51.44\n".encode()
    )

    lines = ["address_id,lon,lat", *(f"S{i},{LAT0:.5f},{LON0 + i / 1000:.5f}" for i in range(5))]
    (HERE / "latlon_swapped.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    (HERE / "missing_column.csv").write_text(
        "bezeichnung,lon,lat\n" + "".join(f"Q{i},{LON0:.5f},{LAT0:.5f}\n" for i in range(3)),
        encoding="utf-8",
    )

    shifted = _addresses()
    shifted.geometry = shapely.points(shifted.geometry.x + 32_000_000, shifted.geometry.y)
    shifted.to_file(HERE / "epsg4647_labelled_25832.gpkg", driver="GPKG")

    noprj = HERE / "no_crs"
    noprj.mkdir(exist_ok=True)
    _addresses().rename(columns={"house_number": "house_no"}).to_file(noprj / "addresses.shp")
    (noprj / "addresses.prj").unlink()
    (noprj / "addresses.cpg").unlink(missing_ok=True)

    line_poly = shapely.Polygon([(X0, Y0), (X0 + 100, Y0), (X0 + 200, Y0), (X0, Y0)])
    _coverage([_square(), line_poly]).to_file(HERE / "zero_area.geojson", driver="GeoJSON")

    bowtie = shapely.Polygon(
        [(X0 - 100, Y0 - 100), (X0 + 300, Y0 + 100), (X0 + 300, Y0 - 100), (X0 - 100, Y0 + 100)]
    )
    _coverage([bowtie]).to_file(HERE / "self_intersection.geojson", driver="GeoJSON")

    collection = shapely.GeometryCollection(
        [shapely.LineString([(X0, Y0), (X0 + 10, Y0 + 10)]), shapely.Point(X0, Y0)]
    )
    _coverage([_square(), collection]).to_file(
        HERE / "geometry_collection.geojson", driver="GeoJSON"
    )

    with zipfile.ZipFile(HERE / "path_traversal.zip", "w") as zf:
        zf.writestr("../../evil.csv", "address_id,lon,lat\nE1,8.35,51.44\n")
    with zipfile.ZipFile(HERE / "zip_bomb.zip", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("addresses.csv", b"address_id,lon,lat\n" + b"0" * 60_000_000)


if __name__ == "__main__":
    build()
