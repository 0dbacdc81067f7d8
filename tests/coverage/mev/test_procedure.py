"""MEV settings and states (Nr. 5.5 Gigabit-RL 2.0)."""

from __future__ import annotations

from datetime import date

import pytest

from coverage.errors import InputDataError, StateError
from coverage.mev.procedure import MevSpec, add_months, check_spec, next_state


def _spec(**kw: object) -> MevSpec:
    base = {"name": "MEV Warstein", "start": date(2026, 7, 1), "end": date(2026, 8, 26),
            "branchendialog": date(2026, 3, 1), "area_ags": ("05974044",)}  # fmt: skip
    return MevSpec(**{**base, **kw})  # type: ignore[arg-type]


def test_eight_weeks_is_enough_and_one_day_less_warns() -> None:
    """Nr. 5.5 Gigabit-RL 2.0: the MEV is published for at least eight weeks."""
    assert check_spec(_spec()) == []  # 1 Jul + 56 days = 26 Aug
    warnings = check_spec(_spec(end=date(2026, 8, 25)))
    assert len(warnings) == 1 and "acht Wochen" in warnings[0] and "7,9 Wochen" in warnings[0]


def test_branchendialog_older_than_six_months_warns() -> None:
    """Nr. 5.5 Gigabit-RL 2.0: the Branchendialog result is not older than six months."""
    assert check_spec(_spec(branchendialog=date(2026, 1, 1))) == []  # exactly six months
    old = check_spec(_spec(branchendialog=date(2025, 12, 31)))
    assert len(old) == 1 and "älter als sechs Monate" in old[0] and "31.12.2025" in old[0]
    assert any(
        "Kein Datum des Branchendialogs" in w for w in check_spec(_spec(branchendialog=None))
    )


def test_horizon_and_area_rules() -> None:
    assert _spec().horizon_end == date(2029, 8, 26)  # Stichtag = end date + 36 months
    assert _spec(stichtag=date(2026, 9, 30)).horizon_end == date(2029, 9, 30)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert any("drei Jahre" in w for w in check_spec(_spec(horizon_months=24)))
    with pytest.raises(InputDataError, match="8-digit Gemeinde key"):
        check_spec(_spec(area_ags=("5974044",)))
    with pytest.raises(InputDataError, match="either Gemeinde keys"):
        check_spec(_spec(area_ags=(), area_wkt=None))
    with pytest.raises(InputDataError, match="not after the start"):
        check_spec(_spec(end=date(2026, 7, 1)))


def test_states_follow_draft_published_closed_result() -> None:
    assert next_state("draft", "publish") == "published"
    assert next_state("published", "close") == "closed"
    assert next_state("closed", "reopen") == "published"
    assert next_state("closed", "result") == "result"
    assert next_state("result", "result") == "result"  # a result can be rebuilt
    with pytest.raises(
        StateError, match=r"'result' needs it closed or result \(possible now: close\)"
    ):
        next_state("published", "result")
    with pytest.raises(StateError):
        next_state("result", "publish")
