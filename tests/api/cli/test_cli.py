"""The gapmap command as a user meets it: exit codes, messages, run directories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from api.cli import main
from coverage.io.demo_files import DemoInputs
from tests.conftest import TEST_SCALE


def gapmap(*args: str | Path) -> int:
    return main([str(a) for a in args])


def run_args(demo: DemoInputs, out: Path, **over: str | Path) -> list[str | Path]:
    args: dict[str, str | Path] = {
        "--addresses": demo.addresses,
        "--coverage": demo.coverage,
        "--boundaries": demo.boundaries,
        "--profile": "de-gigabit",
        "--as-of": demo.as_of.isoformat(),
        "--out": out,
    }
    args.update(over)
    return ["run", *[x for kv in args.items() for x in kv]]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "demo"
    assert gapmap("demo", "--out", out, "--scale", TEST_SCALE) == 0
    return out


def test_demo_writes_a_complete_run_directory(demo_run: Path) -> None:
    run = demo_run / "run"
    assert sorted(p.name for p in run.iterdir()) == [
        "addresses.parquet",
        "boundaries.parquet",
        "cost_sources.csv",
        "degurba_cells.parquet",
        "degurba_gemeinde.csv",
        "degurba_gemeinde_public.csv",
        "gap_areas.parquet",
        "gapmap.gpkg",
        "manifest.json",
        "project_areas.csv",
        "summary_gemeinde.csv",
        "summary_gemeinde_public.csv",
        "summary_grid_100m.parquet",
        "summary_grid_100m_public.parquet",
        "summary_grid_1km.parquet",
        "summary_grid_1km_public.parquet",
        "summary_kreis.csv",
        "summary_kreis_public.csv",
        "validation.json",
    ]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["working_crs"] == "EPSG:25832"
    assert manifest["profile"]["id"] == "de-gigabit-2024"
    assert "SYNTHETIC" in manifest["synthetic_data"]
    assert {i["kind"] for i in manifest["inputs"]} == {"addresses", "coverage", "boundaries"}
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    kreis = pd.read_csv(run / "summary_kreis.csv", dtype={"ags": str})
    assert list(kreis["ags"]) == ["05958", "05962", "05966", "05970", "05974"]
    assert kreis["addresses"].sum() == manifest["counts"]["addresses"]
    gem = pd.read_csv(run / "summary_gemeinde.csv", dtype={"ags": str})
    assert len(gem) == 59
    per_address = gpd.read_parquet(run / "addresses.parquet")
    assert per_address.crs.to_epsg() == 25832
    for col in ("address_id", "ags", "site_type", "households", "class", "eligible", "reason_code", "reason",
                "best_provider", "best_technology", "best_down_mbps", "best_up_mbps", "profile_id", "profile_version"):  # fmt: skip
        assert col in per_address.columns, col
    assert set(per_address["class"]) == {"gigabit", "black", "grey", "white"}
    assert (per_address["eligible"] == per_address["class"].isin(["grey", "white"])).all()


def test_run_on_demo_inputs_reproduces_demo_counts(demo_run: Path, tmp_path: Path) -> None:
    demo = DemoInputs(
        addresses=demo_run / "inputs" / "addresses.parquet",
        coverage=demo_run / "inputs" / "coverage.parquet",
        boundaries=demo_run / "inputs" / "boundaries.geojson",
        as_of=pd.Timestamp(
            json.loads((demo_run / "run" / "manifest.json").read_text())["parameters"]["as_of"]
        ).date(),
        addresses_count=0,
        coverage_count=0,
    )
    # the demo keeps the real population density at any scale; the printed command says so
    household_size = f"{round(2.1 / TEST_SCALE, 6):g}"
    assert gapmap(*run_args(demo, tmp_path / "again", **{"--household-size": household_size})) == 0
    # the public tables too: the same secret gives the same published values in every run
    for name in ("summary_kreis.csv", "summary_gemeinde.csv", "summary_gemeinde_public.csv",
                 "summary_kreis_public.csv", "degurba_gemeinde_public.csv"):  # fmt: skip
        assert (tmp_path / "again" / name).read_bytes() == (demo_run / "run" / name).read_bytes()
    a = gpd.read_parquet(demo_run / "run" / "addresses.parquet")
    b = gpd.read_parquet(tmp_path / "again" / "addresses.parquet")
    pd.testing.assert_frame_equal(
        pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry"))
    )


def test_cell_key_options(demo_run: Path, tmp_path: Path, capsys) -> None:
    """Another secret gives other public values; parameters without a p-table exit 2."""
    demo = DemoInputs(
        addresses=demo_run / "inputs" / "addresses.parquet",
        coverage=demo_run / "inputs" / "coverage.parquet",
        boundaries=demo_run / "inputs" / "boundaries.geojson",
        as_of=pd.Timestamp("2026-06-30").date(),
        addresses_count=0,
        coverage_count=0,
    )
    secret = tmp_path / "other.secret"
    args = run_args(demo, tmp_path / "other", **{"--cell-key-secret": secret})
    assert gapmap(*args) == 0
    assert secret.stat().st_mode & 0o777 == 0o600
    mine = pd.read_csv(tmp_path / "other" / "summary_gemeinde_public.csv", dtype={"ags": str})
    demo_public = pd.read_csv(demo_run / "run" / "summary_gemeinde_public.csv", dtype={"ags": str})
    assert (mine["addresses"] != demo_public["addresses"]).any()
    capsys.readouterr()
    bad = run_args(demo, tmp_path / "bad", **{"--ckm-max-deviation": "3", "--ckm-variance": "1.5"})
    assert gapmap(*bad) == 2
    assert "raise V or D, or lower js" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_summary_command_prints_the_kreis_table(
    demo_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gapmap("summary", demo_run / "run") == 0
    text = capsys.readouterr().out
    assert "Hochsauerlandkreis" in text and "Soest" in text and "run directory" in text


def test_diff_lists_the_addresses_whose_class_changed(
    demo_inputs: DemoInputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same addresses with and without planned roll-outs: ``gapmap diff`` lists exactly
    the addresses whose class differs, in the CSV and in the count it prints."""
    a, b = tmp_path / "with_planned", tmp_path / "existing_only"
    assert gapmap(*run_args(demo_inputs, a)) == 0
    assert gapmap(*run_args(demo_inputs, b), "--existing-only") == 0
    capsys.readouterr()
    assert gapmap("diff", a, b, "--out", tmp_path / "changes.csv") == 0
    printed = capsys.readouterr().out
    cols = ["address_id", "class"]
    both = pd.read_parquet(a / "addresses.parquet", columns=cols).merge(
        pd.read_parquet(b / "addresses.parquet", columns=cols), on="address_id"
    )
    changed = both.loc[both["class_x"] != both["class_y"], "address_id"]
    assert len(changed) > 0  # planned roll-outs change some classes in the demo
    listed = pd.read_csv(tmp_path / "changes.csv", dtype={"address_id": str})
    assert sorted(listed["address_id"]) == sorted(changed)
    assert f"{len(changed):,} address(es) changed; 0 added, 0 removed" in printed


def test_profiles_lists_both_starting_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    assert gapmap("profiles") == 0
    text = capsys.readouterr().out
    assert "de-gigabit-2023" in text and "us-bead-2022" in text


# --- bad input: exit 2, a message naming the file and the problem, no run directory ---------


def _addresses_csv(
    demo: DemoInputs, path: Path, *, swap: bool = False, drop: str | None = None
) -> Path:
    gdf = gpd.read_parquet(demo.addresses).head(200).to_crs(4326)
    frame = pd.DataFrame(gdf.drop(columns="geometry"))
    frame["lon"], frame["lat"] = gdf.geometry.x, gdf.geometry.y
    if swap:
        frame["lon"], frame["lat"] = gdf.geometry.y.to_numpy(), gdf.geometry.x.to_numpy()
    if drop:
        frame = frame.drop(columns=drop)
    frame.to_csv(path, index=False)
    return path


def _case_no_crs(demo: DemoInputs, tmp: Path) -> tuple[dict[str, Path | str], str, str]:
    gdf = gpd.read_parquet(demo.addresses).head(100)
    path = tmp / "addresses_nocrs.shp"
    gdf.to_file(path)
    path.with_suffix(".prj").unlink()
    return {"--addresses": path}, "addresses_nocrs.shp", "no CRS"


def _case_swapped(demo: DemoInputs, tmp: Path) -> tuple[dict[str, Path | str], str, str]:
    return (
        {"--addresses": _addresses_csv(demo, tmp / "swapped.csv", swap=True)},
        "swapped.csv",
        "swapped",
    )


def _case_empty(demo: DemoInputs, tmp: Path) -> tuple[dict[str, Path | str], str, str]:
    path = tmp / "empty.csv"
    path.write_bytes(b"")
    return {"--addresses": path}, "empty.csv", "empty"


def _case_missing_column(demo: DemoInputs, tmp: Path) -> tuple[dict[str, Path | str], str, str]:
    return (
        {"--addresses": _addresses_csv(demo, tmp / "noid.csv", drop="address_id")},
        "noid.csv",
        "address_id",
    )


def _case_unknown_profile(demo: DemoInputs, tmp: Path) -> tuple[dict[str, Path | str], str, str]:
    return {"--profile": "de-gigabit-2099"}, "de-gigabit-2099", "de-gigabit-2023"


def _case_unrepairable_polygon(
    demo: DemoInputs, tmp: Path
) -> tuple[dict[str, Path | str], str, str]:
    cov = gpd.read_parquet(demo.coverage).head(20).copy()
    x, y = cov.geometry.iloc[3].representative_point().coords[0]
    # a "polygon" whose ring runs out and back along one line: zero area, nothing to repair
    cov.loc[cov.index[3], "geometry"] = shapely.Polygon([(x, y), (x + 10, y), (x + 20, y), (x, y)])
    path = tmp / "cov_bad.gpkg"
    cov.to_file(path)
    return {"--coverage": path}, "cov_bad.gpkg", "4"


@pytest.mark.parametrize(
    "case",
    [
        _case_no_crs,
        _case_swapped,
        _case_empty,
        _case_missing_column,
        _case_unknown_profile,
        _case_unrepairable_polygon,
    ],
)
def test_bad_input_exits_2_names_file_and_leaves_no_run(
    case, demo_inputs: DemoInputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    over, file_fragment, problem = case(demo_inputs, tmp_path)
    out = tmp_path / "run"
    assert gapmap(*run_args(demo_inputs, out, **over)) == 2
    message = capsys.readouterr().err
    assert file_fragment in message and problem in message, message
    assert "Traceback" not in message
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run.")], (
        "temporary run directory left behind"
    )


def test_invalid_polygons_are_repaired_and_counted(demo_inputs: DemoInputs, tmp_path: Path) -> None:
    cov = gpd.read_parquet(demo_inputs.coverage)
    i = int(cov.geometry.area.idxmax())
    minx, miny, maxx, maxy = cov.geometry.iloc[i].bounds
    bowtie = shapely.Polygon([(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy)])
    assert not bowtie.is_valid
    extra = cov.iloc[[i]].copy()
    extra["geometry"] = [bowtie]
    path = tmp_path / "cov_invalid.gpkg"
    gpd.GeoDataFrame(pd.concat([cov, extra], ignore_index=True), crs=cov.crs).to_file(path)
    out = tmp_path / "run"
    assert gapmap(*run_args(demo_inputs, out, **{"--coverage": path})) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["validation"][str(path)]["repaired_geometries"] == 1


def test_failed_run_keeps_the_earlier_run(demo_inputs: DemoInputs, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert gapmap(*run_args(demo_inputs, out)) == 0
    before = (out / "manifest.json").read_bytes()
    assert gapmap(*run_args(demo_inputs, out, **{"--profile": "nope"})) == 2
    assert (out / "manifest.json").read_bytes() == before


def test_console_script_exit_codes(tmp_path: Path) -> None:
    bad = subprocess.run(
        [sys.executable, "-m", "api.cli", "summary", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
    )
    assert (
        bad.returncode == 2
        and "not a run directory" in bad.stderr
        and "Traceback" not in bad.stderr
    )
    usage = subprocess.run(
        [sys.executable, "-m", "api.cli", "run", "--nonsense"], capture_output=True, text=True
    )
    assert usage.returncode == 2


def test_run_refuses_a_vrt_named_geojson(tmp_path: Path, capsys) -> None:
    evil = tmp_path / "addresses.geojson"
    evil.write_text(
        '<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>CSV:/etc/passwd'
        "</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>\n"
    )
    code = gapmap("run", "--addresses", evil, "--coverage", evil, "--out", tmp_path / "out")
    assert code == 2
    err = capsys.readouterr().err
    assert "GDAL VRT" in err and "root:" not in err
    assert not (tmp_path / "out").exists()


def test_gpkg_writes_the_runs_address_layer_for_a_kreis(demo_run: Path, tmp_path: Path) -> None:
    """``gapmap gpkg``: the address layer of gapmap.gpkg, for one Kreis, from the run's
    addresses.parquet (what a run beyond 1M addresses leaves out of gapmap.gpkg)."""
    import pyogrio

    out = tmp_path / "soest.gpkg"
    assert gapmap("gpkg", demo_run / "run", "--out", out, "--ags", "05974") == 0
    mine = pyogrio.read_dataframe(out, layer="addresses")
    run = pyogrio.read_dataframe(demo_run / "run" / "gapmap.gpkg", layer="addresses")
    theirs = run[run["ags"].str.startswith("05974")].reset_index(drop=True)
    assert len(mine) == len(theirs) > 0
    pd.testing.assert_frame_equal(mine, theirs)
    assert gapmap("gpkg", tmp_path, "--out", out) == 2  # no addresses.parquet there
