"""The pipeline end to end on small demo inputs: offers, scenarios, progress, diff."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from coverage.diff import diff_runs
from coverage.errors import RunCancelledError
from coverage.io.demo_files import DemoInputs
from coverage.pipeline import LayerSpec, RunInputs, RunOptions, run


def _inputs(demo: DemoInputs, **kw: object) -> RunInputs:
    base: dict[str, object] = {
        "addresses": LayerSpec(demo.addresses),
        "coverage": (LayerSpec(demo.coverage),),
        "boundaries": LayerSpec(demo.boundaries),
    }
    base.update(kw)
    return RunInputs(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def base_run(demo_inputs: DemoInputs, tmp_path_factory: pytest.TempPathFactory):
    return run(
        _inputs(demo_inputs),
        tmp_path_factory.mktemp("p") / "run",
        RunOptions(as_of=demo_inputs.as_of),
    )


def test_progress_reaches_every_stage_in_order(demo_inputs: DemoInputs, tmp_path: Path) -> None:
    seen: list[tuple[str, float]] = []
    run(
        _inputs(demo_inputs),
        tmp_path / "r",
        RunOptions(as_of=demo_inputs.as_of),
        lambda s, f: seen.append((s, f)),
    )
    stages = list(dict.fromkeys(s for s, _ in seen))
    assert stages == [
        "read addresses",
        "read coverage",
        "read boundaries",
        "join",
        "classify",
        "rural",
        "aggregate",
        "write",
    ]
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)


def test_cancel_through_progress_writes_nothing(demo_inputs: DemoInputs, tmp_path: Path) -> None:
    def cancel(stage: str, fraction: float) -> None:
        if stage == "classify":
            raise RunCancelledError("cancelled by user")

    with pytest.raises(RunCancelledError):
        run(_inputs(demo_inputs), tmp_path / "r", RunOptions(as_of=demo_inputs.as_of), cancel)
    assert list(tmp_path.iterdir()) == []


def test_existing_only_never_improves_an_address(
    demo_inputs: DemoInputs, tmp_path: Path, base_run
) -> None:
    existing = run(
        _inputs(demo_inputs),
        tmp_path / "e",
        RunOptions(as_of=demo_inputs.as_of, include_planned=False),
    )
    a, b = base_run.addresses, existing.addresses
    assert (a["address_id"] == b["address_id"]).all()
    # planned roll-outs inside the horizon only ever add gigabit addresses
    assert (b["class"] == "gigabit").sum() < (a["class"] == "gigabit").sum()
    assert not ((b["class"] == "gigabit") & (a["class"] != "gigabit")).any()


def test_as_of_in_the_past_sees_less_coverage(
    demo_inputs: DemoInputs, tmp_path: Path, base_run
) -> None:
    # the same rule version as the base run (no version of the family is in force in 2010)
    options = RunOptions(profile=base_run.profile.id, as_of=date(2010, 1, 1))
    past = run(_inputs(demo_inputs), tmp_path / "p", options)
    assert past.manifest["parameters"]["as_of"] == "2010-01-01"
    assert (
        "not the rule text in force on the reference date 2010-01-01"
        in past.manifest["warnings"][0]
    )
    assert (past.addresses["eligible"]).sum() >= base_run.addresses["eligible"].sum()


def test_offer_list_upgrades_matched_addresses_and_reports_unmatched(
    demo_inputs: DemoInputs, tmp_path: Path, base_run
) -> None:
    grey = base_run.addresses[base_run.addresses["class"].isin(["grey", "white"])].head(30)
    offers = pd.DataFrame(
        {
            "Anbieter": "Demo Stadtwerke",
            "Technologie": "FTTH",
            "Strasse": grey["street"].str.replace("straße", "str.", regex=False).to_numpy(),
            "HNR": (grey["house_number"] + grey["suffix"].fillna("")).to_numpy(),
            "Ort": grey["place"].to_numpy(),
            "Download": "1000",
            "Upload": "500",
        }
    )
    offers = pd.concat(
        [
            offers,
            pd.DataFrame(
                [
                    {
                        "Anbieter": "Demo Stadtwerke",
                        "Technologie": "FTTH",
                        "Strasse": "Gibtsnichtweg",
                        "HNR": "1",
                        "Ort": "Warstein",
                        "Download": "1000",
                        "Upload": "500",
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    path = tmp_path / "mev_reply.csv"
    offers.to_csv(path, sep=";", index=False, encoding="cp1252")
    result = run(
        _inputs(demo_inputs, offers=(LayerSpec(path),)),
        tmp_path / "o",
        RunOptions(as_of=demo_inputs.as_of),
    )
    upgraded = result.addresses.set_index("address_id").loc[grey["address_id"]]
    # addresses sharing street+number with another (ambiguous) stay as they were
    matched = upgraded["best_provider"] == "Demo Stadtwerke"
    assert matched.sum() >= 25
    assert (upgraded.loc[matched, "class"] == "gigabit").all()
    unmatched = pd.read_csv(tmp_path / "o" / "unmatched_offers.csv", dtype=str)
    assert "Gibtsnichtweg" in set(unmatched["street"])
    assert result.manifest["counts"]["unmatched_offer_rows"] == len(unmatched)
    # list pairs are merged into each chunk of polygon pairs: chunks change nothing
    chunked = run(
        _inputs(demo_inputs, offers=(LayerSpec(path),)),
        tmp_path / "oc",
        RunOptions(as_of=demo_inputs.as_of, classify_chunk=997),
    )
    pd.testing.assert_frame_equal(
        pd.DataFrame(chunked.addresses.drop(columns="geometry")),
        pd.DataFrame(result.addresses.drop(columns="geometry")),
    )
    assert chunked.manifest["counts"] == result.manifest["counts"]


def test_diff_between_scenarios(demo_inputs: DemoInputs, tmp_path: Path, base_run) -> None:
    existing = run(
        _inputs(demo_inputs),
        tmp_path / "e",
        RunOptions(as_of=demo_inputs.as_of, include_planned=False),
    )
    ranks = [c.name for c in base_run.profile.classes]
    d = diff_runs(existing.addresses, base_run.addresses, rank_a=ranks, rank_b=ranks)
    assert len(d.changes) > 0
    assert set(d.changes["change"]) == {"upgraded"}
    assert d.per_gemeinde["changed"].sum() == len(d.changes)
    assert d.added == d.removed == 0


def test_addresses_parquet_round_trips(base_run) -> None:
    back = gpd.read_parquet(base_run.run_dir / "addresses.parquet")
    assert len(back) == len(base_run.addresses)
    assert back["ags"].str.fullmatch(r"\d{8}").all()


def test_public_outputs_never_show_counts_1_to_js_and_keep_exact_tables_exact(base_run) -> None:
    js = base_run.manifest["parameters"]["disclosure_control"]["js"]
    d = base_run.manifest["parameters"]["disclosure_control"]["D"]
    rd = base_run.run_dir
    pairs = [
        (pd.read_csv(rd / f"summary_{lv}_public.csv", dtype={"ags": str}),
         pd.read_csv(rd / f"summary_{lv}.csv", dtype={"ags": str}))
        for lv in ("gemeinde", "kreis")
    ] + [
        (pd.read_parquet(rd / f"summary_grid_{s}_public.parquet"),
         pd.read_parquet(rd / f"summary_grid_{s}.parquet"))
        for s in ("100m", "1km")
    ]  # fmt: skip
    changed = 0
    for public, exact in pairs:
        assert public["perturbed"].all()
        cols = [c for c in ("addresses", "households", "eligible") if c in public]
        cols += [c for c in public if c.startswith(("n_", "addresses_"))]
        pub, ex = public[cols].to_numpy("int64"), exact[cols].to_numpy("int64")
        assert not ((pub >= 1) & (pub <= js)).any()
        assert (np.abs(pub - ex) <= d).all() and ((ex == 0) == (pub == 0))[ex == 0].all()
        changed += int((pub != ex).sum())
    assert changed > 0
    # the exact (analyst) grid still holds the small counts the public one never shows
    exact_100m = pairs[2][1]
    assert ((exact_100m["addresses"] >= 1) & (exact_100m["addresses"] <= js)).any()


def test_classifying_in_chunks_gives_the_same_result(
    demo_inputs: DemoInputs, tmp_path: Path, base_run
) -> None:
    chunked = run(
        _inputs(demo_inputs),
        tmp_path / "c",
        RunOptions(as_of=demo_inputs.as_of, classify_chunk=997),
    )
    pd.testing.assert_frame_equal(
        pd.DataFrame(chunked.addresses.drop(columns="geometry")),
        pd.DataFrame(base_run.addresses.drop(columns="geometry")),
    )
