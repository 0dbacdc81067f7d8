"""Rich renderings of run results for the command line (tables only; no engine logic)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

#: Column labels of the area units per region (a US run has no Kreis, AGS or Gemeinde).
UNIT_LABELS = {
    "de": {"upper": "Kreis", "key": "AGS", "lower": "Gemeinde"},
    "us": {"upper": "County", "key": "FIPS", "lower": "Place"},
    "uk": {"upper": "Local authority", "key": "Code", "lower": "Area"},
}


def unit_labels(manifest: dict[str, Any]) -> dict[str, str]:
    """The unit labels of the run's region (German ones for older manifests)."""
    region = str(manifest.get("parameters", {}).get("region", "de"))
    return UNIT_LABELS.get(region, UNIT_LABELS["de"])


def kreis_table(
    summary: pd.DataFrame, classes: list[str], title: str, labels: dict[str, str] | None = None
) -> Table:
    """Per-Kreis (county, ...) addresses, eligible and rural gaps (count and share; where the
    summary has them) and class shares, plus a total row."""
    lab = labels or UNIT_LABELS["de"]
    table = Table(title=title, title_justify="left")
    has_rural = "rural_gap" in summary
    for col, justify in (
        (lab["upper"], "left"),
        (lab["key"], "left"),
        ("addresses", "right"),
        ("eligible", "right"),
        *([("rural gaps", "right")] if has_rural else []),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for c in classes:
        table.add_column(c, justify="right")
    for row in summary.to_dict("records"):
        n = row["addresses"] or 1
        cells = [
            "" if pd.isna(row["name"]) else str(row["name"]),
            str(row["ags"]),
            f"{row['addresses']:,}",
            f"{row['eligible']:,} ({row['eligible'] / n:.1%})",
        ]
        if has_rural:
            cells.append(f"{int(row['rural_gap']):,} ({row['rural_gap'] / n:.1%})")
        cells += [f"{row[f'share_{c}']:.1%}" for c in classes]
        table.add_row(*cells)
    if len(summary) > 1 and summary["addresses"].sum() > 0:
        tot = summary.sum(numeric_only=True)
        n = tot["addresses"]
        cells = [
            "[bold]total",
            "",
            f"{int(n):,}",
            f"{int(tot['eligible']):,} ({tot['eligible'] / n:.1%})",
        ]
        if has_rural:
            cells.append(f"{int(tot['rural_gap']):,} ({tot['rural_gap'] / n:.1%})")
        cells += [f"{tot[f'n_{c}'] / n:.1%}" for c in classes]
        table.add_row(*cells)
    return table


def gap_area_table(
    areas: pd.DataFrame,
    names: dict[str, str],
    top: int = 10,
    labels: dict[str, str] | None = None,
) -> Table:
    """The top gap areas by gapmap's screening score (not an official ranking) with size,
    focal points, rurality, route and the cost range per connection."""
    lab = labels or UNIT_LABELS["de"]
    ranked = areas[areas["screening_rank"].notna()]
    currency = str(areas["currency"].iloc[0]) if len(areas) else ""
    rest = areas[areas["kind"] == "remainder"]
    table = Table(
        title=f"top {min(top, len(ranked)):,} of {len(ranked):,} gap areas by gapmap screening "
        "score (not the official ranking; see project_areas.csv)",
        caption=f"{int(rest['addresses'].sum()):,} addresses in {len(rest):,} scattered "
        f"remainder{'' if len(rest) == 1 else 's'} (clusters below the minimum area, not "
        f"ranked); costs in {currency}, "
        "low-high with central; sources: cost_sources.csv",
        title_justify="left",
        caption_justify="left",
    )
    for col in (
        "#",
        "area",
        lab["lower"],
        "addresses",
        "households",
        "focal",
        "rural",
        "to network",
        "route",
        f"{currency}/connection",
        "score",
    ):
        table.add_column(col, justify="left" if col in ("area", lab["lower"]) else "right")
    best = ranked.sort_values(["screening_rank"]).head(top)
    for row in best.to_dict("records"):
        table.add_row(
            str(row["screening_rank"]),
            str(row["area_id"]),
            "-" if pd.isna(row["ags"]) else str(names.get(str(row["ags"])) or row["ags"]),
            f"{row['addresses']:,}",
            f"{row['households']:,}",
            str(row["focal_points"]),
            f"{row['share_rural']:.0%}",
            "-"
            if pd.isna(row["distance_to_served_m"])
            else f"{row['distance_to_served_m']:,.0f} m",
            f"{row['route_m'] / 1000:,.1f} km",
            f"{row['per_connection_low']:,.0f}-{row['per_connection_high']:,.0f} "
            f"({row['per_connection_central']:,.0f})",
            f"{row['screening_score']:.1f}",
        )
    return table


def print_run(
    console: Console,
    run_dir: Path,
    manifest: dict[str, Any],
    summary_kreis: pd.DataFrame,
    areas: pd.DataFrame | None,
    names: dict[str, str],
) -> None:
    """The end-of-run report: Kreis table, top gap areas, counts, and where the results are."""
    prof = manifest["profile"]
    classes = list(prof.get("classes") or manifest["counts"]["by_class"])
    title = f"{prof['id']} v{prof['version']}: {prof['title']} (as of {manifest['parameters']['as_of']})"
    labels = unit_labels(manifest)
    console.print(kreis_table(summary_kreis, classes, title, labels))
    if prof.get("family"):
        valid = prof.get("valid_from") or "undated"
        valid = f"{valid} to {prof['valid_to']}" if prof.get("valid_to") else f"from {valid}"
        console.print(
            f"rules: {prof['id']} ({prof.get('selected_by') or 'version id'}; valid {valid}; "
            f"{prof.get('source_document') or prof.get('source_url')})",
            highlight=False,
            markup=False,
        )
    if areas is not None and len(areas) and "screening_rank" in areas:
        console.print(gap_area_table(areas, names, labels=labels))
    c = manifest["counts"]
    if manifest.get("created_by") == "gapmap cluster-run":
        console.print(
            f"{c['addresses']:,} addresses in {c['address_parts']:,} "
            f"part{'' if c['address_parts'] == 1 else 's'}, "
            f"{c['coverage_features']:,} coverage features; eligible {c['eligible']:,}; "
            f"rural gaps: {c.get('rural_gap', 0):,} (rule: "
            f"{manifest['parameters'].get('rural_rule', '-')}); "
            f"total {manifest['timings_s']['total']:.1f} s"
        )
    else:
        console.print(
            f"{c['addresses']:,} addresses, {c['coverage_features']:,} coverage features, "
            f"{c['address_offer_pairs']:,} address-offer pairs; "
            f"rural gaps: {c.get('rural_gap', 0):,} (rule: {manifest['parameters'].get('rural_rule', '-')}); "
            f"total {manifest['timings_s']['total']:.1f} s"
        )
    if manifest.get("synthetic_data"):
        console.print(f"[yellow]{manifest['synthetic_data']}[/]")
    for warning in manifest.get("warnings") or ():
        console.print(f"[bold yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    console.print(f"run directory: [bold]{run_dir}[/]")


def print_run_dir(
    out: Console, run_dir: Path, manifest: dict[str, Any], summary_kreis: pd.DataFrame
) -> None:
    """Print the end-of-run report, reading gap areas and names from the run directory."""
    import geopandas as gpd

    areas = None
    names: dict[str, str] = {}
    if (run_dir / "gap_areas.parquet").is_file():
        areas = pd.DataFrame(
            gpd.read_parquet(run_dir / "gap_areas.parquet").drop(columns="geometry")
        )
    if (run_dir / "summary_gemeinde.csv").is_file():
        gem = pd.read_csv(run_dir / "summary_gemeinde.csv", dtype={"ags": str})
        # runs without boundaries have no names (an empty column reads back as float NaN)
        names = {
            str(a): str(n) for a, n in zip(gem["ags"], gem["name"], strict=True) if pd.notna(n)
        }
    print_run(out, run_dir, manifest, summary_kreis, areas, names)
