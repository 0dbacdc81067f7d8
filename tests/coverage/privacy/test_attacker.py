"""An attacker with every published table of a run finds no count of 1..js (issue: public
numbers that reveal no household). See attacker.py for what the attacker combines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coverage.aggregate import summarise
from coverage.pipeline import LayerSpec, RunInputs, RunOptions, run
from coverage.privacy.ptable import CkmParams, ptable
from coverage.privacy.public import public_tables
from coverage.rural.analysis import rural_counts
from coverage.rural.grid_summary import summarise_by
from coverage.rural.gridcells import inspire_cell_ids
from tests.coverage.privacy.attacker import COLUMNS_GRID_TO_SUMMARY, Model, disclosed

SECRET = b"attacker-test-secret-0123456789"
CLASSES = ["white", "grey", "black"]
ELIGIBLE = ["white", "grey"]


def _one_km(cell_100m: str) -> str:
    north = int(cell_100m.split("N")[1].split("E")[0])
    east = int(cell_100m.rsplit("E", 1)[1])
    return f"CRS3035RES1000mN{north // 1000 * 1000}E{east // 1000 * 1000}"


def _model(public: dict, exact: dict, classes, eligible, hh_at_least_one: bool) -> Model:
    m = Model(ptable(CkmParams()))
    for name, key, prefix in (("gemeinde", "ags", "n_"), ("kreis", "ags", "n_"),
                              ("grid_100m", "cell_id", "addresses_"),
                              ("grid_1km", "cell_id", "addresses_")):  # fmt: skip
        if name in public:
            m.add_table(name, key, public[name], exact[name], classes, eligible, prefix,
                        hh_at_least_one)  # fmt: skip
    summary_cols = {
        **{c: c for c in COLUMNS_GRID_TO_SUMMARY},
        **{f"n_{c}": f"n_{c}" for c in classes},
    }
    m.nest("kreis", "gemeinde", lambda ags: ags[:5], summary_cols)
    grid_cols = {**{c: c for c in COLUMNS_GRID_TO_SUMMARY},
                 **{f"addresses_{c}": f"addresses_{c}" for c in classes}}  # fmt: skip
    if "grid_100m" in public:
        m.nest("grid_1km", "grid_100m", _one_km, grid_cols)
        m.total("kreis", "grid_1km", {**{c: c for c in COLUMNS_GRID_TO_SUMMARY},
                                      **{f"n_{c}": f"addresses_{c}" for c in classes}})  # fmt: skip
    return m


def _tables(addresses: pd.DataFrame, secret: bytes = SECRET) -> tuple[dict, dict]:
    """Exact and public tables of hand-made addresses (ags, x/y in EPSG:3035, class,
    households, rural_gap), built with the run's own functions."""
    a = addresses.copy()
    a["eligible"] = a["class"].isin(ELIGIBLE)
    a["cell_100m"] = inspire_cell_ids(a["x"].to_numpy(), a["y"].to_numpy(), 100)
    a["cell_1km"] = inspire_cell_ids(a["x"].to_numpy(), a["y"].to_numpy(), 1000)
    exact = {}
    for level, digits in (("gemeinde", 8), ("kreis", 5)):
        t = summarise(a, level=level, classes=CLASSES)
        exact[level] = t.merge(rural_counts(a, digits=digits), on="ags", how="left")
    for size in ("100m", "1km"):
        exact[f"grid_{size}"] = summarise_by(
            a[f"cell_{size}"], households=a["households"], eligible=a["eligible"],
            rural_gap=a["rural_gap"], address_class=a["class"], key_name="cell_id",
        )  # fmt: skip
    public = public_tables(
        a, classes=CLASSES, summaries={k: exact[k] for k in ("gemeinde", "kreis")},
        grids={k: exact[k] for k in ("grid_100m", "grid_1km")}, degurba=None,
        population_estimated=True, secret=secret, params=CkmParams(),
    )  # fmt: skip
    return exact, public


def _small_kreis(n_small: int, rng: np.random.Generator) -> pd.DataFrame:
    """A Kreis with a Gemeinde of ``n_small`` addresses (one 100 m cell) and two larger
    Gemeinden; every identity of attacker.py applies."""
    rows = []
    for i in range(n_small):
        rows.append(("05970001", 4_200_050.0 + i, 3_100_050.0, "white", 1, True))
    for g, n, x0 in (("05970002", 12, 4_201_000.0), ("05970003", 40, 4_203_000.0)):
        for i in range(n):
            rows.append((g, x0 + 30.0 * (i % 20), 3_100_050.0 + 150.0 * (i // 20),
                         CLASSES[int(rng.integers(0, 3))], int(rng.integers(1, 3)),
                         bool(rng.integers(0, 2))))  # fmt: skip
    frame = pd.DataFrame(rows, columns=["ags", "x", "y", "class", "households", "rural_gap"])
    frame["rural_gap"] &= frame["class"].isin(ELIGIBLE)
    frame.insert(0, "address_id", [f"A{i:04d}" for i in range(len(frame))])
    return frame


@pytest.mark.parametrize("n_small", [1, 2])
def test_a_gemeinde_of_one_or_two_addresses_is_never_disclosed(n_small: int) -> None:
    rng = np.random.default_rng(n_small)
    addresses = _small_kreis(n_small, rng)
    found, seen_small = [], 0
    for s in range(40):  # many secrets: many draws of the noise
        exact, public = _tables(addresses, SECRET + bytes([s]))
        g = public["gemeinde"].set_index("ags")
        assert g.at["05970001", "addresses"] not in (1, 2)
        seen_small += int(g.at["05970001", "addresses"] == 0)
        found += disclosed(_model(public, exact, CLASSES, ELIGIBLE, True), js=2)
    assert found == []
    assert 0 < seen_small < 40  # the small Gemeinde is sometimes shown as 0, sometimes larger


def test_same_records_same_value_in_every_table() -> None:
    """A Kreis of one Gemeinde, a class holding every address, a 1 km cell of one 100 m
    cell: the same records, so the same published value (no second look at the noise)."""
    addresses = _small_kreis(2, np.random.default_rng(0))
    _, public = _tables(addresses)
    g = public["gemeinde"].set_index("ags").loc["05970001"]
    assert g["addresses"] == g["n_white"]  # every address of this Gemeinde is white
    one = _tables(addresses[addresses["ags"] == "05970001"])[1]
    assert (
        one["kreis"]["addresses"].iloc[0] == one["gemeinde"]["addresses"].iloc[0] == g["addresses"]
    )
    assert one["grid_1km"]["addresses"].iloc[0] == one["grid_100m"]["addresses"].iloc[0]


@pytest.fixture(scope="module")
def demo_run(demo_inputs, tmp_path_factory):
    return run(
        RunInputs(LayerSpec(demo_inputs.addresses), (LayerSpec(demo_inputs.coverage),),
                  LayerSpec(demo_inputs.boundaries)),
        tmp_path_factory.mktemp("ckm") / "run",
        RunOptions(as_of=demo_inputs.as_of, cell_key_secret=SECRET),
    )  # fmt: skip


def test_the_attacker_finds_nothing_in_the_demo(demo_run) -> None:
    rd: Path = demo_run.run_dir
    profile = demo_run.manifest["profile"]
    classes, eligible = profile["classes"], profile["eligible_classes"]
    exact, public = {}, {}
    for lv in ("gemeinde", "kreis"):
        exact[lv] = pd.read_csv(rd / f"summary_{lv}.csv", dtype={"ags": str}, keep_default_na=False)
        public[lv] = pd.read_csv(
            rd / f"summary_{lv}_public.csv", dtype={"ags": str}, keep_default_na=False
        )
    for s in ("100m", "1km"):
        exact[f"grid_{s}"] = pd.read_parquet(rd / f"summary_grid_{s}.parquet")
        public[f"grid_{s}"] = pd.read_parquet(rd / f"summary_grid_{s}_public.parquet")
    hh_one = bool((demo_run.table["households"] >= 1).all())
    model = _model(public, exact, classes, eligible, hh_one)
    assert len(model.lo) > 1000 and len(model.sums) > 1000
    assert disclosed(model, js=2) == []
    # small true counts exist in what was published: the test is not vacuous
    small = (exact["grid_100m"]["addresses"] <= 2).sum()
    assert small > 50
    # the naive differences of the issue no longer give the true count
    p, e = public["grid_1km"], exact["grid_1km"]
    naive = p["addresses"] - sum(p[f"addresses_{c}"] for c in classes if c != classes[0])
    true = e[f"addresses_{classes[0]}"]
    hits = ((naive == true) & (true >= 1) & (true <= 2)).sum()
    assert hits < ((true >= 1) & (true <= 2)).sum()
