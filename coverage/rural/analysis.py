"""The rural step of a run: DEGURBA per cell, address and Gemeinde; rural gaps; grid summaries; gap areas.

Pure: frames in, frames out. The pipeline reads the population grid (if any) and writes the
outputs. Coordinates arrive in EPSG:25832 (metres) and are transformed once to EPSG:3035 for
the INSPIRE grid, whose cell ids match Zensus and Breitbandatlas cells.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from coverage.aggregate import ags_prefix_codes
from coverage.costs import CostSet, load_costs
from coverage.errors import InputDataError
from coverage.kernel.join import points_in_polygons
from coverage.rural.area_shape import refine_area_polygons
from coverage.rural.degurba import (
    DegurbaParams,
    classify_cells,
    classify_municipalities,
    degurba_for_points,
    population_from_addresses,
    rural_gap,
)
from coverage.rural.gaps import GapParams, find_gap_areas
from coverage.rural.grid_summary import (
    inspire_cell_ids,
    parse_inspire_cell_ids,
    summarise_grid,
)
from coverage.rural.gridcells import inspire_cell_categorical
from coverage.rural.projects import finish_areas, project_counts, projects_from_counts

GRID_CRS = "EPSG:3035"


@dataclass(frozen=True)
class RuralOptions:
    """Settings of the rural step (all documented in the README)."""

    rural_rule: Literal["cell", "municipality", "both"] = "cell"
    household_size: float = 2.1
    degurba: DegurbaParams = field(default_factory=DegurbaParams)
    gaps: GapParams = field(default_factory=GapParams)
    #: cost set: a bundled region id or a TOML path; "" = the run's region (coverage.costs)
    costs: str = ""
    #: the class of gigabit-served addresses (now or planned), for the committed share of
    #: the Kriterienkatalog; None = none in this profile
    served_class: str | None = "gigabit"


@dataclass
class RuralResult:
    address_columns: (
        pd.DataFrame
    )  # degurba_cell, degurba_gemeinde, rural_gap, cell_100m, cell_1km, gap_area_id
    degurba_cells: pd.DataFrame
    degurba_gemeinde: pd.DataFrame
    gap_areas: gpd.GeoDataFrame
    grid_100m: pd.DataFrame
    grid_1km: pd.DataFrame
    population_source: str
    cost_set: CostSet | None = None
    #: one project area per Gemeinde (coverage.rural.projects.gemeinde_projects)
    project_areas: pd.DataFrame = field(default_factory=pd.DataFrame)


def estimated_population_source(household_size: float) -> str:
    """The manifest's population source when it is estimated from the addresses."""
    return f"estimated from address households x {household_size} inhabitants"


def population_cells_1km(cells: pd.DataFrame) -> pd.DataFrame:
    """A 1 km cell table (cell_id, x_ll, y_ll, population) from 100 m or 1 km INSPIRE cells.

    ``cells`` needs ``cell_id`` (INSPIRE ids) and ``population`` (NA = no value, counted 0).
    100 m cells are summed into their 1 km parents.
    """
    if "cell_id" not in cells or "population" not in cells:
        raise InputDataError("population grid needs cell_id and population columns")
    parsed = parse_inspire_cell_ids(cells["cell_id"].astype("string"))
    pop = pd.to_numeric(cells["population"], errors="coerce").fillna(0).clip(lower=0)
    x_ll = (parsed["x_ll"].to_numpy(dtype="int64") // 1000) * 1000
    y_ll = (parsed["y_ll"].to_numpy(dtype="int64") // 1000) * 1000
    frame = pd.DataFrame({"x_ll": x_ll, "y_ll": y_ll, "population": pop.to_numpy(dtype="float64")})
    out = frame.groupby(["x_ll", "y_ll"], sort=True).sum().reset_index()
    ids = inspire_cell_ids(out["x_ll"].to_numpy() + 500, out["y_ll"].to_numpy() + 500, 1000)
    out.insert(0, "cell_id", pd.array(ids, dtype="string"))
    return out


def cell_municipality(cells: pd.DataFrame, gemeinden: gpd.GeoDataFrame) -> pd.Series:
    """cell_id -> ags of the Gemeinde holding the cell midpoint (cells outside are left out)."""
    to_work = Transformer.from_crs(GRID_CRS, gemeinden.crs, always_xy=True)
    cx, cy = to_work.transform(cells["x_ll"].to_numpy() + 500.0, cells["y_ll"].to_numpy() + 500.0)
    order = np.argsort(gemeinden["ags"].to_numpy().astype(str), kind="stable")
    c_idx, g_idx = points_in_polygons(
        np.asarray(cx), np.asarray(cy), np.asarray(gemeinden.geometry.values[order], dtype=object)
    )
    first = np.unique(c_idx, return_index=True)[1]
    ags = gemeinden["ags"].to_numpy()[order][g_idx[first]]
    return pd.Series(ags, index=cells["cell_id"].to_numpy()[c_idx[first]], name="ags")


def analyse_rural(
    addresses: pd.DataFrame,
    gemeinden: gpd.GeoDataFrame | None,
    *,
    xy: tuple[np.ndarray, np.ndarray],
    crs: str,
    population: pd.DataFrame | None = None,
    population_source: str = "",
    options: RuralOptions = RuralOptions(),
    inspire_grid: bool = True,
    region: str = "de",
    fibre: np.ndarray | None = None,
    executor: Executor | None = None,
    partition_points: int | None = None,
) -> RuralResult:
    """DEGURBA classes, rural gaps, INSPIRE grid summaries and gap areas for classified addresses.

    Parameters
    ----------
    addresses
        Per-address results: ``ags``, ``households``, ``site_type``, ``class``,
        ``eligible``, ``networks_now``.
    gemeinden
        Gemeinde polygons (ags) in the same CRS, for municipality DEGURBA classes; None skips them.
    population
        INSPIRE cell table (``cell_id``, ``population``), 100 m or 1 km; None estimates the
        population from the addresses' households x ``options.household_size``.
    xy, crs
        The addresses' coordinates in the projected working CRS ``crs`` (EPSG:25832 in
        Germany): arrays, not Point objects (216 bytes each: 1 GB per 5M addresses).

    region, fibre
        The run's region code (picks the cost set unless ``options.costs`` names one) and
        the geometries of a user fibre layer in ``crs`` (None: link to served addresses only).
    executor, partition_points
        Where the gap areas' linkage, disc unions and cuts run (:mod:`coverage.rural.partition`):
        None, in this process; else as tasks on the executor (threads, processes or a Dask
        cluster's ``client.get_executor()``), in strips of about ``partition_points``
        locations. The result is the same.

    Returns
    -------
    RuralResult. Grid summaries hold exact counts (their public versions come from
    :mod:`coverage.privacy.public`).
    Outside Europe (``inspire_grid`` False) there is no INSPIRE grid and no DEGURBA: cell
    classes are 0 (unknown), no address is a rural gap, grid summaries are empty, and gap
    areas are still built.
    """
    cost_set = load_costs(options.costs or region)
    if not inspire_grid:
        return _without_grid(
            addresses, xy, crs, options, cost_set, fibre, gemeinden,
            executor=executor, partition_points=partition_points,
        )  # fmt: skip
    to_grid = Transformer.from_crs(crs, GRID_CRS, always_xy=True)
    gx, gy = (np.asarray(a) for a in to_grid.transform(*xy))

    if population is None:
        cells = population_from_addresses(
            gx, gy, addresses["households"].to_numpy(), options.household_size
        )
        source = estimated_population_source(options.household_size)
    else:
        cells = population_cells_1km(population)
        source = population_source or "population grid"
    degurba_cells, degurba_gemeinde = degurba_tables(cells, gemeinden, options.degurba)
    addr_cell = degurba_for_points(gx, gy, degurba_cells)
    addr_muni = municipality_classes(addresses["ags"], degurba_gemeinde)

    eligible = addresses["eligible"].to_numpy(dtype=bool)
    gaps = rural_gap(eligible, addr_cell, addr_muni, options.rural_rule)

    klass = addresses["class"]  # a categorical: its codes are counted, not 5M strings
    households = addresses["households"].to_numpy()

    def grid(size: int) -> tuple[pd.Series, pd.DataFrame]:
        cells = inspire_cell_categorical(gx, gy, size)  # once for grids and addresses
        return cells, summarise_grid(gx, gy, size_m=size, households=households,
                                     eligible=eligible, rural_gap=gaps, address_class=klass,
                                     cells=cells)  # fmt: skip

    # the gap areas first, then the grid summaries in this thread: beside the gap areas (on a
    # thread of their own) they slowed the linkage by a third, which already keeps the cores
    # busy with its strips, and the step as a whole gained nothing (docs/performance.md)
    areas, area_ids = gap_areas(
        addresses, xy, crs, addr_cell, options, cost_set, fibre, gemeinden,
        executor=executor, partition_points=partition_points,
    )  # fmt: skip
    cells, grids = {}, {}
    for size in (100, 1000):
        cells[size], grids[size] = grid(size)
    projects = _projects(addresses, areas, gemeinden, degurba_gemeinde, options, cost_set)
    columns = pd.DataFrame(
        {
            "degurba_cell": addr_cell,
            "degurba_gemeinde": addr_muni,
            "rural_gap": gaps,
            "cell_100m": cells[100].array,
            "cell_1km": cells[1000].array,
            "gap_area_id": area_ids,
        },
        index=addresses.index,
    )
    return RuralResult(
        columns, degurba_cells, degurba_gemeinde, areas, grids[100], grids[1000], source,
        cost_set, projects,
    )  # fmt: skip


def degurba_tables(
    cells: pd.DataFrame, gemeinden: gpd.GeoDataFrame | None, params: DegurbaParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """DEGURBA per 1 km cell of a population cell table, and per Gemeinde (empty table
    without Gemeinden)."""
    degurba_cells = classify_cells(cells, params)
    if gemeinden is None or not len(gemeinden):
        return degurba_cells, pd.DataFrame(columns=_DEGURBA_GEMEINDE_COLUMNS)
    link = cell_municipality(degurba_cells, gemeinden)
    return degurba_cells, classify_municipalities(degurba_cells, link, params)


def municipality_classes(ags: pd.Series, degurba_gemeinde: pd.DataFrame) -> np.ndarray:
    """The DEGURBA class of each address's Gemeinde (0: unknown)."""
    if not len(degurba_gemeinde):
        return np.zeros(len(ags), dtype=np.int8)
    by_ags = degurba_gemeinde.set_index("ags")["degurba"]
    return ags.map(by_ags).fillna(0).to_numpy(dtype=np.int8)


def _projects(
    addresses: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    gemeinden: gpd.GeoDataFrame | None,
    degurba_gemeinde: pd.DataFrame,
    options: RuralOptions,
    cost_set: CostSet,
) -> pd.DataFrame:
    """Project areas per Gemeinde, with population (DEGURBA table) and area (boundaries)."""
    counts = project_counts(addresses, options.served_class)
    classes = set(addresses["class"])
    return project_areas(counts, classes, areas, gemeinden, degurba_gemeinde, options, cost_set)


def project_areas(
    counts: pd.DataFrame,
    classes: set[str],
    areas: gpd.GeoDataFrame,
    gemeinden: gpd.GeoDataFrame | None,
    degurba_gemeinde: pd.DataFrame,
    options: RuralOptions,
    cost_set: CostSet,
) -> pd.DataFrame:
    """Project areas per Gemeinde from :func:`coverage.rural.projects.project_counts` with
    ``options.served_class`` (summed over parts of the addresses, or of all), the classes
    the addresses have, the gap areas, the Gemeinden and their DEGURBA table."""
    population = area = None
    if len(degurba_gemeinde):
        population = degurba_gemeinde.set_index(degurba_gemeinde["ags"].astype("string"))[
            "population"
        ]
    if gemeinden is not None and len(gemeinden):
        area = (
            pd.Series(
                gemeinden.geometry.area.to_numpy() / 1e6,
                index=pd.Index(gemeinden["ags"].astype("string")),
            )
            .groupby(level=0)
            .sum()
        )
    served = options.served_class if options.served_class in classes else None
    return projects_from_counts(counts, areas, served_class=served, population=population,
                                area_km2=area, costs=cost_set)  # fmt: skip


def gap_areas(
    addresses: pd.DataFrame,
    xy: tuple[np.ndarray, np.ndarray],
    crs: str,
    addr_cell: np.ndarray,
    options: RuralOptions,
    cost_set: CostSet,
    fibre: np.ndarray | None,
    gemeinden: gpd.GeoDataFrame | None = None,
    executor: Executor | None = None,
    partition_points: int | None = None,
) -> tuple[gpd.GeoDataFrame, pd.Categorical]:
    """Gap areas (costed, remainders, clipped, non-members cut out) and each address's area.

    ``addresses`` needs ``eligible``, ``networks_now``, ``best_technology``, ``households``,
    ``site_type``, ``ags``; ``addr_cell`` is its DEGURBA cell class. The result depends
    only on the eligible rows, on each one's nearest served row (a link technology of the
    cost set) and on the rows an area polygon holds (all within the disc radius of an
    eligible row), each in its order among the rows: any subset of rows holding these, in
    the same order, gives the same areas (a cluster run passes such a subset).
    """
    eligible = addresses["eligible"].to_numpy(dtype=bool)
    white = addresses["networks_now"].to_numpy() == 0
    served = link_served(addresses["best_technology"], cost_set)
    areas, area_pos = find_gap_areas(
        xy[0], xy[1], eligible, served,
        addresses["households"].to_numpy(), addresses["site_type"],
        addresses["ags"], addr_cell,
        white=white, fibre=fibre, params=options.gaps, crs=str(crs),
        executor=executor, partition_points=partition_points,
    )  # fmt: skip
    areas, area_pos = finish_areas(areas, area_pos, cost_set)
    # clipped to the Gemeinden, non-members cut out, named after all their Gemeinden
    areas = refine_area_polygons(
        areas, area_pos, xy[0], xy[1], addresses["ags"], gemeinden,
        executor=executor, partition_points=partition_points,
    )  # fmt: skip
    # area ids are unique: the area's row is the code of a categorical (-1: no area)
    names = pd.Index(areas["area_id"].to_numpy() if len(areas) else [], dtype="string")
    return areas, pd.Categorical.from_codes(
        area_pos if len(areas) else np.full(len(addresses), -1), names
    )


def link_served(best_technology: pd.Series, cost_set: CostSet) -> np.ndarray:
    """Addresses a gap area can link to: the link goes to a gigabit-capable wired network
    (the cost set's link technologies), never to a merely non-eligible address."""
    # on the categories, not on millions of strings
    return np.asarray(best_technology.isin(cost_set.link_technologies), dtype=bool)


_DEGURBA_GEMEINDE_COLUMNS = [
    "ags", "population", "share_urban_centre", "share_urban_cluster", "share_rural", "degurba",
]  # fmt: skip
#: the columns of the DEGURBA table per Gemeinde (an empty one has them too)
DEGURBA_GEMEINDE_COLUMNS = _DEGURBA_GEMEINDE_COLUMNS


def _without_grid(
    addresses: pd.DataFrame,
    xy: tuple[np.ndarray, np.ndarray],
    crs: str,
    options: RuralOptions,
    cost_set: CostSet,
    fibre: np.ndarray | None,
    gemeinden: gpd.GeoDataFrame | None = None,
    executor: Executor | None = None,
    partition_points: int | None = None,
) -> RuralResult:
    n = len(addresses)
    unknown = np.zeros(n, dtype=np.int8)
    areas, area_ids = gap_areas(
        addresses, xy, crs, unknown, options, cost_set, fibre, gemeinden,
        executor=executor, partition_points=partition_points,
    )  # fmt: skip
    projects = _projects(addresses, areas, None, pd.DataFrame(), options, cost_set)
    columns = pd.DataFrame(
        {
            "degurba_cell": unknown,
            "degurba_gemeinde": unknown,
            "rural_gap": np.zeros(n, dtype=bool),
            "cell_100m": pd.array([None] * n, dtype="string"),
            "cell_1km": pd.array([None] * n, dtype="string"),
            "gap_area_id": area_ids,
        },
        index=addresses.index,
    )
    empty_cells = pd.DataFrame(columns=["cell_id", "x_ll", "y_ll", "population", "degurba_cell"])
    empty_grid = pd.DataFrame(columns=["cell_id", "x_ll", "y_ll", "addresses"])
    return RuralResult(
        columns,
        empty_cells,
        pd.DataFrame(columns=_DEGURBA_GEMEINDE_COLUMNS),
        areas,
        empty_grid,
        empty_grid,
        "not computed: the INSPIRE grid and DEGURBA are European",
        cost_set,
        projects,
    )


def rural_counts(
    per_address: pd.DataFrame, *, digits: int, count: str | None = None
) -> pd.DataFrame:
    """Rural-gap addresses and households per AGS prefix (8 = Gemeinde, 5 = Kreis).

    ``count``: the column of addresses each row stands for (grouped rows), None: one each.
    """
    key, keys = ags_prefix_codes(per_address["ags"], digits)
    gap = per_address["rural_gap"].to_numpy(dtype=bool)
    n = np.ones(len(gap)) if count is None else per_address[count].to_numpy(float)
    hh = pd.to_numeric(per_address["households"], errors="coerce").fillna(0).to_numpy("int64")
    used = np.bincount(key, minlength=len(keys)) > 0
    out = pd.DataFrame(
        {
            "ags": pd.array(keys[used], dtype="string"),
            "rural_gap": np.bincount(key, weights=gap * n, minlength=len(keys))[used],
            "rural_gap_households": np.bincount(
                key, weights=np.where(gap, hh, 0), minlength=len(keys)
            )[used],
        }
    )
    return out.astype({"rural_gap": "int64", "rural_gap_households": "int64"})
