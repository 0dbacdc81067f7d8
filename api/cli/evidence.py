"""``gapmap evidence``, ``gapmap report``, ``gapmap verify`` and ``gapmap publish`` (registered on ``api.cli.app.app``).

The overview PNG is rendered here (``maps.overview``) and handed to the engine's pack writer:
the engine never imports ``maps``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.app import EXIT_BAD_INPUT, _ExitError, _user_errors, app, err, out


def _overview_png(run_dir: Path, ags: str | None, lang: str) -> bytes | None:
    """The static overview map, or None (with a note) when maps or the run cannot give one."""
    try:
        from coverage.io.rundir import check_ags, load_run
        from maps.overview import render_overview_png
    except ImportError as exc:
        err.print(f"note: no overview map in the pack ({exc})", highlight=False)
        return None
    from coverage.errors import GapmapError

    try:
        key = ags if ags and check_ags(ags) else None
    except GapmapError:
        key = None  # a 2-digit Land prefix: map the whole run
    try:
        return render_overview_png(load_run(run_dir, ags=key), ags=key, lang=lang)
    except GapmapError as exc:
        err.print(f"note: no overview map in the pack ({exc})", highlight=False)
        return None


@app.command()
def evidence(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by gapmap run/demo.")],
    out_zip: Annotated[Path, typer.Option("--out", help="The evidence pack to write (.zip).")],
    ags: Annotated[
        str | None, typer.Option(help="Only this Gemeinde (8 digits) or Kreis (5 digits).")
    ] = None,
    gap_area: Annotated[
        str | None, typer.Option("--gap-area", help="Only this gap area (area_id).")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="de (GIS-NB, German Excel) | bead | uk-omr.")
    ] = "de",
    lang: Annotated[str, typer.Option(help="Language of labels and texts: de | en.")] = "de",
    chunk_rows: Annotated[
        int, typer.Option(help="Rows per BEAD location CSV (NTIA: 1,000,000).", min=1)
    ] = 1_000_000,
    with_map: Annotated[
        bool, typer.Option("--map/--no-map", help="Include the overview map PNG.")
    ] = True,
) -> None:
    """Write an evidence pack: address table (XLSX, CSV), GIS layers, map, manifest, methodology."""
    from coverage.io.evidence_pack import PackOptions, read_run, write_pack

    with _user_errors():
        run = read_run(run_dir)
        map_ags = ags
        if gap_area and run.gap_areas is not None:
            hit = run.gap_areas.loc[run.gap_areas["area_id"] == gap_area, "ags"]
            map_ags = str(hit.iloc[0]) if len(hit) else None
        png = _overview_png(run_dir, map_ags, lang) if with_map else None
        options = PackOptions(ags=ags, gap_area=gap_area, fmt=fmt, lang=lang, chunk_rows=chunk_rows)
        members = write_pack(run, out_zip, options, overview_png=png)
    out.print(f"evidence pack: [bold]{out_zip}[/] ({len(members)} files)")


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by gapmap run/demo.")],
    out_pdf: Annotated[Path, typer.Option("--out", help="The report to write (.pdf).")],
    ags: Annotated[
        str | None,
        typer.Option(help="The Gemeinde (8 digits) or Kreis (5 digits); default: the whole run."),
    ] = None,
    lang: Annotated[str, typer.Option(help="Language of the report: de | en.")] = "de",
    with_map: Annotated[
        bool, typer.Option("--map/--no-map", help="Include the overview map.")
    ] = True,
) -> None:
    """Write the gap report (PDF, a few pages): map, key figures, top gap areas, method, sources."""
    from coverage.errors import InputDataError
    from coverage.io.report_pdf import write_report
    from coverage.io.rundir import load_run

    with _user_errors():
        if lang not in ("de", "en"):
            raise InputDataError(f"unknown language {lang!r} for --lang; use de or en")
        run = load_run(run_dir, ags=ags)
        png = None
        if with_map:
            from maps.overview import render_overview_png

            png = render_overview_png(run, lang=lang, dpi=130)
        write_report(run, out_pdf, lang=lang, overview_png=png)
    out.print(f"gap report: [bold]{out_pdf}[/]")


@app.command()
def verify(
    pack: Annotated[Path, typer.Argument(help="An evidence pack (.zip) written by gapmap.")],
) -> None:
    """Check every file of an evidence pack against its manifest (exit 2 if anything differs)."""
    from coverage.io.evidence_pack import verify_pack

    with _user_errors():
        result = verify_pack(pack)
    for label, names in (
        ("changed", result.changed),
        ("missing", result.missing),
        ("extra", result.extra),
    ):
        for name in names:
            out.print(f"{label}: {name}", highlight=False)
    if not result.ok:
        problems = len(result.changed) + len(result.missing) + len(result.extra)
        err.print(f"[bold red]NOT intact:[/] {pack}: {problems} file(s) differ from manifest.json")
        raise _ExitError(EXIT_BAD_INPUT)
    out.print(f"intact: {pack} ({result.checked} files match manifest.json)")


@app.command()
def publish(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by gapmap run/demo.")],
    to: Annotated[str, typer.Option("--to", help="postgresql://user:password@host:port/db")],
    schema: Annotated[str, typer.Option(help="Target schema (replaced atomically).")] = "gapmap",
) -> None:
    """Publish a run to PostGIS: tables with spatial indexes and a view per class."""
    from coverage.io.postgis import publish_run

    with _user_errors():
        result = publish_run(run_dir, to, schema=schema)
    tables = ", ".join(f"{k} {v:,}" for k, v in result.tables.items())
    views = ", ".join(f"{k} {v:,}" for k, v in result.views.items())
    out.print(f"published to {result.url} schema {result.schema}: {tables}", highlight=False)
    out.print(f"views: {views}", highlight=False)
