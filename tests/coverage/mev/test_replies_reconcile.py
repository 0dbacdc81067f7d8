"""Operator replies row by row, their claims side by side, conflicts and decisions."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage.errors import InputDataError
from coverage.mev import outcome, reconcile
from coverage.mev.procedure import MevSpec
from coverage.mev.publication import REPLY_HEADERS, area_addresses, published_list, reply_template
from coverage.mev.replies import check_polygon_reply, check_reply

SPEC = MevSpec(name="Test", start=date(2026, 7, 1), end=date(2026, 9, 1), area_ags=("05974044",))


@pytest.fixture
def area() -> gpd.GeoDataFrame:
    n = 6
    frame = gpd.GeoDataFrame(
        {
            "address_id": [f"A{i}" for i in range(n)],
            "ags": ["05974044"] * 5 + ["05974040"],
            "street": ["Hauptstraße"] * 3 + ["Am Bach"] * 3,
            "house_number": ["1", "2", "3", "1", "2", "2"],
            "suffix": [pd.NA] * n,
            "postcode": ["59581"] * n,
            "place": ["Warstein"] * n,
        },
        geometry=[shapely.Point(450000 + 100 * i, 5700000) for i in range(n)],
        crs="EPSG:25832",
    )
    return area_addresses(frame, SPEC)


def _fill(t: pd.DataFrame, row: int, **fields: str) -> None:
    for key, value in fields.items():
        t.loc[row, REPLY_HEADERS[key]] = value


def test_area_and_template(area: gpd.GeoDataFrame) -> None:
    assert area["address_id"].tolist() == [
        "A0",
        "A1",
        "A2",
        "A3",
        "A4",
    ]  # A5 is in another Gemeinde
    t = reply_template(area, "Netz GmbH")
    assert t.columns.tolist()[:7] == [
        "Adress-ID",
        "Gemeindeschlüssel",
        "Straße",
        "Hausnummer",
        "Zusatz",
        "PLZ",
        "Ort",
    ]
    assert t.columns.tolist()[7:] == list(REPLY_HEADERS.values())
    assert (t["Betreiber"] == "Netz GmbH").all()
    pub = published_list(
        area, pd.DataFrame({"address_id": ["A0"], "class": ["grey"], "eligible": [True]})
    )
    assert pub["förderfähig (Bestand)"].tolist() == [
        "ja",
        "unbekannt",
        "unbekannt",
        "unbekannt",
        "unbekannt",
    ]


def test_reply_rows_with_clear_reasons(area: gpd.GeoDataFrame) -> None:
    t = reply_template(area, "Netz GmbH")
    _fill(t, 0, technology_now="FTTH", down_now="1000", up_now="1000")
    _fill(t, 1, technology_now="VDSL", down_now="5000", up_now="40")  # impossible for VDSL
    t.loc[2, "Adress-ID"] = "A99"  # wrong id
    _fill(t, 2, technology_now="FTTH", down_now="1000")
    _fill(
        t,
        3,
        technology_planned="FTTH",
        down_planned="1000",
        up_planned="1000",
        date_planned="30.06.2028",
    )
    _fill(
        t, 4, technology_planned="FTTH", down_planned="1000", date_planned="01.01.2031"
    )  # beyond horizon
    street = pd.DataFrame([{"Straße": "Hauptstr.", "Hausnummer": "2", "PLZ": "59581", "Betreiber": "Netz GmbH",
                            "Technologie heute": "Kabel", "Download heute (Mbit/s)": "500,5",
                            "Upload heute (Mbit/s)": "50"}])  # fmt: skip
    check = check_reply(pd.concat([t, street], ignore_index=True), area, SPEC, "Netz GmbH")
    errors = check.issues[check.issues["Schwere"] == "Fehler"]
    assert errors[["Zeile", "Adress-ID", "Grund"]].values.tolist() == [
        [3, "A1", "unmögliche Geschwindigkeit: mehr als 300 Mbit/s für VDSL"],
        [4, "A99", "unbekannte Adress-ID (nicht im Projektgebiet)"],
    ]
    notes = check.issues[check.issues["Schwere"] == "Hinweis"]
    assert notes["Grund"].tolist() == ["nach dem Ende des Zeithorizonts (01.09.2029)"]
    c = check.claims.set_index(["address_id", "status"])
    assert c.loc[("A0", "existing"), "technology"] == "ftth"
    assert c.loc[("A3", "planned"), "available_from"] == pd.Timestamp("2028-06-30")
    assert c.loc[("A4", "planned"), "flag"] == "planned_beyond_horizon"
    # the street-keyed row matched A1 through coverage.matching, decimal comma read
    assert c.loc[("A1", "existing"), ["technology", "down_mbps"]].tolist() == ["hfc", 500.5]
    assert check.summary()["errors"] == 2 and check.summary()["rows_used"] == 4


def test_polygon_reply_flags_planned_without_date(area: gpd.GeoDataFrame) -> None:
    polys = gpd.GeoDataFrame(
        {
            "technology": ["hfc_docsis31", "ftth"],
            "down_mbps": [1000.0, 1000.0],
            "up_mbps": [50.0, 1000.0],
            "status": ["Bestand", "geplant"],
            "available_from": [None, None],
        },
        geometry=[
            shapely.box(449950, 5699950, 450150, 5700050),
            shapely.box(450250, 5699950, 450350, 5700050),
        ],
        crs="EPSG:25832",
    )
    check = check_polygon_reply(polys, area, SPEC, "Kabel AG", source="kabel.gpkg")
    assert check.claims[["address_id", "status", "flag"]].values.tolist() == [
        ["A0", "existing", ""], ["A1", "existing", ""], ["A3", "planned", "planned_without_date"]]  # fmt: skip


def test_conflicts_resolutions_and_changes(area: gpd.GeoDataFrame) -> None:
    a = pd.DataFrame({"address_id": ["A0", "A1", "A2"], "operator": "Glas", "status": ["existing", "existing", "planned"],
                      "technology": "ftth", "down_mbps": 1000.0, "up_mbps": 1000.0,
                      "available_from": [pd.NaT, pd.NaT, pd.NaT], "row": [2, 3, 4],
                      "flag": ["", "", "planned_without_date"]})  # fmt: skip
    b = a.iloc[:2].assign(operator="Kabel", up_mbps=[200.0, 1000.0])
    claims = reconcile.combine({"Glas": a, "Kabel": b})
    base = pd.DataFrame({"address_id": ["A0", "A1", "A2"], "discrepancy": [False, True, False],
                         "measured_down_mbps": [np.nan, 80.0, np.nan]})  # fmt: skip
    k = reconcile.find_conflicts(claims, base)
    assert k[["address_id", "kind", "operators"]].values.tolist() == [
        ["A0", "different_facts", "Glas|Kabel"],  # same technology, different upload
        ["A1", "contradicts_measurement", "Glas"],  # 1000 claimed, 80 measured
        ["A1", "contradicts_measurement", "Kabel"],
        ["A2", "planned_without_date", "Glas"],
    ]
    assert (
        k["conflict_id"].tolist() == reconcile.find_conflicts(claims, base)["conflict_id"].tolist()
    )
    with pytest.raises(InputDataError, match="have no decision yet"):
        reconcile.resolve(claims, k, {})
    with pytest.raises(InputDataError, match="not an operator of this conflict"):
        reconcile.check_decision("reject:Funk", "Glas|Kabel")
    ids = dict(zip(k["kind"] + k["operators"], k["conflict_id"], strict=True))
    decisions = {ids["different_factsGlas|Kabel"]: "reject:Kabel", ids["contradicts_measurementGlas"]: "accept",
                 ids["contradicts_measurementKabel"]: "reject:Kabel", ids["planned_without_dateGlas"]: "reject_all"}  # fmt: skip
    kept = reconcile.resolve(claims, k, decisions)
    assert kept[["address_id", "operator"]].values.tolist() == [["A0", "Glas"], ["A1", "Glas"]]
    offers = reconcile.resolved_offers(kept)
    assert offers.columns.tolist() == ["address_id", "provider", "technology", "down_mbps", "up_mbps",
                                       "status", "available_from", "source"]  # fmt: skip
    # an accepted planned build without a date is no offer (it could not count anyway)
    accepted = reconcile.resolve(
        claims, k, {**decisions, ids["planned_without_dateGlas"]: "accept"}
    )
    assert "A2" in accepted["address_id"].tolist()
    assert reconcile.resolved_offers(accepted)["address_id"].tolist() == ["A0", "A1"]
    assert reconcile.silent_addresses(claims, area["address_id"]).tolist() == ["A3", "A4"]
    side = reconcile.side_by_side(claims, area["address_id"])
    assert side.loc[0, "Kabel"] == "heute FTTH 1000/200 Mbit/s" and side[
        "Rückmeldungen"
    ].tolist() == [2, 2, 1, 0, 0]

    before = pd.DataFrame({"address_id": ["A0", "A1", "A2"], "class": ["grey", "white", "gigabit"],
                           "eligible": [True, True, False]})  # fmt: skip
    after = pd.DataFrame({"address_id": ["A0", "A1", "A2"], "class": ["gigabit", "white", "white"],
                          "eligible": [False, True, True], "best_provider": ["Glas", None, None],
                          "planned_provider": [None, None, None], "reason": ["r1", "r2", "r3"]})  # fmt: skip
    ch = outcome.changes(before, after)
    assert ch[["Adress-ID", "Änderung", "Betreiber heute"]].values.tolist() == [
        ["A2", "neu förderfähig", ""], ["A0", "nicht mehr förderfähig", "Glas"]]  # fmt: skip
    assert outcome.ineligible_by_operator(ch) == {"Glas": 1}
    # every operator that reported at a changed address, not only the decisive one
    offers = pd.DataFrame({"address_id": ["A0", "A0", "A0", "A2"],
                           "provider": ["Kabel", "Glas", "Kabel", "Funk"]})  # fmt: skip
    ch = outcome.changes(before, after, offers=offers)
    assert ch["alle gemeldeten Betreiber"].tolist() == ["Funk", "Glas, Kabel"]
    assert outcome.eligible_list(after.assign(street="x"))["Adress-ID"].tolist() == ["A1", "A2"]
