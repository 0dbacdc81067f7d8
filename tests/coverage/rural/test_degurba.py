"""DEGURBA on hand-built grids (one test per rule) and on the real Zensus 2011 1 km grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coverage.errors import InputDataError
from coverage.rural.degurba import (
    DegurbaParams,
    classify_cells,
    classify_grid,
    classify_municipalities,
    degurba_for_points,
    grid_from_cells,
    population_from_addresses,
    rural_gap,
)


def _grid(shape: tuple[int, int], cells: dict[tuple[int, int], float]) -> np.ndarray:
    g = np.zeros(shape)
    for (r, c), v in cells.items():
        g[r, c] = v
    return g


# --- urban centres -------------------------------------------------------------------------


def test_centre_needs_edge_contiguity_not_diagonals() -> None:
    # 2 x 2 block of 13,000 = 52,000 -> centre; the same cells on a diagonal are 4 groups
    block = _grid((6, 6), {(2, 2): 13_000, (2, 3): 13_000, (3, 2): 13_000, (3, 3): 13_000})
    assert (classify_grid(block)[2:4, 2:4] == 3).all()
    diag = _grid((8, 8), {(1, 1): 13_000, (2, 2): 13_000, (3, 3): 13_000, (4, 4): 13_000})
    cls = classify_grid(diag)
    assert not (cls == 3).any()
    # ... but with diagonals they are one urban cluster (>= 300/km², total >= 5,000)
    assert all(cls[i, i] == 2 for i in range(1, 5))


def test_centre_total_threshold_50000() -> None:
    just = _grid((5, 7), {(2, c): 10_000 for c in range(1, 6)})  # 50,000 exactly
    assert (classify_grid(just)[2, 1:6] == 3).all()
    below = _grid((5, 7), {**{(2, c): 10_000 for c in range(1, 5)}, (2, 5): 9_999})  # 49,999
    cls = classify_grid(below)
    assert not (cls == 3).any()
    assert (cls[2, 1:6] == 2).all()  # still an urban cluster


def test_gap_filling_fills_holes_below_15_km2_and_counts_them() -> None:
    # a ring of 8 dense cells (8 x 6,000 = 48,000) around an empty-ish cell of 2,500:
    # 48,000 < 50,000 before gap filling, 50,500 after -> a centre including the hole
    ring = {(r, c): 6_000.0 for r in range(1, 4) for c in range(1, 4) if (r, c) != (2, 2)}
    g = _grid((5, 5), {**ring, (2, 2): 1_000 + 1_500 - 1})  # hole 2,499 inhabitants: not dense
    assert g.sum() == 48_000 + 2_499
    cls = classify_grid(g, DegurbaParams(centre_min_pop=50_000))
    assert cls[2, 2] == 3  # filled hole (here also smoothing would add it)
    # a 15 km² hole is not filled: a 5 x 3 empty hole inside a dense frame stays a hole
    frame = np.zeros((9, 7))
    frame[1:8, 1:6] = 10_000
    frame[2:7, 2:5] = 0  # 5 x 3 = 15 cells of hole
    cls = classify_grid(frame, DegurbaParams(smoothing_min_neighbours=9))  # no smoothing
    assert (cls[2:7, 2:5] == 1).all()
    frame[6, 2:5] = 10_000  # now 4 x 3 = 12 km² < 15 -> filled
    cls = classify_grid(frame, DegurbaParams(smoothing_min_neighbours=9))
    assert (cls[2:6, 2:5] == 3).all()


def test_smoothing_adds_cells_with_five_of_eight_neighbours_iteratively() -> None:
    # an L-shaped notch: cell (2, 2) has neighbours (1,1),(1,2),(1,3),(2,1),(3,1) = 5 of 8
    dense = {(1, c): 10_000.0 for c in range(1, 6)} | {(r, 1): 10_000.0 for r in range(2, 6)}
    g = _grid((7, 7), dense)
    cls = classify_grid(g)
    assert cls[2, 2] == 3  # 5 of 8 neighbours in the centre
    assert cls[3, 3] == 1  # after (2,2) joins: (1,2),(2,2)... only 3 of 8 -> stays out
    # with 6 required, the notch cell stays out (it has 0 inhabitants: rural)
    assert classify_grid(g, DegurbaParams(smoothing_min_neighbours=6))[2, 2] == 1


def test_smoothing_iterates_until_stable() -> None:
    # 3 full rows of dense cells with a notch 2 deep: (2,3) has 5 neighbours only after
    # ... build a U: the bottom of a notch fills first, then the cell above it
    g = np.zeros((7, 9))
    g[1:6, 1:8] = 10_000
    g[1:3, 4] = 0  # notch of 2 cells open at the top edge of the block
    first = classify_grid(g, DegurbaParams(smoothing_max_iterations=1))
    full = classify_grid(g)
    assert first[2, 4] == 3  # the lower notch cell: 7 of 8 neighbours
    assert first[1, 4] == 1  # the upper one has 4 of 8 before the lower joins
    assert full[1, 4] == 3  # 5 of 8 after it: added in the next round


# --- urban clusters and rural cells --------------------------------------------------------


def test_cluster_uses_diagonals_and_5000_total() -> None:
    diag = _grid((6, 6), {(1, 1): 1_250, (2, 2): 1_250, (3, 3): 1_250, (4, 4): 1_250})  # 5,000
    cls = classify_grid(diag)
    assert all(cls[i, i] == 2 for i in range(1, 5))
    diag[4, 4] = 1_249  # 4,999
    assert (classify_grid(diag) == 1).all()
    sparse = _grid((3, 3), {(1, 1): 299.0})
    assert (classify_grid(sparse) == 1).all()


def test_nan_is_zero_and_negative_is_an_error() -> None:
    g = np.full((3, 3), np.nan)
    assert (classify_grid(g) == 1).all()
    with pytest.raises(InputDataError, match="negative"):
        classify_grid(np.array([[-1.0]]))


# --- cell tables, points, municipalities ---------------------------------------------------


def _cells_from_grid(g: np.ndarray, x0: int = 4_100_000, y0: int = 3_100_000) -> pd.DataFrame:
    rows, cols = np.indices(g.shape)
    return pd.DataFrame(
        {
            "x_ll": (x0 + cols.ravel() * 1000).astype("int64"),
            "y_ll": (y0 + (g.shape[0] - 1 - rows.ravel()) * 1000).astype("int64"),
            "population": g.ravel(),
        }
    )


def test_cells_round_trip_through_the_raster_and_points_find_their_cell() -> None:
    g = np.zeros((5, 7))
    g[2, 1:6] = 10_000
    cells = _cells_from_grid(g).sample(frac=1.0, random_state=1)  # order must not matter
    pop, transform, shape = grid_from_cells(cells)
    assert shape == (5, 7) and transform.a == 1000 and transform.e == -1000
    np.testing.assert_array_equal(pop, g)
    classes = classify_cells(cells)
    assert classes["cell_id"].iloc[0].startswith("CRS3035RES1000mN")
    assert (
        classes.set_index("cell_id")["population"]
        == cells.set_index(classes["cell_id"].to_numpy())["population"]
    ).all()
    centre_cell = classes[classes["degurba_cell"] == 3].iloc[0]
    pts = degurba_for_points(
        [centre_cell.x_ll + 999.9, centre_cell.x_ll, 0.0, np.nan],
        [centre_cell.y_ll, centre_cell.y_ll + 500, 0.0, 3_100_500],
        classes,
    )
    assert pts.tolist() == [3, 3, 0, 0]  # outside the grid and NaN -> 0 unknown


def test_grid_from_cells_rejects_off_grid_and_duplicate_cells() -> None:
    with pytest.raises(InputDataError, match="not on the 1000 m grid"):
        grid_from_cells(pd.DataFrame({"x_ll": [4_100_500], "y_ll": [3_100_000], "population": [1]}))
    with pytest.raises(InputDataError, match="more than once"):
        grid_from_cells(pd.DataFrame({"x_ll": [0, 0], "y_ll": [0, 0], "population": [1, 2]}))


def test_municipality_classes() -> None:
    cells = pd.DataFrame(
        {
            "cell_id": ["c1", "c2", "r1", "r2", "k1"],
            "population": [600.0, 400.0, 500.0, 500.0, 0.0],
            "degurba_cell": [3, 2, 1, 1, 2],
        }
    )
    link = pd.DataFrame(
        {
            "cell_id": ["c1", "c2", "c1", "r1", "c2", "r2", "r1", "k1"],
            "ags": ["A", "A", "B", "B", "C", "C", "D", "E"],
            "weight": [1.0, 0.5, 0.0, 0.5, 0.5, 1.0, 0.5, 1.0],
        }
    )
    out = classify_municipalities(cells, link).set_index("ags")
    # A: 600 centre of 800 = 75 % -> city; B: 250 rural of 250 -> rural
    # C: 200 cluster + 500 rural = 71 % rural -> rural; D: 250 rural only -> rural
    assert out.loc["A", "degurba"] == 1 and out.loc["A", "share_urban_centre"] == pytest.approx(
        0.75
    )
    assert out.loc["B", "degurba"] == 3
    assert out.loc["C", "degurba"] == 3 and out.loc["C", "share_rural"] == pytest.approx(500 / 700)
    assert out.loc["E", "degurba"] == 0  # no population: unknown
    # exactly 50 % in centres -> city; 50 % rural, 0 % centre -> town/suburb (tie, documented)
    tie = pd.DataFrame(
        {"cell_id": ["a", "b", "c"], "population": [500.0, 500.0, 500.0], "degurba_cell": [3, 1, 2]}
    )
    m = classify_municipalities(tie, pd.Series(["X", "X", "Y"], index=["a", "b", "c"]))
    assert m.set_index("ags").loc["X", "degurba"] == 1
    m = classify_municipalities(tie, pd.Series(["Z", "Z"], index=["b", "c"]))
    assert m["degurba"].tolist() == [2]
    m = classify_municipalities(tie, pd.Series(["Z"], index=["c"]))
    assert m["degurba"].tolist() == [2]  # 100 % in clusters: town/suburb


def test_population_from_addresses_and_rural_gap_rules() -> None:
    cells = population_from_addresses(
        [4_100_010, 4_100_990, 4_101_000], [3_100_000, 3_100_999, 3_100_000], [2, 3, pd.NA]
    )
    assert cells["cell_id"].tolist() == [
        "CRS3035RES1000mN3100000E4100000",
        "CRS3035RES1000mN3100000E4101000",
    ]
    assert cells["population"].tolist() == pytest.approx([5 * 2.1, 0.0])
    eligible = [True, True, True, False, pd.NA]
    cell = [1, 1, 2, 1, 1]
    muni = [3, 2, 3, 3, 3]
    assert rural_gap(eligible, cell, muni).tolist() == [True, True, False, False, False]
    assert rural_gap(eligible, cell, muni, "municipality").tolist() == [
        True,
        False,
        True,
        False,
        False,
    ]
    assert rural_gap(eligible, cell, muni, "both").tolist() == [True, False, False, False, False]
    assert not rural_gap([True], [0], [0], "cell").any()  # unknown is never rural
    with pytest.raises(InputDataError, match="unknown rural rule"):
        rural_gap([True], [1], [3], "either")  # type: ignore[arg-type]


# --- the real Zensus 2011 1 km grid of Suedwestfalen ----------------------------------------

KREIS_SEATS = {
    # ags: (name, class). Siegen is a town/suburb, not a city, on this grid: its largest
    # edge-connected group of >= 1,500/km² cells holds 38,828 inhabitants in 12 cells (the
    # dense core is a narrow valley strip), short of 50,000 even after gap filling and
    # smoothing; 95.6 % of its population lives in urban-cluster cells.
    "05958032": ("Meschede", 2),
    "05962032": ("Lüdenscheid", 1),
    "05966024": ("Olpe", 2),
    "05970040": ("Siegen", 2),
    "05974040": ("Soest", 2),
}


@pytest.mark.shared_data
def test_real_zensus_grid_kreis_seats(shared_data: Path) -> None:
    raw = pd.read_csv(
        shared_data / "population" / "zensus2011_1km_suedwestfalen.csv",
        dtype={"Gitter_ID_1km": str, "AGS_midpoint": str, "GEN_midpoint": str},
    )
    pop = raw["Einwohner"].where(raw["Einwohner"] >= 0, 0)  # -1/-9: missing -> 0
    cells = pd.DataFrame(
        {
            "cell_id": raw["Gitter_ID_1km"],
            "x_ll": raw["x_mp_1km"] - 500,
            "y_ll": raw["y_mp_1km"] - 500,
            "population": pop,
        }
    )
    classes = classify_cells(cells)
    assert len(classes) == 6_537 and classes["population"].sum() == 1_429_833
    # our ids agree with the Zensus ids
    assert (classify_cells(cells.drop(columns="cell_id"))["cell_id"] == raw["Gitter_ID_1km"]).all()
    counts = classes["degurba_cell"].value_counts().to_dict()
    assert counts == {1: 5_739, 2: 761, 3: 37}

    link = pd.Series(raw["AGS_midpoint"].to_numpy(), index=raw["Gitter_ID_1km"])
    munis = classify_municipalities(classes, link).set_index("ags")
    assert len(munis) == 59
    found = {ags: (name, int(munis.loc[ags, "degurba"])) for ags, (name, _) in KREIS_SEATS.items()}
    assert found == KREIS_SEATS
    # the two cities of the region: Iserlohn and Lüdenscheid (Maerkischer Kreis)
    assert sorted(munis.index[munis["degurba"] == 1]) == ["05962024", "05962032"]
    assert (munis["degurba"] == 3).sum() == 16
    # Siegen has no urban-centre cell; Luedenscheid's core is one
    siegen = classes[raw["AGS_midpoint"].eq("05970040").to_numpy()]
    assert (siegen["degurba_cell"] == 3).sum() == 0 and (siegen["degurba_cell"] == 2).sum() > 0
    assert munis.loc["05970040", "share_urban_cluster"] == pytest.approx(0.956, abs=0.001)
    assert munis.loc["05962032", "share_urban_centre"] == pytest.approx(0.786, abs=0.001)


def test_household_cells_of_parts_sum_to_the_population_of_all() -> None:
    """1 km household sums of parts of the addresses, summed, give the population table of
    all addresses exactly (whole households summed, then multiplied)."""
    from coverage.rural.degurba import (
        household_cells,
        population_from_addresses,
        population_from_household_cells,
    )

    rng = np.random.default_rng(9)
    n = 3_000
    x = rng.uniform(4_100_000, 4_110_000, n)
    y = rng.uniform(3_060_000, 3_066_000, n)
    hh = rng.integers(0, 9, n)
    parts = [household_cells(x[s], y[s], hh[s]) for s in np.array_split(np.arange(n), 4)]
    got = population_from_household_cells(pd.concat(parts, ignore_index=True), 2.1)
    pd.testing.assert_frame_equal(got, population_from_addresses(x, y, hh, 2.1), check_exact=True)
    assert got["population"].sum() == pytest.approx(hh.sum() * 2.1)
