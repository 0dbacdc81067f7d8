"""eu-nga-2013, eu-2023, us-fcc-706-2024, uk-gigabit-omr, uk-ofcom-bands: boundary tables.

Same layout as tests/coverage/rules/test_profiles_de.py: one address per case, as of 2024-01-01 (36-month
horizon ends 2027-01-01; the uk-gigabit-omr at-risk window starts after 2026-01-01).
"""

from __future__ import annotations

import pandas as pd
import pytest

from coverage.profiles import load_profile
from tests.coverage.rules.test_profiles_de import IN, OUT, Case, NaN, check_row, planned, run_table
from tests.coverage.test_classify import offer

# ------------------------------------------------------------------------------- eu-nga-2013

NGA = load_profile("eu-nga-2013")

NGA_CASES = [
    Case("one_network_exactly_30", [offer("A", "vdsl", 30, 5)], "grey", "EU_NGA_GREY", True),
    Case("just_below_30", [offer("A", "vdsl", 29.9, 5)], "white", "EU_NGA_WHITE", True),
    Case("missing_download", [offer("A", "hfc", NaN, 5)], "white", "EU_NGA_WHITE", True),
    Case("no_offer", [], "white", "EU_NGA_WHITE", True),
    Case(
        "two_providers",
        [offer("A", "vdsl", 50, 10), offer("B", "vdsl", 100, 40)],
        "black",
        "EU_NGA_BLACK",
        False,
    ),
    # EU 2013 guidelines count NGA networks per investor: one operator with VDSL and cable
    # ("A" and "a ") is one network -> grey, not black
    Case(
        "same_operator_two_types",
        [offer("A", "vdsl", 50, 10), offer("a ", "hfc", 250, 25)],
        "grey",
        "EU_NGA_GREY",
        True,
    ),
    Case(
        "same_provider_same_type",
        [offer("A", "ftth", 1000, 500), offer("A", "fttb", 300, 300)],
        "grey",
        "EU_NGA_GREY",
        True,
    ),
    Case(
        "second_network_below_30",
        [offer("A", "vdsl", 50, 10), offer("B", "adsl", 16, 1)],
        "grey",
        "EU_NGA_GREY",
        True,
    ),
    Case(
        "existing_plus_planned_exactly_at_horizon",
        [offer("A", "vdsl", 50, 10), planned("B", "ftth", 1000, 1000, IN)],
        "black",
        "EU_NGA_BLACK",
        False,
    ),
    Case(
        "existing_plus_planned_one_day_beyond",
        [offer("A", "vdsl", 50, 10), planned("B", "ftth", 1000, 1000, OUT)],
        "grey",
        "EU_NGA_GREY",
        True,
    ),
    Case(
        "only_planned_inside",
        [planned("B", "vdsl", 50, 10, "2025-01-01")],
        "grey",
        "EU_NGA_GREY",
        True,
    ),
    Case("licensed_fwa_counts", [offer("F", "fwa_licensed", 50, 10)], "grey", "EU_NGA_GREY", True),
    Case(
        "mobile_satellite_unlicensed_fwa_ignored",
        [
            offer("M", "mobile_5g", 300, 50),
            offer("S", "satellite_ngso", 200, 20),
            offer("U", "fwa_unlicensed", 100, 10),
        ],
        "white",
        "EU_NGA_WHITE",
        True,
    ),
]


@pytest.fixture(scope="module")
def nga_result() -> pd.DataFrame:
    return run_table(NGA, NGA_CASES)


@pytest.mark.parametrize(("i", "case"), list(enumerate(NGA_CASES)), ids=[c.name for c in NGA_CASES])
def test_eu_nga_cases(nga_result: pd.DataFrame, i: int, case: Case) -> None:
    check_row(nga_result, i, case, NGA)


def test_eu_nga_counts_and_reasons(nga_result: pd.DataFrame) -> None:
    names = [c.name for c in NGA_CASES]
    row = nga_result.iloc[names.index("existing_plus_planned_exactly_at_horizon")]
    assert (row["networks_now"], row["networks_planned"]) == (1, 1)
    assert row["reason"] == (
        "BLACK: 2 NGA networks (>= 30 down) now or planned within 36 months (1 existing); "
        "best existing VDSL 50/10 (A); best planned FTTH 1000/1000 (B) from 2027-01-01"
    )
    assert nga_result.iloc[names.index("one_network_exactly_30")]["reason"] == (
        "GREY: one NGA network (>= 30 down) now or planned within 36 months (1 existing), "
        "eligible subject to detailed assessment; best existing VDSL 30/5 (A)"
    )
    assert nga_result.iloc[names.index("no_offer")]["reason"] == (
        "WHITE: no NGA network (>= 30 down) now or planned within 36 months; no reliable offer"
    )


# ----------------------------------------------------------------------------------- eu-2023

EU23 = load_profile("eu-2023")

EU23_CASES = [
    Case(
        "exactly_1000_150", [offer("A", "ftth", 1000, 150)], "served", "EU23_SERVED_EXISTING", False
    ),
    Case(
        "up_just_below_150",
        [offer("A", "ftth", 1000, 149.9)],
        "ultrafast_no_gigabit",
        "EU23_ULTRAFAST_EXISTING",
        True,
    ),
    Case(
        "down_just_below_1000",
        [offer("A", "hfc_docsis31", 999.9, 500)],
        "ultrafast_no_gigabit",
        "EU23_ULTRAFAST_EXISTING",
        True,
    ),
    Case(
        "missing_upload",
        [offer("A", "ftth", 1000, NaN)],
        "ultrafast_no_gigabit",
        "EU23_ULTRAFAST_EXISTING",
        True,
    ),
    Case(
        "exactly_100",
        [offer("A", "hfc", 100, 10)],
        "ultrafast_no_gigabit",
        "EU23_ULTRAFAST_EXISTING",
        True,
    ),
    Case(
        "just_below_100",
        [offer("A", "vdsl", 99.9, 40)],
        "market_failure",
        "EU23_NO_ULTRAFAST",
        True,
    ),
    Case("no_offer", [], "market_failure", "EU23_NO_ULTRAFAST", True),
    Case(
        "planned_gigabit_exactly_at_horizon",
        [offer("A", "vdsl", 50, 10), planned("P", "ftth", 1000, 1000, IN)],
        "served",
        "EU23_SERVED_PLANNED",
        False,
    ),
    Case(
        "planned_gigabit_one_day_beyond",
        [offer("A", "vdsl", 50, 10), planned("P", "ftth", 1000, 1000, OUT)],
        "market_failure",
        "EU23_NO_ULTRAFAST",
        True,
    ),
    Case(
        "planned_ultrafast_inside",
        [offer("A", "vdsl", 50, 10), planned("P", "hfc", 250, 25, "2025-01-01")],
        "ultrafast_no_gigabit",
        "EU23_ULTRAFAST_PLANNED",
        True,
    ),
    Case(
        "licensed_fwa_counts",
        [offer("F", "fwa_licensed", 1000, 150)],
        "served",
        "EU23_SERVED_EXISTING",
        False,
    ),
    Case(
        "mobile_not_fixed",
        [offer("M", "mobile_5g", 1000, 200)],
        "market_failure",
        "EU23_NO_ULTRAFAST",
        True,
    ),
]


@pytest.fixture(scope="module")
def eu23_result() -> pd.DataFrame:
    return run_table(EU23, EU23_CASES)


@pytest.mark.parametrize(
    ("i", "case"), list(enumerate(EU23_CASES)), ids=[c.name for c in EU23_CASES]
)
def test_eu_2023_cases(eu23_result: pd.DataFrame, i: int, case: Case) -> None:
    check_row(eu23_result, i, case, EU23)


def test_eu_2023_step_change_and_reasons(eu23_result: pd.DataFrame) -> None:
    """EU broadband guidelines 2023 (2023/C 36/01), step change as summarised by the
    Commission (press release 12.12.2022): 'at least triple the available download speed and,
    in competitive areas, provide at least 1 Gbps download and 150 Mbps upload'."""
    by_name = {c.name: eu23_result.iloc[i]["reason"] for i, c in enumerate(EU23_CASES)}
    assert EU23.threshold("step_change_factor") == 3.0
    assert by_name["just_below_100"] == (
        "MARKET_FAILURE: best existing VDSL 99.9/40 (A) below 100 down; no ultrafast or 1000/150 "
        "planned within 36 months; step change: a funded network needs >= 299.7 down (3x)"
    )
    assert by_name["exactly_100"] == (
        "ULTRAFAST_NO_GIGABIT: existing HFC 100/10 (A) reaches 100 down but is below 1000/150; "
        "no 1000/150 planned within 36 months; step change: a funded network needs >= 1000 down "
        "and >= 150 up (3x the download; competitive area: at least 1000/150)"
    )
    # the step change counts the planned ultrafast network (max of best now and planned):
    # 3 x 250 = 750 < 1000, so the competitive-area floor of 1000/150 applies
    assert by_name["planned_ultrafast_inside"].endswith(
        "needs >= 1000 down and >= 150 up (3x the download; competitive area: at least 1000/150)"
    )
    assert by_name["no_offer"] == (
        "MARKET_FAILURE: no reliable fixed offer; no ultrafast or 1000/150 planned within 36 months"
    )
    assert "step change" not in by_name["exactly_1000_150"]


# --------------------------------------------------------------------------- us-fcc-706-2024

FCC = load_profile("us-fcc-706-2024")

FCC_CASES = [
    Case("exactly_100_20", [offer("A", "ftth", 100, 20)], "served", "FCC706_SERVED", False),
    Case(
        "down_just_below_100",
        [offer("A", "ftth", 99.9, 20)],
        "unserved_100_20",
        "FCC706_BELOW_BENCHMARK",
        True,
    ),
    Case(
        "up_just_below_20",
        [offer("A", "hfc", 1000, 19.9)],
        "unserved_100_20",
        "FCC706_BELOW_BENCHMARK",
        True,
    ),
    Case(
        "missing_upload",
        [offer("A", "ftth", 1000, NaN)],
        "unserved_100_20",
        "FCC706_BELOW_BENCHMARK",
        True,
    ),
    Case(
        "unlicensed_fw_counts",
        [offer("U", "fwa_unlicensed", 100, 20)],
        "served",
        "FCC706_SERVED",
        False,
    ),
    Case(
        "licensed_fw_counts",
        [offer("L", "fwa_licensed", 100, 20)],
        "served",
        "FCC706_SERVED",
        False,
    ),
    Case(
        "lbr_fw_72",
        [offer("L", "fwa_unlicensed", 100, 20, fcc=72)],
        "served",
        "FCC706_SERVED",
        False,
    ),
    Case(
        "not_low_latency_still_served",
        [offer("A", "vdsl", 100, 20, ll=False)],
        "served",
        "FCC706_SERVED",
        False,
    ),
    Case(
        "satellite_only",
        [offer("S", "satellite_ngso", 250, 25), offer("G", "satellite_geo", 100, 20)],
        "unserved_100_20",
        "FCC706_NO_FIXED_TERRESTRIAL",
        True,
    ),
    Case(
        "mobile_only",
        [offer("M", "mobile_5g", 300, 50)],
        "unserved_100_20",
        "FCC706_NO_FIXED_TERRESTRIAL",
        True,
    ),
    Case(
        "explicit_60_overrides_ftth",
        [offer("F", "ftth", 1000, 1000, fcc=60)],
        "unserved_100_20",
        "FCC706_NO_FIXED_TERRESTRIAL",
        True,
    ),
    Case("no_offer", [], "unserved_100_20", "FCC706_NO_OFFER", True),
    Case(
        "planned_not_counted",
        [planned("P", "ftth", 1000, 1000, "2025-01-01")],
        "unserved_100_20",
        "FCC706_NO_OFFER",
        True,
    ),
    Case(
        "cai_no_site_rule",
        [offer("A", "ftth", 100, 20)],
        "served",
        "FCC706_SERVED",
        False,
        "school",
    ),
]


@pytest.fixture(scope="module")
def fcc_result() -> pd.DataFrame:
    return run_table(FCC, FCC_CASES)


@pytest.mark.parametrize(("i", "case"), list(enumerate(FCC_CASES)), ids=[c.name for c in FCC_CASES])
def test_us_fcc_706_cases(fcc_result: pd.DataFrame, i: int, case: Case) -> None:
    check_row(fcc_result, i, case, FCC)


def test_us_fcc_706_reasons(fcc_result: pd.DataFrame) -> None:
    by_name = {c.name: fcc_result.iloc[i]["reason"] for i, c in enumerate(FCC_CASES)}
    assert by_name["lbr_fw_72"] == (
        "SERVED: best fixed terrestrial unlicensed FWA 100/20 (L) [BDC 72] meets 100/20"
    )
    assert by_name["down_just_below_100"] == (
        "UNSERVED_100_20: best fixed terrestrial FTTH 99.9/20 (A) [BDC 50] below 100/20 "
        "or speed not reported"
    )
    assert by_name["planned_not_counted"] == (
        "UNSERVED_100_20: no existing offer at this location; "
        "planned FTTH 1000/1000 (P) from 2025-01-01 not counted"
    )


# ---------------------------------------------------------------------------- uk-gigabit-omr

OMR = load_profile("uk-gigabit-omr")
CREDIBLE_LAST = "2026-01-01"  # as-of + 24 months
AT_RISK_FIRST = "2026-01-02"  # in the last 12 months of the 36-month horizon

OMR_CASES = [
    Case("ftth_by_technology", [offer("A", "ftth", 500, 100)], "grey", "UK_OMR_GREY", False),
    Case("hfc_exactly_1000", [offer("A", "hfc", 1000, 50)], "grey", "UK_OMR_GREY", False),
    Case("hfc_just_below_1000", [offer("A", "hfc", 999.9, 50)], "white", "UK_OMR_WHITE", True),
    Case("missing_download", [offer("A", "hfc", NaN, 50)], "white", "UK_OMR_WHITE", True),
    Case("no_offer", [], "white", "UK_OMR_WHITE", True),
    Case(
        "two_networks",
        [offer("A", "ftth", 1000, 1000), offer("B", "hfc_docsis31", 1000, 50)],
        "black",
        "UK_OMR_BLACK",
        False,
    ),
    # BDUK: black = two or more gigabit infrastructures "from different suppliers"; one
    # supplier with fibre and cable is grey
    Case(
        "same_supplier_fibre_and_cable",
        [offer("A", "ftth", 1000, 1000), offer("A", "hfc_docsis31", 1000, 50)],
        "grey",
        "UK_OMR_GREY",
        False,
    ),
    Case(
        "same_supplier_two_fibre",
        [offer("A", "ftth", 1000, 1000), offer("A", "fttb", 1000, 1000)],
        "grey",
        "UK_OMR_GREY",
        False,
    ),
    Case(
        "mobile_5g_not_counted", [offer("M", "mobile_5g", 1000, 100)], "white", "UK_OMR_WHITE", True
    ),
    Case(
        "planned_last_credible_day",
        [planned("P", "ftth", 1000, 1000, CREDIBLE_LAST)],
        "grey",
        "UK_OMR_GREY",
        False,
    ),
    # BDUK Under Review = "claimed current gigabit coverage has not been verified, or ... some
    # risks to delivery remain, or there are some gaps in evidence" -- not a date window: a
    # plan anywhere inside the 3-year horizon is credible unless marked unverified
    Case(
        "plan_late_in_horizon_is_credible",
        [planned("P", "ftth", 1000, 1000, AT_RISK_FIRST)],
        "grey",
        "UK_OMR_GREY",
        False,
    ),
    Case(
        "planned_exactly_at_horizon",
        [planned("P", "ftth", 1000, 1000, IN)],
        "grey",
        "UK_OMR_GREY",
        False,
    ),
    Case(
        "planned_one_day_beyond",
        [planned("P", "ftth", 1000, 1000, OUT)],
        "white",
        "UK_OMR_WHITE",
        True,
    ),
    Case(
        "unverified_plan_only",
        [planned("P", "ftth", 1000, 1000, "2025-01-01", verified=False)],
        "under_review",
        "UK_OMR_UNDER_REVIEW",
        False,
    ),
    Case(
        "unverified_existing_claim_only",
        [offer("A", "ftth", 1000, 1000, verified=False)],
        "under_review",
        "UK_OMR_UNDER_REVIEW",
        False,
    ),
    Case(
        "existing_plus_unverified_plan",
        [
            offer("A", "ftth", 1000, 1000),
            planned("B", "ftth", 1000, 1000, "2026-06-01", verified=False),
        ],
        "grey",
        "UK_OMR_GREY",
        False,
    ),
    Case(
        "two_plans_one_unverified",
        [
            planned("B", "ftth", 1000, 1000, "2025-01-01"),
            planned("C", "ftth", 1000, 1000, "2026-06-01", verified=False),
        ],
        "grey",
        "UK_OMR_GREY",
        False,
    ),
    Case(
        "two_credible_plans",
        [
            planned("B", "ftth", 1000, 1000, "2025-01-01"),
            planned("C", "hfc_docsis31", 1000, 100, CREDIBLE_LAST),
        ],
        "black",
        "UK_OMR_BLACK",
        False,
    ),
    Case(
        "unverified_vdsl_plan_not_gigabit",
        [planned("P", "vdsl", 250, 40, "2026-06-01", verified=False)],
        "white",
        "UK_OMR_WHITE",
        True,
    ),
]


@pytest.fixture(scope="module")
def omr_result() -> pd.DataFrame:
    return run_table(OMR, OMR_CASES)


@pytest.mark.parametrize(("i", "case"), list(enumerate(OMR_CASES)), ids=[c.name for c in OMR_CASES])
def test_uk_omr_cases(omr_result: pd.DataFrame, i: int, case: Case) -> None:
    check_row(omr_result, i, case, OMR)


def test_uk_omr_reasons(omr_result: pd.DataFrame) -> None:
    by_name = {c.name: omr_result.iloc[i]["reason"] for i, c in enumerate(OMR_CASES)}
    assert by_name["unverified_plan_only"] == (
        "UNDER_REVIEW: no verified gigabit-capable network; a claimed or planned gigabit network "
        "is not verified (open risks or evidence gaps); no reliable offer"
    )
    assert by_name["two_networks"] == (
        "BLACK: 2 gigabit-capable networks (>= 1000 down or FTTH, FTTB, HFC DOCSIS 3.1) existing "
        "or credibly planned within 36 months (2 existing); best existing FTTH 1000/1000 (A)"
    )
    assert by_name["no_offer"] == (
        "WHITE: no gigabit-capable network (>= 1000 down or FTTH, FTTB, HFC DOCSIS 3.1) now or "
        "planned within 36 months; no reliable offer"
    )


# ---------------------------------------------------------------------------- uk-ofcom-bands

OFCOM = load_profile("uk-ofcom-bands")

OFCOM_CASES = [
    Case("exactly_10_1", [offer("A", "adsl", 10, 1)], "decent", "OFCOM_DECENT", False),
    Case(
        "down_just_below_10",
        [offer("A", "adsl", 9.9, 1)],
        "below_decent",
        "OFCOM_BELOW_DECENT",
        True,
    ),
    Case(
        "up_just_below_1", [offer("A", "adsl", 10, 0.9)], "below_decent", "OFCOM_BELOW_DECENT", True
    ),
    Case("exactly_30", [offer("A", "vdsl", 30, 5)], "superfast", "OFCOM_SUPERFAST", False),
    Case("just_below_30", [offer("A", "vdsl", 29.9, 5)], "decent", "OFCOM_DECENT", False),
    Case("exactly_300", [offer("A", "hfc", 300, 30)], "ultrafast", "OFCOM_ULTRAFAST", False),
    Case("just_below_300", [offer("A", "hfc", 299.9, 30)], "superfast", "OFCOM_SUPERFAST", False),
    Case("exactly_1000", [offer("A", "ftth", 1000, 100)], "gigabit", "OFCOM_GIGABIT", False),
    Case(
        "just_below_1000", [offer("A", "ftth", 999.9, 100)], "ultrafast", "OFCOM_ULTRAFAST", False
    ),
    # Ofcom Connected Nations: superfast (>= 30), ultrafast (>= 300) and gigabit (>= 1000) are
    # download-only; only decent (10/1, the USO) has an upload condition
    Case(
        "superfast_download_without_decent_upload",
        [offer("A", "vdsl", 50, 0.5)],
        "superfast",
        "OFCOM_SUPERFAST",
        False,
    ),
    Case(
        "missing_upload_gigabit_download",
        [offer("A", "ftth", 1000, NaN)],
        "gigabit",
        "OFCOM_GIGABIT",
        False,
    ),
    Case(
        "decent_download_missing_upload",
        [offer("A", "adsl", 16, NaN)],
        "below_decent",
        "OFCOM_BELOW_DECENT",
        True,
    ),
    Case(
        "unlicensed_fwa_counts",
        [offer("U", "fwa_unlicensed", 50, 10)],
        "superfast",
        "OFCOM_SUPERFAST",
        False,
    ),
    Case(
        "mobile_satellite_not_fixed",
        [offer("M", "mobile_5g", 300, 50), offer("S", "satellite_ngso", 200, 20)],
        "below_decent",
        "OFCOM_NO_FIXED",
        True,
    ),
    Case("no_offer", [], "below_decent", "OFCOM_NO_FIXED", True),
    Case(
        "planned_not_counted",
        [offer("A", "adsl", 8, 1), planned("P", "ftth", 1000, 1000, "2025-01-01")],
        "below_decent",
        "OFCOM_BELOW_DECENT",
        True,
    ),
]


@pytest.fixture(scope="module")
def ofcom_result() -> pd.DataFrame:
    return run_table(OFCOM, OFCOM_CASES)


@pytest.mark.parametrize(
    ("i", "case"), list(enumerate(OFCOM_CASES)), ids=[c.name for c in OFCOM_CASES]
)
def test_uk_ofcom_cases(ofcom_result: pd.DataFrame, i: int, case: Case) -> None:
    check_row(ofcom_result, i, case, OFCOM)


def test_uk_ofcom_reasons(ofcom_result: pd.DataFrame) -> None:
    by_name = {c.name: ofcom_result.iloc[i]["reason"] for i, c in enumerate(OFCOM_CASES)}
    assert (
        by_name["exactly_300"]
        == "ULTRAFAST: best fixed HFC 300/30 (A) reaches 300 down, below 1000"
    )
    assert by_name["exactly_10_1"] == "DECENT: best fixed ADSL 10/1 (A) reaches 10/1, below 30 down"
    assert by_name["no_offer"] == "BELOW_DECENT: no fixed offer (mobile and satellite not counted)"
    assert by_name["planned_not_counted"] == (
        "BELOW_DECENT: best fixed ADSL 8/1 (A) below 10/1; "
        "planned FTTH 1000/1000 (P) from 2025-01-01 not counted"
    )
