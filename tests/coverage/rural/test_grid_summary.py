"""INSPIRE cell ids and per-cell / per-region counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coverage.errors import InputDataError
from coverage.rural.grid_summary import (
    inspire_cell_ids,
    parse_inspire_cell_ids,
    region_total,
    summarise_by,
    summarise_grid,
)


def test_inspire_ids_use_the_lower_left_corner_and_floor_at_edges() -> None:
    ids = inspire_cell_ids(
        [4_000_000.0, 4_000_999.9, 4_188_500.0, np.nan],
        [3_000_000.0, 3_000_000.5, 3_065_500.0, 1.0],
        1000,
    )
    assert ids.tolist() == [
        "CRS3035RES1000mN3000000E4000000",
        "CRS3035RES1000mN3000000E4000000",
        "CRS3035RES1000mN3065000E4188000",
        None,
    ]
    ids100 = inspire_cell_ids([4_188_512.3, 4_188_400.0], [3_065_599.99, 3_065_600.0], 100)
    assert ids100.tolist() == ["CRS3035RES100mN3065500E4188500", "CRS3035RES100mN3065600E4188400"]
    parsed = parse_inspire_cell_ids(ids100)
    assert parsed.to_dict("list") == {
        "size_m": [100, 100],
        "x_ll": [4_188_500, 4_188_400],
        "y_ll": [3_065_500, 3_065_600],
    }
    with pytest.raises(InputDataError, match="not an INSPIRE id"):
        parse_inspire_cell_ids(["100mN3065500E4188500"])
    with pytest.raises(InputDataError, match="positive whole number"):
        inspire_cell_ids([0.0], [0.0], 0)


@pytest.mark.shared_data
def test_inspire_ids_match_the_zensus_grid(shared_data: Path) -> None:
    raw = pd.read_csv(
        shared_data / "population" / "zensus2011_1km_suedwestfalen.csv",
        dtype={"Gitter_ID_1km": str},
    )
    ids = inspire_cell_ids(raw["x_mp_1km"].to_numpy(float), raw["y_mp_1km"].to_numpy(float), 1000)
    assert (ids == raw["Gitter_ID_1km"].to_numpy(dtype=object)).all()


def test_summarise_grid_counts_per_cell_and_class() -> None:
    x = [4_000_010.0, 4_000_090.0, 4_000_150.0, 4_000_150.0, np.nan]
    y = [3_000_010.0, 3_000_020.0, 3_000_010.0, 3_000_010.0, 0.0]
    out = summarise_grid(
        x,
        y,
        size_m=100,
        households=[2, 3, 1, pd.NA, 9],
        eligible=[True, False, True, pd.NA, True],
        rural_gap=[True, True, False, True, True],  # a rural gap must be eligible: row 2 drops
        address_class=["white", "black", "grey", pd.NA, "white"],
    )
    assert out["cell_id"].tolist() == [
        "CRS3035RES100mN3000000E4000000",
        "CRS3035RES100mN3000000E4000100",
    ]
    first, second = out.iloc[0], out.iloc[1]
    assert (first.x_ll, first.y_ll) == (4_000_000, 3_000_000)
    assert first[
        [
            "addresses",
            "households",
            "eligible",
            "eligible_households",
            "rural_gap",
            "rural_gap_households",
        ]
    ].tolist() == [2, 5, 1, 2, 1, 2]
    assert first[["addresses_black", "addresses_grey", "addresses_white"]].tolist() == [1, 0, 1]
    assert first["share_eligible"] == 0.5 and first["share_eligible_households"] == 0.4
    assert second[
        ["addresses", "households", "eligible", "rural_gap", "addresses_grey"]
    ].tolist() == [2, 1, 1, 0, 1]


def test_summarise_by_kreis_and_region_total() -> None:
    ags = pd.Series(["05974044", "05974040", "05970040", None], dtype="string")
    out = summarise_by(ags.str.slice(0, 5), eligible=[True, False, True, True], key_name="kreis")
    assert out["kreis"].tolist() == ["05970", "05974"]
    assert out["addresses"].tolist() == [1, 2]
    total = region_total(out, name="Suedwestfalen")
    assert total.loc[0, "kreis"] == "Suedwestfalen"
    assert total.loc[0, "addresses"] == 3 and total.loc[0, "eligible"] == 2
    assert total.loc[0, "share_eligible"] == pytest.approx(2 / 3)
    empty = summarise_by(pd.Series([None], dtype="string"))
    assert len(empty) == 0


def test_grid_summary_of_grouped_parts_equals_the_one_over_addresses() -> None:
    """Addresses split into parts and grouped per (cell, class, eligible, rural gap), as a
    cluster run's workers send them: ``summarise_cells(count=...)`` over the groups gives
    the table of ``summarise_grid`` over the addresses, column for column."""
    from coverage.rural.grid_summary import summarise_cells
    from coverage.rural.gridcells import inspire_cell_ids

    rng = np.random.default_rng(5)
    n = 4_000
    x = rng.uniform(4_100_000, 4_104_000, n)
    y = rng.uniform(3_060_000, 3_063_000, n)
    frame = pd.DataFrame(
        {
            "cell": inspire_cell_ids(x, y, 1000),
            "households": rng.integers(0, 5, n),
            "eligible": rng.random(n) < 0.4,
            "rural_gap": rng.random(n) < 0.5,
            "class": rng.choice(["grey", "white", "gigabit"], n, p=[0.3, 0.1, 0.6]),
        }
    )
    frame["rural_gap"] &= frame["eligible"]
    keys = ["cell", "class", "eligible", "rural_gap"]
    parts = [
        frame.iloc[s]
        .assign(addresses=1)
        .groupby(keys, as_index=False)[["addresses", "households"]]
        .sum()
        for s in np.array_split(np.arange(n), 3)
    ]
    groups = pd.concat(parts).groupby(keys, as_index=False).sum()
    assert len(groups) < n / 10
    got = summarise_cells(
        groups["cell"], households=groups["households"], eligible=groups["eligible"],
        rural_gap=groups["rural_gap"], address_class=groups["class"], count=groups["addresses"],
    )  # fmt: skip
    expected = summarise_grid(
        x, y, size_m=1000, households=frame["households"], eligible=frame["eligible"],
        rural_gap=frame["rural_gap"], address_class=frame["class"],
    )  # fmt: skip
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


@pytest.mark.parametrize("size", [100, 1000])
def test_grid_corners_from_the_points_equal_the_parsed_cell_ids(size: int) -> None:
    """The corners ``summarise_grid`` takes from the points are the ones its cell ids name
    (rows sorted by id, also where northings change their number of digits), and points
    without coordinates are left out."""
    from coverage.rural.grid_summary import summarise_cells
    from coverage.rural.gridcells import inspire_cell_categorical

    rng = np.random.default_rng(11)
    n = 3_000
    x = rng.uniform(4_180_000, 4_186_000, n)
    y = rng.uniform(9_996_000, 10_003_000, n)  # 7 and 8 digit northings
    x[::97] = np.nan
    cells = inspire_cell_categorical(x, y, size)
    hh = rng.integers(0, 4, n)
    got = summarise_grid(x, y, size_m=size, households=hh, cells=cells)
    expected = summarise_cells(cells, households=hh)  # corners parsed from the ids
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got["addresses"].sum() == n - len(x[::97])
    corners = parse_inspire_cell_ids(got["cell_id"])
    assert (got["y_ll"].to_numpy() == corners["y_ll"].to_numpy()).all()
    assert got["y_ll"].max() >= 10_000_000 > got["y_ll"].min()


@pytest.mark.parametrize("size", [100, 1000])
def test_cell_codes_by_count_equal_the_ones_by_sort(
    size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cells found by a count over the key range give the same categories (ordered by
    north, then east) and the same cell per point as by a sort of the keys."""
    from coverage.rural import gridcells

    rng = np.random.default_rng(3)
    n = 5_000
    x = np.concatenate([rng.uniform(4_100_000, 4_400_000, n), [4_100_000.0, np.nan]])
    y = np.concatenate([rng.uniform(2_990_000, 3_030_000, n), [2_999_999.999, 3_000_000.0]])
    counted = gridcells.inspire_cell_categorical(x, y, size)
    monkeypatch.setattr(gridcells, "_DENSE_KEYS", 0)  # 12,000+ keys > 2 n: the sort
    sorted_ = gridcells.inspire_cell_categorical(x, y, size)
    pd.testing.assert_series_equal(counted, sorted_, check_exact=True)
    assert counted.isna().sum() == 1
    corners = parse_inspire_cell_ids(counted.cat.categories)
    assert list(zip(corners["y_ll"], corners["x_ll"], strict=True)) == sorted(
        zip(corners["y_ll"], corners["x_ll"], strict=True)
    )
