"""classify(): hand-computed boundary cases for de-gigabit-2023 and us-bead-2022."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

from coverage.classify import REASON_CODES, RESULT_COLUMNS, classify
from coverage.errors import InputDataError
from coverage.profiles import load_profile

AS_OF = date(2024, 1, 1)
NaN = float("nan")

DE = load_profile("de-gigabit-2023")
BEAD = load_profile("us-bead-2022")


def offer(provider: str, technology: str, down: float, up: float, **kw: Any) -> dict[str, Any]:
    return {"provider": provider, "technology": technology, "down_mbps": down, "up_mbps": up, **kw}


def run_cases(
    cases: list[tuple[str, list[dict[str, Any]]]], profile: Any, **kw: Any
) -> pd.DataFrame:
    """One address per case; each case's offers cover only that address."""
    rows: list[dict[str, Any]] = []
    a: list[int] = []
    for i, (_, offers) in enumerate(cases):
        for o in offers:
            a.append(i)
            rows.append(o)
    frame = pd.DataFrame(
        {
            "provider": pd.Series([r["provider"] for r in rows], dtype="string"),
            "technology": pd.Series([r["technology"] for r in rows], dtype="string"),
            "down_mbps": pd.Series([r["down_mbps"] for r in rows], dtype="float64"),
            "up_mbps": pd.Series([r["up_mbps"] for r in rows], dtype="float64"),
            "latency_ms": pd.Series([r.get("latency_ms", NaN) for r in rows], dtype="float64"),
            "low_latency": pd.array([r.get("ll", True) for r in rows], dtype="boolean"),
            "status": pd.Series([r.get("status", "existing") for r in rows], dtype="string"),
            "available_from": pd.to_datetime(
                pd.Series([r.get("available_from") for r in rows], dtype="object")
            ).astype("datetime64[ms]"),
            "source": pd.Series("test", index=range(len(rows)), dtype="string"),
            "fcc_technology": pd.array([r.get("fcc") for r in rows], dtype="Int64"),
            "verified": pd.array([r.get("verified") for r in rows], dtype="boolean"),
            "operator_id": pd.Series([r.get("operator_id") for r in rows], dtype="string"),
        }
    )
    site_map: dict[str, str] = kw.pop("sites", {})
    sites = [site_map.get(name, "private") for name, _ in cases]
    addresses = pd.DataFrame({"address_id": [name for name, _ in cases], "site_type": sites})
    return classify(
        addresses,
        frame,
        np.array(a, dtype=np.int64),
        np.arange(len(rows), dtype=np.int64),
        profile,
        as_of=AS_OF,
        **kw,
    )


# (case name, offers, expected class, expected reason code, expected networks_now)
DE_CASES: list[tuple[str, list[dict[str, Any]], str, str, int]] = [
    ("ftth_1000", [offer("A", "ftth", 1000, 500)], "gigabit", "GIGABIT_EXISTING", 1),
    ("hfc_exactly_500_down", [offer("A", "hfc", 500, 50)], "gigabit", "GIGABIT_EXISTING", 1),
    ("hfc_just_below_500", [offer("A", "hfc", 499.9, 50)], "grey", "GREY_ONE_NGA", 1),
    ("symmetric_exactly_200_200", [offer("A", "hfc", 200, 200)], "gigabit", "GIGABIT_EXISTING", 1),
    ("symmetric_up_just_below", [offer("A", "hfc", 200, 199.9)], "grey", "GREY_ONE_NGA", 1),
    ("symmetric_down_just_below", [offer("A", "vdsl", 199.9, 200)], "grey", "GREY_ONE_NGA", 1),
    ("missing_up_speed", [offer("A", "hfc", 400, NaN)], "grey", "GREY_ONE_NGA", 1),
    ("fttb_low_speed_is_gigabit", [offer("A", "fttb", 50, 10)], "gigabit", "GIGABIT_EXISTING", 1),
    (
        "docsis31_is_gigabit",
        [offer("A", "hfc_docsis31", 100, 10)],
        "gigabit",
        "GIGABIT_EXISTING",
        1,
    ),
    (
        "two_providers_two_nga",
        [offer("A", "vdsl", 100, 40), offer("B", "hfc", 250, 25)],
        "black",
        "BLACK_TWO_NGA",
        2,
    ),
    (
        "two_providers_same_tech",
        [offer("A", "vdsl", 100, 40), offer("B", "vdsl", 50, 10)],
        "black",
        "BLACK_TWO_NGA",
        2,
    ),
    (
        # Gigabitbüro des Bundes counts "NGA-Netzbetreiber": one operator with VDSL and
        # cable is one NGA network -> grey
        "same_operator_two_network_types",
        [offer("Telekom", "vdsl", 100, 40), offer(" telekom", "hfc", 250, 25)],
        "grey",
        "GREY_ONE_NGA",
        1,
    ),
    (
        "same_provider_same_network_type",
        [offer("A", "vdsl", 100, 40), offer("A", "adsl", 50, 10)],
        "grey",
        "GREY_ONE_NGA",
        1,
    ),
    (
        "second_network_below_nga",
        [offer("A", "vdsl", 100, 40), offer("B", "adsl", 16, 1)],
        "grey",
        "GREY_ONE_NGA",
        1,
    ),
    ("nga_exactly_30", [offer("A", "vdsl", 30, 5)], "grey", "GREY_ONE_NGA", 1),
    ("nga_just_below_30", [offer("A", "vdsl", 29.9, 5)], "white", "WHITE_NO_NGA", 0),
    ("no_offer", [], "white", "WHITE_NO_NGA", 0),
    (
        "mobile_satellite_fwa_ignored",
        [
            offer("M", "mobile_5g", 1000, 100),
            offer("S", "satellite_ngso", 300, 50),
            offer("F", "fwa_licensed", 1000, 1000),
        ],
        "white",
        "WHITE_NO_NGA",
        0,
    ),
    ("low_latency_irrelevant", [offer("A", "vdsl", 100, 40, ll=False)], "grey", "GREY_ONE_NGA", 1),
    (
        "planned_exactly_36_months",
        [
            offer("A", "adsl", 16, 1),
            offer("P", "ftth", 1000, 1000, status="planned", available_from="2027-01-01"),
        ],
        "gigabit",
        "GIGABIT_PLANNED",
        0,
    ),
    (
        "planned_one_day_beyond_36_months",
        [
            offer("A", "adsl", 16, 1),
            offer("P", "ftth", 1000, 1000, status="planned", available_from="2027-01-02"),
        ],
        "white",
        "WHITE_NO_NGA",
        0,
    ),
    (
        "planned_nga_not_counted_as_network",
        [offer("P", "vdsl", 100, 40, status="planned", available_from="2025-01-01")],
        "white",
        "WHITE_NO_NGA",
        0,
    ),
    (
        "existing_not_yet_available",
        [offer("A", "ftth", 1000, 1000, available_from="2024-01-02")],
        "white",
        "WHITE_NO_NGA",
        0,
    ),
    (
        "existing_available_on_as_of",
        [offer("A", "ftth", 1000, 1000, available_from="2024-01-01")],
        "gigabit",
        "GIGABIT_EXISTING",
        1,
    ),
]


@pytest.fixture(scope="module")
def de_result() -> pd.DataFrame:
    return run_cases([(c[0], c[1]) for c in DE_CASES], DE)


@pytest.mark.parametrize(("i", "case"), list(enumerate(DE_CASES)), ids=[c[0] for c in DE_CASES])
def test_de_gigabit_cases(de_result: pd.DataFrame, i: int, case: tuple[Any, ...]) -> None:
    _, _, klass, code, nets = case
    row = de_result.iloc[i]
    assert (row["class"], row["reason_code"], row["networks_now"]) == (klass, code, nets)
    assert row["eligible"] == (klass in ("grey", "white"))
    assert row["reason"].startswith(klass.upper() + ":")
    assert row["profile_id"] == "de-gigabit-2023"


def test_de_result_columns_and_dtypes(de_result: pd.DataFrame) -> None:
    assert tuple(de_result.columns) == RESULT_COLUMNS
    assert isinstance(de_result.index, pd.RangeIndex) and len(de_result) == len(DE_CASES)
    assert de_result["eligible"].dtype == bool
    assert str(de_result["networks_now"].dtype) == "int32"
    assert set(de_result["reason_code"]) <= set(REASON_CODES)


def test_de_reason_sentence_and_best_offer() -> None:
    r = run_cases(
        [("x", [offer("Demo Telekabel", "vdsl", 100, 40), offer("Other", "adsl", 16, 1)])], DE
    )
    assert r.loc[0, "reason"] == (
        "GREY: best existing VDSL 100/40 (Demo Telekabel) below 500 down or 200/200; "
        "no offer with more than 500 down planned within 36 months"
    )
    assert (r.loc[0, "best_provider"], r.loc[0, "best_technology"], r.loc[0, "best_down_mbps"]) == (
        "Demo Telekabel",
        "vdsl",
        100,
    )
    assert pd.isna(r.loc[0, "planned_provider"])


def test_de_gigabit_tech_beats_faster_non_gigabit() -> None:
    r = run_cases([("x", [offer("V", "vdsl", 250, 40), offer("F", "fttb", 50, 10)])], DE)
    assert r.loc[0, "best_technology"] == "fttb"
    assert r.loc[0, "class"] == "gigabit"


def test_de_planned_columns_and_horizon_reason() -> None:
    r = run_cases(
        [("x", [offer("P", "ftth", 1000, 1000, status="planned", available_from="2026-05-01")])], DE
    )
    row = r.iloc[0]
    assert row["reason_code"] == "GIGABIT_PLANNED"
    assert (row["planned_provider"], row["planned_down_mbps"]) == ("P", 1000)
    assert row["planned_available_from"] == pd.Timestamp("2026-05-01")
    assert row["networks_planned"] == 1 and row["networks_now"] == 0
    assert "planned FTTH 1000/1000 (P) from 2026-05-01 (within 36 months)" in row["reason"]


def test_de_include_planned_false_ignores_plans() -> None:
    r = run_cases(
        [("x", [offer("P", "ftth", 1000, 1000, status="planned", available_from="2026-05-01")])],
        DE,
        include_planned=False,
    )
    assert r.loc[0, "class"] == "white" and pd.isna(r.loc[0, "planned_provider"])
    assert "planned offers not considered" in r.loc[0, "reason"]


def test_as_of_in_the_past_bounds_existing_and_horizon() -> None:
    cases = [
        ("x", [offer("A", "ftth", 1000, 1000, available_from="2023-06-01")]),
        ("y", [offer("P", "ftth", 1000, 1000, status="planned", available_from="2027-01-01")]),
    ]
    r = run_cases(cases, DE)
    assert list(r["class"]) == ["gigabit", "gigabit"]
    addresses = pd.DataFrame({"address_id": ["x", "y"]})
    # same data, classified as of 2023-01-01: the fibre did not exist yet, the plan is 48 months out
    frame = pd.DataFrame(
        {
            "provider": ["A", "P"],
            "technology": ["ftth", "ftth"],
            "down_mbps": [1000.0, 1000.0],
            "up_mbps": [1000.0, 1000.0],
            "status": ["existing", "planned"],
            "available_from": pd.to_datetime(["2023-06-01", "2027-01-01"]),
        }
    )
    r2 = classify(addresses, frame, np.array([0, 1]), np.array([0, 1]), DE, as_of=date(2023, 1, 1))
    assert list(r2["class"]) == ["white", "white"]


def test_tie_break_is_deterministic_and_pair_order_free() -> None:
    addresses = pd.DataFrame({"address_id": ["x", "y"]})
    frame = pd.DataFrame(
        {
            "provider": ["B", "A", "C"],
            "technology": ["vdsl", "vdsl", "vdsl"],
            "down_mbps": [100.0, 100.0, 100.0],
            "up_mbps": [40.0, 40.0, 40.0],
            "latency_ms": [20.0, 20.0, NaN],
        }
    )
    a = np.array([0, 0, 0, 1, 1])
    o = np.array([2, 1, 0, 2, 1])
    r1 = classify(addresses, frame, a, o, DE, as_of=AS_OF)
    r2 = classify(addresses, frame, a[::-1].copy(), o[::-1].copy(), DE, as_of=AS_OF)
    pd.testing.assert_frame_equal(r1, r2)
    # equal speed and latency -> smaller offer row (B, row 0); unknown latency ranks last
    assert list(r1["best_provider"]) == ["B", "A"]


def test_bad_pairs_raise() -> None:
    addresses = pd.DataFrame({"address_id": ["x"]})
    frame = pd.DataFrame(
        {"provider": ["A"], "technology": ["vdsl"], "down_mbps": [1.0], "up_mbps": [1.0]}
    )
    with pytest.raises(InputDataError, match="out of range"):
        classify(addresses, frame, np.array([1]), np.array([0]), DE, as_of=AS_OF)
    with pytest.raises(InputDataError, match="equal length"):
        classify(addresses, frame, np.array([0, 0]), np.array([0]), DE, as_of=AS_OF)


# ----------------------------------------------------------------------------------- BEAD

BEAD_CASES: list[tuple[str, list[dict[str, Any]], str, str]] = [
    ("served_exactly_100_20", [offer("A", "ftth", 100, 20)], "served", "BEAD_SERVED"),
    (
        "down_just_below_100",
        [offer("A", "ftth", 99.9, 20)],
        "underserved",
        "BEAD_UNDERSERVED_SPEED",
    ),
    ("up_just_below_20", [offer("A", "hfc", 1000, 19.9)], "underserved", "BEAD_UNDERSERVED_SPEED"),
    ("exactly_25_3", [offer("A", "vdsl", 25, 3)], "underserved", "BEAD_UNDERSERVED_SPEED"),
    ("down_just_below_25", [offer("A", "vdsl", 24.9, 3)], "unserved", "BEAD_UNSERVED_SPEED"),
    ("up_just_below_3", [offer("A", "adsl", 25, 2.9)], "unserved", "BEAD_UNSERVED_SPEED"),
    ("missing_up_speed", [offer("A", "ftth", 1000, NaN)], "unserved", "BEAD_UNSERVED_SPEED"),
    ("missing_down_speed", [offer("A", "ftth", NaN, 1000)], "unserved", "BEAD_UNSERVED_SPEED"),
    (
        "low_latency_false",
        [offer("A", "ftth", 1000, 1000, ll=False)],
        "unserved",
        "BEAD_UNSERVED_LATENCY",
    ),
    (
        "low_latency_unknown",
        [offer("A", "ftth", 1000, 1000, ll=None)],
        "unserved",
        "BEAD_UNSERVED_LATENCY",
    ),
    (
        "satellite_only",
        [offer("S", "satellite_ngso", 250, 25), offer("G", "satellite_geo", 100, 20)],
        "unserved",
        "BEAD_UNSERVED_NO_RELIABLE",
    ),
    (
        "unlicensed_fw_and_mobile",
        [offer("U", "fwa_unlicensed", 100, 20), offer("M", "mobile_5g", 300, 50)],
        "unserved",
        "BEAD_UNSERVED_NO_RELIABLE",
    ),
    ("licensed_fw_71", [offer("L", "fwa_licensed", 100, 20)], "served", "BEAD_SERVED"),
    (
        "lbr_fw_72_via_fcc_technology",
        [offer("L", "fwa_unlicensed", 100, 20, fcc=72)],
        "served",
        "BEAD_SERVED",
    ),
    (
        "explicit_70_overrides_ftth",
        [offer("F", "ftth", 1000, 1000, fcc=70)],
        "unserved",
        "BEAD_UNSERVED_NO_RELIABLE",
    ),
    ("explicit_code_on_copper", [offer("C", "vdsl", 100, 20, fcc=10)], "served", "BEAD_SERVED"),
    ("no_offer", [], "unserved", "BEAD_UNSERVED_NO_OFFER"),
    (
        "max_over_rows",
        [
            offer("A", "adsl", 10, 1),
            offer("B", "hfc", 50, 5),
            offer("C", "ftth", 1000, 1000, ll=False),
        ],
        "underserved",
        "BEAD_UNDERSERVED_SPEED",
    ),
    (
        "planned_shown_not_counted",
        [offer("P", "ftth", 1000, 1000, status="planned", available_from="2025-01-01")],
        "unserved",
        "BEAD_UNSERVED_NO_OFFER",
    ),
    (
        "unreliable_served_plus_reliable_slow",
        [offer("S", "satellite_ngso", 250, 25), offer("A", "adsl", 10, 1)],
        "unserved",
        "BEAD_UNSERVED_SPEED",
    ),
]


@pytest.fixture(scope="module")
def bead_result() -> pd.DataFrame:
    return run_cases([(c[0], c[1]) for c in BEAD_CASES], BEAD)


@pytest.mark.parametrize(("i", "case"), list(enumerate(BEAD_CASES)), ids=[c[0] for c in BEAD_CASES])
def test_bead_cases(bead_result: pd.DataFrame, i: int, case: tuple[Any, ...]) -> None:
    _, _, klass, code = case
    row = bead_result.iloc[i]
    assert (row["class"], row["reason_code"]) == (klass, code)
    assert row["eligible"] == (klass != "served")
    assert row["reason"].startswith(klass.upper() + ":")


def test_bead_planned_is_shown(bead_result: pd.DataFrame) -> None:
    i = [c[0] for c in BEAD_CASES].index("planned_shown_not_counted")
    row = bead_result.iloc[i]
    assert row["planned_provider"] == "P"
    assert row["reason"].endswith("; planned FTTH 1000/1000 (P) from 2025-01-01 not counted")


def test_bead_reason_sentence(bead_result: pd.DataFrame) -> None:
    i = [c[0] for c in BEAD_CASES].index("lbr_fw_72_via_fcc_technology")
    assert (
        bead_result.iloc[i]["reason"]
        == "SERVED: best reliable unlicensed FWA 100/20 (L) [BDC 72], low latency, meets 100/20"
    )


def test_bead_cai_site_rule_widens_eligibility_only() -> None:
    cases = [
        ("school_served", [offer("A", "ftth", 100, 20)]),
        ("school_gigabit", [offer("A", "ftth", 1000, 1000)]),
        ("home_served", [offer("A", "ftth", 100, 20)]),
        ("school_unserved", []),
    ]
    sites = {"school_served": "school", "school_gigabit": "school", "school_unserved": "school"}
    r = run_cases(cases, BEAD, sites=sites)
    assert list(r["class"]) == ["served", "served", "served", "unserved"]
    assert list(r["eligible"]) == [True, False, False, True]
    assert r["site_rule"].tolist()[0] == "cai_below_gigabit"
    assert r["site_rule"].isna().tolist() == [False, True, True, True]
    assert "eligible by site rule cai_below_gigabit" in r.loc[0, "reason"]


# ------------------------------------------------------------------ BEAD vs NTIA reference

TECH_FOR_CODE = {
    0: "mobile_lte",
    10: "vdsl",
    40: "hfc",
    50: "ftth",
    60: "satellite_geo",
    61: "satellite_ngso",
    70: "fwa_unlicensed",
    71: "fwa_licensed",
    72: "fwa_licensed",
}


def ntia_reference(bdc: pd.DataFrame, fabric: pd.DataFrame) -> pd.Series:
    """Straightforward pandas version of the NTIA max-service-level notebook logic."""
    df = bdc[bdc["technology"].isin([10, 40, 50, 71, 72])].copy()
    down = df["max_advertised_download_speed"]
    up = df["max_advertised_upload_speed"]
    ll = df["low_latency"]
    unserved = (ll != 1) | ll.isna() | down.isna() | up.isna() | (down < 25) | (up < 3)
    underserved = ((down >= 25) & (down < 100)) | ((up >= 3) & (up < 20))
    df["level"] = np.select([unserved, underserved], [0, 1], 2)
    per_loc = df.groupby("location_id")["level"].max()
    levels = fabric["location_id"].map(per_loc).fillna(0).astype(int)
    return levels.map({0: "unserved", 1: "underserved", 2: "served"})


@pytest.mark.parametrize("explicit_codes", [True, False])
def test_bead_matches_ntia_reference_on_random_bdc(explicit_codes: bool) -> None:
    rng = np.random.default_rng(20240601)
    n_loc, n_rows = 30_000, 120_000
    fabric = pd.DataFrame(
        {"location_id": rng.permutation(np.arange(1_000_000_000, 1_000_000_000 + n_loc))}
    )
    # a quarter of the Fabric has no availability row at all
    with_rows = fabric["location_id"].to_numpy()[: int(n_loc * 0.75)]
    codes = rng.choice([0, 10, 40, 50, 60, 61, 70, 71, 72], n_rows)
    tiers = np.array([0.2, 4, 10, 24.9, 25, 50, 99.9, 100, 250, 1000, 2000])
    down = rng.choice(tiers, n_rows)
    up = rng.choice(np.array([0.2, 1, 2.9, 3, 10, 19.9, 20, 35, 100, 1000]), n_rows)
    down[rng.random(n_rows) < 0.02] = np.nan
    up[rng.random(n_rows) < 0.02] = np.nan
    ll_raw = rng.choice([1.0, 1.0, 1.0, 0.0, np.nan], n_rows)
    bdc = pd.DataFrame(
        {
            "provider_id": rng.integers(100, 400, n_rows),
            "location_id": rng.choice(with_rows, n_rows),
            "technology": codes,
            "max_advertised_download_speed": down,
            "max_advertised_upload_speed": up,
            "low_latency": ll_raw,
        }
    )
    if not explicit_codes:  # our technology mapping alone; it cannot express 72
        bdc = bdc[bdc["technology"] != 72].reset_index(drop=True)
    expected = ntia_reference(bdc, fabric)

    offers = pd.DataFrame(
        {
            "provider": bdc["provider_id"].astype("string"),
            "technology": bdc["technology"].map(TECH_FOR_CODE).astype("string"),
            "down_mbps": bdc["max_advertised_download_speed"],
            "up_mbps": bdc["max_advertised_upload_speed"],
            "low_latency": bdc["low_latency"].astype("boolean"),
            "status": "existing",
        }
    )
    if explicit_codes:
        offers["fcc_technology"] = bdc["technology"].astype("Int64")
    # address-keyed pairs: match location_id to Fabric rows
    position = pd.Series(np.arange(n_loc), index=fabric["location_id"])
    addr_idx = position.loc[bdc["location_id"]].to_numpy()
    addresses = pd.DataFrame({"address_id": fabric["location_id"].astype("string")})
    got = classify(addresses, offers, addr_idx, np.arange(len(offers)), BEAD, as_of=AS_OF)

    assert len(bdc) >= 100_000
    mismatch = got["class"].to_numpy(dtype=object) != expected.to_numpy(dtype=object)
    assert not mismatch.any(), got[mismatch].head()
    assert set(expected) == {"unserved", "underserved", "served"}
    assert (got["eligible"] == (got["class"] != "served")).all()
    assert (
        got["reason_code"][~fabric["location_id"].isin(bdc["location_id"])]
        == "BEAD_UNSERVED_NO_OFFER"
    ).all()


@pytest.mark.parametrize("profile", [DE, BEAD], ids=["de", "bead"])
def test_empty_offers_and_empty_addresses(profile: Any) -> None:
    addresses = pd.DataFrame({"address_id": ["x", "y"]})
    no_offers = pd.DataFrame(
        {"provider": [], "technology": [], "down_mbps": [], "up_mbps": []}
    ).astype({"provider": "string", "technology": "string", "down_mbps": float, "up_mbps": float})
    empty = np.array([], dtype=np.int64)
    r = classify(addresses, no_offers, empty, empty, profile, as_of=AS_OF)
    assert list(r["class"]) == [profile.class_names[-1] if profile is DE else "unserved"] * 2
    assert r["eligible"].all()
    r0 = classify(addresses.iloc[:0], no_offers, empty, empty, profile, as_of=AS_OF)
    assert len(r0) == 0 and tuple(r0.columns) == RESULT_COLUMNS


@pytest.mark.slow
def test_scale_400k_addresses_2m_pairs() -> None:
    """400k addresses over 2M pairs classify completely (every address a class and a reason).
    Speed is measured by bench/, not asserted here."""
    rng = np.random.default_rng(1)
    n, m, k = 400_000, 5_000, 2_000_000
    techs = np.array(["ftth", "fttb", "hfc_docsis31", "hfc", "vdsl", "adsl", "mobile_lte"])
    offers = pd.DataFrame(
        {
            "provider": pd.Series(rng.choice([f"P{i}" for i in range(30)], m), dtype="string"),
            "technology": pd.Series(rng.choice(techs, m), dtype="string"),
            "down_mbps": rng.choice([16, 50, 100, 250, 500, 1000.0], m),
            "up_mbps": rng.choice([1, 10, 40, 200, 1000.0], m),
            "low_latency": pd.array(rng.choice([True, False, None], m), dtype="boolean"),
            "status": pd.Series(
                rng.choice(["existing", "planned"], m, p=[0.8, 0.2]), dtype="string"
            ),
            "available_from": pd.Timestamp("2022-01-01")
            + pd.to_timedelta(rng.integers(0, 2000, m), unit="D"),
        }
    )
    addresses = pd.DataFrame({"address_id": np.arange(n).astype(str)})
    a, o = rng.integers(0, n, k), rng.integers(0, m, k)
    for profile in (DE, BEAD):
        r = classify(addresses, offers, a, o, profile, as_of=AS_OF)
        assert len(r) == n and r["class"].isin(profile.class_names).all()
        assert r["reason"].notna().all() and (r["reason"].str.len() > 0).all()


def test_offer_columns_filled_part_by_part_equal_one_gather() -> None:
    """The offer columns written a block or a set of positions at a time (as Dask results
    arrive) equal one gather over all addresses: text as categories, numbers given as text,
    a missing column and addresses without an offer (-1)."""
    from coverage.classify import OFFER_COLUMNS, OfferColumns

    offers = pd.DataFrame(
        {
            "provider": pd.array(["Telekom", "Muenet", None, "Telekom"], dtype="string"),
            "technology": ["ftth", "vdsl", "docsis", "ftth"],
            "down_mbps": ["1000", "100", "250", None],  # text: converted element-wise
            "up_mbps": [500.0, 40.0, np.nan, 200.0],
            "available_from": pd.to_datetime(["2027-01-01", None, None, "2026-05-01"]),
            # no latency_ms, no source: all missing
        }
    )
    rng = np.random.default_rng(3)
    best = rng.integers(-1, 4, 1000).astype(np.int16)
    planned = rng.integers(-1, 4, 1000).astype(np.int16)
    columns = OfferColumns(offers)
    expected = columns(best, planned)
    assert list(expected.columns) == list(OFFER_COLUMNS)
    assert expected["best_down_mbps"].dtype == np.float64
    assert expected["best_latency_ms"].isna().all() and expected["best_source"].isna().all()
    assert expected.loc[best == 0, "best_down_mbps"].eq(1000.0).all()
    assert expected.loc[best == -1].drop(columns=list(OFFER_COLUMNS)[6:]).isna().all().all()

    values = columns.empty(len(best))
    columns.fill(values, slice(0, 400), best[:400], planned[:400])
    rest = np.arange(400, 1000)[::-1]  # positions, in any order
    columns.fill(values, rest, best[rest], planned[rest])
    pd.testing.assert_frame_equal(columns.frame(values), expected)
