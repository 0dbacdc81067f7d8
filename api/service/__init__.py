"""The HTTP service (FastAPI): ``create_app(settings)`` in :mod:`.app`.

- :mod:`.settings` (``GAPMAP_*``), :mod:`.deps` (dependency aliases), :mod:`.security` (hashed
  API keys, roles public < analyst < admin; where a request's key is checked),
  :mod:`.errors` (engine errors -> HTTP status, problem+json);
- :mod:`.store`, :mod:`.models`, :mod:`.db`, ``migrations/``: the SQL catalog of datasets, runs
  and keys (SQLite or PostgreSQL, Alembic);
- :mod:`.ingest` (uploads), :mod:`.jobs` (runs in the background, progress, restart safety);
- :mod:`.results`, :mod:`.addresses`, :mod:`.ogc`, :mod:`.responses`, :mod:`.schemas`: reading
  run directories and shaping responses;
- ``routers/``: one module per resource (datasets, runs, reports, addresses, keys, meta, ogc).

Imports ``coverage`` (and ``maps``), never ``api.cli``.
"""
