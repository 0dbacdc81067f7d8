"""The official ranking of Gigabit-RL 2.0: Kriterienkatalog points per project area.

Nr. 5.7 Gigabit-RL 2.0: every application is scored by a nationwide Kriterienkatalog; the
points decide the fast lane (300 points from 2023, 350 from the 13.01.2025 amendment) and the
order of the standard call. The four criteria, their maximum points and top steps are package
data (``kriterien_gigabit_rl2.toml``, with sources); the steps below the top are stated there as
interpretations.

Inputs a run knows (per Gemeinde, :func:`coverage.rural.projects.gemeinde_projects`): the share
of addresses below 30 Mbit/s to be built, the committed gigabit share, population and area.
Inputs it cannot know are user inputs: the eigenwirtschaftliches Ausbaupotenzial (EWA) of the
Potenzialanalyse (for Synergienutzung) and the number of Gemeinden in a joint application.
A criterion whose input is missing scores no points and is listed in ``missing``; ``reachable``
adds its maximum, so a planner sees what the application could reach.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from coverage.errors import ProfileError


@dataclass(frozen=True)
class Criterion:
    id: str
    label: str
    measure: str
    input: str
    unit: str
    max_points: float
    weight: float
    scale: tuple[tuple[float, float], ...]
    scale_source: str
    user_input: bool

    def points(self, value: Any) -> float:
        """Points for one input value (NaN when the value is missing)."""
        v = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
        if pd.isna(v):
            return float("nan")
        xs = [p[0] for p in self.scale]
        ps = [p[1] for p in self.scale]
        return float(np.interp(float(v), xs, ps))


@dataclass(frozen=True)
class Catalogue:
    id: str
    title: str
    source: str
    profiles: tuple[str, ...]
    max_points: float
    fast_lane: tuple[tuple[date, float, str], ...]  # (valid_from, points, source), sorted
    criteria: tuple[Criterion, ...]

    def fast_lane_on(self, day: date) -> tuple[float, str]:
        """The fast-lane threshold in force on ``day`` (the first one before it begins)."""
        valid = [f for f in self.fast_lane if f[0] <= day] or [self.fast_lane[0]]
        return valid[-1][1], valid[-1][2]


def load_catalogue() -> Catalogue:
    """The bundled Kriterienkatalog of Gigabit-RL 2.0."""
    name = "kriterien_gigabit_rl2.toml"
    data = resources.files(__package__).joinpath(name).read_bytes()
    doc = tomllib.loads(data.decode("utf-8"))
    try:
        cat = doc["catalogue"]
        criteria = tuple(
            Criterion(
                id=c["id"],
                label=c["label"],
                measure=c["measure"],
                input=c["input"],
                unit=c["unit"],
                max_points=float(c["max_points"]),
                weight=float(c["weight"]),
                scale=tuple((float(a), float(b)) for a, b in c["scale"]),
                scale_source=c["scale_source"],
                user_input=bool(c["user_input"]),
            )
            for c in doc["criteria"]
        )
        lanes = tuple(
            sorted((f["valid_from"], float(f["points"]), f["source"]) for f in doc["fast_lane"])
        )
        out = Catalogue(cat["id"], cat["title"], cat["source"], tuple(cat["profiles"]),
                        float(cat["max_points"]), lanes, criteria)  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise ProfileError(f"{name}: malformed Kriterienkatalog ({exc!r})") from exc
    if abs(sum(c.max_points for c in criteria) - out.max_points) > 1e-9:
        raise ProfileError(f"{name}: criteria maxima do not sum to max_points")
    return out


def score(
    projects: pd.DataFrame,
    *,
    as_of: date,
    ewa_share_pct: pd.Series | float | None = None,
    cooperating_gemeinden: pd.Series | int | None = None,
    cooperating_source: str = "user input",
    catalogue: Catalogue | None = None,
) -> pd.DataFrame:
    """Kriterienkatalog points of each project area, with every input shown.

    ``projects`` needs ``share_below_30_pct``, ``committed_share_pct`` and
    ``density_per_km2`` (one row per project area). ``ewa_share_pct``: the Potenzialanalyse's
    EWA share in % (per row or one value; None: missing). ``cooperating_gemeinden``: Gemeinden
    in the application (None: 1, the applicant alone, marked as assumed).

    Adds per criterion ``kk_<id>_input``, ``kk_<id>_source`` and ``kk_<id>_points``, then
    ``kk_points`` (sum of scored criteria), ``kk_reachable`` (plus the maximum of each
    unscored one), ``kk_missing`` (labels of unscored criteria), ``kk_fast_lane_points``
    (threshold on ``as_of``), ``kk_status`` ("fast lane", "fast lane reachable with the
    missing inputs", "standard call") and ``kk_rank`` (1 = most points; ties in row order).
    """
    cat = catalogue or load_catalogue()
    out = projects.copy()
    n = len(out)
    ewa = _per_row(ewa_share_pct, n, out.index)
    coop = _per_row(cooperating_gemeinden, n, out.index)
    inputs: dict[str, tuple[pd.Series, pd.Series]] = {
        "share_below_30_pct": (out["share_below_30_pct"], _label(n, out.index, "gapmap run")),
        "synergy_deviation_pp": (
            out["committed_share_pct"] - ewa,
            pd.Series(
                np.where(
                    ewa.isna(),
                    "missing: EWA share of the Potenzialanalyse (user input)",
                    "gapmap run (committed) minus user input (EWA)",
                ),
                index=out.index,
            ),
        ),
        "density_per_km2": (out["density_per_km2"], _label(n, out.index, "gapmap run")),
        "cooperating_gemeinden": (
            coop.fillna(1.0),
            pd.Series(
                np.where(coop.isna(), "assumed 1 (user input)", cooperating_source), index=out.index
            ),
        ),
    }
    total = np.zeros(n)
    reachable = np.zeros(n)
    missing: list[list[str]] = [[] for _ in range(n)]
    for c in cat.criteria:
        value, source = inputs[c.input]
        pts = np.array([c.points(v) for v in value], dtype=float)
        out[f"kk_{c.id}_input"] = value.to_numpy(float)
        out[f"kk_{c.id}_source"] = source.to_numpy()
        out[f"kk_{c.id}_points"] = pts
        scored = np.isfinite(pts)
        total += np.where(scored, pts, 0.0)
        reachable += np.where(scored, pts, c.max_points)
        for i in np.flatnonzero(~scored):
            missing[i].append(c.label)
    threshold, _ = cat.fast_lane_on(as_of)
    out["kk_points"] = total
    out["kk_reachable"] = reachable
    out["kk_missing"] = ["; ".join(m) for m in missing]
    out["kk_fast_lane_points"] = threshold
    out["kk_status"] = np.where(
        total >= threshold,
        "fast lane",
        np.where(reachable >= threshold, "fast lane reachable with the missing inputs",
                 "standard call"),
    )  # fmt: skip
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((np.arange(n), -total))] = np.arange(1, n + 1)
    out["kk_rank"] = rank
    return out


def _per_row(value: pd.Series | float | None, n: int, index: pd.Index) -> pd.Series:
    if value is None:
        return pd.Series(np.full(n, np.nan), index=index)
    if isinstance(value, pd.Series):
        return pd.to_numeric(value.reindex(index), errors="coerce").astype(float)
    return pd.Series(np.full(n, float(value)), index=index)


def _label(n: int, index: pd.Index, text: str) -> pd.Series:
    return pd.Series([text] * n, index=index, dtype=object)


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells starting with = + - @ (or a tab / carriage return) get a leading apostrophe,
    so a spreadsheet shows them instead of running them."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            text = out[col].astype("string")
            risky = text.str.match(r"^[=+\-@\t\r]").fillna(False)
            out[col] = text.where(~risky, "'" + text)
    return out
