"""Kriterienkatalog of Gigabit-RL 2.0 (Nr. 5.7): each criterion, the fast lane, missing inputs.

Top steps and maxima from Rödl & Partner, 'Priorisierung von Förderanträgen mittels
Kriterienkatalog' (20.04.2023): Nachholbedarf über 20 % weiße Flecken = 200 Punkte;
Synergienutzung unter 0 % = 125 Punkte; Einwohnerdichte unter 50 EW/km² = 100 Punkte;
Interkommunale Zusammenarbeit 5 Gemeinden = 75 Punkte; maximal 500 Punkte. Fast lane: 300
points (gigabit-projekttraeger.de, Punkterechner; Förderaufrufe 2024), 350 from the amendment of
13.01.2025 (gigabit-projekttraeger.de). Steps below the top are interpretations (linear).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from coverage.rules.kriterien import load_catalogue, neutralise_formulas, score


def _project(below: float = 10.0, committed: float = 50.0, density: float = 100.0) -> pd.DataFrame:
    return pd.DataFrame(
        {"ags": ["05974044"], "share_below_30_pct": [below], "committed_share_pct": [committed],
         "density_per_km2": [density]}
    )  # fmt: skip


def test_catalogue_maxima_and_weights() -> None:
    cat = load_catalogue()
    assert [c.id for c in cat.criteria] == ["nachholbedarf", "synergie", "teilhabe", "kooperation"]
    assert [c.max_points for c in cat.criteria] == [200, 125, 100, 75]
    assert [c.weight for c in cat.criteria] == [0.40, 0.25, 0.20, 0.15]
    assert cat.max_points == 500 and "de-gigabit-2023" in cat.profiles
    assert [c.user_input for c in cat.criteria] == [False, True, False, True]


def test_nachholbedarf_200_points_above_20_percent() -> None:
    c = load_catalogue().criteria[0]
    assert c.points(25.0) == 200 and c.points(20.0) == 200
    assert c.points(10.0) == pytest.approx(100.0)  # interpretation: linear below 20 %
    assert c.points(0.0) == 0 and np.isnan(c.points(None))


def test_synergie_125_points_below_0() -> None:
    c = load_catalogue().criteria[1]
    assert c.points(-5.0) == 125 and c.points(0.0) == 125
    assert c.points(10.0) == pytest.approx(62.5) and c.points(30.0) == 0


def test_einwohnerdichte_100_points_below_50() -> None:
    c = load_catalogue().criteria[2]
    assert c.points(30.0) == 100 and c.points(50.0) == 100
    assert c.points(175.0) == pytest.approx(50.0) and c.points(2000.0) == 0


def test_interkommunale_zusammenarbeit_75_points_for_5_gemeinden() -> None:
    c = load_catalogue().criteria[3]
    assert c.points(5) == 75 and c.points(12) == 75 and c.points(1) == 0
    assert c.points(3) == pytest.approx(37.5)


def test_every_input_shown_and_missing_ewa_is_listed_not_guessed() -> None:
    out = score(_project(), as_of=date(2024, 6, 1)).iloc[0]
    assert out.kk_nachholbedarf_input == 10 and out.kk_nachholbedarf_points == pytest.approx(100)
    assert np.isnan(out.kk_synergie_points) and "Synergienutzung" in out.kk_missing
    assert out.kk_synergie_source.startswith("missing: EWA")
    assert out.kk_teilhabe_points == pytest.approx(80.0)
    assert out.kk_kooperation_input == 1 and out.kk_kooperation_source == "assumed 1 (user input)"
    assert out.kk_points == pytest.approx(180.0)
    assert out.kk_reachable == pytest.approx(305.0)
    # 2024: fast lane from 300; 305 reachable once the EWA is known
    assert out.kk_fast_lane_points == 300
    assert out.kk_status == "fast lane reachable with the missing inputs"


def test_user_inputs_and_the_2025_fast_lane() -> None:
    proj = _project(below=25.0, committed=40.0, density=45.0)
    out = score(proj, as_of=date(2025, 3, 1), ewa_share_pct=45.0, cooperating_gemeinden=3)
    row = out.iloc[0]
    assert row.kk_synergie_input == pytest.approx(-5.0) and row.kk_synergie_points == 125
    assert row.kk_points == pytest.approx(200 + 125 + 100 + 37.5)
    assert row.kk_fast_lane_points == 350 and row.kk_status == "fast lane"
    assert row.kk_missing == "" and row.kk_rank == 1
    early = score(proj, as_of=date(2024, 12, 31)).iloc[0]
    assert early.kk_fast_lane_points == 300


def test_official_rank_orders_by_points() -> None:
    projects = pd.concat([_project(5.0), _project(25.0), _project(15.0)], ignore_index=True)
    assert score(projects, as_of=date(2024, 6, 1))["kk_rank"].tolist() == [3, 1, 2]


def test_exported_text_cannot_run_as_a_spreadsheet_formula() -> None:
    frame = pd.DataFrame({"name": ["=HYPERLINK(1)", "Warstein", "-1+2"], "n": [1, 2, 3]})
    assert neutralise_formulas(frame)["name"].tolist() == ["'=HYPERLINK(1)", "Warstein", "'-1+2"]
