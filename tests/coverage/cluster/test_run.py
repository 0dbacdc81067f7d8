"""``gapmap cluster-run``: addresses that stay on a 2-worker LocalCluster give the local
run's classes, keys, rural flags, gap areas and every table; bad parts fail with the address
named and leave the earlier run directory as it was."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from coverage.classify import RESULT_COLUMNS
from coverage.errors import InputDataError
from coverage.io.demo_files import DemoInputs

dask_geopandas = pytest.importorskip(
    "dask_geopandas", reason="dask-geopandas not installed (pip install 'gapmap[dask]')"
)
distributed = pytest.importorskip("distributed", reason="dask.distributed not installed")
gpd = pytest.importorskip("geopandas")

from coverage.cluster.run import ClusterRunOptions, cluster_run  # noqa: E402
from coverage.pipeline import LayerSpec, RunInputs, RunOptions, run  # noqa: E402
from coverage.rural.analysis import RuralOptions  # noqa: E402


@pytest.fixture(scope="module")
def rural(tmp_path_factory: pytest.TempPathFactory) -> RuralOptions:
    """The German cost set with every cluster an area of its own (no minimum size or cost
    per connection): the sparse test demo then has hundreds of gap areas, not only the
    scattered remainders."""
    import coverage.costs

    text = (Path(coverage.costs.__file__).parent / "de.toml").read_text(encoding="utf-8")
    small = text.replace("min_addresses = 10", "min_addresses = 1").replace(
        "max_per_connection = 20000.0", "max_per_connection = 0.0"
    )
    assert small != text
    path = tmp_path_factory.mktemp("costs") / "de_small_areas.toml"
    path.write_text(small, encoding="utf-8")
    return RuralOptions(costs=str(path))


@pytest.fixture(scope="module")
def local_run(
    demo_inputs: DemoInputs, rural: RuralOptions, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """``gapmap run`` of the demo inputs: the reference."""
    out = tmp_path_factory.mktemp("cluster") / "local"
    inputs = RunInputs(
        LayerSpec(demo_inputs.addresses),
        (LayerSpec(demo_inputs.coverage),),
        LayerSpec(demo_inputs.boundaries),
    )
    run(inputs, out, RunOptions(as_of=demo_inputs.as_of, cell_key_secret=SECRET, rural=rural))
    return out


def _parts(frame: gpd.GeoDataFrame, path: Path, npartitions: int = 5, sort: bool = True) -> Path:
    """``frame`` as GeoParquet parts, as dask-geopandas writes them; spatially sorted
    unless ``sort`` is False (``spatial_shuffle`` cannot take missing points)."""
    parts = dask_geopandas.from_geopandas(frame, npartitions=npartitions)
    (parts.spatial_shuffle() if sort else parts).to_parquet(path)
    return path


SECRET = b"cluster-test-secret-0123456789ab"


def _addresses(demo_inputs: DemoInputs) -> gpd.GeoDataFrame:
    return gpd.read_parquet(demo_inputs.addresses)


def _cluster(demo_inputs: DemoInputs, parts: Path, out: Path, dask_client, **options) -> object:
    return cluster_run(
        parts,
        [LayerSpec(demo_inputs.coverage)],
        out,
        ClusterRunOptions(as_of=demo_inputs.as_of, scheduler=dask_client, **options),
        boundaries=LayerSpec(demo_inputs.boundaries),
    )


def test_cluster_run_equals_the_local_run(
    dask_client, demo_inputs: DemoInputs, local_run: Path, rural: RuralOptions, tmp_path: Path
) -> None:
    """Every address's classification, offer columns, keys, point and rural columns, and
    every table of the local run (summaries, grids, DEGURBA, gap and project areas, cost
    sources and their public copies) are equal; a third of the addresses get their ags from
    the boundaries on the workers. The parts hold the addresses in the file's order (gap
    areas are numbered by first address)."""
    addresses = _addresses(demo_inputs)
    assert addresses["ags"].notna().all()
    addresses.loc[addresses.index % 3 == 0, "ags"] = None
    parts = _parts(addresses, tmp_path / "parts", sort=False)
    result = _cluster(
        demo_inputs, parts, tmp_path / "out", dask_client, cell_key_secret=SECRET, rural=rural
    )

    out = tmp_path / "out"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest == result.manifest
    assert manifest["created_by"] == "gapmap cluster-run"
    n_parts = manifest["counts"]["address_parts"]
    assert n_parts >= 2  # rows of several parts link into one area
    assert sorted(p.name for p in (out / "addresses").iterdir()) == [
        f"part.{i:05d}.parquet" for i in range(n_parts)
    ]
    tables = sorted(p.name for p in local_run.iterdir() if p.suffix in (".csv", ".parquet"))
    tables.remove("addresses.parquet")
    assert manifest["files"] == sorted(
        [
            *(f"addresses/part.{i:05d}.parquet" for i in range(n_parts)),
            *tables,
            "manifest.json",
            "validation.json",
        ]
    )

    got = gpd.read_parquet(out / "addresses")  # the parts are one GeoParquet dataset
    assert got.crs.to_epsg() == 25832
    expected = gpd.read_parquet(local_run / "addresses.parquet")
    assert list(got.columns) == [c for c in expected.columns if c in got.columns]
    rural_columns = ["degurba_cell", "degurba_gemeinde", "rural_gap", "cell_100m", "cell_1km",
                     "gap_area_id"]  # fmt: skip
    got = got.set_index("address_id").sort_index()
    expected = expected.set_index("address_id").sort_index()
    assert got.index.equals(expected.index) and len(got) == demo_inputs.addresses_count
    assert bool(shapely.equals(got.geometry.values, expected.geometry.values).all())
    for col in ["ags", "households", "site_type", *RESULT_COLUMNS, *rural_columns]:
        a, b = got[col], expected[col]
        if b.dtype == object or isinstance(b.dtype, pd.CategoricalDtype) or a.dtype == "string":
            a, b = a.astype("string"), b.astype("string")
        pd.testing.assert_series_equal(a, b.astype(a.dtype), check_names=False, obj=col)

    local_manifest = json.loads((local_run / "manifest.json").read_text())
    for key in ("addresses", "households", "eligible", "by_class", "coverage_features",
                "rural_gap", "gap_areas"):  # fmt: skip
        assert manifest["counts"][key] == local_manifest["counts"][key], key
    assert manifest["counts"]["addresses_without_ags"] == 0
    # a real test of the gap areas: clusters linked to served addresses, non-members cut out
    areas = gpd.read_parquet(out / "gap_areas.parquet")
    assert (areas["kind"] == "cluster").sum() > 100 and areas["link_to"].notna().all()
    assert shapely.get_num_interior_rings(shapely.get_parts(areas.geometry.values)).sum() > 0
    # the client held the eligible rows and their neighbours, not all addresses
    assert manifest["counts"]["eligible"] <= manifest["counts"]["gap_area_rows"]
    assert manifest["counts"]["gap_area_rows"] < demo_inputs.addresses_count
    for name in tables:
        if name.endswith(".csv"):
            mine = pd.read_csv(out / name, dtype={"ags": str})
            theirs = pd.read_csv(local_run / name, dtype={"ags": str})
        elif name == "gap_areas.parquet" or name == "boundaries.parquet":
            mine, theirs = gpd.read_parquet(out / name), gpd.read_parquet(local_run / name)
            assert bool(shapely.equals_exact(mine.geometry.values, theirs.geometry.values, 0).all())
            mine, theirs = mine.drop(columns="geometry"), theirs.drop(columns="geometry")
        else:
            mine, theirs = pd.read_parquet(out / name), pd.read_parquet(local_run / name)
        pd.testing.assert_frame_equal(mine, theirs, check_exact=True, obj=name)
    public = pd.read_csv(out / "summary_gemeinde_public.csv", dtype={"ags": str})
    assert not public["n_white"].between(1, 2).any()
    assert (public["n_white"] != result.summary_gemeinde["n_white"]).any()


def test_cli_cluster_run_on_a_local_cluster(
    demo_inputs: DemoInputs, local_run: Path, tmp_path: Path, capsys
) -> None:
    """``gapmap cluster-run --workers 2``: exit 0, the Kreis table and counts printed; the
    rule family's version is the one in force on --as-of (not today's)."""
    from api.cli import main

    parts = _parts(_addresses(demo_inputs), tmp_path / "parts", npartitions=3)
    code = main(
        [
            "cluster-run",
            "--addresses", str(parts),
            "--coverage", str(demo_inputs.coverage),
            "--boundaries", str(demo_inputs.boundaries),
            "--profile", "de-gigabit",
            "--as-of", "2024-01-15",
            "--workers", "2",
            "--out", str(tmp_path / "out"),
        ]
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0, printed
    kreise = pd.read_csv(local_run / "summary_kreis.csv", dtype={"ags": str})
    for row in kreise.itertuples():
        assert row.name in printed and f"{row.addresses:,}" in printed
    assert f"{demo_inputs.addresses_count:,} addresses in" in printed
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["parameters"]["dask"] == {"scheduler": None, "workers": 2}
    assert manifest["profile"]["id"] == "de-gigabit-2023"
    assert manifest["profile"]["selected_by"] == "family de-gigabit, in force on 2024-01-15"


def _polygon_at(frame: gpd.GeoDataFrame, i: int) -> gpd.GeoDataFrame:
    frame = frame.copy()
    frame.loc[i, "geometry"] = frame.geometry.iloc[i].buffer(5)
    return frame


def _set(col: str, value: object):
    def change(frame: gpd.GeoDataFrame, i: int) -> gpd.GeoDataFrame:
        frame = frame.copy()
        if col == "households":
            frame[col] = frame[col].astype(float)
        frame.loc[i, col] = value
        return frame

    return change


def _no_point(frame: gpd.GeoDataFrame, i: int) -> gpd.GeoDataFrame:
    frame = frame.copy()
    frame.loc[i, "geometry"] = None
    return frame


@pytest.fixture(scope="module")
def earlier_run(dask_client, demo_inputs: DemoInputs, tmp_path_factory) -> Path:
    """A finished cluster run (each bad run below tries to replace a copy of it)."""
    base = tmp_path_factory.mktemp("earlier")
    _cluster(demo_inputs, _parts(_addresses(demo_inputs), base / "good", 2), base / "out",
             dask_client)  # fmt: skip
    return base / "out"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set("site_type", "castle"), "unknown site_type 'castle'"),
        (_set("households", -2), "households must be a whole number >= 0"),
        (_set("households", 1.5), "households must be a whole number >= 0"),
        (_set("ags", "5958004"), "ags must be an 8-digit string"),
        (_set("address_id", ""), "have no address_id"),
        (_polygon_at, "not a point"),
        (_no_point, "have no coordinates"),
    ],
    ids=["site_type", "households<0", "households=1.5", "ags", "address_id", "polygon", "empty"],
)
def test_a_bad_address_fails_the_run_and_keeps_the_earlier_one(
    dask_client, demo_inputs: DemoInputs, earlier_run: Path, tmp_path: Path, change, message: str
) -> None:
    """A worker's check names the part, the address_id (where there is one) and the field;
    the run directory from before stays as it was and no partial directory is left."""
    import shutil

    good = _addresses(demo_inputs)
    out = tmp_path / "out"
    shutil.copytree(earlier_run, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert "manifest.json" in {p.name for p in before}

    i = len(good) // 2
    bad = change(good, i)
    with pytest.raises(InputDataError, match=message) as err:
        _cluster(demo_inputs, _parts(bad, tmp_path / "bad", 2, sort=False), out, dask_client)
    assert str(tmp_path / "bad") in str(err.value)
    if "address_id" not in message:
        assert repr(str(good["address_id"].iloc[i])) in str(err.value)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad", "out"]


def test_addresses_checked_before_the_cluster_works(
    dask_client, demo_inputs: DemoInputs, tmp_path: Path
) -> None:
    """Wrong CRS (EPSG:3035, EPSG:4326), no address_id, or plain Parquet without GeoParquet
    metadata: a clear error naming the file, before any part is classified."""
    good = _addresses(demo_inputs).iloc[:500]
    cases = {
        "laea": (good.to_crs(3035), "addresses are in EPSG:3035.*to_crs\\('EPSG:25832'\\)"),
        "lonlat": (good.to_crs(4326), "degrees|EPSG:4326"),
        "no_id": (good.drop(columns="address_id"), "no column address_id"),
    }
    for name, (frame, message) in cases.items():
        frame.to_parquet(tmp_path / f"{name}.parquet")
        with pytest.raises(InputDataError, match=message):
            _cluster(demo_inputs, tmp_path / f"{name}.parquet", tmp_path / name, dask_client)
        assert not (tmp_path / name).exists()
    pd.DataFrame(good.drop(columns="geometry")).to_parquet(tmp_path / "plain.parquet")
    with pytest.raises(InputDataError, match="no GeoParquet metadata"):
        _cluster(demo_inputs, tmp_path / "plain.parquet", tmp_path / "plain", dask_client)


def test_summaries_over_grouped_rows_equal_those_over_addresses() -> None:
    """``summarise(count=...)`` over rows grouped by (ags, class, eligible) gives the table
    of the addresses themselves (what the cluster run's workers send back)."""
    from coverage.aggregate import summarise

    rng = np.random.default_rng(3)
    n = 5_000
    rows = pd.DataFrame(
        {
            "ags": pd.array(rng.choice(["05958004", "05958008", "05962004", None], n), "string"),
            "class": rng.choice(["gigabit", "grey", "white"], n),
            "eligible": rng.random(n) < 0.4,
            "households": rng.integers(0, 6, n),
        }
    )
    grouped = (
        rows.assign(addresses=1, ags=rows["ags"].fillna(""))
        .groupby(["ags", "class", "eligible"], as_index=False)[["addresses", "households"]]
        .sum()
    )
    assert len(grouped) < 30
    for level in ("gemeinde", "kreis"):
        classes = ["gigabit", "grey", "white"]
        pd.testing.assert_frame_equal(
            summarise(grouped, level=level, classes=classes, count="addresses"),
            summarise(rows, level=level, classes=classes),
        )


def test_one_file_is_read_as_parts_by_row_group(
    dask_client, demo_inputs: DemoInputs, local_run: Path, tmp_path: Path, monkeypatch
) -> None:
    """One GeoParquet file (as ``gapmap run`` takes it) is split into tasks by its row groups,
    not classified as one partition; the counts are the local run's."""
    import coverage.io.geoparquet_parts

    monkeypatch.setattr(coverage.io.geoparquet_parts, "_PART_BYTES", "64 KiB")
    _addresses(demo_inputs).to_parquet(tmp_path / "one.parquet", row_group_size=1_000)
    result = _cluster(demo_inputs, tmp_path / "one.parquet", tmp_path / "out", dask_client)
    counts = result.manifest["counts"]
    assert counts["address_parts"] >= 3
    assert len(list((tmp_path / "out" / "addresses").iterdir())) == counts["address_parts"]
    local = json.loads((local_run / "manifest.json").read_text())["counts"]
    assert counts["by_class"] == local["by_class"] and counts["addresses"] == local["addresses"]


def test_real_schools_get_their_official_gemeinde_on_the_workers(
    dask_client, shared_data: Path, demo_inputs: DemoInputs, tmp_path: Path
) -> None:
    """The 496 schools of the NRW school register (real addresses, EPSG:25832) without
    their key, on the real VG250 Gemeinden: the ags each worker fills in is the register's
    Gemeindeschluessel for every school, and the classes equal ``gapmap run``'s."""
    from coverage.io.vector import read_vector

    schools = read_vector(
        shared_data / "points" / "schulen_nrw_suedwestfalen.csv",
        crs="EPSG:25832",
        x="UTMRechtswert",
        y="UTMHochwert",
        columns={"Schulnummer": "address_id", "Gemeindeschluessel": "ags"},
    ).frame
    official = dict(zip(schools["address_id"].astype(str), schools["ags"], strict=True))
    frame = gpd.GeoDataFrame(
        {
            "address_id": schools["address_id"].astype(str),
            "site_type": "school",
            "households": 1,
        },
        geometry=schools.geometry.values,
        crs=25832,
    )
    frame.to_parquet(tmp_path / "schools.parquet")
    boundaries = LayerSpec(shared_data / "boundaries" / "vg250_gemeinden_suedwestfalen.geojson")
    result = cluster_run(
        tmp_path / "schools.parquet",
        [LayerSpec(demo_inputs.coverage)],
        tmp_path / "out",
        ClusterRunOptions(as_of=demo_inputs.as_of, scheduler=dask_client),
        boundaries=boundaries,
    )
    rows = gpd.read_parquet(tmp_path / "out" / "addresses")
    assert len(rows) == 496
    assert dict(zip(rows["address_id"], rows["ags"], strict=True)) == official
    assert result.manifest["counts"]["addresses_without_ags"] == 0
    assert result.summary_gemeinde["addresses"].sum() == 496

    local = run(
        RunInputs(LayerSpec(tmp_path / "schools.parquet"), (LayerSpec(demo_inputs.coverage),)),
        tmp_path / "local",
        RunOptions(as_of=demo_inputs.as_of),
    )
    expected = dict(zip(local.addresses["address_id"], local.addresses["class"], strict=True))
    assert dict(zip(rows["address_id"], rows["class"], strict=True)) == expected


def test_summary_diff_and_maps_read_a_cluster_run(
    dask_client, demo_inputs: DemoInputs, local_run: Path, tmp_path: Path, capsys
) -> None:
    """``gapmap summary`` prints its Kreis table, ``gapmap diff`` against the local run finds
    no change, and the maps' reader says what a cluster run directory lacks."""
    from api.cli import main
    from coverage.io.rundir import load_run

    out = tmp_path / "out"
    _cluster(demo_inputs, _parts(_addresses(demo_inputs), tmp_path / "parts", 3), out, dask_client)
    capsys.readouterr()
    assert main(["summary", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Hochsauerlandkreis" in printed and "rural gaps: " in printed
    assert main(["diff", str(local_run), str(out)]) == 0
    assert "0 address(es) changed; 0 added, 0 removed" in capsys.readouterr().out
    with pytest.raises(InputDataError, match=r"gapmap cluster-run directory.*gapmap run per"):
        load_run(out)
