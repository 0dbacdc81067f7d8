"""Rich renderings of run results for the command line (tables only; no engine logic)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table


def kreis_table(summary: pd.DataFrame, classes: list[str], title: str) -> Table:
    """Per-Kreis addresses, eligible and rural gaps (count and share; where the summary has
    them) and class shares, plus a total row."""
    table = Table(title=title, title_justify="left")
    has_rural = "rural_gap" in summary
    for col, justify in (
        ("Kreis", "left"),
        ("AGS", "left"),
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
            str(row["name"]),
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


def gap_area_table(areas: pd.DataFrame, names: dict[str, str], top: int = 10) -> Table:
    """The top gap areas by priority with size, focal points, rurality and cost per address."""
    table = Table(
        title=f"top {min(top, len(areas))} of {len(areas):,} gap areas by priority",
        title_justify="left",
    )
    for col in (
        "#",
        "area",
        "Gemeinde",
        "addresses",
        "households",
        "focal",
        "rural",
        "to network",
        "trench",
        "EUR/address",
        "priority",
    ):
        table.add_column(col, justify="left" if col in ("area", "Gemeinde") else "right")
    best = areas.sort_values(["priority_rank"]).head(top)
    for row in best.to_dict("records"):
        table.add_row(
            str(row["priority_rank"]),
            str(row["area_id"]),
            names.get(str(row["ags"]), str(row["ags"])),
            f"{row['addresses']:,}",
            f"{row['households']:,}",
            str(row["focal_points"]),
            f"{row['share_rural']:.0%}",
            "-"
            if pd.isna(row["distance_to_served_m"])
            else f"{row['distance_to_served_m']:,.0f} m",
            f"{row['trench_m'] / 1000:,.1f} km",
            f"{row['cost_per_address']:,.0f}",
            f"{row['priority']:.1f}",
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
    console.print(kreis_table(summary_kreis, classes, title))
    if areas is not None and len(areas):
        console.print(gap_area_table(areas, names))
    c = manifest["counts"]
    if manifest.get("created_by") == "gapmap cluster-run":
        console.print(
            f"{c['addresses']:,} addresses in {c['address_parts']:,} "
            f"part{'' if c['address_parts'] == 1 else 's'}, "
            f"{c['coverage_features']:,} coverage features; eligible {c['eligible']:,}; "
            f"no rural gap analysis (cluster run); total {manifest['timings_s']['total']:.1f} s"
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
    console.print(f"run directory: [bold]{run_dir}[/]")
