"""The applicant's command: ``gapmap kriterien`` prints and exports the official
Kriterienkatalog points of a Gemeinde's project area (or a joint application of several),
with every input, where it came from, and which inputs the user still has to add."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from api.cli.app import _user_errors, app, out
from api.cli.options import _parse_as_of
from coverage.errors import InputDataError, NotFoundError


def _joint(rows: pd.DataFrame) -> pd.DataFrame:
    """Several Gemeinden as one application: counts summed, shares re-weighted."""
    n = rows["addresses_total"].sum()
    joint = {
        "ags": "+".join(rows["ags"]),
        "addresses_total": n,
        "addresses": rows["addresses"].sum(),
        "eligible_households": rows["eligible_households"].sum(),
        "below_30": rows["below_30"].sum(),
        "share_below_30_pct": 100.0 * rows["below_30"].sum() / n,
        "committed_share_pct": (rows["committed_share_pct"] * rows["addresses_total"]).sum() / n,
        "population": rows["population"].sum(min_count=len(rows)),
        "area_km2": rows["area_km2"].sum(min_count=len(rows)),
        "currency": rows["currency"].iloc[0],
    }
    for col in rows.columns:
        if col.startswith(("cost_", "gap_areas", "remainder_")):
            joint[col] = rows[col].sum()
    frame = pd.DataFrame([joint])
    frame["density_per_km2"] = frame["population"] / frame["area_km2"]
    return frame


def _table(row: pd.Series, catalogue: object) -> Table:
    table = Table(
        title=f"Kriterienkatalog Gigabit-RL 2.0: {row.get('name') or row['ags']}",
        caption=f"{row['kk_points']:.1f} of {catalogue.max_points:.0f} points "  # type: ignore[attr-defined]
        f"(reachable {row['kk_reachable']:.1f}); fast lane from {row['kk_fast_lane_points']:.0f}: "
        f"{row['kk_status']}",
        title_justify="left",
        caption_justify="left",
    )
    for col in ("criterion", "measure", "input", "source", "points", "max"):
        table.add_column(col, justify="right" if col in ("input", "points", "max") else "left")
    for c in catalogue.criteria:  # type: ignore[attr-defined]
        value, pts = row[f"kk_{c.id}_input"], row[f"kk_{c.id}_points"]
        table.add_row(
            c.label, f"{c.measure}", "-" if pd.isna(value) else f"{value:,.1f} {c.unit}",
            str(row[f"kk_{c.id}_source"]), "-" if pd.isna(pts) else f"{pts:.1f}",
            f"{c.max_points:.0f}",
        )  # fmt: skip
    return table


@app.command()
def kriterien(
    run_dir: Annotated[Path, typer.Argument(help="Run directory of a de-gigabit run.")],
    ags: Annotated[
        list[str] | None,
        typer.Option(help="Gemeinde key (8 digits); repeat for a joint application. Default: all."),
    ] = None,
    ewa: Annotated[
        float | None,
        typer.Option(
            help="EWA share of the Potenzialanalyse in % (eigenwirtschaftliches Ausbaupotenzial).",
            min=0.0,
            max=100.0,
        ),
    ] = None,
    cooperating: Annotated[
        int | None,
        typer.Option(help="Gemeinden in the application (default: the number of --ags).", min=1),
    ] = None,
    area: Annotated[
        Path | None,
        typer.Option(help="Your own project areas: polygons (GPKG, GeoJSON, ...), one per area."),
    ] = None,
    name_column: Annotated[
        str | None, typer.Option(help="Column of --area holding each area's name.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option(help="Date of the call (fast-lane threshold); default: run's.")
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="CSV file with every input and points.")
    ] = None,
) -> None:
    """Official Kriterienkatalog points (Gigabit-RL 2.0) per project area, with every input."""
    from coverage.io.writers import write_csv
    from coverage.rules.kriterien import load_catalogue, neutralise_formulas, score

    with _user_errors():
        table_path = run_dir / "project_areas.csv"
        if not table_path.is_file():
            raise NotFoundError(f"{table_path} not found; give the directory of a gapmap run")
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        catalogue = load_catalogue()
        profile = manifest["profile"]["id"]
        if profile not in catalogue.profiles:
            raise InputDataError(
                f"{run_dir}: the Kriterienkatalog belongs to {', '.join(catalogue.profiles)}; "
                f"this run used {profile}"
            )
        projects = pd.read_csv(table_path, dtype={"ags": str})
        projects = projects[[c for c in projects.columns if not c.startswith("kk_")]]
        if area is not None:
            if ags:
                raise InputDataError("give --ags or --area, not both")
            projects = _polygons(run_dir, area, name_column, projects, manifest)
            source = "user input (--cooperating)" if cooperating else "Gemeinden the area touches"
            if cooperating is None:
                cooperating = projects["cooperating"]
        elif ags:
            unknown = sorted(set(ags) - set(projects["ags"]))
            if unknown:
                raise InputDataError(
                    f"--ags {', '.join(unknown)}: no such Gemeinde in {table_path} "
                    f"(it has {len(projects)} Gemeinden, e.g. {', '.join(projects['ags'][:3])})"
                )
            rows = projects.set_index("ags").loc[ags].reset_index()
            projects = _joint(rows) if len(ags) > 1 else rows
            source = "user input (--cooperating)" if cooperating else "number of --ags given"
            cooperating = cooperating or len(ags)
        else:
            source = "user input (--cooperating)"
        day = _parse_as_of(as_of) or date.fromisoformat(manifest["parameters"]["as_of"])
        result = score(projects, as_of=day, ewa_share_pct=ewa, cooperating_gemeinden=cooperating,
                       cooperating_source=source, catalogue=catalogue)  # fmt: skip
        names = _names(run_dir)
        result.insert(1, "name", result["ags"].map(lambda a: "+".join(names.get(k, k) for k in a.split("+"))))  # fmt: skip
    for _, row in result.sort_values("kk_rank").head(20).iterrows():
        out.print(_table(row, catalogue))
    if len(result) > 20:
        out.print(f"{len(result) - 20:,} more project areas in the export (--out)")
    missing = sorted({m for text in result["kk_missing"] for m in text.split("; ") if m})
    if missing:
        out.print(
            "inputs to add: " + "; ".join(missing)
            + " (--ewa from the Potenzialanalyse; --cooperating or several --ags)",
            highlight=False,
        )  # fmt: skip
    out.print(f"scales: {catalogue.source}", highlight=False, soft_wrap=True)
    if out_file:
        with _user_errors():
            write_csv(neutralise_formulas(result), out_file, float_format="%.4f")
        out.print(f"written: [bold]{out_file}[/]")


def _polygons(
    run_dir: Path,
    path: Path,
    name_column: str | None,
    gemeinden: pd.DataFrame,
    manifest: dict[str, object],
) -> pd.DataFrame:
    """The user's project polygons as project areas (coverage.rural.projects.polygon_projects)."""
    from coverage.io.detect import read_any
    from coverage.io.rundir import load_run
    from coverage.rural.projects import polygon_projects

    raw = read_any(path)
    frame = raw.frame
    kinds = frame.geometry.geom_type.to_numpy()
    bad = [i for i, k in enumerate(kinds) if k not in ("Polygon", "MultiPolygon")]
    if bad:
        raise InputDataError(
            f"{path}: row {bad[0] + 1}, field geometry: {kinds[bad[0]] or 'empty'} is not a "
            "polygon; --area holds one polygon per project area"
        )
    if frame.crs is None:
        raise InputDataError(f"{path}: no CRS; save the areas with one (GeoPackage, GeoJSON)")
    if name_column and name_column not in frame:
        raise InputDataError(
            f"{path}: no column {name_column!r} for --name-column; columns: "
            f"{', '.join(c for c in frame.columns if c != frame.geometry.name)}"
        )
    run = load_run(run_dir)
    polygons = frame.to_crs(run.addresses.crs)
    result = polygon_projects(run.addresses, run.gap_areas, polygons, gemeinden,
                              name_column=name_column)  # fmt: skip
    return result.rename(columns={"ags": "ags_touched"}).rename(columns={"project": "ags"})


def _names(run_dir: Path) -> dict[str, str]:
    path = run_dir / "summary_gemeinde.csv"
    if not path.is_file():
        return {}
    gem = pd.read_csv(path, dtype={"ags": str})
    return dict(zip(gem["ags"], gem["name"].astype(str), strict=True))
