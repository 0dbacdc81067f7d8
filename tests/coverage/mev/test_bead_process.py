"""The phases and rules of a BEAD challenge process with state (coverage.mev.bead_process)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from coverage.errors import InputDataError, StateError
from coverage.mev import bead_process as rules


def test_phases_run_in_one_direction() -> None:
    assert rules.next_phase("challenges") == "rebuttal"
    assert rules.next_phase("rebuttal") == "decisions"
    assert rules.next_phase("decisions") == "final"
    with pytest.raises(StateError, match="final; nothing follows"):
        rules.next_phase("final")
    with pytest.raises(
        StateError, match="in phase rebuttal; challenges are filed only in phase challenges"
    ):
        rules.require_phase("rebuttal", "challenges", "challenges are filed")


@pytest.mark.parametrize(
    ("disposition", "rebuttal", "ok"),
    [("N", None, True), ("S", None, False), ("R", None, False), ("A", "agree", True),
     ("N", "agree", False), ("S", "rebut", True), ("R", "rebut", True), ("N", "rebut", False),
     ("i", "rebut", True), ("M", None, True), ("X", None, False)],
)  # fmt: skip
def test_a_disposition_must_fit_the_rebuttal(
    disposition: str, rebuttal: str | None, ok: bool
) -> None:
    if ok:
        assert rules.check_decision(disposition, rebuttal, "checked") == disposition.upper()
    else:
        with pytest.raises(InputDataError, match="disposition"):
            rules.check_decision(disposition, rebuttal, "checked")


def test_every_decision_needs_its_reason_and_a_rebuttal_its_file() -> None:
    with pytest.raises(InputDataError, match="every decision needs its reason"):
        rules.check_decision("N", None, "  ")
    with pytest.raises(InputDataError, match="needs the provider's response file"):
        rules.check_rebuttal("rebut", None)
    rules.check_rebuttal("agree", None)


def test_windows_and_dates() -> None:
    w = rules.Windows(date(2024, 8, 1), date(2024, 8, 20), date(2024, 8, 21), date(2024, 9, 30))
    w.check()
    assert w.notes() == ["the challenge window is 20 days; NTIA's model process allows 30"]
    with pytest.raises(InputDataError, match="starts before the challenge window"):
        rules.Windows(
            date(2024, 8, 1), date(2024, 8, 31), date(2024, 7, 1), date(2024, 9, 30)
        ).check()
    with pytest.raises(
        InputDataError, match="2024-09-01 lies outside the window 2024-08-01 to 2024-08-20"
    ):
        rules.in_window(date(2024, 9, 1), w.challenge_start, w.challenge_end, "challenge_date")


def test_challengers_are_checked_row_by_row() -> None:
    good = {"challenger": "MTP", "category": "L", "organization": "City of Montpelier", "webpage": "",
            "provider_id": "", "contact_name": "Jane Doe", "contact_email": "jane@example.org",
            "contact_phone": "802-555-0100"}  # fmt: skip
    out = rules.check_challengers(pd.DataFrame([good]))
    assert list(out.columns) == list(rules.CHALLENGERS) and out.iloc[0]["challenger"] == "MTP"
    bad = [{**good, "category": "Q"}, {**good, "challenger": "ISP", "category": "B"},
           {**good, "challenger": "X3", "contact_email": "nobody", "contact_phone": "8025550100"}]  # fmt: skip
    with pytest.raises(InputDataError) as exc:
        rules.check_challengers(pd.DataFrame(bad))
    text = str(exc.value)
    assert "row 2 field category: 'Q'" in text
    assert "row 3 field provider_id: the 6-digit FCC provider id" in text
    assert (
        "row 4 field contact_email" in text
        and "row 4 field contact_phone: write it as 123-456-7890" in text
    )


def test_evidence_names_follow_ntia() -> None:
    assert rules.check_evidence_name("mtp-0001.pdf") == "mtp-0001.pdf"
    for bad in ("../x.pdf", "a b.pdf", "x.docx"):
        with pytest.raises(InputDataError, match="rename the file"):
            rules.check_evidence_name(bad)
