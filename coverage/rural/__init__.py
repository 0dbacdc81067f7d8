"""The rural step of a run: where the eligible addresses are rural, and which of them a
project could serve together.

- :mod:`.degurba`: Eurostat degree of urbanisation on the 1 km population grid (cells and
  municipalities);
- :mod:`.gridcells`, :mod:`.grid_summary`: INSPIRE cell ids and per-cell counts (100 m, 1 km);
- :mod:`.analysis`: ``analyse_rural``, the step as the pipeline calls it (population cells,
  DEGURBA classes per address, rural gaps, grid summaries, gap areas);
- :mod:`.gaps`: gap areas (single-linkage clusters of eligible addresses), their figures;
- :mod:`.linkage`, :mod:`.disc_union`: the clustering (EMST cut from Delaunay on strips) and
  the area polygons (union of the discs that reach the boundary), each with its exactness note;
- :mod:`.costs`: trench length, cost and priority parameters of gap areas.

Imports: the kernel, ``aggregate``, ``privacy``, ``schema``, ``errors``; never
``coverage.pipeline`` and never ``coverage.io`` (import-linter contracts): it takes frames
and arrays and returns frames.
"""
