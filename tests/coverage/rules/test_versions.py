"""Dated rule-text versions: each case is taken from the published text of its version.

Every test names the text it follows in its docstring; the expected classes are what the text
says, not what the code happens to produce. As of 2024-01-01 unless stated (horizon 36 months).
"""

from __future__ import annotations

import itertools
from datetime import date

import pandas as pd
import pytest

from coverage.errors import NotFoundError, ProfileError
from coverage.profiles import families, load_profile
from coverage.rules.operators import operator_codes, operator_key
from tests.coverage.rules.test_profiles_de import Case, check_row, planned, run_table
from tests.coverage.test_classify import offer

DG23 = load_profile("de-gigabit-2023")
DG24 = load_profile("de-gigabit-2024")


# ------------------------------------------------------------------ family and version choice


@pytest.mark.parametrize(
    ("family", "day", "version"),
    [
        ("de-gigabit", "2023-03-31", "de-gigabit-2023"),
        ("de-gigabit", "2023-06-01", "de-gigabit-2023"),
        ("de-gigabit", "2024-04-29", "de-gigabit-2023"),
        ("de-gigabit", "2024-04-30", "de-gigabit-2024"),
        ("de-gigabit", "2025-06-01", "de-gigabit-2024"),
        ("de-tkmv", "2024-12-30", "de-tkmv-2022"),
        ("de-tkmv", "2024-12-31", "de-tkmv-2024"),
        ("us-bead", "2025-06-05", "us-bead-2022"),
        ("us-bead", "2025-06-06", "us-bead-2025"),
    ],
)
def test_family_picks_the_version_in_force(family: str, day: str, version: str) -> None:
    """TKMV amendment: promulgated 30.12.2024, in force 'am Tag nach der Verkündung' =
    31.12.2024 (BGBl. 2024 I Nr. 447). Gigabit-RL 2.0 first amendment of 30.04.2024. BEAD
    Restructuring Policy Notice of 6 June 2025."""
    p = load_profile(family, date.fromisoformat(day))
    assert p.id == version
    assert p.selected_by == f"family {family}, in force on {day}"
    assert p.in_force(date.fromisoformat(day))


def test_a_date_before_every_version_names_the_ranges() -> None:
    with pytest.raises(ProfileError) as err:
        load_profile("de-gigabit", date(2022, 12, 31))
    msg = str(err.value)
    assert "no version in force on 2022-12-31" in msg
    assert "de-gigabit-2023: 2023-03-31 to 2024-04-29" in msg
    assert "de-gigabit-2024: from 2024-04-30" in msg


def test_version_ids_still_load_and_unknown_ids_list_families() -> None:
    assert load_profile("de-gigabit-2023", date(2030, 1, 1)).id == "de-gigabit-2023"
    assert load_profile("de-gigabit-2023").selected_by == ""
    with pytest.raises(NotFoundError, match=r"families .*de-gigabit.*de-tkmv.*us-bead"):
        load_profile("de-gigabit-2022")


def test_families_have_contiguous_ranges_and_sources() -> None:
    fams = families()
    for fam in ("de-gigabit", "de-tkmv", "us-bead"):
        members = fams[fam]
        assert len(members) >= 2
        for old, new in itertools.pairwise(members):
            assert old.valid_to is not None and new.valid_from is not None
            assert (new.valid_from - old.valid_to).days == 1, (old.id, new.id)
        assert members[-1].valid_to is None
        for p in members:
            assert p.source_document and p.source_section and p.source_date
            assert p.rules and all(r.en and r.de and r.source and r.section for r in p.rules)


# ------------------------------------------------------------ Gigabit-RL 2.0 (31.03.2023 text)

DG23_CASES = [
    # "zuverlässig mindestens 200 Mbit/s symmetrisch bzw. 500 Mbit/s im Download"
    Case("vdsl_250_40", [offer("A", "vdsl", 250, 40)], "grey", "GREY_ONE_NGA", True),
    Case("hfc_500_50", [offer("A", "hfc", 500, 50)], "gigabit", "GIGABIT_EXISTING", False),
    Case("symmetric_200_200", [offer("A", "vdsl", 200, 200)], "gigabit", "GIGABIT_EXISTING", False),
    # "innerhalb der nächsten drei Jahre keine Datenrate von mehr als 500 Mbit/s": a plan of
    # exactly 500 is not "more than 500"; a planned 200/200 does not count either
    Case(
        "plan_exactly_500",
        [offer("A", "vdsl", 100, 40), planned("P", "hfc", 500, 50, "2025-01-01")],
        "grey",
        "GREY_ONE_NGA",
        True,
    ),
    Case(
        "plan_500_1",
        [offer("A", "vdsl", 100, 40), planned("P", "hfc", 500.1, 50, "2025-01-01")],
        "gigabit",
        "GIGABIT_PLANNED",
        False,
    ),
    Case(
        "plan_200_200_fibre",
        [offer("A", "vdsl", 100, 40), planned("P", "ftth", 200, 200, "2025-01-01")],
        "grey",
        "GREY_ONE_NGA",
        True,
    ),
    # NGA networks counted per operator (Gigabitbüro: "Anzahl der NGA-Netzbetreiber")
    Case(
        "one_operator_vdsl_and_cable",
        [offer("Telekom", "vdsl", 100, 40), offer("Telekom GmbH", "hfc", 250, 25)],
        "grey",
        "GREY_ONE_NGA",
        True,
    ),
    Case(
        "two_operators",
        [offer("A", "vdsl", 100, 40), offer("B", "hfc", 250, 25)],
        "black",
        "BLACK_TWO_NGA",
        False,
    ),
]


@pytest.fixture(scope="module")
def dg23() -> pd.DataFrame:
    return run_table(DG23, DG23_CASES)


@pytest.mark.parametrize(
    ("i", "case"), list(enumerate(DG23_CASES)), ids=[c.name for c in DG23_CASES]
)
def test_gigabit_rl_2023(dg23: pd.DataFrame, i: int, case: Case) -> None:
    """Gigabit-RL 2.0 of 31.03.2023 as quoted by Landratsamt Pirna: not eligible are addresses
    'an welchen ... zuverlässig mindestens 200 Mbit/s symmetrisch bzw. 500 Mbit/s im Download
    anliegen' or which 'innerhalb der nächsten drei Jahre ... eine Datenrate von mehr als 500
    Mbit/s zuverlässig im Download erhalten werden'."""
    check_row(dg23, i, case, DG23)


# ------------------------------------------------------- Gigabit-RL 2.0 (amended 30.04.2024)

DG24_CASES = [
    # Nr. 5.5: eligible where no network delivers >= 300 down and >= 150 up
    Case("hfc_500_50", [offer("A", "hfc", 500, 50)], "grey", "GREY_ONE_NGA", True),
    Case("ftth_300_150", [offer("A", "ftth", 300, 150)], "gigabit", "GIGABIT_EXISTING", False),
    Case("ftth_300_149", [offer("A", "ftth", 300, 149.9)], "grey", "GREY_ONE_NGA", True),
    # "now or expected within the relevant time horizon"
    Case(
        "plan_300_150",
        [offer("A", "vdsl", 250, 40), planned("P", "ftth", 300, 150, "2026-12-31")],
        "gigabit",
        "GIGABIT_PLANNED",
        False,
    ),
    # SA.109748 (i): "only one network present, providing speeds above 100 Mbps"
    Case(
        "two_vdsl_100",
        [offer("A", "vdsl", 100, 40), offer("B", "vdsl", 100, 40)],
        "white",
        "WHITE_NO_NGA",
        True,
    ),
    Case(
        "two_networks_above_100",
        [offer("A", "vdsl", 250, 40), offer("B", "hfc", 400, 40)],
        "black",
        "BLACK_TWO_NGA",
        False,
    ),
    Case("one_network_above_100", [offer("A", "vdsl", 250, 40)], "grey", "GREY_ONE_NGA", True),
]


@pytest.fixture(scope="module")
def dg24() -> pd.DataFrame:
    return run_table(DG24, DG24_CASES)


@pytest.mark.parametrize(
    ("i", "case"), list(enumerate(DG24_CASES)), ids=[c.name for c in DG24_CASES]
)
def test_gigabit_rl_2024(dg24: pd.DataFrame, i: int, case: Case) -> None:
    """Gigabit-RL 2.0 as amended 30.04.2024, Nr. 5.5 (Gigabit-Projektträger, MEV page):
    eligible where no network delivers at least 300 Mbit/s down and 150 Mbit/s up at peak
    time, now or expected within the relevant time horizon; Commission decision SA.109748
    (23.07.2024), condition (i): aid only where 'only one network' above 100 Mbps and at most
    300/150 is present."""
    check_row(dg24, i, case, DG24)


def test_the_same_address_changes_class_between_versions(dg23: pd.DataFrame) -> None:
    """HFC 500/50 serves under the 2023 text (500 down) but not under the 2024 text (150 up
    missing): the version decides the class."""
    assert run_table(DG23, [DG24_CASES[0]]).loc[0, "class"] == "gigabit"
    assert run_table(DG24, [DG24_CASES[0]]).loc[0, "class"] == "grey"


# ------------------------------------------------------------------------------------- TKMV


@pytest.mark.parametrize(
    ("profile", "down", "up", "klass"),
    [
        ("de-tkmv-2022", 10, 1.7, "meets_minimum"),
        ("de-tkmv-2024", 10, 1.7, "below_minimum"),
        ("de-tkmv-2024", 15, 4.9, "below_minimum"),
        ("de-tkmv-2024", 15, 5, "meets_minimum"),
        ("de-tkmv-2024", 14.9, 5, "below_minimum"),
    ],
)
def test_tkmv_values_by_version(profile: str, down: float, up: float, klass: str) -> None:
    """TKMV § 2 Nr. 1 a/b: 10,0 / 1,7 Mbit/s (14.06.2022); Erste Änderungsverordnung vom
    20.12.2024 (BGBl. 2024 I Nr. 447): '10,0' -> '15,0', '1,7' -> '5,0'; § 2 Nr. 2: 150 ms."""
    p = load_profile(profile)
    r = run_table(p, [Case("x", [offer("A", "vdsl", down, up, latency_ms=20)], klass, "", True)])
    assert r.loc[0, "class"] == klass, r.loc[0, "reason"]


def test_tkmv_2024_latency_unchanged() -> None:
    """TKMV § 2 Nr. 2 'Latenz höchstens 150,0 ms', unchanged by the 2024 amendment."""
    p = load_profile("de-tkmv-2024")
    assert p.threshold("max_latency_ms") == 150.0
    r = run_table(p, [Case("x", [offer("A", "vdsl", 50, 10, latency_ms=151)], "", "", True)])
    assert r.loc[0, "class"] == "below_minimum"


# ------------------------------------------------------------------------------- BEAD CAI


@pytest.mark.parametrize("profile", ["us-bead-2022", "us-bead-2025"])
def test_bead_cai_checks_all_reliable_offers(profile: str) -> None:
    """47 U.S.C. 1702(a)(1)(E) / BEAD NOFO: an eligible community anchor institution 'lacks
    access to gigabit-level broadband service' (1 Gbps symmetrical). A school with cable
    2000/200 and fibre 1000/1000 has access through the fibre offer: not eligible."""
    p = load_profile(profile)
    cases = [
        Case(
            "school_cable_and_fibre",
            [offer("C", "hfc", 2000, 200, fcc=40), offer("F", "ftth", 1000, 1000, fcc=50)],
            "served",
            "BEAD_SERVED",
            False,
            "school",
            None,
        ),
        Case(
            "school_cable_only",
            [offer("C", "hfc", 2000, 200, fcc=40)],
            "served",
            "BEAD_SERVED",
            True,
            "school",
            "cai_below_gigabit",
        ),
    ]
    r = run_table(p, cases)
    for i, c in enumerate(cases):
        check_row(r, i, c, p)


# ------------------------------------------------------------------------------- operators


def test_operator_identity() -> None:
    """One operator = one network (Gigabitbüro: 'Anzahl der NGA-Netzbetreiber'; BDUK: 'from
    different suppliers'): names compare without case, punctuation and legal form; an
    operator_id column wins where given."""
    assert operator_key(" Demo-Netz GmbH & Co. KG ") == "demo netz"
    assert operator_key("DEMO NETZ") == "demo netz"
    assert operator_key("Comcast Cable Communications, LLC") == "comcast cable communications"
    assert operator_key(None) == ""
    frame = pd.DataFrame(
        {
            "provider": ["Telekom", "telekom ag", "Vodafone", "Kabel X", None],
            "operator_id": ["", None, "V1", "V1", None],
        }
    )
    codes = operator_codes(frame)
    assert codes[0] == codes[1] and codes[2] == codes[3] and codes[0] != codes[2]
    assert codes[4] == -1


# ------------------------------------------------------------------------ rules in two languages


def test_docs_rules_md_equals_the_profiles() -> None:
    """docs/rules.md is generated from the profiles; regenerate with
    ``python -m coverage.profiles.rules_doc > docs/rules.md``."""
    from coverage.profiles import list_profiles
    from coverage.profiles._rules_text import rules_markdown
    from tests.paths import ROOT

    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert text == rules_markdown(list_profiles())
    for p in list_profiles():
        assert f"## {p.id} " in text
        assert p.rules, f"{p.id} has no [[rules]]"
        for r in p.rules:
            assert r.source in text.replace("\\|", "|") and r.date.isoformat() in text


def test_profile_show_prints_rules_in_german_and_english(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from api.cli import main

    assert main(["profile", "show", "de-gigabit", "--as-of", "2025-06-01", "--lang", "de"]) == 0
    de = " ".join(capsys.readouterr().out.split())
    assert "Fassung: de-gigabit-2024 (Regelwerk de-gigabit; gültig ab 2024-04-30)" in de
    assert "mindestens 300 Mbit/s im Download und 150 Mbit/s im Upload" in de
    assert "[Gigabit-RL 2.0, Änderung vom 30.04.2024" in de
    assert main(["profile", "show", "de-gigabit-2023", "--lang", "en"]) == 0
    en = " ".join(capsys.readouterr().out.split())
    assert "version: de-gigabit-2023 (family de-gigabit; in force 2023-03-31 to 2024-04-29)" in en
    assert "more than 500 Mbit/s download" in en
    assert main(["profile", "show", "de-gigabit", "--lang", "fr"]) == 2


def test_every_reason_code_has_a_german_text() -> None:
    from coverage.classify import REASON_CODES
    from coverage.rules.reasons import REASON_CODES_DE, reason_text

    assert set(REASON_CODES_DE) == set(REASON_CODES)
    assert reason_text("UK_OMR_UNDER_REVIEW", "de").startswith("kein verifiziertes")
    assert reason_text("UK_OMR_UNDER_REVIEW", "en").startswith("no verified")
