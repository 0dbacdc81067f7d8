"""The shipped table of German Kreise (Destatis Gemeindeverzeichnis); see ``data/SOURCE.md``."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

#: where the names come from, for the manifest and the README
KREISE_SOURCE = (
    "Statistisches Bundesamt (Destatis), Gemeindeverzeichnis GV-ISys, Auszug 4. Quartal 2020 "
    "(Gebietsstand 31.12.2020), dl-de/by-2-0"
)


@cache
def german_kreise() -> dict[str, str]:
    """5-digit Kreis AGS -> name, for the 401 Kreise and kreisfreie Städte of the table."""
    text = resources.files("coverage.io").joinpath("data/kreise_destatis.csv").read_text("utf-8")
    return {row["ags"]: row["name"] for row in csv.DictReader(text.splitlines())}
