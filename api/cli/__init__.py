"""The ``gapmap`` command line (typer + rich), one module per kind of user.

- ``app``: the typer app, consoles, exit codes and :func:`main` (the console script);
- ``run``: demo, run, cluster-run, degurba, summary, diff (the office and the
  analyst);
- ``profiles``: profiles, profile show (rule profiles and their dated versions);
- ``projects``: ``kriterien`` (the official Kriterienkatalog points of a project area);
- ``files``: ``gapmap inspect`` (reads one input file as ``run`` would);
- ``maps``: ``gapmap map`` (the planner);
- ``evidence``: evidence packs, verify, publish to PostGIS (the applicant and the GIS office);
- ``service``: ``serve`` and ``keys`` (whoever runs the HTTP service);
- ``web``: ``demo-workspace`` (a service workspace with the demo run, for the web face);
- ``mev``: ``gapmap mev ...``, the Markterkundungsverfahren (the Breitbandkoordinator);
- ``bead``: ``gapmap bead-challenge`` (a US broadband office).

Each command module imports ``app`` and registers on it; importing this package registers them
all. Imports point to ``coverage`` and ``maps``, never to ``api.service`` at module level (the
service is imported only by the commands that start or administer it, and by ``mev`` and
``bead``, which share its workflow and catalog).
"""

import importlib

from api.cli.app import app, main

# registration order is the order of `gapmap --help`
for _module in (
    "run",
    "files",
    "profiles",
    "projects",
    "service",
    "web",
    "evidence",
    "maps",
    "mev",
    "bead",
):
    importlib.import_module(f"api.cli.{_module}")

__all__ = ["app", "main"]
