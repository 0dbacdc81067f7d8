"""The rural step of a cluster run (``gapmap cluster-run``): DEGURBA, rural gaps, INSPIRE grid
summaries, gap areas and project areas, equal to those of ``gapmap run`` on the same input
in the same row order, without the client ever holding all addresses.

The classified parts stay in the workers' memory (one future each); the workers sum what
sums (:mod:`coverage.cluster.rural_part`), the client computes what needs everything at
once on small tables, with the functions ``gapmap run`` calls:

1. survey (workers): 1 km household sums, project counts per AGS, the eligible rows in
   compact form and the nearest served row of their part;
2. DEGURBA (client): the summed cells (or the ``--population`` grid) classified per cell
   and Gemeinde (:func:`coverage.rural.analysis.degurba_tables`), sent to every worker;
3. near (workers): served rows nearer to an eligible row than its nearest so far, and
   every row within the disc radius of an eligible row;
4. gap areas (client; linkage, disc unions and cuts as tasks on the workers through
   ``client.get_executor()``): :func:`coverage.rural.analysis.gap_areas` over the eligible
   rows and the rows of step 3, in the input's row order. Gap areas depend on nothing else
   (see that function), so the areas, ids, polygons and cuts are those of the whole run;
5. flag (workers): each row's rural columns, the part written, record-key sums per
   (AGS | 100 m cell | 1 km cell, class, eligible, rural gap) for the tables.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from coverage.cluster.rural_part import GAP_COLUMNS, RuralTask, group_sums
from coverage.cluster.ship import broadcast
from coverage.costs import CostSet
from coverage.rural.analysis import (
    DEGURBA_GEMEINDE_COLUMNS,
    GRID_CRS,
    RuralOptions,
    RuralResult,
    degurba_tables,
    estimated_population_source,
    gap_areas,
    population_cells_1km,
    project_areas,
)
from coverage.rural.degurba import degurba_for_points, population_from_household_cells
from coverage.rural.grid_summary import summarise_cells

__all__ = ["ClusterRural", "rural_on_cluster"]

_DEGURBA_CELLS = ["cell_id", "x_ll", "y_ll", "population", "degurba_cell"]
_GRID = ["cell_id", "x_ll", "y_ll", "addresses"]


@dataclass
class ClusterRural:
    """What the rural step gives the run: the rural tables (``rural.address_columns`` is
    empty: the workers wrote those columns) and the record-key sums per group
    (``groups``: ``ags``, ``grid_100m``, ``grid_1km``; columns ``key``, ``class``,
    ``eligible``, ``rural_gap``, ``addresses``, ``households``, ``rk``, ``hk``)."""

    rural: RuralResult
    groups: dict[str, pd.DataFrame]
    #: rows the client held for the gap areas (eligible ones and those near them)
    compact_rows: int
    #: seconds per step (the first includes reading and classifying the parts)
    timings: dict[str, float]


def rural_on_cluster(
    client: Any,
    parts: list[Any],
    task: RuralTask,
    *,
    options: RuralOptions,
    gemeinden: gpd.GeoDataFrame | None,
    population: pd.DataFrame | None,
    population_source: str,
    fibre: np.ndarray | None,
    cost_set: CostSet,
) -> ClusterRural:
    """Run steps 1-5 of the module docstring over the futures ``parts`` (classified rows
    with coordinates, in the input's order); the parts are written by step 5."""
    clock = _Clock()
    surveys = client.gather([client.submit(task.survey, p, i) for i, p in enumerate(parts)])
    clock.done("classify and survey")

    # 2. DEGURBA on the client: a 1 km grid, small even for a country
    if task.inspire_grid:
        if population is None:
            cells = population_from_household_cells(
                pd.concat([s["cells"] for s in surveys], ignore_index=True),
                options.household_size,
            )
            source = estimated_population_source(options.household_size)
        else:
            cells = population_cells_1km(population)
            source = population_source or "population grid"
        degurba_cells, degurba_gemeinde = degurba_tables(cells, gemeinden, options.degurba)
    else:
        degurba_cells = pd.DataFrame(columns=_DEGURBA_CELLS)
        degurba_gemeinde = pd.DataFrame(columns=DEGURBA_GEMEINDE_COLUMNS)
        source = "not computed: the INSPIRE grid and DEGURBA are European"
    clock.done("degurba")

    # 3. the rows near the eligible ones, from every part
    eligible = pd.concat([s["eligible"] for s in surveys], ignore_index=True)
    bound = np.concatenate([s["near_dist"] for s in surveys])
    shared = broadcast(
        client,
        (eligible["x"].to_numpy(), eligible["y"].to_numpy(), eligible["part"].to_numpy(), bound),
    )
    near = client.gather([client.submit(task.near, p, i, shared) for i, p in enumerate(parts)])
    del shared
    clock.done("near")

    # 4. gap areas over the eligible rows and the rows near them, in the input's order
    compact = pd.concat(
        [eligible, *(s["served"] for s in surveys), *near], ignore_index=True
    ).drop_duplicates(["part", "row"])
    compact = compact.sort_values(["part", "row"], ignore_index=True)
    xy = (compact["x"].to_numpy(), compact["y"].to_numpy())
    if task.inspire_grid:
        gx, gy = Transformer.from_crs(task.crs, GRID_CRS, always_xy=True).transform(*xy)
        addr_cell = degurba_for_points(np.asarray(gx), np.asarray(gy), degurba_cells)
    else:
        addr_cell = np.zeros(len(compact), dtype=np.int8)
    # linkage, disc unions and non-member cuts as tasks on the cluster's workers; each task
    # carries its strip's points (a few MB, sent once), which Dask would warn about
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
        areas, area_ids = gap_areas(
            compact[list(GAP_COLUMNS)], xy, task.crs, addr_cell, options, cost_set, fibre,
            gemeinden, executor=client.get_executor(),
        )  # fmt: skip
    is_elig = compact["eligible"].to_numpy(bool)
    codes = np.asarray(area_ids.codes)[is_elig]
    split = np.cumsum([len(s["eligible"]) for s in surveys])[:-1]
    per_part = np.split(codes.astype(np.int64), split)
    clock.done("gap areas")

    # 5. rural columns and the parts written, on the workers
    cells_f = broadcast(client, degurba_cells[["x_ll", "y_ll", "degurba_cell"]])
    gemeinde_f = broadcast(client, degurba_gemeinde[["ags", "degurba"]])
    names_f = broadcast(client, area_ids.categories)
    flagged = client.gather(
        [
            client.submit(task.flag, p, i, cells_f, gemeinde_f, per_part[i], names_f)
            for i, p in enumerate(parts)
        ]
    )
    groups = {
        name: group_sums(pd.concat([f[name] for f in flagged], ignore_index=True))
        for name in flagged[0]
    } if flagged else {}  # fmt: skip

    clock.done("flag and write")
    counts = pd.concat([s["projects"] for s in surveys]).groupby(level=0, sort=True).sum()
    classes = set().union(*(s["classes"] for s in surveys))
    # without the INSPIRE grid, project areas know no Gemeinde population or area (as in run)
    projects = project_areas(
        counts, classes, areas, gemeinden if task.inspire_grid else None, degurba_gemeinde,
        options, cost_set,
    )  # fmt: skip
    grids = {
        size: _grid(groups.get(name)) for size, name in ((100, "grid_100m"), (1000, "grid_1km"))
    }
    result = RuralResult(
        pd.DataFrame(), degurba_cells, degurba_gemeinde, areas, grids[100], grids[1000],
        source, cost_set, projects,
    )  # fmt: skip
    clock.done("tables")
    return ClusterRural(result, groups, len(compact), clock.timings)


def _grid(groups: pd.DataFrame | None) -> pd.DataFrame:
    """The exact grid summary of one cell size from the groups' sums."""
    if groups is None or not len(groups):
        return pd.DataFrame(columns=_GRID)
    return summarise_cells(
        groups["key"].astype("string"),
        households=groups["households"],
        eligible=groups["eligible"],
        rural_gap=groups["rural_gap"],
        address_class=groups["class"],
        count=groups["addresses"],
    )


class _Clock:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._t = time.perf_counter()

    def done(self, step: str) -> None:
        now = time.perf_counter()
        self.timings[step] = round(now - self._t, 3)
        self._t = now
