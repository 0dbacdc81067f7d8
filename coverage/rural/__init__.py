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
- :mod:`.area_shape`, :mod:`.cut`: area polygons clipped to the Gemeinden, non-members cut
  out (interior cuts as rings, an overlay only at the boundary);
- :mod:`.partition`: the linkage strips, disc unions and cuts as tasks on any
  ``concurrent.futures.Executor`` (``analyse_rural(executor=...)``), merged exactly;
- :mod:`.costs`: trench length, cost and priority parameters of gap areas.

Imports: the kernel, ``aggregate``, ``privacy``, ``schema``, ``errors``; never
``coverage.pipeline``, never ``coverage.io`` and never dask (import-linter contracts): it
takes frames and arrays and returns frames; an executor it is given is all it knows of
where its tasks run.
"""
