"""German profiles de-grey-2021, de-white-nga, de-tkmv-2022: hand-computed boundary tables.

One address per case (as of 2024-01-01, so the 36-month horizon ends 2027-01-01); each row
states the offers, the site type, and the expected class, reason code, eligibility and site
rule. The reason sentence must start with the class in capitals.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pandas as pd
import pytest

from coverage.classify import REASON_CODES
from coverage.profiles import Profile, load_profile
from tests.coverage.test_classify import offer, run_cases

NaN = float("nan")
IN = "2027-01-01"  # exactly at the end of the 36-month horizon (counted)
OUT = "2027-01-02"  # one day beyond (not counted)


class Case(NamedTuple):
    name: str
    offers: list[dict[str, Any]]
    klass: str
    code: str
    eligible: bool
    site: str = "private"
    site_rule: str | None = None


def planned(
    provider: str, tech: str, down: float, up: float, when: str | None, **kw: Any
) -> dict[str, Any]:
    return offer(provider, tech, down, up, status="planned", available_from=when, **kw)


def run_table(profile: Profile, cases: list[Case]) -> pd.DataFrame:
    return run_cases(
        [(c.name, c.offers) for c in cases], profile, sites={c.name: c.site for c in cases}
    )


def check_row(result: pd.DataFrame, i: int, case: Case, profile: Profile) -> None:
    row = result.iloc[i]
    got = (row["class"], row["reason_code"], bool(row["eligible"]))
    assert got == (case.klass, case.code, case.eligible), row["reason"]
    assert row["reason_code"] in REASON_CODES
    assert row["reason"].startswith(case.klass.upper() + ":"), row["reason"]
    assert (None if pd.isna(row["site_rule"]) else row["site_rule"]) == case.site_rule
    assert row["profile_id"] == profile.id


# ------------------------------------------------------------------------------ de-grey-2021

GREY = load_profile("de-grey-2021")
FOCAL = "focal_point_not_gigabit"

GREY_CASES = [
    Case(
        "ftth_low_speed_is_gigabit",
        [offer("A", "ftth", 50, 10)],
        "gigabit",
        "DE_GREY_GIGABIT_EXISTING",
        False,
    ),
    Case(
        "docsis31_is_gigabit",
        [offer("A", "hfc_docsis31", 100, 10)],
        "gigabit",
        "DE_GREY_GIGABIT_EXISTING",
        False,
    ),
    Case(
        "hfc_exactly_1000",
        [offer("A", "hfc", 1000, 50)],
        "gigabit",
        "DE_GREY_GIGABIT_EXISTING",
        False,
    ),
    Case(
        "hfc_just_below_1000",
        [offer("A", "hfc", 999.9, 50)],
        "served_100",
        "DE_GREY_SERVED_EXISTING",
        False,
    ),
    Case(
        "vdsl_exactly_100",
        [offer("A", "vdsl", 100, 40)],
        "served_100",
        "DE_GREY_SERVED_EXISTING",
        False,
    ),
    Case(
        "vdsl_just_below_100",
        [offer("A", "vdsl", 99.9, 40)],
        "grey_eligible",
        "DE_GREY_BELOW_THRESHOLD",
        True,
    ),
    Case(
        "missing_download",
        [offer("A", "hfc", NaN, 50)],
        "grey_eligible",
        "DE_GREY_BELOW_THRESHOLD",
        True,
    ),
    Case("no_offer", [], "grey_eligible", "DE_GREY_NO_WIRED", True),
    Case(
        "mobile_satellite_fwa_not_reliable",
        [
            offer("M", "mobile_5g", 1000, 100),
            offer("S", "satellite_ngso", 300, 50),
            offer("F", "fwa_licensed", 1000, 1000),
        ],
        "grey_eligible",
        "DE_GREY_NO_WIRED",
        True,
    ),
    Case(
        "planned_gigabit_exactly_at_horizon",
        [offer("A", "adsl", 16, 1), planned("P", "ftth", 1000, 1000, IN)],
        "gigabit",
        "DE_GREY_GIGABIT_PLANNED",
        False,
    ),
    Case(
        "planned_gigabit_one_day_beyond",
        [offer("A", "adsl", 16, 1), planned("P", "ftth", 1000, 1000, OUT)],
        "grey_eligible",
        "DE_GREY_BELOW_THRESHOLD",
        True,
    ),
    Case(
        "planned_100_inside",
        [offer("A", "vdsl", 50, 10), planned("P", "vdsl", 250, 40, "2026-01-01")],
        "served_100",
        "DE_GREY_SERVED_PLANNED",
        False,
    ),
    Case(
        "planned_below_100_inside",
        [planned("P", "vdsl", 99.9, 40, "2025-01-01")],
        "grey_eligible",
        "DE_GREY_NO_WIRED",
        True,
    ),
    Case(
        "existing_100_plus_planned_gigabit",
        [offer("A", "vdsl", 100, 40), planned("P", "ftth", 1000, 1000, "2025-01-01")],
        "gigabit",
        "DE_GREY_GIGABIT_PLANNED",
        False,
    ),
    Case(
        "planned_without_date_not_counted",
        [planned("P", "ftth", 1000, 1000, None)],
        "grey_eligible",
        "DE_GREY_NO_WIRED",
        True,
    ),
    # socio-economic focal points: eligible unless gigabit, whatever the 100 Mbit/s threshold
    Case(
        "school_at_100",
        [offer("A", "vdsl", 100, 40)],
        "served_100",
        "DE_GREY_SERVED_EXISTING",
        True,
        "school",
        FOCAL,
    ),
    # draft Rahmenregelung (WFG Borken 10/2020): for socio-economic drivers the threshold
    # lapses at once, but "Ausgenommen sollen davon HFC-Netze ... sein": a hospital on cable
    # stays ineligible, a hospital on VDSL 250 is eligible
    Case(
        "hospital_on_hfc_250",
        [offer("A", "hfc", 250, 25)],
        "served_100",
        "DE_GREY_SERVED_EXISTING",
        False,
        "hospital",
        None,
    ),
    Case(
        "hospital_on_vdsl_250",
        [offer("A", "vdsl", 250, 40)],
        "served_100",
        "DE_GREY_SERVED_EXISTING",
        True,
        "hospital",
        FOCAL,
    ),
    Case(
        "public_planned_100",
        [planned("P", "vdsl", 250, 40, "2025-01-01")],
        "served_100",
        "DE_GREY_SERVED_PLANNED",
        True,
        "public",
        FOCAL,
    ),
    Case(
        "business_below_100",
        [offer("A", "vdsl", 50, 10)],
        "grey_eligible",
        "DE_GREY_BELOW_THRESHOLD",
        True,
        "business",
    ),
    Case(
        "school_gigabit",
        [offer("A", "ftth", 1000, 1000)],
        "gigabit",
        "DE_GREY_GIGABIT_EXISTING",
        False,
        "school",
    ),
    Case(
        "school_planned_gigabit",
        [planned("P", "ftth", 1000, 1000, IN)],
        "gigabit",
        "DE_GREY_GIGABIT_PLANNED",
        False,
        "school",
    ),
    Case(
        "private_at_100_not_focal",
        [offer("A", "vdsl", 100, 40)],
        "served_100",
        "DE_GREY_SERVED_EXISTING",
        False,
    ),
    # farms: the threshold does not apply; not eligible when gigabit
    # farms are "stets förderfähig" in the context of the 100 Mbit/s threshold, not with FTTH
    Case(
        "farm_gigabit",
        [offer("A", "ftth", 1000, 1000)],
        "gigabit",
        "DE_GREY_GIGABIT_EXISTING",
        False,
        "farm",
        None,
    ),
    Case(
        "farm_at_100",
        [offer("A", "vdsl", 100, 40)],
        "served_100",
        "DE_GREY_SERVED_EXISTING",
        True,
        "farm",
        "farm_always",
    ),
    Case(
        "farm_below_100",
        [offer("A", "adsl", 16, 1)],
        "grey_eligible",
        "DE_GREY_BELOW_THRESHOLD",
        True,
        "farm",
    ),
]


@pytest.fixture(scope="module")
def grey_result() -> pd.DataFrame:
    return run_table(GREY, GREY_CASES)


@pytest.mark.parametrize(
    ("i", "case"), list(enumerate(GREY_CASES)), ids=[c.name for c in GREY_CASES]
)
def test_de_grey_cases(grey_result: pd.DataFrame, i: int, case: Case) -> None:
    check_row(grey_result, i, case, GREY)


def test_de_grey_profile_values() -> None:
    assert GREY.class_names == ("gigabit", "served_100", "grey_eligible")
    assert GREY.eligible_classes == ("grey_eligible",)
    assert dict(GREY.thresholds) == {"eligible_below_down_mbps": 100.0, "gigabit_down_mbps": 1000.0}
    focal = next(r for r in GREY.site_rules if r.id == FOCAL)
    assert set(focal.site_types) == {"school", "hospital", "public", "business"}
    assert focal.unless_classes == ("gigabit",)
    assert focal.unless_technologies == ("hfc", "hfc_docsis31")
    farm = next(r for r in GREY.site_rules if r.id == "farm_always")
    assert farm.action == "eligible_unless" and farm.unless_classes == ("gigabit",)


def test_de_grey_reason_sentences(grey_result: pd.DataFrame) -> None:
    by_name = {c.name: grey_result.iloc[i]["reason"] for i, c in enumerate(GREY_CASES)}
    assert by_name["vdsl_just_below_100"] == (
        "GREY_ELIGIBLE: best existing VDSL 99.9/40 (A) below 100 down; "
        "no offer >= 100 down planned within 36 months"
    )
    assert by_name["vdsl_exactly_100"] == (
        "SERVED_100: existing VDSL 100/40 (A) reaches 100 down, not gigabit; "
        "no gigabit planned within 36 months"
    )
    assert by_name["planned_gigabit_exactly_at_horizon"] == (
        "GIGABIT: planned FTTH 1000/1000 (P) from 2027-01-01 (within 36 months) is gigabit "
        "(>= 1000 down or FTTH, FTTB, HFC DOCSIS 3.1); best existing ADSL 16/1 (A)"
    )
    assert by_name["school_at_100"].endswith(
        "; eligible by site rule focal_point_not_gigabit (sozioökonomischer Schwerpunkt ohne Gigabit)"
    )


def test_de_grey_threshold_is_profile_data(tmp_path) -> None:
    """The 2023 phase (all non-gigabit eligible) is a data change, not a code change."""
    src = GREY.path.read_text(encoding="utf-8")
    f = tmp_path / "grey-2023.toml"
    f.write_text(
        src.replace("eligible_below_down_mbps = 100.0", "eligible_below_down_mbps = 1000.0")
    )
    r = run_cases([("x", [offer("A", "hfc", 500, 50)])], load_profile(f))
    assert (r.loc[0, "class"], bool(r.loc[0, "eligible"])) == ("grey_eligible", True)


# ------------------------------------------------------------------------------ de-white-nga

WHITE = load_profile("de-white-nga")

WHITE_CASES = [
    Case(
        "vdsl_exactly_30", [offer("A", "vdsl", 30, 5)], "served", "DE_WHITE_SERVED_EXISTING", False
    ),
    Case("vdsl_just_below_30", [offer("A", "vdsl", 29.9, 5)], "white", "DE_WHITE_BELOW_NGA", True),
    Case("missing_download", [offer("A", "vdsl", NaN, 5)], "white", "DE_WHITE_BELOW_NGA", True),
    Case("no_offer", [], "white", "DE_WHITE_NO_WIRED", True),
    Case(
        "mobile_satellite_fwa_not_reliable",
        [
            offer("M", "mobile_lte", 100, 20),
            offer("S", "satellite_geo", 100, 10),
            offer("F", "fwa_licensed", 100, 20),
        ],
        "white",
        "DE_WHITE_NO_WIRED",
        True,
    ),
    Case(
        "ftth_low_speed_below_30", [offer("A", "ftth", 16, 16)], "white", "DE_WHITE_BELOW_NGA", True
    ),
    Case(
        "planned_30_exactly_at_horizon",
        [offer("A", "adsl", 16, 1), planned("P", "vdsl", 30, 5, IN)],
        "served",
        "DE_WHITE_SERVED_PLANNED",
        False,
    ),
    Case(
        "planned_one_day_beyond",
        [offer("A", "adsl", 16, 1), planned("P", "vdsl", 250, 40, OUT)],
        "white",
        "DE_WHITE_BELOW_NGA",
        True,
    ),
    Case(
        "planned_below_30_inside",
        [planned("P", "vdsl", 29.9, 5, "2025-01-01")],
        "white",
        "DE_WHITE_NO_WIRED",
        True,
    ),
    Case(
        "existing_not_yet_available",
        [offer("A", "vdsl", 100, 40, available_from="2024-01-02")],
        "white",
        "DE_WHITE_NO_WIRED",
        True,
    ),
    Case(
        "school_no_site_rule",
        [offer("A", "vdsl", 50, 10)],
        "served",
        "DE_WHITE_SERVED_EXISTING",
        False,
        "school",
    ),
]


@pytest.fixture(scope="module")
def white_result() -> pd.DataFrame:
    return run_table(WHITE, WHITE_CASES)


@pytest.mark.parametrize(
    ("i", "case"), list(enumerate(WHITE_CASES)), ids=[c.name for c in WHITE_CASES]
)
def test_de_white_cases(white_result: pd.DataFrame, i: int, case: Case) -> None:
    check_row(white_result, i, case, WHITE)


def test_de_white_reason_sentences(white_result: pd.DataFrame) -> None:
    by_name = {c.name: white_result.iloc[i]["reason"] for i, c in enumerate(WHITE_CASES)}
    assert by_name["vdsl_just_below_30"] == (
        "WHITE: best existing VDSL 29.9/5 (A) below 30 down; no offer >= 30 down planned within 36 months"
    )
    assert by_name["no_offer"] == (
        "WHITE: no reliable wired offer; no offer >= 30 down planned within 36 months"
    )
    assert by_name["planned_30_exactly_at_horizon"] == (
        "SERVED: planned VDSL 30/5 (P) from 2027-01-01 (within 36 months) reaches 30 down; "
        "best existing ADSL 16/1 (A)"
    )


def test_de_white_include_planned_false() -> None:
    r = run_cases(
        [("x", [planned("P", "ftth", 1000, 1000, "2025-01-01")])], WHITE, include_planned=False
    )
    assert r.loc[0, "class"] == "white"
    assert r.loc[0, "reason"].endswith("; planned offers not considered")


# ------------------------------------------------------------------------------ de-tkmv-2022

TKMV = load_profile("de-tkmv-2022")

TKMV_CASES = [
    Case(
        "exactly_10_1_7",
        [offer("A", "adsl", 10, 1.7)],
        "meets_minimum",
        "TKMV_MEETS_MINIMUM",
        False,
    ),
    Case(
        "down_just_below_10",
        [offer("A", "adsl", 9.9, 1.7)],
        "below_minimum",
        "TKMV_BELOW_SPEED",
        True,
    ),
    Case(
        "up_just_below_1_7",
        [offer("A", "adsl", 10, 1.6)],
        "below_minimum",
        "TKMV_BELOW_SPEED",
        True,
    ),
    Case(
        "missing_upload", [offer("A", "adsl", 16, NaN)], "below_minimum", "TKMV_BELOW_SPEED", True
    ),
    Case(
        "latency_exactly_150",
        [offer("M", "mobile_lte", 50, 10, latency_ms=150)],
        "meets_minimum",
        "TKMV_MEETS_MINIMUM",
        False,
    ),
    Case(
        "latency_just_above_150",
        [offer("M", "mobile_lte", 50, 10, latency_ms=150.1)],
        "below_minimum",
        "TKMV_BELOW_LATENCY",
        True,
    ),
    Case(
        "mobile_counts",
        [offer("M", "mobile_lte", 20, 5)],
        "meets_minimum",
        "TKMV_MEETS_MINIMUM",
        False,
    ),
    Case(
        "leo_satellite_counts",
        [offer("S", "satellite_ngso", 100, 10, latency_ms=40)],
        "meets_minimum",
        "TKMV_MEETS_MINIMUM",
        False,
    ),
    Case(
        "geo_satellite_no_latency",
        [offer("S", "satellite_geo", 50, 5)],
        "below_minimum",
        "TKMV_BELOW_LATENCY",
        True,
    ),
    Case(
        "geo_satellite_reported_120ms",
        [offer("S", "satellite_geo", 50, 5, latency_ms=120)],
        "meets_minimum",
        "TKMV_MEETS_MINIMUM",
        False,
    ),
    Case("no_offer", [], "below_minimum", "TKMV_NO_OFFER", True),
    Case(
        "best_of_many",
        [offer("A", "adsl", 6, 0.5), offer("M", "mobile_lte", 12, 2)],
        "meets_minimum",
        "TKMV_MEETS_MINIMUM",
        False,
    ),
    Case(
        "latency_fail_beats_speed_fail",
        [offer("A", "adsl", 60, 0.5), offer("S", "satellite_geo", 50, 5, latency_ms=600)],
        "below_minimum",
        "TKMV_BELOW_LATENCY",
        True,
    ),
    Case(
        "planned_not_counted",
        [offer("A", "adsl", 6, 0.5), planned("P", "ftth", 1000, 1000, "2025-01-01")],
        "below_minimum",
        "TKMV_BELOW_SPEED",
        True,
    ),
]


@pytest.fixture(scope="module")
def tkmv_result() -> pd.DataFrame:
    return run_table(TKMV, TKMV_CASES)


@pytest.mark.parametrize(
    ("i", "case"), list(enumerate(TKMV_CASES)), ids=[c.name for c in TKMV_CASES]
)
def test_de_tkmv_cases(tkmv_result: pd.DataFrame, i: int, case: Case) -> None:
    check_row(tkmv_result, i, case, TKMV)


def test_de_tkmv_reason_sentences(tkmv_result: pd.DataFrame) -> None:
    by_name = {c.name: tkmv_result.iloc[i]["reason"] for i, c in enumerate(TKMV_CASES)}
    assert by_name["exactly_10_1_7"] == (
        "MEETS_MINIMUM: existing ADSL 10/1.7 (A) meets 10/1.7 and latency <= 150 ms"
    )
    assert by_name["latency_just_above_150"] == (
        "BELOW_MINIMUM: best existing LTE mobile 50/10 (M) reaches 10/1.7 but latency 150.1 ms above 150 ms"
    )
    assert by_name["geo_satellite_no_latency"] == (
        "BELOW_MINIMUM: best existing GEO satellite 50/5 (S) reaches 10/1.7 but no latency "
        "reported (GEO satellite presumed above 150 ms)"
    )
    assert by_name["no_offer"] == "BELOW_MINIMUM: no offer of any technology"
    assert by_name["planned_not_counted"] == (
        "BELOW_MINIMUM: best existing ADSL 6/0.5 (A) below 10/1.7; "
        "planned FTTH 1000/1000 (P) from 2025-01-01 not counted"
    )


def test_de_tkmv_profile_counts_every_technology() -> None:
    from coverage.schema import Technology

    assert TKMV.reliable_technologies == {t.value for t in Technology} - {"other"}
    assert TKMV.high_latency_technologies == {"satellite_geo"}
    assert TKMV.eligible_classes == ("below_minimum",)
    assert any("minimum supply claim" in s for s in TKMV.interpretations)
