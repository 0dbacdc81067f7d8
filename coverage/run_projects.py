"""The project-area tables of a run: Kriterienkatalog points where the rule version has them,
and the methodology table of the cost set (the pipeline writes both)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from coverage.profiles import Profile
from coverage.rules.kriterien import load_catalogue, score
from coverage.rural.analysis import RuralResult

#: What each ranking is, for the manifest and everything that shows one.
RANKINGS = {
    "screening": "gapmap screening score (gap_areas.parquet: screening_score, screening_rank): "
    "gapmap's own aid, 35 white share + 25 rurality + 25 cost + 15 size; not an official ranking",
    "official": "Kriterienkatalog of the rule version in force (project_areas.csv: kk_*; "
    "Gigabit-RL 2.0 only), per Gemeinde, with user inputs missing until given "
    "(gapmap kriterien)",
}


def rural_projects(rural: RuralResult, profile: Profile, as_of: date) -> pd.DataFrame:
    """Project areas per Gemeinde; with Kriterienkatalog points (no user inputs yet) when the
    profile is one the catalogue belongs to."""
    projects = rural.project_areas
    catalogue = load_catalogue()
    if profile.id in catalogue.profiles and len(projects):
        projects = score(projects, as_of=as_of, catalogue=catalogue)
    return projects


def cost_sources(rural: RuralResult) -> pd.DataFrame:
    """Every value of the run's cost set with range, unit, year and source."""
    if rural.cost_set is None:
        return pd.DataFrame(columns=["item", "low", "central", "high", "unit", "year", "source"])
    table = pd.DataFrame(rural.cost_set.sources())
    table.insert(0, "cost_set", rural.cost_set.id)
    table.insert(1, "currency", rural.cost_set.currency)
    return table
