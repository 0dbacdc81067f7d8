"""Raster sampling: nodata, outside, bilinear near nodata, explicit CRS transformation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer

from coverage.errors import CRSError, InputDataError, SourceReadError
from coverage.io.raster import raster_info, sample_raster
from coverage.rasters import sample_grid

# 4 x 3 pixels of 100 m, upper-left corner at (400000, 5700300) in EPSG:25832
ORIGIN = (400000.0, 5700300.0)
VALUES = np.array(
    [
        [1.0, 2.0, 3.0, 4.0],
        [5.0, 6.0, -9999.0, 8.0],
        [9.0, 10.0, 11.0, 12.0],
    ],
    dtype="float32",
)


def _write(path: Path, *, crs: str | None = "EPSG:25832", nodata: float | None = -9999.0) -> Path:
    with rasterio.open(
        path, "w", driver="GTiff", width=4, height=3, count=1, dtype="float32",
        crs=crs, transform=Affine(100, 0, ORIGIN[0], 0, -100, ORIGIN[1]), nodata=nodata,
    ) as dst:  # fmt: skip
        dst.write(VALUES, 1)
    return path


@pytest.fixture
def tif(tmp_path: Path) -> Path:
    return _write(tmp_path / "r.tif")


def centre(row: int, col: int) -> tuple[float, float]:
    return ORIGIN[0] + 100 * col + 50, ORIGIN[1] - 100 * row - 50


def test_nearest_ok_nodata_outside(tif: Path) -> None:
    pts = [centre(0, 0), centre(2, 3), centre(1, 2), (399990.0, 5700250.0), (400450.0, 5700250.0)]
    x, y = np.array(pts).T
    res = sample_raster(tif, x, y, "EPSG:25832")
    assert res.flags.tolist() == ["ok", "ok", "nodata", "outside", "outside"]
    assert res.values[:2].tolist() == [1.0, 12.0]
    assert np.isnan(res.values[2:]).all()  # never -9999 as a number
    assert res.crs == "EPSG:25832" and res.method == "nearest"
    assert res.counts() == {"ok": 2, "nodata": 1, "outside": 2}


def test_bilinear_interpolates_and_respects_nodata(tif: Path) -> None:
    # halfway between centres of (0,0)=1 and (0,1)=2 -> 1.5
    x0, y0 = centre(0, 0)
    mid = (x0 + 50, y0)
    # between (2,0)=9, (2,1)=10 only (bottom edge row, clamped): still valid
    edge = (centre(2, 0)[0] + 50, centre(2, 0)[1] - 25)
    # next to the nodata pixel (1,2): its weight is > 0 -> nodata
    near = (centre(1, 1)[0] + 30, centre(1, 1)[1])
    # exactly on the centre of (1,1): the nodata neighbour has weight 0 -> ok
    exact = centre(1, 1)
    x, y = np.array([mid, edge, near, exact]).T
    res = sample_raster(tif, x, y, "EPSG:25832", method="bilinear")
    assert res.flags.tolist() == ["ok", "ok", "nodata", "ok"]
    assert res.values[0] == pytest.approx(1.5)
    assert res.values[1] == pytest.approx(9.5)
    assert np.isnan(res.values[2]) and res.values[3] == pytest.approx(6.0)


def test_points_transformed_from_lonlat(tif: Path) -> None:
    to_lonlat = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)
    lon, lat = to_lonlat.transform(*centre(2, 1))
    res = sample_raster(tif, np.array([lon, 0.0]), np.array([lat, 0.0]), "EPSG:4326")
    assert res.flags.tolist() == ["ok", "outside"] and res.values[0] == 10.0
    # the same numbers read as metres would be far outside: the CRS is never assumed
    assert sample_raster(tif, [lon], [lat], "EPSG:25832").flags.tolist() == ["outside"]


def test_nan_nodata_and_no_nodata(tmp_path: Path) -> None:
    plain = _write(tmp_path / "plain.tif", nodata=None)
    res = sample_raster(plain, [centre(1, 2)[0]], [centre(1, 2)[1]], "EPSG:25832")
    assert res.flags.tolist() == ["ok"] and res.values[0] == -9999.0  # no nodata declared
    vals, flags = sample_grid(
        np.array([[np.nan, 1.0]]),
        np.ones((1, 2), bool),
        (1, 0, 0, 0, -1, 1),
        np.array([0.5, 1.5]),
        np.array([0.5, 0.5]),
    )
    assert flags.tolist() == ["nodata", "ok"] and np.isnan(vals[0])


def test_errors(tmp_path: Path, tif: Path) -> None:
    nocrs = _write(tmp_path / "nocrs.tif", crs=None)
    with pytest.raises(CRSError, match="no CRS"):
        sample_raster(nocrs, [400050.0], [5700250.0], "EPSG:25832")
    with pytest.raises(CRSError):
        sample_raster(tif, [400050.0], [5700250.0], None)
    with pytest.raises(InputDataError, match="band 2"):
        sample_raster(tif, [400050.0], [5700250.0], "EPSG:25832", band=2)
    with pytest.raises(InputDataError, match="method"):
        sample_raster(tif, [400050.0], [5700250.0], "EPSG:25832", method="cubic")
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"not a tiff at all")
    with pytest.raises(SourceReadError, match=r"junk\.tif"):
        sample_raster(junk, [0.0], [0.0], "EPSG:25832")
    info = raster_info(tif)
    assert (
        info.crs == "EPSG:25832" and (info.width, info.height) == (4, 3) and info.nodata == -9999.0
    )
