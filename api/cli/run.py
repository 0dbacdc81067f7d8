"""The analyst's commands: ``demo``, ``run``, ``cluster-run``, ``degurba``, ``inspect``,
``profiles``/``profile show``, ``summary`` and ``diff`` (registered on ``api.cli.app.app``)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from api.cli.app import _progress_bar, _user_errors, app, err, out
from api.cli.options import (
    AcceptUnmatchedOption,
    AsOfOption,
    BoundaryColumnsOption,
    CkmDOption,
    CkmJsOption,
    CkmVOption,
    CostsOption,
    CoverageColumnsOption,
    CoverageCrsOption,
    FibreOption,
    HeaderRowOption,
    HouseholdSizeOption,
    IncludePlannedOption,
    PopulationOption,
    ProfileOption,
    RegionOption,
    RuralRuleOption,
    SecretOption,
    ValuesOption,
    _parse_as_of,
    _parse_mapping,
    _parse_values,
)
from api.cli.render import print_run_dir


@app.command()
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Directory for the demo inputs and run.")
    ] = Path("runs/demo"),
    scale: Annotated[
        float,
        typer.Option(
            help="Fraction of the full ~380k addresses (0 < F <= 2).", min=0.0001, max=2.0
        ),
    ] = 1.0,
    profile: Annotated[
        str, typer.Option(help="Rule profile id or path to a profile TOML.")
    ] = "de-gigabit",
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic data.")] = 20261125,
) -> None:
    """Build the synthetic Suedwestfalen demo inputs and run the analysis on them."""
    from coverage.io.demo_files import write_demo_inputs
    from coverage.pipeline import LayerSpec, RunInputs, RunOptions, run

    household_size = round(2.1 / scale, 6)
    with _user_errors():
        err.print(f"building demo inputs (scale {scale}, seed {seed}) ...")
        inputs = write_demo_inputs(out_dir / "inputs", scale=scale, seed=seed)
        run_dir = out_dir / "run"
        ckm, secret = _disclosure(10, 3.0, 2, None)
        note = "SYNTHETIC demo data: fictional 'Demo' operators and generated addresses on real VG250 boundaries (see data/README.md)."
        with _progress_bar() as progress:
            result = run(
                RunInputs(
                    LayerSpec(inputs.addresses),
                    (LayerSpec(inputs.coverage),),
                    LayerSpec(inputs.boundaries),
                ),
                run_dir,
                RunOptions(
                    profile=profile,
                    as_of=inputs.as_of,
                    synthetic_note=note,
                    ckm=ckm,
                    cell_key_secret=secret,
                    extra_manifest={"demo": {"scale": scale, "seed": seed}},
                    # a scaled-down demo keeps the real population density for DEGURBA
                    rural=_rural_options("cell", household_size),
                ),
                progress,
            )
    print_run_dir(out, run_dir, result.manifest, result.summary_kreis)
    from api.cli.maps import write_demo_maps

    with _user_errors():
        maps = write_demo_maps(run_dir)
    out.print("maps: " + ", ".join(str(m) for m in maps), soft_wrap=True, highlight=False)
    cmd = [
        "gapmap", "run", "--addresses", str(inputs.addresses), "--coverage", str(inputs.coverage),
        "--boundaries", str(inputs.boundaries), "--profile", profile, "--as-of", inputs.as_of.isoformat(),
        "--household-size", f"{household_size:g}", "--out", str(out_dir / "rerun"),
    ]  # fmt: skip
    out.print(f"same analysis by hand: {shlex.join(cmd)}", soft_wrap=True, highlight=False)


@app.command("run")
def run_cmd(
    addresses: Annotated[
        Path, typer.Option(help="Address points (GeoParquet, GPKG, GeoJSON, Shapefile, zip, CSV).")
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Run directory to write (replaced only on success).")
    ],
    coverage: Annotated[
        list[Path] | None,
        typer.Option(help="Coverage polygons with offer columns; repeat for several files."),
    ] = None,
    offers: Annotated[
        list[Path] | None,
        typer.Option(help="Address-keyed offer lists (CSV/XLSX Markterkundung replies); repeat."),
    ] = None,
    boundaries: Annotated[
        Path | None, typer.Option(help="Gemeinde (and Kreis) polygons with ags and name.")
    ] = None,
    profile: ProfileOption = "de-gigabit",
    as_of: AsOfOption = None,
    include_planned: IncludePlannedOption = True,
    region: RegionOption = None,
    addresses_crs: Annotated[
        str | None, typer.Option(help="CRS of the address file if it has none, e.g. EPSG:25832.")
    ] = None,
    coverage_crs: CoverageCrsOption = None,
    boundaries_crs: Annotated[
        str | None, typer.Option(help="CRS of the boundary file if it has none.")
    ] = None,
    address_columns: Annotated[
        str | None, typer.Option(help="Column mapping SOURCE=CANONICAL,... for the address file.")
    ] = None,
    coverage_columns: CoverageColumnsOption = None,
    boundary_columns: BoundaryColumnsOption = None,
    offers_columns: Annotated[
        str | None, typer.Option(help="Column mapping for the offer lists.")
    ] = None,
    address_values: ValuesOption = None,
    coverage_values: ValuesOption = None,
    offers_values: ValuesOption = None,
    offers_header_row: HeaderRowOption = None,
    accept_unmatched: AcceptUnmatchedOption = False,
    population: PopulationOption = None,
    rural_rule: RuralRuleOption = "cell",
    ckm_d: CkmDOption = 10,
    ckm_v: CkmVOption = 3.0,
    ckm_js: CkmJsOption = 2,
    cell_key_secret: SecretOption = None,
    household_size: HouseholdSizeOption = 2.1,
    measured: Annotated[
        Path | None,
        typer.Option(help="Measured speeds (Ookla open-data tiles) reported beside the class."),
    ] = None,
    atlas: Annotated[
        Path | None,
        typer.Option(help="Breitbandatlas table per 100 m cell, compared with operator claims."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Join, classify and gap areas on a Dask cluster (tcp://host:8786)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Join, classify and gap areas on N threads of this process (default: the "
            "gap areas on one thread per CPU, join and classify on one).",
            min=1,
        ),
    ] = None,
    raster: Annotated[
        list[str] | None,
        typer.Option(
            help="NAME=FILE raster sampled at every address (e.g. mobile=lte.tif); repeat."
        ),
    ] = None,
    fibre: FibreOption = None,
    costs: CostsOption = None,
    gpkg_addresses: Annotated[
        bool,
        typer.Option(
            help="Put every address into gapmap.gpkg even beyond 1,000,000 addresses "
            "(otherwise `gapmap gpkg` writes that layer when needed)."
        ),
    ] = False,
) -> None:
    """Classify addresses against coverage under a rule profile and write a run directory."""
    from coverage.pipeline import LayerSpec, RunInputs, RunOptions, run
    from coverage.run_checks import MIN_OFFER_MATCH

    ref = _parse_as_of(as_of)
    with _user_errors():
        values = (
            _parse_values(address_values, "--address-values"),
            _parse_values(coverage_values, "--coverage-values"),
            _parse_values(offers_values, "--offers-values"),
        )
    inputs = RunInputs(
        addresses=LayerSpec(
            addresses,
            addresses_crs,
            _parse_mapping(address_columns, "--address-columns"),
            values=values[0],
        ),
        coverage=tuple(
            LayerSpec(
                p,
                coverage_crs,
                _parse_mapping(coverage_columns, "--coverage-columns"),
                values=values[1],
            )
            for p in coverage or ()
        ),
        boundaries=LayerSpec(
            boundaries, boundaries_crs, _parse_mapping(boundary_columns, "--boundary-columns")
        )
        if boundaries
        else None,
        offers=tuple(
            LayerSpec(
                p,
                None,
                _parse_mapping(offers_columns, "--offers-columns"),
                values=values[2],
                header_row=offers_header_row,
            )
            for p in offers or ()
        ),
        population=LayerSpec(population) if population else None,
        measured=LayerSpec(measured) if measured else None,
        atlas=LayerSpec(atlas) if atlas else None,
        rasters=tuple(
            (name, LayerSpec(Path(file)))
            for name, file in (_parse_mapping(",".join(raster), "--raster") or {}).items()
        )
        if raster
        else (),
        fibre=LayerSpec(fibre) if fibre else None,
    )
    with _user_errors():
        ckm, secret = _disclosure(ckm_d, ckm_v, ckm_js, cell_key_secret)
    with _user_errors(), _progress_bar() as progress:
        result = run(
            inputs,
            out_dir,
            RunOptions(
                profile=profile,
                region=region,
                as_of=ref,
                include_planned=include_planned,
                rural=_rural_options(rural_rule, household_size, costs or ""),
                ckm=ckm,
                cell_key_secret=secret,
                scheduler=scheduler,
                workers=workers,
                min_offer_match=None if accept_unmatched else MIN_OFFER_MATCH,
                **({"gpkg_address_limit": None} if gpkg_addresses else {}),
            ),
            progress,
        )
    print_run_dir(out, out_dir, result.manifest, result.summary_kreis)
    if offers:
        counts = result.manifest["counts"]
        unmatched = counts["unmatched_offer_rows"]
        where = f" (listed in {out_dir / 'unmatched_offers.csv'})" if unmatched else ""
        out.print(
            f"offer lists: {counts['offer_list_rows']:,} rows, {unmatched:,} unmatched{where}"
        )


@app.command("cluster-run")
def cluster_run_cmd(
    addresses: Annotated[
        str,
        typer.Option(
            help="GeoParquet file or directory of parts (local or fsspec URL the workers read), "
            "in the region's working CRS (EPSG:25832)."
        ),
    ],
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Run directory (replaced only on success); the workers write into it, so a "
            "remote cluster needs it on a shared filesystem.",
        ),
    ],
    coverage: Annotated[
        list[Path],
        typer.Option(help="Coverage polygons with offer columns; repeat for several files."),
    ],
    boundaries: Annotated[
        Path | None,
        typer.Option(
            help="Gemeinde (and Kreis) polygons: names, and the ags of addresses without."
        ),
    ] = None,
    profile: ProfileOption = "de-gigabit",
    as_of: AsOfOption = None,
    include_planned: IncludePlannedOption = True,
    region: RegionOption = "de",
    coverage_crs: CoverageCrsOption = None,
    coverage_columns: CoverageColumnsOption = None,
    boundary_columns: BoundaryColumnsOption = None,
    ckm_d: CkmDOption = 10,
    ckm_v: CkmVOption = 3.0,
    ckm_js: CkmJsOption = 2,
    cell_key_secret: SecretOption = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="An existing Dask cluster, e.g. tcp://host:8786."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="A local Dask cluster of N processes (default 2).", min=1),
    ] = None,
    population: PopulationOption = None,
    rural_rule: RuralRuleOption = "cell",
    household_size: HouseholdSizeOption = 2.1,
    fibre: FibreOption = None,
    costs: CostsOption = None,
) -> None:
    """Classify addresses that stay on a Dask cluster and analyse rural gaps there.

    For address sets beyond one machine's memory. Workers read, classify and write
    per-address GeoParquet parts; the run directory holds the tables of ``run`` (Gemeinde,
    Kreis and grid summaries, DEGURBA, gap and project areas, public copies) and a manifest.
    """
    from coverage.cluster.run import ClusterRunOptions, cluster_run
    from coverage.pipeline import LayerSpec

    ref = _parse_as_of(as_of)
    mapping = _parse_mapping(coverage_columns, "--coverage-columns")
    with _user_errors():
        ckm, secret = _disclosure(ckm_d, ckm_v, ckm_js, cell_key_secret)
    with _user_errors(), out.status("classifying on the Dask cluster ..."):
        result = cluster_run(
            addresses,
            [LayerSpec(p, coverage_crs, mapping) for p in coverage],
            out_dir,
            ClusterRunOptions(
                profile=profile,
                region=region,
                as_of=ref,
                include_planned=include_planned,
                scheduler=scheduler,
                workers=workers,
                ckm=ckm,
                cell_key_secret=secret,
                rural=_rural_options(rural_rule, household_size, costs or ""),
            ),
            boundaries=LayerSpec(
                boundaries, None, _parse_mapping(boundary_columns, "--boundary-columns")
            )
            if boundaries
            else None,
            population=LayerSpec(population) if population else None,
            fibre=LayerSpec(fibre) if fibre else None,
        )
    print_run_dir(out, out_dir, result.manifest, result.summary_kreis)
    out.print(f"per-address rows: [bold]{out_dir / 'addresses'}[/] (GeoParquet parts)")


def _disclosure(d: int, v: float, js: int, secret_file: Path | None) -> tuple[Any, bytes]:
    """The cell key method's parameters and secret (raises GapmapError: exit 2)."""
    from coverage.io.secret import default_secret_path, load_or_create_secret
    from coverage.privacy.ptable import CkmParams, ptable

    params = CkmParams(max_deviation=d, variance=v, js=js)
    ptable(params)  # infeasible parameters fail here, before the run reads anything
    return params, load_or_create_secret(secret_file or default_secret_path())


def _rural_options(rule: str, household_size: float = 2.1, costs: str = "") -> Any:
    from coverage.rural.analysis import RuralOptions

    if rule not in ("cell", "municipality", "both"):
        raise typer.BadParameter(
            f"{rule!r}; use cell, municipality or both", param_hint="--rural-rule"
        )
    return RuralOptions(
        rural_rule=rule,  # type: ignore[arg-type]
        household_size=household_size,
        costs=costs,
    )


@app.command()
def degurba(
    population: Annotated[
        Path, typer.Option(help="Zensus-style INSPIRE grid CSV or EPSG:3035 raster.")
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the DEGURBA results.")],
    boundaries: Annotated[
        Path | None, typer.Option(help="Gemeinde polygons (ags, name) for municipality classes.")
    ] = None,
) -> None:
    """Degree of urbanisation (Eurostat DEGURBA) per 1 km cell and per Gemeinde."""
    from coverage.run_degurba import run_degurba
    from coverage.run_inputs import LayerSpec

    with _user_errors():
        result = run_degurba(
            LayerSpec(population), LayerSpec(boundaries) if boundaries else None, out_dir
        )
    cells = result.cells["degurba_cell"].value_counts().to_dict()
    out.print(
        f"cells: {len(result.cells):,} ({cells.get(3, 0):,} urban centre, {cells.get(2, 0):,} urban cluster, "
        f"{cells.get(1, 0):,} rural); population {result.cells['population'].sum():,.0f}"
    )
    if len(result.gemeinden):
        labels = {1: "city", 2: "town/suburb", 3: "rural"}
        table = Table(title="DEGURBA per Gemeinde", title_justify="left")
        for col in ("AGS", "Gemeinde", "population", "centre", "cluster", "rural", "class"):
            table.add_column(
                col,
                justify="right" if col in ("population", "centre", "cluster", "rural") else "left",
            )
        for row in result.gemeinden.to_dict("records"):
            table.add_row(
                str(row["ags"]), str(row.get("name", "")), f"{row['population']:,.0f}",
                f"{row['share_urban_centre']:.0%}", f"{row['share_urban_cluster']:.0%}",
                f"{row['share_rural']:.0%}", f"{row['degurba']} {labels.get(int(row['degurba']), '?')}",
            )  # fmt: skip
        out.print(table)
    out.print(f"results: [bold]{out_dir}[/]")


@app.command()
def summary(
    run_dir: Annotated[
        Path, typer.Argument(help="A run directory written by gapmap run or gapmap demo.")
    ],
) -> None:
    """Print the per-Kreis summary of a finished run."""
    from coverage.errors import NotFoundError

    with _user_errors():
        manifest_path = run_dir / "manifest.json"
        if not manifest_path.is_file():
            raise NotFoundError(f"{run_dir}: not a run directory (no manifest.json)")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        kreis = pd.read_csv(run_dir / "summary_kreis.csv", dtype={"ags": str})
    print_run_dir(out, run_dir, manifest, kreis)


@app.command()
def diff(
    run_a: Annotated[Path, typer.Argument(help="The earlier run directory.")],
    run_b: Annotated[Path, typer.Argument(help="The later run directory.")],
    out_csv: Annotated[
        Path | None, typer.Option("--out", help="Write the changed addresses to this CSV.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Changed addresses to print.")] = 20,
) -> None:
    """List addresses whose class changed between two runs, and the changes per Gemeinde."""
    from coverage.diff import diff_runs
    from coverage.errors import NotFoundError
    from coverage.io.writers import write_csv
    from coverage.profiles import load_profile

    with _user_errors():
        frames, ranks = [], []
        for rd in (run_a, run_b):
            if not (rd / "manifest.json").is_file():
                raise NotFoundError(f"{rd}: not a run directory (no manifest.json)")
            manifest = json.loads((rd / "manifest.json").read_text(encoding="utf-8"))
            cols = ["address_id", "ags", "class", "eligible"]
            # a cluster run writes its addresses as a directory of parts
            path = rd / "addresses.parquet"
            if not path.is_file() and (rd / "addresses").is_dir():
                path = rd / "addresses"
            if not path.exists():
                raise NotFoundError(f"{rd}: no addresses.parquet; is it a finished run?")
            # the keys and classes only: no geometry (geopandas refuses to read without it)
            frames.append(pd.read_parquet(path, columns=cols))
            ranks.append([c.name for c in load_profile(manifest["profile"]["id"]).classes])
        result = diff_runs(frames[0], frames[1], rank_a=ranks[0], rank_b=ranks[1])
        if out_csv:
            write_csv(result.changes, out_csv)
    table = Table(title=f"class changes {run_a} -> {run_b}", title_justify="left")
    for col in result.per_gemeinde.columns:
        table.add_column(col, justify="left" if col == "ags" else "right")
    for row in result.per_gemeinde[result.per_gemeinde["changed"] > 0].itertuples(index=False):
        table.add_row(*[str(v) for v in row])
    out.print(table)
    changes = result.changes
    out.print(changes.head(limit).to_string(index=False) if len(changes) else "no class changed")
    out.print(
        f"{len(changes):,} address(es) changed; {result.added:,} added, {result.removed:,} removed"
    )
