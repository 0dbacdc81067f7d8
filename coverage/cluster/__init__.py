"""Everything Dask: the join and the classification step on a cluster, with identical results.

Three ways in, one way of shipping:

* ``gapmap run --workers N / --scheduler ADDR``: :func:`classify.classify_distributed`
  (the client holds the addresses) and :func:`join.points_in_polygons_distributed` (the
  join alone, for callers that need the pairs);
* ``gapmap cluster-run``: :func:`run.cluster_run`, and from Python
  :func:`frames.classify_frame`: the addresses stay on the cluster as GeoParquet parts or a
  dask-geopandas frame.

Every task joins its points with the polygons near them through the same
:class:`polygons.Polygons` (polygon numbers, bounding boxes, WKB in one buffer), made from
one :class:`polygons.PolygonSet` on the client (presence, bounding boxes, WKB converted once
per polygon and kept for the next call over the same geometry objects). When the client
holds the points, each partition travels with just the polygons near it
(:class:`ship.Shipper`); when it does not, every polygon goes to every worker once
(:func:`ship.broadcast_polygons`) and each task picks those near its points.

Modules:

* ``connect``: a client of a scheduler, a caller's client or a LocalCluster; cluster
  failures as :class:`coverage.errors.GapmapError`;
* ``partitions``: Hilbert-curve partitions of points and the cells each one occupies;
* ``polygons``: :class:`~polygons.PolygonSet` (client) and :class:`~polygons.Polygons`
  (task), the WKB memo and the "polygons near these points" test;
* ``ship``: broadcasting to every worker, shipping partitions as workers become free;
* ``join``: :func:`~join.points_in_polygons_distributed`;
* ``classify``: :func:`~classify.classify_distributed` (``gapmap run --workers``);
* ``frames``: :func:`~frames.classify_frame` (lazy Dask frame of result rows);
* ``run``, ``run_part``: ``gapmap cluster-run`` on the client, and its task per part;
* ``rural``, ``rural_part``, ``run_tables``: cluster-run's rural step (DEGURBA, rural gaps,
  grid summaries, gap areas) on the client and per part, and its tables from the workers'
  sums.

Imports: the kernel (:mod:`coverage.kernel`), :mod:`coverage.classify`, profiles, schema,
CRS, errors, :mod:`coverage.aggregate`, :mod:`coverage.rural`, :mod:`coverage.privacy`,
:mod:`coverage.run_inputs`, :mod:`coverage.run_population`, :mod:`coverage.run_projects`
and :mod:`coverage.run_records`; files are read and written only through :mod:`coverage.io`
(GeoParquet parts: :mod:`coverage.io.geoparquet_parts`). Never :mod:`coverage.pipeline`
(the pipeline calls this room, not the other way), and never a face (``api``, ``maps``).
Dask, distributed and dask-geopandas are optional: imported only inside the functions that
need them, so the engine imports without them.
"""
