"""Site types from the data: school register, hospital list, FCC building_type_code."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from coverage.schema import validate_addresses
from coverage.sites import derive_site_types


def _frame(**cols: list[object]) -> gpd.GeoDataFrame:
    n = len(next(iter(cols.values())))
    return gpd.GeoDataFrame(
        {"address_id": [f"A{i}" for i in range(n)], **cols},
        geometry=[shapely.Point(412345 + i, 5656789) for i in range(n)],
        crs="EPSG:25832",
    )


def test_nrw_school_register_sets_school() -> None:
    """NRW Schulverzeichnis: every row with a Schulnummer (or Schulform) is a school."""
    frame = _frame(Schulnummer=["123456", "", None], Schulform=["Grundschule", "", None])
    out, report = validate_addresses(frame, source="schulen.csv")
    assert list(out["site_type"]) == ["school", "private", "private"]
    assert any(
        "school register: 1 row(s) with Schulnummer or Schulform" in w for w in report.warnings
    )


def test_hospital_list_sets_hospital() -> None:
    frame = _frame(Institutionskennzeichen=["260530012", None])
    out, _ = validate_addresses(frame, source="kh.csv")
    assert list(out["site_type"]) == ["hospital", "private"]


def test_fcc_building_type_code() -> None:
    """FCC Fabric building_type_code: R residential, X mixed, G group quarters, B business,
    C community anchor institution."""
    frame = _frame(building_type_code=["R", "B", "C", "X", "G", "Z"])
    site, how = derive_site_types(pd.DataFrame(frame))
    assert site is not None
    assert list(site) == ["private", "business", "public", "private", "private", "private"]
    assert "1 empty or unknown code(s) -> private" in how


def test_site_type_column_wins_and_is_checked() -> None:
    frame = _frame(site_type=["Farm", None], Schulnummer=["1", "2"])
    out, report = validate_addresses(frame, source="a.csv")
    assert list(out["site_type"]) == ["farm", "private"]
    assert "site types from column site_type" in report.warnings
