"""Which population the rural step uses when no census grid is given.

Without ``--population`` the rural step estimates inhabitants as households x
``household_size``. German address files (HK-DE, NRW Gebäudereferenzen, most Hauskoordinaten
extracts) hold one record per **building**, not per household: counted as one household each,
a town of 63,000 drops from urban centre to cluster and its suburbs turn rural. So:

* a census grid given: it is used (nothing here changes);
* the address file has a ``households`` column (FCC Fabric ``unit_count``, the demo): used;
* a German address file without ``households``: one record per residential building, with
  :data:`DWELLINGS_PER_BUILDING` dwellings (households) each, the Destatis ratio; the manifest
  says so in ``parameters.population_basis``;
* any other region without ``households``: the rural classification is refused with a message
  naming the population grid to supply.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from coverage.errors import InputDataError
from coverage.rural.analysis import RuralOptions

#: Dwellings per residential building in Germany: 41.9 m dwellings in residential buildings in
#: 19.5 m buildings (13.0 m one-family, 3.2 m two-family, 3.3 m multi-family houses), end 2022.
DWELLINGS_PER_BUILDING = 2.15
DWELLINGS_SOURCE = (
    "Destatis, Fortschreibung des Wohngebäude- und Wohnungsbestandes (GENESIS 31231), "
    "press release July 2023: 41.9 m dwellings in 19.5 m residential buildings, end 2022"
)
ZENSUS_GRID = (
    "the Zensus 2022 population grid (100 m, CSV with GITTER_ID_100m and Einwohner, from "
    "zensus2022.de / Destatis)"
)


def population_basis(
    options: RuralOptions, *, grid_given: bool, households_column: bool, region_code: str
) -> tuple[RuralOptions, dict[str, Any]]:
    """The rural options to use and the manifest's ``population_basis`` record.

    Raises
    ------
    InputDataError
        Neither a grid nor households, outside Germany (no building ratio known).
    """
    if grid_given:
        return options, {"method": "population grid"}
    if households_column:
        return options, {
            "method": "address households",
            "inhabitants_per_household": options.household_size,
        }
    if region_code == "de":
        per_building = DWELLINGS_PER_BUILDING * options.household_size
        return replace(options, household_size=per_building), {
            "method": "one address record per residential building",
            "dwellings_per_building": DWELLINGS_PER_BUILDING,
            "dwellings_source": DWELLINGS_SOURCE,
            "inhabitants_per_household": options.household_size,
            "inhabitants_per_record": round(per_building, 4),
            "note": "the address file has no households column; each record is taken as one "
            f"residential building with {DWELLINGS_PER_BUILDING} dwellings (Destatis), not as "
            f"one household. Give --population ({ZENSUS_GRID}) for counted inhabitants.",
        }
    raise InputDataError(
        "the address file has no households column and no population grid was given, so the "
        "rural classification cannot count inhabitants (a record may be a building with many "
        "homes); add a households column (homes per address) or pass --population with a "
        "population grid (INSPIRE-style CSV or EPSG:3035 raster)"
    )
