"""Settlement plan and address points for the synthetic Suedwestfalen demo (pure, no file I/O).

The plan is built once per seed at full scale (scale 1.0): town clusters around the real
GeoNames places, synthetic villages ("<Gemeinde> Ortsteil N") and a count of scattered
farmsteads per Gemeinde. Address points are then sampled from the plan at the requested
scale. Because the plan (and therefore the coverage built on it) does not depend on the
scale, a small test run shows the same geography and the same shape of outcome as a full run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

#: Region total the Gemeinde populations are scaled to (Suedwestfalen, ~1.4 M inhabitants).
TARGET_POPULATION = 1_400_000
#: Inhabitants per address point (Germany: ~3.7 inhabitants per residential building address).
PERSONS_PER_ADDRESS = 3.7
#: Floor on the population density (inh./km²) of a Gemeinde: GeoNames carries some Gemeinden
#: only as a small village (Ense) or not at all (Lippetal); this keeps them from being empty.
MIN_DENSITY = 70.0
#: Gross built-up area per address (m²) used to size a cluster: denser in towns.
TOWN_M2_PER_ADDRESS = 650.0
VILLAGE_M2_PER_ADDRESS = 1400.0
#: A town core is split into sub-clusters (quarters) of about this many addresses.
QUARTER_SIZE = 1200

KIND_TOWN = 0
KIND_VILLAGE = 1
KIND_SCATTERED = 2


@dataclass(frozen=True)
class SettlementPlan:
    """Where people live, at full scale.

    ``clusters`` has one row per town quarter or village: gem (index into the Gemeinde
    frame), ags, place, kind (KIND_TOWN | KIND_VILLAGE), settlement (id shared by the quarters
    of one town), cx, cy, sigma (m, spread of the Gaussian), n_full (expected addresses).
    ``scattered_full`` is the expected number of scattered farmsteads per Gemeinde,
    ``rurality`` 0 (dense town) .. 1 (thin upland) per Gemeinde, ``population`` the scaled
    inhabitants per Gemeinde.
    """

    clusters: pd.DataFrame
    scattered_full: np.ndarray
    rurality: np.ndarray
    population: np.ndarray


def base_name(name: str) -> str:
    """'Sundern (Sauerland)' -> 'Sundern': the short name used for synthetic Ortsteile."""
    return re.sub(r"\s*\(.*\)$", "", name).strip()


def gemeinde_population(gemeinden: gpd.GeoDataFrame, places: pd.DataFrame) -> np.ndarray:
    """Inhabitants per Gemeinde: sum of its places, floored by area, scaled to the region total."""
    pop = pd.to_numeric(places["population"], errors="coerce").fillna(0.0)
    sums = pop.groupby(places["ags"].to_numpy()).sum()
    raw = sums.reindex(gemeinden["ags"].to_numpy()).fillna(0.0).to_numpy(dtype=float)
    area_km2 = shapely.area(gemeinden.geometry.values) / 1e6
    raw = np.maximum(raw, MIN_DENSITY * area_km2)
    return raw * (TARGET_POPULATION / raw.sum())


def rurality(population: np.ndarray, area_km2: np.ndarray) -> np.ndarray:
    """0 for >= 700 inh./km² (Siegen, Lüdenscheid), 1 for <= 80 inh./km² (Hallenberg), log between."""
    dens = np.maximum(population / np.maximum(area_km2, 1e-9), 1.0)
    return np.clip((np.log10(700.0) - np.log10(dens)) / (np.log10(700.0) - np.log10(80.0)), 0, 1)


def uniform_in_polygon(
    poly: shapely.Geometry, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uniform points inside ``poly`` by rejection from its bounding box (vectorised)."""
    minx, miny, maxx, maxy = poly.bounds
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    have = 0
    fill = max(poly.area / ((maxx - minx) * (maxy - miny)), 0.05)
    while have < n:
        m = int((n - have) / fill * 1.2) + 16
        # centimetres: tidy files, and the containment test sees the stored coordinates
        x = np.round(rng.uniform(minx, maxx, m), 2)
        y = np.round(rng.uniform(miny, maxy, m), 2)
        ok = shapely.contains_xy(poly, x, y)
        xs.append(x[ok])
        ys.append(y[ok])
        have += int(ok.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def _spread_centres(
    poly: shapely.Geometry,
    fixed: np.ndarray,
    n: int,
    rng: np.random.Generator,
    min_dist: float,
) -> np.ndarray:
    """``n`` village centres inside ``poly``, kept ``min_dist`` apart from each other and ``fixed``.

    A greedy pass over uniform candidates (a cheap blue-noise): villages in the Sauerland are
    strung out along valleys, but evenly spread centres read as plausible at this scale.
    """
    cx, cy = uniform_in_polygon(poly, max(8 * n, 32), rng)
    chosen = [tuple(p) for p in fixed]
    out: list[tuple[float, float]] = []
    d = min_dist
    while len(out) < n:
        for x, y in zip(cx, cy, strict=True):
            if len(out) == n:
                break
            pts = np.asarray(chosen) if chosen else np.empty((0, 2))
            if len(pts) == 0 or np.min(np.hypot(pts[:, 0] - x, pts[:, 1] - y)) >= d:
                chosen.append((x, y))
                out.append((x, y))
        d *= 0.7  # crowded Gemeinde: relax the spacing and take another pass
    return np.asarray(out, dtype=float).reshape(-1, 2)


def plan_settlements(
    gemeinden: gpd.GeoDataFrame, places: pd.DataFrame, rng: np.random.Generator
) -> SettlementPlan:
    """Towns (from places), villages and scattered farms per Gemeinde, at full scale."""
    geoms = gemeinden.geometry.values
    shapely.prepare(geoms)
    area_km2 = shapely.area(geoms) / 1e6
    population = gemeinde_population(gemeinden, places)
    rural = rurality(population, area_km2)
    addresses = population / PERSONS_PER_ADDRESS
    # Share living in the town core(s): ~80 % in a dense town, ~30 % in the uplands.
    core_share = np.clip(0.8 - 0.5 * rural, 0.3, 0.8)
    scattered_share = 0.012 + 0.028 * rural

    place_pop = pd.to_numeric(places["population"], errors="coerce").fillna(0.0).to_numpy()
    rows: list[dict[str, object]] = []
    settlement = 0
    for g in range(len(gemeinden)):
        ags = str(gemeinden["ags"].iloc[g])
        poly = geoms[g]
        mine = np.flatnonzero(places["ags"].to_numpy() == ags)
        weights = place_pop[mine] + 1.0  # +1: a derived seat without population still counts
        core = addresses[g] * core_share[g]
        centres: list[tuple[float, float]] = []
        for i, w in zip(mine, weights / weights.sum(), strict=True):
            n_town = core * w
            px, py = float(places["x"].iloc[i]), float(places["y"].iloc[i])
            k = max(1, round(n_town / QUARTER_SIZE))
            radius = np.sqrt(n_town * TOWN_M2_PER_ADDRESS / np.pi)
            qx, qy = [px], [py]
            while len(qx) < k:  # quarters around the centre, inside the Gemeinde
                ang = rng.uniform(0, 2 * np.pi, 16)
                dist = radius * rng.uniform(0.45, 0.95, 16)
                x, y = px + dist * np.cos(ang), py + dist * np.sin(ang)
                ok = np.flatnonzero(shapely.contains_xy(poly, x, y))
                take = ok[: k - len(qx)]
                qx.extend(x[take])
                qy.extend(y[take])
            n_q = n_town / k
            sigma = np.sqrt(n_q * TOWN_M2_PER_ADDRESS / np.pi) / 1.4
            for x, y in zip(qx, qy, strict=True):
                rows.append(
                    {
                        "gem": g,
                        "ags": ags,
                        "place": str(places["name"].iloc[i]),
                        "kind": KIND_TOWN,
                        "settlement": settlement,
                        "cx": x,
                        "cy": y,
                        "sigma": sigma,
                        "n_full": n_q,
                    }
                )
                centres.append((x, y))
            settlement += 1

        # Villages: lognormal sizes (median ~90 addresses) until the rest is used up.
        rest = addresses[g] * (1.0 - core_share[g] - scattered_share[g])
        sizes: list[float] = []
        while sum(sizes) < rest:
            sizes.append(float(np.clip(rng.lognormal(np.log(90.0), 0.9), 12, 1500)))
        size_arr = np.asarray(sizes) * (rest / sum(sizes))
        spacing = 0.6 * np.sqrt(area_km2[g] * 1e6 / (len(size_arr) + len(centres)))
        vc = _spread_centres(poly, np.asarray(centres), len(size_arr), rng, spacing)
        # biggest villages first so "Ortsteil 1" is the largest one
        order = np.argsort(-size_arr, kind="stable")
        stem = base_name(str(gemeinden["name"].iloc[g]))
        for j, idx in enumerate(order, start=1):
            n_v = float(size_arr[idx])
            rows.append(
                {
                    "gem": g,
                    "ags": ags,
                    "place": f"{stem} Ortsteil {j}",
                    "kind": KIND_VILLAGE,
                    "settlement": settlement,
                    "cx": vc[idx, 0],
                    "cy": vc[idx, 1],
                    "sigma": np.sqrt(n_v * VILLAGE_M2_PER_ADDRESS / np.pi) / 1.4,
                    "n_full": n_v,
                }
            )
            settlement += 1

    clusters = pd.DataFrame(rows)
    clusters["kind"] = clusters["kind"].astype("int8")
    return SettlementPlan(
        clusters=clusters,
        scattered_full=addresses * scattered_share,
        rurality=rural,
        population=population,
    )


def _stochastic_round(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Round so the expectation is exact: 0.3 -> 1 with probability 0.3 (small scales)."""
    base = np.floor(values)
    return (base + (rng.random(len(values)) < values - base)).astype(np.int64)


def sample_points(
    plan: SettlementPlan, gemeinden: gpd.GeoDataFrame, scale: float, rng: np.random.Generator
) -> pd.DataFrame:
    """Address points at ``scale``: columns gem, cluster (-1 = scattered), kind, x, y.

    Cluster points are Gaussian around the cluster centre; points falling outside the
    Gemeinde are redrawn (vectorised, a few rounds), the last few are pulled to the centre,
    which lies inside by construction.
    """
    geoms = gemeinden.geometry.values
    shapely.prepare(geoms)
    cl = plan.clusters
    counts = _stochastic_round(cl["n_full"].to_numpy() * scale, rng)
    idx = np.repeat(np.arange(len(cl)), counts)
    gem = cl["gem"].to_numpy()[idx]
    cx, cy = cl["cx"].to_numpy()[idx], cl["cy"].to_numpy()[idx]
    sig = cl["sigma"].to_numpy()[idx]
    # rounded to centimetres before the containment test, so stored points are tested points
    x = np.round(cx + rng.normal(0, 1, len(idx)) * sig, 2)
    y = np.round(cy + rng.normal(0, 1, len(idx)) * sig, 2)
    todo = np.arange(len(idx))
    for attempt in range(12):
        bad = np.zeros(len(todo), dtype=bool)
        for g in np.unique(gem[todo]):
            sel = np.flatnonzero(gem[todo] == g)
            bad[sel] = ~shapely.contains_xy(geoms[g], x[todo[sel]], y[todo[sel]])
        todo = todo[bad]
        if len(todo) == 0:
            break
        if attempt == 11:  # stubborn points (centre near the border): put them on the centre
            x[todo], y[todo] = cx[todo], cy[todo]
            break
        x[todo] = np.round(cx[todo] + rng.normal(0, 1, len(todo)) * sig[todo], 2)
        y[todo] = np.round(cy[todo] + rng.normal(0, 1, len(todo)) * sig[todo], 2)

    parts = [
        pd.DataFrame(
            {"gem": gem, "cluster": idx, "kind": cl["kind"].to_numpy()[idx], "x": x, "y": y}
        )
    ]
    farms = _stochastic_round(plan.scattered_full * scale, rng)
    for g in np.flatnonzero(farms):
        fx, fy = uniform_in_polygon(geoms[g], int(farms[g]), rng)
        parts.append(
            pd.DataFrame({"gem": g, "cluster": -1, "kind": KIND_SCATTERED, "x": fx, "y": fy})
        )
    out = pd.concat(parts, ignore_index=True)
    out["kind"] = out["kind"].astype("int8")
    return out
