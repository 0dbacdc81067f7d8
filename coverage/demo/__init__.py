"""The synthetic Suedwestfalen demo: deterministic addresses and fictional 'Demo' operators'
coverage on the real VG250 boundaries of the five Kreise.

- :mod:`.settlements`: places and their addresses (households, site types) around the real
  GeoNames places of ``data/places_suedwestfalen.csv``;
- :mod:`.networks`: the fictional operators' coverage polygons (existing and planned);
- :mod:`.build`: the whole demo data set at a given scale.

Pure: it builds frames; ``coverage.io.demo_files`` writes them as input files.
"""
