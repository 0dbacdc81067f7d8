"""Reader-facing words (issue 21): German reasons rebuilt from the address's own columns,
profile texts without internal references, numbers in the reader's format."""

from __future__ import annotations

import pandas as pd
import pytest

from coverage import methodology, texts
from coverage.evidence import class_counts
from coverage.profiles import list_profiles, load_profile


def test_german_reason_states_class_best_and_planned_offer_and_networks() -> None:
    frame = pd.DataFrame(
        {
            "reason_code": ["GREY_ONE_NGA", "GIGABIT_PLANNED"],
            "class": ["grey", "gigabit"],
            "best_provider": ["Telekom", None],
            "best_technology": ["vdsl", None],
            "best_down_mbps": [100.0, None],
            "best_up_mbps": [40.0, None],
            "planned_provider": [None, "Demo Glasfaser"],
            "planned_technology": [None, "ftth"],
            "planned_down_mbps": [None, 1000.0],
            "planned_up_mbps": [None, 500.0],
            "planned_available_from": [None, "2027-03-31"],
            "networks_now": [1, 0],
            "reason": ["GREY: best existing Telekom VDSL 100/40 ...", "GIGABIT: planned ..."],
        }
    )
    de = texts.reasons(frame, "de").tolist()
    assert de[0] == (
        "Grauer Fleck: genau ein Netz über der Netzschwelle der Fassung, Versorgungsschwelle "
        "nicht erreicht; bestes bestehendes Angebot: Telekom VDSL 100/40 Mbit/s; zählende Netze "
        "heute: 1"
    )
    assert de[1] == (
        "Versorgt: ein Ausbau, der die Versorgungsschwelle erfüllt, ist im Planungszeitraum "
        "geplant; kein bestehendes Angebot; geplant: Demo Glasfaser Glasfaser bis in die Wohnung "
        "(FTTH) 1.000/500 Mbit/s ab 31.03.2027; zählende Netze heute: 0"
    )
    assert texts.reasons(frame, "en").tolist() == frame["reason"].tolist()


def test_numbers_and_percentages_in_the_readers_format() -> None:
    assert texts.number(1234567.26, "de", 1) == "1.234.567,3"
    assert texts.number(1234567.26, "en", 1) == "1,234,567.3"
    assert texts.percent(0.2051, "de") == "20,5 %" and texts.percent(0.2051, "en") == "20.5%"
    assert texts.number(None, "de") == ""


@pytest.mark.parametrize("profile_id", sorted(p.id for p in list_profiles()))
def test_methodology_has_no_internal_references(profile_id: str) -> None:
    profile = load_profile(profile_id)
    addresses = pd.DataFrame(
        {"class": [profile.classes[0].name], "eligible": [False], "households": [1]}
    )
    counts = class_counts(addresses, profile)
    for lang in ("de", "en"):
        text = methodology.methodology_markdown(
            profile, {"parameters": {"as_of": "2026-06-30"}}, {"kind": "run"}, counts, lang=lang
        )
        for word in ("domain ", "UNCONFIRMED", "domain.md", "[LWL]"):
            assert word not in text, (profile_id, lang, word)
    assert "Stichtag: 30.06.2026" in methodology.methodology_markdown(
        profile, {"parameters": {"as_of": "2026-06-30"}}, {"kind": "run"}, counts, lang="de"
    )


def test_plain_turns_unconfirmed_into_words() -> None:
    text = "Only wired counts (interpretation, UNCONFIRMED)."
    assert (
        methodology.plain(text)
        == "Only wired counts (interpretation, not confirmed by the rule text)."
    )
    assert methodology.plain("Derived rule (domain 1.1, interpretation of RL 2.0 text).") == (
        "Derived rule."
    )
