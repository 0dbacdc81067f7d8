"""CRS policy: explicit, once, and never a silent guess.

* A layer without a CRS is an error unless the user states one.
* A stated CRS that contradicts the file's own CRS is an error.
* Every layer is reprojected exactly once, to the region's working CRS (metres), and each
  reprojection is recorded for the manifest.
* Coordinates that do not fit the CRS or the region (swapped axes, EPSG:4647 easting read as
  EPSG:25832, degrees labelled as metres) are an error that says which trap it looks like.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as PyprojCRSError

from coverage.errors import CRSError


@dataclass(frozen=True)
class Region:
    """A jurisdiction's working CRS and its extent in lon/lat (degrees, with margin)."""

    code: str
    name: str
    working_crs: str
    lonlat_bounds: tuple[float, float, float, float]
    #: the European INSPIRE grid (EPSG:3035) and DEGURBA apply here
    inspire_grid: bool = True


REGIONS: dict[str, Region] = {
    "de": Region("de", "Germany", "EPSG:25832", (5.0, 46.8, 15.6, 55.4)),
    "us": Region(
        "us", "United States", "EPSG:5070", (-180.0, 17.0, -64.0, 72.0), inspire_grid=False
    ),
    "uk": Region("uk", "United Kingdom", "EPSG:27700", (-9.0, 49.5, 2.5, 61.0)),
}
DEFAULT_REGION = "de"


@dataclass(frozen=True)
class Reprojection:
    """One recorded reprojection (goes into the manifest)."""

    source: str
    from_crs: str
    to_crs: str
    how_decided: str

    def to_dict(self) -> dict[str, str]:
        return {
            "source": self.source,
            "from": self.from_crs,
            "to": self.to_crs,
            "crs_from": self.how_decided,
        }


def parse_crs(value: object, *, source: str) -> CRS:
    """Parse a user-stated CRS ("EPSG:25832", 25832, WKT) or raise CRSError naming the source."""
    try:
        return CRS.from_user_input(value)
    except (PyprojCRSError, TypeError, ValueError) as exc:
        raise CRSError(
            f"{source}: cannot understand CRS {value!r} ({exc}); state it as EPSG:<code>"
        ) from exc


def crs_label(crs: CRS) -> str:
    """'EPSG:25832' where an EPSG code exists, else the CRS name."""
    epsg = crs.to_epsg(min_confidence=70)
    return f"EPSG:{epsg}" if epsg else crs.name


def resolve_crs(file_crs: CRS | None, stated: object | None, *, source: str) -> tuple[CRS, str]:
    """Decide a layer's CRS. Returns the CRS and how it was decided (for reports).

    The file's own CRS wins when present; a stated CRS that disagrees is an error, because
    one of the two is wrong and gapmap cannot know which.
    """
    stated_crs = parse_crs(stated, source=source) if stated is not None else None
    if file_crs is None:
        if stated_crs is None:
            raise CRSError(
                f"{source}: the layer has no CRS; state it with the file's CRS option (e.g. "
                "EPSG:25832 for ETRS89/UTM32N, EPSG:4647 for NRW zone-prefixed eastings, "
                "EPSG:31466-31469 for Gauss-Krüger zones 2-5, EPSG:4326 for lon/lat)"
            )
        return stated_crs, "stated by the user"
    if stated_crs is not None and not stated_crs.equals(file_crs, ignore_axis_order=True):
        raise CRSError(
            f"{source}: the file declares {crs_label(file_crs)} but {crs_label(stated_crs)} was stated; "
            "remove the stated CRS or fix the file's .prj/metadata"
        )
    return file_crs, "declared in the file"


def _degrees(crs: CRS) -> bool:
    return crs.is_geographic


def check_coordinates(
    x: np.ndarray, y: np.ndarray, crs: CRS, *, source: str, region: Region, what: str = "points"
) -> None:
    """Raise CRSError if coordinates cannot be right for ``crs`` within ``region``.

    Checks, in order: non-finite values; zone-prefixed eastings (EPSG:4647) labelled as plain
    UTM; degrees labelled as metres; swapped lon/lat; anything outside the region's extent.
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    if len(x) == 0:
        return
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        rows = ", ".join(str(int(i) + 1) for i in np.flatnonzero(bad)[:5])
        raise CRSError(
            f"{source}: {int(bad.sum())} {what} have non-numeric coordinates (rows {rows})"
        )
    label = crs_label(crs)
    if crs.is_projected and np.median(x) > 1e7 and label != "EPSG:4647":
        raise CRSError(
            f"{source}: eastings around {np.median(x):,.0f} m carry a zone prefix, but the layer is labelled "
            f"{label}; these look like EPSG:4647 (ETRS89/UTM32N with zone '32' prefix, as in NRW "
            "Gebaeudereferenzen): state EPSG:4647 as the file's CRS"
        )
    if crs.is_projected and np.all(np.abs(x) <= 180) and np.all(np.abs(y) <= 90):
        raise CRSError(
            f"{source}: coordinates look like degrees (lon/lat) but the layer is labelled {label} (metres); "
            "state EPSG:4326 as the file's CRS"
        )
    lon, lat = to_lonlat(x, y, crs)
    w, s, e, n = region.lonlat_bounds
    inside = (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)
    if inside.all():
        return
    if _degrees(crs):
        swapped = (y >= w) & (y <= e) & (x >= s) & (x <= n)
        if swapped[~inside].mean() > 0.9:
            raise CRSError(
                f"{source}: {int((~inside).sum())} of {len(x)} {what} fall outside {region.name}, and would fit "
                "with longitude and latitude swapped; check the column mapping (lon = x = easting, lat = y)"
            )
    rows = ", ".join(str(int(i) + 1) for i in np.flatnonzero(~inside)[:5])
    gk = gauss_krueger_zone(x, y, region)
    if gk is not None:
        raise CRSError(
            f"{source}: {int((~inside).sum())} of {len(x)} {what} lie outside {region.name} when read "
            f"as {label}, but every coordinate fits Gauss-Krüger zone {gk - 31464} (EPSG:{gk}, "
            "eastings with the zone digit in front, as in older NRW files): state EPSG:"
            f"{gk} as the file's CRS"
        )
    raise CRSError(
        f"{source}: {int((~inside).sum())} of {len(x)} {what} lie outside {region.name} "
        f"(rows {rows}; first at lon {lon[~inside][0]:.4f}, lat {lat[~inside][0]:.4f}) when read as {label}; "
        "check the stated CRS (EPSG:25832 vs EPSG:4647 vs EPSG:4326) and the x/y columns"
    )


def gauss_krueger_zone(x: np.ndarray, y: np.ndarray, region: Region) -> int | None:
    """EPSG code of the Gauss-Krüger zone (2-5: EPSG:31466-31469) every point fits, else None.

    A GK easting carries its zone number as the millions digit (3,432,146 m = zone 3); a
    point fits when, read in that zone, it lies inside the region.
    """
    x = np.asarray(x, dtype="float64")
    zones = np.unique(np.floor(x / 1e6))
    if region.code != "de" or len(zones) != 1 or not 2 <= zones[0] <= 5:
        return None
    if not np.all((y > 5.2e6) & (y < 6.2e6)):
        return None
    code = 31464 + int(zones[0])
    lon, lat = to_lonlat(x, y, CRS.from_epsg(code))
    w, s, e, n = region.lonlat_bounds
    fits = (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)
    return code if fits.all() else None


def to_lonlat(x: np.ndarray, y: np.ndarray, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    """Transform arrays to lon/lat degrees (EPSG:4326, x = lon)."""
    tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(np.asarray(x, "float64"), np.asarray(y, "float64"))
    return np.asarray(lon), np.asarray(lat)


def check_region_bounds(
    bounds: tuple[float, float, float, float],
    crs: CRS,
    *,
    source: str,
    region: Region,
    what: str = "features",
) -> None:
    """Check a layer's total bounds (corners) against the region, as check_coordinates does for points."""
    minx, miny, maxx, maxy = bounds
    check_coordinates(
        np.array([minx, maxx]), np.array([miny, maxy]), crs, source=source, region=region, what=what
    )
