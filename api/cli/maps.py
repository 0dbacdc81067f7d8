"""``gapmap map``: interactive HTML maps (and a static PNG) of a finished run.

Registered on ``api.cli.app.app`` when ``api.cli`` imports this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.app import _user_errors, app, err, out
from coverage.io.rundir import load_run
from coverage.io.writers import atomic_path
from maps.assets import cdn_references

#: pages above this size are written but flagged: planners open them on ordinary laptops
HTML_BUDGET_BYTES = 10_000_000
WARSTEIN = "05974044"


def write_map_html(
    run_dir: Path, target: Path, *, ags: str | None = None, lang: str = "de"
) -> Path:
    """Build the map of ``run_dir`` (optionally one Kreis/Gemeinde) and write it atomically."""
    from maps.builders import build_run_map

    run = load_run(run_dir, ags=ags)
    page = build_run_map(run, lang=lang).get_root().render()
    leaks = cdn_references(page)
    if leaks:  # a plugin brought a CDN link back: the page would be blank offline
        raise RuntimeError(f"map page references external assets: {', '.join(leaks)}")
    with atomic_path(target) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return target


def write_demo_maps(run_dir: Path) -> list[Path]:
    """The demo's maps next to the run directory: ``map.html`` (region), ``map_05974044.html``."""
    run_dir = Path(run_dir)
    parent = run_dir.parent
    return [
        write_map_html(run_dir, parent / "map.html"),
        write_map_html(run_dir, parent / f"map_{WARSTEIN}.html", ags=WARSTEIN),
    ]


@app.command("map")
def map_cmd(
    run_dir: Annotated[
        Path, typer.Argument(help="A finished run directory (holding manifest.json).")
    ],
    ags: Annotated[
        str | None, typer.Option("--ags", help="5-digit Kreis or 8-digit Gemeinde key to map.")
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Output file (default: map[_AGS].html or .png next to the run)."
        ),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Label language: de or en.")] = "de",
    png: Annotated[
        bool, typer.Option("--png", help="Write a static PNG overview instead of HTML.")
    ] = False,
) -> None:
    """Write an interactive map (HTML, works offline) or a static PNG overview of a run."""
    if lang not in ("de", "en"):
        raise typer.BadParameter("choose de or en", param_hint="--lang")
    suffix = ".png" if png else ".html"
    target = out_file or run_dir.parent / (f"map_{ags}{suffix}" if ags else f"map{suffix}")
    with _user_errors():
        if png:
            from maps.overview import render_overview_png

            data = render_overview_png(load_run(run_dir, ags=ags), lang=lang)
            with atomic_path(target) as tmp:
                tmp.write_bytes(data)
        else:
            write_map_html(run_dir, target, ags=ags, lang=lang)
    size = target.stat().st_size
    out.print(f"wrote {target} ({size / 1e6:.1f} MB)", highlight=False)
    if size > HTML_BUDGET_BYTES and not png:
        err.print(
            f"[yellow]warning:[/] {target} is larger than {HTML_BUDGET_BYTES / 1e6:.0f} MB; "
            "map a Kreis or Gemeinde (--ags) for a lighter page",
            highlight=False,
        )
