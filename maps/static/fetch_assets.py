"""Vendor the Leaflet assets the maps need from the npm registry (``npm pack``).

Run from anywhere: ``python maps/static/fetch_assets.py``. It downloads the pinned package
tarballs with ``npm pack`` (npm's own client, so the registry and any configured mirror are
used), copies only the files a map page loads plus each package's licence into
``maps/static/<package>/``, and writes ``maps/static/ASSETS.json`` (version, licence, file
SHA-256). The result is committed: building a map never touches the network.

The versions are the ones folium 0.20's plugin templates are written against (leaflet.fullscreen
3.x and leaflet-search 2.x changed their APIs later).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: package -> (version, licence (SPDX), files inside the tarball's ``package/`` directory)
PACKAGES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "leaflet": (
        "1.9.4",
        "BSD-2-Clause",
        (
            "dist/leaflet.js",
            "dist/leaflet.css",
            "dist/images/layers.png",
            "dist/images/layers-2x.png",
            "dist/images/marker-icon.png",
            "LICENSE",
        ),
    ),
    "leaflet.markercluster": (
        "1.5.3",
        "MIT",
        (
            "dist/leaflet.markercluster.js",
            "dist/MarkerCluster.css",
            "dist/MarkerCluster.Default.css",
            "MIT-LICENCE.txt",
        ),
    ),
    "leaflet.fullscreen": (
        "3.0.0",
        "MIT",
        ("Control.FullScreen.js", "Control.FullScreen.css", "icon-fullscreen.svg", "LICENSE"),
    ),
    "leaflet-minimap": (
        "3.6.1",
        "BSD-2-Clause",
        (
            "dist/Control.MiniMap.min.js",
            "dist/Control.MiniMap.min.css",
            "dist/images/toggle.svg",
            "dist/images/toggle.png",
            "LICENSE.txt",
        ),
    ),
    "leaflet-search": (
        "2.9.7",
        "MIT",
        (
            "dist/leaflet-search.min.js",
            "dist/leaflet-search.min.css",
            "images/search-icon.png",
            "images/loader.gif",
            "license.txt",
        ),
    ),
    # the map pages of the service read vector tiles (api/service/web/mappage.py); the
    # package ships its Beerware licence in the README
    "leaflet.vectorgrid": (
        "1.3.0",
        "Beerware",
        ("dist/Leaflet.VectorGrid.bundled.min.js", "README.md"),
    ),
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(package: str, version: str, files: tuple[str, ...], work: Path) -> dict[str, str]:
    """Pack one package with npm, extract it safely and copy ``files``; returns name -> sha256."""
    result = subprocess.run(
        ["npm", "pack", f"{package}@{version}", "--pack-destination", str(work), "--silent"],
        check=True,
        capture_output=True,
        text=True,
    )
    tarball = work / result.stdout.strip().splitlines()[-1]
    unpacked = work / package
    with tarfile.open(tarball) as tar:
        tar.extractall(unpacked, filter="data")
    target = HERE / package
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    hashes = {}
    for rel in files:
        src = unpacked / "package" / rel
        if not src.is_file():
            raise SystemExit(f"{package}@{version}: {rel} is not in the package")
        dst = target / Path(rel).name
        shutil.copyfile(src, dst)
        hashes[dst.name] = _sha256(dst)
    return hashes


def main() -> int:
    """Fetch every package and write ASSETS.json."""
    manifest = {}
    with tempfile.TemporaryDirectory() as tmp:
        for package, (version, licence, files) in PACKAGES.items():
            hashes = fetch(package, version, files, Path(tmp))
            manifest[package] = {"version": version, "license": licence, "files": hashes}
            print(f"{package}@{version}: {', '.join(hashes)}")
    (HERE / "ASSETS.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
