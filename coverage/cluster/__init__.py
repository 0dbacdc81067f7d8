"""Everything Dask: the join and the classification of a run on a cluster.

- :mod:`.distributed`: ``gapmap run --workers N / --scheduler`` (``classify_distributed``) and
  the join alone (``points_in_polygons_distributed``); Hilbert partitions, shipping, clients;
- :mod:`.frames`: ``classify_frame``, addresses that stay on the cluster (lazy Dask frames);
- :mod:`.run`: ``gapmap cluster-run`` (workers read, check, classify and write GeoParquet
  parts; the client reduces counts into the Gemeinde and Kreis tables).

Dask is optional: it is imported inside the functions that need it. Imports: the kernel,
``classify``, ``profiles``, ``run_inputs``/``run_records`` for cluster-run; never
``coverage.pipeline`` (import-linter contract).
"""
