"""Population without a census grid: buildings are not households."""

from __future__ import annotations

import pytest

from coverage.errors import InputDataError
from coverage.run_population import DWELLINGS_PER_BUILDING, population_basis
from coverage.rural.analysis import RuralOptions


def test_german_building_records_count_destatis_dwellings() -> None:
    """Destatis (Fortschreibung des Wohngebäude- und Wohnungsbestandes, end 2022): 41.9 m
    dwellings in 19.5 m residential buildings, about 2.15 per building. A HK-DE or NRW
    Gebäudereferenzen record is one building, so it stands for 2.15 households."""
    assert round(41.9 / 19.5, 2) == DWELLINGS_PER_BUILDING
    opts, record = population_basis(
        RuralOptions(household_size=2.1),
        grid_given=False,
        households_column=False,
        region_code="de",
    )
    assert opts.household_size == pytest.approx(2.15 * 2.1)
    assert record["method"] == "one address record per residential building"
    assert "Destatis" in record["dwellings_source"] and "Zensus 2022" in record["note"]


def test_households_column_or_grid_are_used_as_given() -> None:
    base = RuralOptions(household_size=2.1)
    for grid, column in ((True, False), (True, True), (False, True)):
        opts, record = population_basis(
            base, grid_given=grid, households_column=column, region_code="de"
        )
        assert opts == base
        assert record["method"] == ("population grid" if grid else "address households")


def test_no_households_outside_germany_refuses_with_the_fix() -> None:
    with pytest.raises(InputDataError, match=r"add a households column .* pass --population"):
        population_basis(
            RuralOptions(), grid_given=False, households_column=False, region_code="uk"
        )
