"""``gapmap inspect``: read one input file the way ``gapmap run`` would; ``gapmap gpkg``: a
run's addresses as a GeoPackage layer for QGIS (the analyst)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.app import EXIT_BAD_INPUT, _ExitError, _user_errors, app, out
from api.cli.options import (
    HeaderRowOption,
    RegionOption,
    ValuesOption,
    _parse_mapping,
    _parse_values,
)


@app.command()
def inspect(
    file: Annotated[
        Path, typer.Argument(help="Any input file gapmap reads (file.gpkg|layername=NAME too).")
    ],
    crs: Annotated[str | None, typer.Option(help="CRS to assume if the file states none.")] = None,
    layer: Annotated[str | None, typer.Option(help="Layer of a multi-layer file.")] = None,
    region: RegionOption = "de",
    role: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="How run would use the file: addresses, offers, coverage, boundaries "
            "(default: offers for workbooks and tables with technology and download columns).",
        ),
    ] = None,
    address_columns: Annotated[
        str | None, typer.Option(help="Column mapping SOURCE=CANONICAL,... as for run.")
    ] = None,
    address_values: ValuesOption = None,
    offers_columns: Annotated[
        str | None, typer.Option(help="Column mapping of an offer list, as for run.")
    ] = None,
    offers_values: ValuesOption = None,
    offers_header_row: HeaderRowOption = None,
) -> None:
    """Read a file as run would: format, CRS, layers, what happens to each column, problems.

    Exits 2 when the file cannot be read.
    """
    from coverage.io.inspect import inspect_file

    if role is not None and role not in ("addresses", "offers", "coverage", "boundaries"):
        raise typer.BadParameter("use addresses, offers, coverage or boundaries", param_hint="--as")
    offers = role == "offers" or (role is None and file.suffix.lower() in (".xlsx", ".xlsm"))
    with _user_errors():
        report = inspect_file(
            file,
            crs=crs,
            layer=layer,
            region=region,
            role=role,
            columns=_parse_mapping(offers_columns, "--offers-columns")
            if offers
            else _parse_mapping(address_columns, "--address-columns"),
            values=_parse_values(offers_values, "--offers-values")
            if offers
            else _parse_values(address_values, "--address-values"),
            header_row=offers_header_row,
        )
    out.print(report.to_text(), highlight=False, markup=False)
    if not report.readable:
        raise _ExitError(EXIT_BAD_INPUT)


@app.command()
def gpkg(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by gapmap run/demo.")],
    out_file: Annotated[Path, typer.Option("--out", help="GeoPackage to write (.gpkg).")],
    ags: Annotated[
        str | None,
        typer.Option(help="Only addresses whose AGS starts with this (Gemeinde or Kreis key)."),
    ] = None,
) -> None:
    """Write a run's addresses (or a Gemeinde's or Kreis's) as a GeoPackage layer for QGIS.

    The same layer ``addresses`` as in the run's gapmap.gpkg, which leaves it out beyond
    1,000,000 addresses. Exits 2 when the run directory has no addresses.parquet.
    """
    from coverage.io.run_gpkg import write_addresses_gpkg

    if out_file.suffix.lower() != ".gpkg":
        raise typer.BadParameter("name a .gpkg file", param_hint="--out")
    with _user_errors():
        n = write_addresses_gpkg(run_dir / "addresses.parquet", out_file, ags=ags)
    out.print(f"{n:,} addresses written to {out_file} (layer addresses)", highlight=False)
