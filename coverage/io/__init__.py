"""Everything in the engine that touches files, archives or GDAL lives in this package."""
