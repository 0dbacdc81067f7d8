"""Areas that make sense as projects: costs, minimum viable areas, the scattered remainder,
project areas per Gemeinde, and gapmap's screening rank.

:func:`finish_areas` takes the clusters of :func:`coverage.rural.gaps.find_gap_areas` and

1. prices each one as a range with the region's cost set (:func:`coverage.rural.costs.area_costs`);
2. applies the minimum viable area of the cost set: a cluster with fewer than
   ``min_addresses`` addresses, or (when the set has a cost rule) a central cost per
   connection above ``max_per_connection``, is not a project on its own. All such clusters
   of one Gemeinde become one row of kind ``remainder`` ("scattered remainder",
   id ``GA-<ags>-REST``) whose lengths, counts and costs are the sums of its clusters;
3. ranks the remaining clusters by the screening score (remainder rows are not ranked).

:func:`gemeinde_projects` sums everything per Gemeinde: the project area a German application
is made for, with addresses, eligible households, cost range, cost per home passed and per
connection, and the inputs of the official Kriterienkatalog that a run can know.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from coverage.costs import CostSet
from coverage.rural.costs import LEVELS, ScreeningWeights, area_costs, screening_score

_SUMMED = [
    "addresses", "households", "n_school", "n_hospital", "n_business", "focal_points",
    "area_km2", "trench_intra_m", "link_m", "trench_m", "route_m",
    *(f"cost_{lv}" for lv in LEVELS),
]  # fmt: skip
_SHARES = ["share_rural", "share_cluster", "share_centre", "share_white"]


def _per_address(frame: pd.DataFrame) -> None:
    """Cost per home passed / per connection and the private-threshold test from the sums."""
    n = frame["addresses"].to_numpy(float)
    conn = frame.attrs["connection"]
    with np.errstate(invalid="ignore", divide="ignore"):
        for i, lv in enumerate(LEVELS):
            total = frame[f"cost_{lv}"].to_numpy(float)
            frame[f"per_connection_{lv}"] = np.where(n > 0, total / n, np.nan)
            frame[f"per_home_passed_{lv}"] = np.where(n > 0, total / n - conn[i], np.nan)


def dissolve(geoms: npt.NDArray[np.object_]) -> shapely.Geometry:
    """The union of polygons that mostly do not meet (the clusters of a remainder).

    Only the groups of polygons that meet are united (by overlay); the parts of the rest
    are collected as they are. The same points as ``union_all``, far faster when most
    polygons stand apart.
    """
    geoms = geoms[~shapely.is_empty(geoms)]
    if geoms.size < 2:
        return shapely.union_all(geoms)
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pair = i < j
    _, group = connected_components(
        sparse.coo_matrix((np.ones(int(pair.sum())), (i[pair], j[pair])), shape=(geoms.size,) * 2),
        directed=False,
    )
    order = np.argsort(group, kind="stable")
    cuts = np.flatnonzero(np.diff(group[order])) + 1
    parts = []
    for rows in np.split(order, cuts):
        piece = geoms[rows[0]] if rows.size == 1 else shapely.union_all(geoms[rows])
        parts.extend(p for p in shapely.get_parts(piece) if p.geom_type == "Polygon")
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def finish_areas(
    areas: gpd.GeoDataFrame,
    address_area: npt.NDArray[np.int64],
    costs: CostSet,
    weights: ScreeningWeights | None = None,
) -> tuple[gpd.GeoDataFrame, npt.NDArray[np.int64]]:
    """Cost ranges, minimum viable areas with one scattered remainder per Gemeinde, and the
    screening rank (see the module docstring).

    Returns the areas (clusters first, in their order, then one remainder row per Gemeinde
    that has one, by AGS) and each address's row among them (-1: none). New columns:
    ``kind`` ("cluster" / "remainder"), ``clusters`` (1, or how many a remainder holds),
    ``currency``, ``route_m``, ``cost_{low,central,high}``, ``per_home_passed_*``,
    ``per_connection_*``, ``above_private_threshold``, ``screening_score`` (0..100, NaN for a
    remainder) and ``screening_rank`` (1 = first; NA for a remainder).
    """
    priced = area_costs(areas["trench_intra_m"], areas["link_m"], areas["addresses"], costs)
    out = pd.DataFrame(areas.drop(columns=areas.geometry.name)).reset_index(drop=True)
    out = pd.concat([out, priced], axis=1)
    out["kind"], out["clusters"] = "cluster", 1
    small = out["addresses"].to_numpy() < costs.min_addresses
    if costs.max_per_connection > 0:
        small |= out["per_connection_central"].to_numpy(float) > costs.max_per_connection
    geoms = np.asarray(areas.geometry.values, dtype=object)
    keep = np.flatnonzero(~small)
    kept = out.iloc[keep].reset_index(drop=True)
    rest = out.iloc[np.flatnonzero(small)]
    new_row = np.full(len(out), -1, dtype=np.int64)
    new_row[keep] = np.arange(keep.size)
    rows, rest_geoms = [], []
    if len(rest):
        key = rest["ags"].astype("string").fillna("NA")
        for i, (ags, group) in enumerate(rest.groupby(key, sort=True)):
            row = {c: group[c].sum() for c in _SUMMED if c in group}
            n = max(row["addresses"], 1)
            for c in _SHARES:
                row[c] = float((group[c] * group["addresses"]).sum() / n)
            row.update(
                area_id=f"GA-{ags}-REST",
                ags=None if ags == "NA" else ags,
                kind="remainder",
                clusters=len(group),
                distance_to_served_m=group["distance_to_served_m"].max(),
                link_to=pd.NA,
                density_per_km2=row["addresses"] / row["area_km2"] if row["area_km2"] else np.nan,
                addresses_per_route_km=row["addresses"] / (row["trench_m"] / 1000.0)
                if row["trench_m"]
                else np.nan,
            )
            rows.append(row)
            rest_geoms.append(dissolve(geoms[group.index.to_numpy()]))
            new_row[group.index.to_numpy()] = keep.size + i
    frame = pd.concat([kept, pd.DataFrame(rows)], ignore_index=True) if rows else kept
    frame = frame.astype({"kind": "string", "clusters": "int64", "area_id": "string"})
    frame.attrs["connection"] = costs.connection_cost()
    _per_address(frame)
    frame.attrs.clear()
    frame["above_private_threshold"] = (
        frame["per_home_passed_central"].to_numpy(float) > costs.private_threshold
    )
    frame["currency"] = costs.currency
    cluster = (frame["kind"] == "cluster").to_numpy()
    score = np.full(len(frame), np.nan)
    score[cluster] = screening_score(
        frame.loc[cluster, "share_white"], frame.loc[cluster, "share_rural"],
        frame.loc[cluster, "per_connection_central"], frame.loc[cluster, "addresses"],
        weights or ScreeningWeights(),
    )  # fmt: skip
    frame["screening_score"] = score
    rank = pd.array([pd.NA] * len(frame), dtype="Int64")
    pos = np.flatnonzero(cluster)
    order = pos[np.lexsort((pos, -score[pos]))]
    rank[order] = np.arange(1, order.size + 1)
    frame["screening_rank"] = rank
    for col in ("addresses", "households", "n_school", "n_hospital", "n_business", "focal_points"):
        frame[col] = frame[col].astype("int64")
    all_geoms = np.concatenate([geoms[keep], np.asarray(rest_geoms, dtype=object)])
    mapped = np.where(address_area >= 0, new_row[np.maximum(address_area, 0)], -1)
    return gpd.GeoDataFrame(frame, geometry=all_geoms, crs=areas.crs), mapped


def gemeinde_projects(
    addresses: pd.DataFrame,
    areas: pd.DataFrame,
    *,
    served_class: str | None,
    population: pd.Series | None,
    area_km2: pd.Series | None,
    costs: CostSet,
) -> pd.DataFrame:
    """One project area per Gemeinde: all its eligible addresses and all its gap areas.

    ``addresses`` needs ``ags``, ``eligible``, ``households``, ``best_down_mbps``, ``class``.
    ``served_class``: the class of gigabit-served addresses (now or committed/planned; "gigabit"
    under Gigabit-RL 2.0), None when the profile has none. ``population`` and ``area_km2``
    are per AGS (None: unknown).

    Columns: ``ags``, ``addresses_total`` (all addresses of the Gemeinde), ``addresses``
    (eligible), ``eligible_households``, ``below_30`` (eligible addresses whose best existing
    offer is below 30 Mbit/s down or missing), ``share_below_30_pct`` (below_30 / all
    addresses x 100), ``committed_share_pct`` (served_class share x 100), ``gap_areas``,
    ``remainder_addresses``, ``cost_*``, ``per_connection_*``, ``per_home_passed_*``, ``currency``, ``population``,
    ``area_km2``, ``density_per_km2``.
    """
    counts = project_counts(addresses, served_class)
    return projects_from_counts(
        counts, areas, served_class=served_class, population=population, area_km2=area_km2,
        costs=costs,
    )  # fmt: skip


def project_counts(addresses: pd.DataFrame, served_class: str | None) -> pd.DataFrame:
    """Per AGS (index, sorted): ``addresses_total``, ``addresses`` (eligible),
    ``eligible_households``, ``below_30`` and ``served`` (class ``served_class``): sums, so
    the tables of parts of the addresses add up (a cluster run sums them per AGS)."""
    ags = addresses["ags"].astype("string")
    elig = addresses["eligible"].to_numpy(dtype=bool)
    down = pd.to_numeric(addresses["best_down_mbps"], errors="coerce").to_numpy(float)
    below = elig & ~(down >= 30.0)
    hh = pd.to_numeric(addresses["households"], errors="coerce").fillna(0).to_numpy(float)
    served = (addresses["class"] == served_class).fillna(False).to_numpy(bool)
    frame = pd.DataFrame({"ags": ags, "elig": elig, "below": below, "hh": np.where(elig, hh, 0.0),
                          "served": served})  # fmt: skip
    per = frame.groupby("ags", sort=True).agg(
        addresses_total=("elig", "size"), addresses=("elig", "sum"),
        eligible_households=("hh", "sum"), below_30=("below", "sum"), served=("served", "sum"),
    )  # fmt: skip
    return per


def projects_from_counts(
    counts: pd.DataFrame,
    areas: pd.DataFrame,
    *,
    served_class: str | None,
    population: pd.Series | None,
    area_km2: pd.Series | None,
    costs: CostSet,
) -> pd.DataFrame:
    """:func:`gemeinde_projects` from :func:`project_counts` (of all addresses, or summed
    over parts of them)."""
    per = counts.copy()
    per["share_below_30_pct"] = 100.0 * per["below_30"] / per["addresses_total"]
    per["committed_share_pct"] = (
        100.0 * per["served"] / per["addresses_total"] if served_class else np.nan
    )
    per = per.drop(columns="served")
    cost_cols = [f"cost_{lv}" for lv in LEVELS]
    a = pd.DataFrame(areas).assign(ags=lambda f: f["ags"].astype("string"))
    sums = a.groupby("ags").agg(
        gap_areas=("kind", lambda k: int((k == "cluster").sum())),
        **{c: (c, "sum") for c in cost_cols},
    )
    rest = a[a["kind"] == "remainder"].set_index("ags")["addresses"].rename("remainder_addresses")
    per = per.join(sums, how="left").join(rest, how="left")
    per[["gap_areas", "remainder_addresses"]] = (
        per[["gap_areas", "remainder_addresses"]].fillna(0).astype("int64")
    )
    per[cost_cols] = per[cost_cols].fillna(0.0)
    n = per["addresses"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        for lv in LEVELS:
            per[f"per_connection_{lv}"] = np.where(n > 0, per[f"cost_{lv}"] / n, np.nan)
        for lv, conn in zip(LEVELS, costs.connection_cost(), strict=True):
            per[f"per_home_passed_{lv}"] = per[f"per_connection_{lv}"] - conn
    per["currency"] = costs.currency
    per["population"] = population.reindex(per.index) if population is not None else np.nan
    per["area_km2"] = area_km2.reindex(per.index) if area_km2 is not None else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        per["density_per_km2"] = per["population"] / per["area_km2"]
    out = per.reset_index()
    return out.astype({"addresses": "int64", "below_30": "int64", "addresses_total": "int64"})


def polygon_projects(
    addresses: gpd.GeoDataFrame,
    areas: pd.DataFrame,
    polygons: gpd.GeoDataFrame,
    gemeinden: pd.DataFrame,
    *,
    name_column: str | None = None,
) -> pd.DataFrame:
    """Project areas drawn by the user (a German application is for a Projektgebiet).

    Each polygon holds the eligible addresses it covers. Its cost is apportioned: every
    eligible address inside carries its gap area's cost divided by that area's addresses. The
    Kriterienkatalog measures the Gemeinden of the application, so ``share_below_30_pct`` is
    the polygon's addresses below 30 Mbit/s over all addresses of the Gemeinden it touches,
    and ``committed_share_pct``, population, area and density are those Gemeinden's
    (``gemeinden``: rows of :func:`gemeinde_projects`). ``cooperating`` = Gemeinden touched.
    All in the CRS of ``addresses``; ``polygons`` must share it.
    """
    from coverage.kernel.join import points_in_polygons

    pts = addresses.geometry.values
    a_idx, p_idx = points_in_polygons(
        np.asarray(pts.x), np.asarray(pts.y), np.asarray(polygons.geometry.values, dtype=object)
    )
    elig = addresses["eligible"].to_numpy(dtype=bool)
    down = pd.to_numeric(addresses["best_down_mbps"], errors="coerce").to_numpy(float)
    hh = pd.to_numeric(addresses["households"], errors="coerce").fillna(0).to_numpy(float)
    per_addr = pd.DataFrame(areas).set_index("area_id")
    gem = gemeinden.assign(ags=gemeinden["ags"].astype("string")).set_index("ags")
    area_ids = addresses["gap_area_id"].astype("string").to_numpy(dtype=object)
    rows = []
    for k in range(len(polygons)):
        inside = a_idx[p_idx == k]
        inside = inside[elig[inside]]
        touched = sorted(
            set(addresses["ags"].astype("string").to_numpy(dtype=object)[inside]) - {pd.NA}
        )
        g = gem.reindex(touched)
        n_all = g["addresses_total"].sum()
        row: dict[str, object] = {
            "project": str(polygons[name_column].iloc[k]) if name_column else f"polygon {k + 1}",
            "ags": "+".join(touched),
            "cooperating": len(touched),
            "addresses_total": int(n_all),
            "addresses": int(inside.size),
            "eligible_households": float(hh[inside].sum()),
            "below_30": int((~(down[inside] >= 30.0)).sum()),
        }
        row["share_below_30_pct"] = 100.0 * row["below_30"] / n_all if n_all else np.nan  # type: ignore[operator]
        row["committed_share_pct"] = (
            (g["committed_share_pct"] * g["addresses_total"]).sum() / n_all if n_all else np.nan
        )
        pop, km2 = g["population"].sum(min_count=1), g["area_km2"].sum(min_count=1)
        row.update(population=pop, area_km2=km2, density_per_km2=pop / km2 if km2 else np.nan)
        ids = pd.Series(area_ids[inside]).dropna()
        known = ids[ids.isin(per_addr.index)]
        n_area = per_addr.loc[known, "addresses"].to_numpy(float)
        for lv in LEVELS:
            row[f"cost_{lv}"] = float(
                (per_addr.loc[known, f"cost_{lv}"].to_numpy(float) / n_area).sum()
            )
            row[f"per_connection_{lv}"] = row[f"cost_{lv}"] / inside.size if inside.size else np.nan  # type: ignore[operator]
        row["currency"] = per_addr["currency"].iloc[0] if len(per_addr) else ""
        rows.append(row)
    return pd.DataFrame(rows)
