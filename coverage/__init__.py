"""gapmap engine: classify addresses against broadband coverage under funding rule sets.

The engine depends on the geo stack only (numpy, pandas, geopandas, shapely, pyogrio,
pyproj, rasterio, pyarrow). It never imports the HTTP service, the CLI or the map builders.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gapmap")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
