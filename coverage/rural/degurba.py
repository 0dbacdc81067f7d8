"""Eurostat degree of urbanisation (DEGURBA) on a 1 km population grid in EPSG:3035.

Two code lists, which run in opposite directions (as Eurostat publishes them):

* grid cells: ``3`` urban centre, ``2`` urban cluster, ``1`` rural grid cell;
* municipalities (LAU): ``1`` city, ``2`` town or suburb, ``3`` rural area.

``0`` means unknown in both (a point outside the grid, a municipality without population);
the caller decides what unknown means for its rule.

Sources (keys resolve in shared/domain.md, section "Sources"): urban centre
[EUROSTAT-UC][DZS][EEA], urban cluster [EUROSTAT-CL], rural grid cell [EUROSTAT-RG],
municipality classes [EUROSTAT-M][D4R]; German input: Zensus 1 km grid (domain.md 2.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import rasterio.transform
from rasterio.transform import Affine
from scipy import ndimage

from coverage.errors import InputDataError
from coverage.rural.grid_summary import cell_lower_left, inspire_cell_ids

CENTRE, CLUSTER, RURAL_CELL, UNKNOWN = 3, 2, 1, 0
CITY, TOWN_SUBURB, RURAL_AREA = 1, 2, 3

_FOUR = ndimage.generate_binary_structure(2, 1)  # edge neighbours only
_EIGHT = ndimage.generate_binary_structure(2, 2)  # edges and corners


@dataclass(frozen=True)
class DegurbaParams:
    """Thresholds of the degree of urbanisation (Eurostat defaults, domain.md 2.2).

    Densities are inhabitants per km²; populations are inhabitants; areas km².
    """

    cell_size_m: float = 1000.0
    centre_density: float = 1500.0  # [EUROSTAT-UC]: >= 1,500 inh/km²
    centre_min_pop: float = 50_000  # [EUROSTAT-UC]: centre total >= 50,000 after gap filling
    cluster_density: float = 300.0  # [EUROSTAT-CL]: >= 300 inh/km²
    cluster_min_pop: float = 5_000  # [EUROSTAT-CL]: cluster total >= 5,000
    hole_max_km2: float = 15.0  # [EUROSTAT-UC][EEA]: holes < 15 km² are filled
    smoothing_min_neighbours: int = 5  # [EUROSTAT-UC][DZS]: >= 5 of 8 neighbours in the centre
    smoothing_max_iterations: int = 1000  # safety stop; smoothing converges long before
    municipality_share: float = 0.5  # [EUROSTAT-M]: the 50 % population rules

    @property
    def cell_km2(self) -> float:
        return (self.cell_size_m / 1000.0) ** 2


def _fill_small_holes(mask: npt.NDArray[np.bool_], max_cells: float) -> npt.NDArray[np.bool_]:
    """Fill the holes of one centre that are smaller than ``max_cells`` cells.

    The centre is 4-connected, so its background is taken 8-connected (a gap touching the
    outside only at a corner is not a hole): the topologically consistent pair.
    """
    padded = np.pad(mask, 1)
    holes = ndimage.binary_fill_holes(padded, structure=_EIGHT) & ~padded
    labels, n = ndimage.label(holes, structure=_EIGHT)
    if n == 0:
        return mask
    sizes = np.bincount(labels.ravel())
    small = sizes < max_cells
    small[0] = False
    return (padded | small[labels])[1:-1, 1:-1]


def _smooth(mask: npt.NDArray[np.bool_], min_neighbours: int) -> npt.NDArray[np.bool_]:
    """One smoothing pass: add cells with >= min_neighbours of 8 neighbours in the centre."""
    counts = (
        ndimage.convolve(mask.astype(np.int16), np.ones((3, 3), np.int16), mode="constant") - mask
    )
    return mask | (counts >= min_neighbours)


def urban_centres(
    pop: npt.NDArray[np.float64], params: DegurbaParams = DegurbaParams()
) -> npt.NDArray[np.bool_]:
    """Mask of urban centre cells (a "high-density cluster") [EUROSTAT-UC][DZS][EEA].

    1. Dense cells: density >= ``centre_density`` (1,500 inh/km²).
    2. Group them with 4-connectivity (shared edges only, no diagonals).
    3. Gap filling and smoothing, per group, repeated until nothing changes
       ([EUROSTAT-UC]: "an iterative gap-filling algorithm that fills up the holes within
       the cluster and smoothens sharp borders"):

       * holes smaller than ``hole_max_km2`` (< 15 km²) join the group [EEA];
       * a cell with >= ``smoothing_min_neighbours`` (5) of its 8 neighbours in the group
         joins it [DZS] (3x3 conditional majority filter [EEA]).
    4. Keep groups whose population, after step 3, is >= ``centre_min_pop`` (50,000)
       [EUROSTAT-UC]: "a minimum population of 50 000 inhabitants after gap-filling".

    Groups are filled and smoothed one by one; a cell cannot have 5 of 8 neighbours in two
    groups, and a cell that two grown groups share is simply a centre cell.
    """
    pop = np.nan_to_num(np.asarray(pop, dtype="float64"), nan=0.0)
    dense = pop / params.cell_km2 >= params.centre_density
    labels, _ = ndimage.label(dense, structure=_FOUR)
    max_hole_cells = params.hole_max_km2 / params.cell_km2
    out = np.zeros(pop.shape, dtype=bool)
    for i, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        pad = 2
        while True:  # grow in a window around the group; widen it if the group reaches its edge
            rows = slice(max(box[0].start - pad, 0), min(box[0].stop + pad, pop.shape[0]))
            cols = slice(max(box[1].start - pad, 0), min(box[1].stop + pad, pop.shape[1]))
            comp = _grow(labels[rows, cols] == i, max_hole_cells, params)
            if not _reaches_window_edge(comp, rows, cols, pop.shape):
                break
            pad *= 2
        if pop[rows, cols][comp].sum() >= params.centre_min_pop:
            out[rows, cols] |= comp
    return out


def _grow(
    comp: npt.NDArray[np.bool_], max_hole_cells: float, params: DegurbaParams
) -> npt.NDArray[np.bool_]:
    for _ in range(params.smoothing_max_iterations):
        nxt = _smooth(_fill_small_holes(comp, max_hole_cells), params.smoothing_min_neighbours)
        if np.array_equal(nxt, comp):
            break
        comp = nxt
    return comp


def _reaches_window_edge(
    comp: npt.NDArray[np.bool_], rows: slice, cols: slice, shape: tuple[int, ...]
) -> bool:
    """True if the group touches a window edge that is not the grid edge (it may grow on)."""
    return bool(
        (rows.start > 0 and comp[0].any())
        or (rows.stop < shape[0] and comp[-1].any())
        or (cols.start > 0 and comp[:, 0].any())
        or (cols.stop < shape[1] and comp[:, -1].any())
    )


def classify_grid(
    pop: npt.ArrayLike, params: DegurbaParams = DegurbaParams()
) -> npt.NDArray[np.int8]:
    """DEGURBA class of every cell of a population grid.

    Parameters
    ----------
    pop
        2-D array of inhabitants per cell (1 km cells by default); NaN (no data) counts as 0.
    params
        Thresholds, see :class:`DegurbaParams`.

    Returns
    -------
    numpy.ndarray
        int8, same shape: 3 urban centre, 2 urban cluster, 1 rural grid cell.

    Notes
    -----
    * Urban centre: see :func:`urban_centres` [EUROSTAT-UC].
    * Urban cluster: cells with density >= 300 inh/km², grouped with 8-connectivity
      (diagonals count), group total >= 5,000 [EUROSTAT-CL]. Centre cells belong to the
      mask too (a smoothed or gap-filled centre cell may be less dense), but keep class 3.
    * Rural grid cell: every other cell [EUROSTAT-RG].
    * The grid ends at the array edge: cells beyond it count as empty, so a town cut by the
      edge of the study area can fall below a threshold it reaches in full.
    """
    arr = np.nan_to_num(np.asarray(pop, dtype="float64"), nan=0.0)
    if arr.ndim != 2:
        raise InputDataError(f"population grid must be 2-D, got {arr.ndim} dimension(s)")
    if (arr < 0).any():
        raise InputDataError(
            "population grid has negative values; map missing-value codes (-1, -9) to 0 first"
        )
    centre = urban_centres(arr, params)
    dense = (arr / params.cell_km2 >= params.cluster_density) | centre
    labels, n = ndimage.label(dense, structure=_EIGHT)
    totals = ndimage.sum_labels(arr, labels, index=np.arange(n + 1))
    big = totals >= params.cluster_min_pop
    big[0] = False
    out = np.full(arr.shape, RURAL_CELL, dtype=np.int8)
    out[big[labels]] = CLUSTER
    out[centre] = CENTRE
    return out


def grid_from_cells(
    cells: pd.DataFrame, *, cell_size_m: float = 1000.0
) -> tuple[npt.NDArray[np.float64], Affine, tuple[int, int]]:
    """Rasterise a cell table into a dense population grid.

    Parameters
    ----------
    cells
        Columns ``x_ll``, ``y_ll`` (lower-left corner, metres, EPSG:3035, multiples of
        ``cell_size_m``) and ``population`` (NA or negative sentinels -> 0).

    Returns
    -------
    (pop2d, transform, shape)
        ``pop2d`` float64 with row 0 at the north; ``transform`` maps (col, row) to the
        upper-left corner of a cell (rasterio convention); cells absent from the table are 0.
    """
    missing = [c for c in ("x_ll", "y_ll", "population") if c not in cells.columns]
    if missing:
        raise InputDataError(f"cell table is missing column(s) {', '.join(missing)}")
    if len(cells) == 0:
        raise InputDataError("cell table has no rows")
    size = float(cell_size_m)
    x = cells["x_ll"].to_numpy(dtype="float64")
    y = cells["y_ll"].to_numpy(dtype="float64")
    off = (np.abs(np.remainder(x, size)) > 1e-6) | (np.abs(np.remainder(y, size)) > 1e-6)
    if off.any():
        row = int(np.flatnonzero(off)[0]) + 1
        raise InputDataError(
            f"cell table row {row}: corner ({x[row - 1]}, {y[row - 1]}) is not on the {size:g} m grid"
        )
    pop = pd.to_numeric(cells["population"], errors="coerce").fillna(0).to_numpy(dtype="float64")
    pop = np.where(pop < 0, 0.0, pop)
    transform = Affine(size, 0.0, x.min(), 0.0, -size, y.max() + size)  # north-up, origin top-left
    shape = (round((y.max() - y.min()) / size) + 1, round((x.max() - x.min()) / size) + 1)
    rows, cols = _rowcol(transform, x, y, size)
    flat = rows * shape[1] + cols
    ordered = np.sort(flat)
    if bool((ordered[1:] == ordered[:-1]).any()):
        raise InputDataError("cell table lists a cell more than once; aggregate duplicates first")
    grid = np.zeros(shape, dtype="float64")
    grid[rows, cols] = pop
    return grid, transform, shape


def _rowcol(
    transform: Affine, x_ll: npt.NDArray[np.float64], y_ll: npt.NDArray[np.float64], size: float
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    # query the cell centres: no floor ambiguity at edges
    rows, cols = rasterio.transform.rowcol(transform, x_ll + size / 2, y_ll + size / 2)
    return np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp)


def classify_cells(cells: pd.DataFrame, params: DegurbaParams = DegurbaParams()) -> pd.DataFrame:
    """DEGURBA class per cell of a cell table (see :func:`grid_from_cells` for the columns).

    Returns a frame in the input order: ``cell_id`` (taken from the input when present,
    else the INSPIRE id), ``x_ll``, ``y_ll``, ``population`` (float64, sentinels -> 0) and
    ``degurba_cell`` (int8: 3 centre, 2 cluster, 1 rural).
    """
    grid, transform, _ = grid_from_cells(cells, cell_size_m=params.cell_size_m)
    classes = classify_grid(grid, params)
    x = cells["x_ll"].to_numpy(dtype="float64")
    y = cells["y_ll"].to_numpy(dtype="float64")
    rows, cols = _rowcol(transform, x, y, params.cell_size_m)
    if "cell_id" in cells.columns:
        ids = cells["cell_id"].astype("string").to_numpy()
    else:
        size = int(params.cell_size_m)
        ids = inspire_cell_ids(x + size / 2, y + size / 2, size)
    return pd.DataFrame(
        {
            "cell_id": pd.array(ids, dtype="string"),
            "x_ll": x.astype("int64"),
            "y_ll": y.astype("int64"),
            "population": grid[rows, cols],
            "degurba_cell": classes[rows, cols].astype(np.int8),
        }
    )


def classify_municipalities(
    cell_classes: pd.DataFrame,
    cell_to_municipality: pd.DataFrame | pd.Series,
    params: DegurbaParams = DegurbaParams(),
) -> pd.DataFrame:
    """DEGURBA class per municipality (LAU) from the population of its classed cells.

    Parameters
    ----------
    cell_classes
        Output of :func:`classify_cells` (``cell_id``, ``population``, ``degurba_cell``).
    cell_to_municipality
        Either a Series ``cell_id -> ags`` (each cell wholly in one municipality, e.g. the
        municipality of the cell midpoint), or a frame with ``cell_id``, ``ags`` and an
        optional ``weight`` (share of the cell's population in that municipality, for split
        cells). Cells without a municipality are left out.

    Returns
    -------
    pandas.DataFrame
        Sorted by ``ags``: ``population``, ``share_urban_centre``, ``share_urban_cluster``
        (cluster cells that are not centre), ``share_rural`` and ``degurba`` (int8):

        * 1 city: >= 50 % of the population in urban centres [EUROSTAT-M];
        * 3 rural area: > 50 % in rural grid cells [EUROSTAT-M] (domain.md 2.2);
        * 2 town or suburb: the rest, i.e. < 50 % in urban centres and <= 50 % in rural
          cells (Eurostat: "less than 50 % in rural grid cells and less than 50 % in urban
          centres"; exactly 50 % rural, a tie Eurostat leaves open, is classed 2 here);
        * 0 unknown: no population in the grid.
    """
    if isinstance(cell_to_municipality, pd.Series):
        link = pd.DataFrame(
            {
                "cell_id": cell_to_municipality.index.astype("string"),
                "ags": cell_to_municipality.to_numpy(),
            }
        )
    else:
        link = cell_to_municipality.loc[
            :, [c for c in ("cell_id", "ags", "weight") if c in cell_to_municipality.columns]
        ]
    if "weight" not in link.columns:
        link = link.assign(weight=1.0)
    link = link.assign(
        cell_id=link["cell_id"].astype("string"), ags=link["ags"].astype("string")
    ).dropna(subset=["ags"])
    cells = cell_classes.loc[:, ["cell_id", "population", "degurba_cell"]].assign(
        cell_id=cell_classes["cell_id"].astype("string")
    )
    joined = link.merge(cells, on="cell_id", how="inner")
    pop = joined["population"].to_numpy(float) * joined["weight"].to_numpy(float)
    cls = joined["degurba_cell"].to_numpy()
    frame = pd.DataFrame(
        {
            "ags": joined["ags"],
            "population": pop,
            "_centre": pop * (cls == CENTRE),
            "_cluster": pop * (cls == CLUSTER),
            "_rural": pop * (cls == RURAL_CELL),
        }
    )
    out = frame.groupby("ags", sort=True).sum().reset_index()
    total = out["population"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, col in (
            ("share_urban_centre", "_centre"),
            ("share_urban_cluster", "_cluster"),
            ("share_rural", "_rural"),
        ):
            out[name] = np.where(total > 0, out[col].to_numpy(float) / total, np.nan)
    half = params.municipality_share
    centre = out["share_urban_centre"].to_numpy(float)
    rural = out["share_rural"].to_numpy(float)
    degurba = np.where(centre >= half, CITY, np.where(rural > half, RURAL_AREA, TOWN_SUBURB))
    out["degurba"] = np.where(total > 0, degurba, UNKNOWN).astype(np.int8)
    return out.drop(columns=["_centre", "_cluster", "_rural"])


def population_from_addresses(
    x3035: npt.ArrayLike,
    y3035: npt.ArrayLike,
    households: npt.ArrayLike,
    household_size: float = 2.1,
    *,
    cell_size_m: int = 1000,
) -> pd.DataFrame:
    """Estimate a cell table from address points when no population grid is given.

    population = households x ``household_size`` (inhabitants per household, an assumption:
    German average about 2.0-2.1; pass the Zensus value of the region when known), summed
    per cell. NA households count 0; non-finite coordinates are left out. Returns
    ``cell_id``, ``x_ll``, ``y_ll``, ``population`` for the inhabited cells, sorted by id.

    The households are summed per cell first (:func:`household_cells`, whole numbers: the
    same sums in any order and any split of the addresses), then multiplied.
    """
    cells = household_cells(x3035, y3035, households, cell_size_m=cell_size_m)
    return population_from_household_cells(cells, household_size, cell_size_m=cell_size_m)


def household_cells(
    x3035: npt.ArrayLike,
    y3035: npt.ArrayLike,
    households: npt.ArrayLike,
    *,
    cell_size_m: int = 1000,
) -> pd.DataFrame:
    """Households per inhabited cell (``x_ll``, ``y_ll``, ``households`` float64 holding
    whole numbers), sorted by corner. Tables of parts of the addresses add up: sum them per
    corner for the table of all (a cluster run does)."""
    x_ll, y_ll, valid = cell_lower_left(x3035, y3035, cell_size_m)
    hh = pd.to_numeric(pd.Series(households), errors="coerce").fillna(0).to_numpy(float)
    if hh.shape != x_ll.shape:
        raise InputDataError(f"households has {hh.size} values for {x_ll.size} addresses")
    xs, ys, hh = x_ll[valid], y_ll[valid], hh[valid]
    if not xs.size:
        frame = pd.DataFrame({"x_ll": xs, "y_ll": ys, "households": hh})
        return frame.groupby(["x_ll", "y_ll"], sort=True).sum().reset_index()
    # one packed key per corner (sorted by x, then y, as the groupby sorted), summed by
    # bincount: no grouping of millions of rows
    col, row = (xs - xs.min()) // cell_size_m, (ys - ys.min()) // cell_size_m
    rows = int(row.max()) + 1
    packed = col * rows + row
    span = (int(col.max()) + 1) * rows
    if span <= max(4_000_000, 2 * packed.size):  # a count over the key range, no sort
        count = np.bincount(packed, minlength=span)
        cells = np.flatnonzero(count)
        total = np.bincount(packed, weights=hh, minlength=span)[cells]
    else:
        cells, key = np.unique(packed, return_inverse=True)
        total = np.bincount(key.reshape(-1), weights=hh, minlength=cells.size)
    return pd.DataFrame(
        {
            "x_ll": cells // rows * cell_size_m + xs.min(),
            "y_ll": cells % rows * cell_size_m + ys.min(),
            "households": total,
        }
    )


def population_from_household_cells(
    cells: pd.DataFrame, household_size: float = 2.1, *, cell_size_m: int = 1000
) -> pd.DataFrame:
    """The cell table of :func:`population_from_addresses` from :func:`household_cells`
    (several tables are summed per corner first)."""
    out = cells.groupby(["x_ll", "y_ll"], sort=True)["households"].sum().reset_index()
    out["population"] = out.pop("households").to_numpy(float) * household_size
    size = int(cell_size_m)
    ids = inspire_cell_ids(
        out["x_ll"].to_numpy() + size / 2, out["y_ll"].to_numpy() + size / 2, size
    )
    out.insert(0, "cell_id", pd.array(ids, dtype="string"))
    return out.sort_values("cell_id", ignore_index=True)


def degurba_for_points(
    x3035: npt.ArrayLike,
    y3035: npt.ArrayLike,
    cell_classes: pd.DataFrame,
    *,
    cell_size_m: int = 1000,
) -> npt.NDArray[np.int8]:
    """DEGURBA cell class (3/2/1) of the cell holding each point (EPSG:3035 metres).

    Points in cells missing from ``cell_classes`` (``x_ll``, ``y_ll``, ``degurba_cell``)
    and points with non-finite coordinates get 0 (unknown): outside the grid nothing is
    known, and whether unknown counts as rural is the caller's decision.
    """
    x_ll, y_ll, valid = cell_lower_left(x3035, y3035, cell_size_m)
    grid_keys = pd.MultiIndex.from_arrays(
        [cell_classes["x_ll"].to_numpy(dtype="int64"), cell_classes["y_ll"].to_numpy(dtype="int64")]
    )
    pos = grid_keys.get_indexer(pd.MultiIndex.from_arrays([x_ll, y_ll]))
    classes = cell_classes["degurba_cell"].to_numpy(dtype=np.int8)
    out = np.where(pos >= 0, classes[np.maximum(pos, 0)], UNKNOWN).astype(np.int8)
    out[~valid] = UNKNOWN
    return out


def rural_gap(
    eligible: npt.ArrayLike,
    degurba_cell: npt.ArrayLike,
    degurba_municipality: npt.ArrayLike,
    rule: Literal["cell", "municipality", "both"] = "cell",
) -> npt.NDArray[np.bool_]:
    """Eligible addresses that count as rural under ``rule``.

    * ``"cell"``: the address lies in a rural grid cell (``degurba_cell == 1``);
    * ``"municipality"``: its municipality is a rural area (``degurba_municipality == 3``);
    * ``"both"``: both hold.

    Unknown classes (0) are never rural; NA eligibility counts as not eligible.
    """
    elig = pd.array(eligible, dtype="boolean").to_numpy(dtype=bool, na_value=False)
    cell = np.asarray(degurba_cell) == RURAL_CELL
    muni = np.asarray(degurba_municipality) == RURAL_AREA
    if not (elig.shape == cell.shape == muni.shape):
        raise InputDataError(
            f"rural_gap inputs differ in length ({elig.size}, {cell.size}, {muni.size})"
        )
    if rule == "cell":
        return elig & cell
    if rule == "municipality":
        return elig & muni
    if rule == "both":
        return elig & cell & muni
    raise InputDataError(f"unknown rural rule {rule!r}; use cell, municipality or both")
