"""Option types and parsers that several ``gapmap`` commands share."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer


def _parse_mapping(text: str | None, option: str) -> dict[str, str] | None:
    """'Src=dst,Other=dst2' -> {'Src': 'dst', ...} (source column name -> canonical name)."""
    if not text:
        return None
    mapping: dict[str, str] = {}
    for part in text.split(","):
        if "=" not in part:
            raise typer.BadParameter(
                f"expected SOURCE=CANONICAL pairs separated by commas, got {part!r}",
                param_hint=option,
            )
        src, dst = (s.strip() for s in part.split("=", 1))
        mapping[src] = dst
    return mapping


def _parse_values(texts: list[str] | None, option: str) -> dict[str, dict[str, str]] | None:
    """Repeated ``FIELD=FILE.csv`` / ``FIELD:FROM=TO;FROM=TO`` -> {field: {from: to}}."""
    if not texts:
        return None
    from coverage.io.aliases import parse_value_mapping

    out: dict[str, dict[str, str]] = {}
    for text in texts:
        field, pairs = parse_value_mapping(text, option)
        out.setdefault(field, {}).update(pairs)
    return out


def _parse_as_of(text: str | None) -> date | None:
    """``--as-of`` YYYY-MM-DD (None: today, decided by the run)."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise typer.BadParameter(
            f"not a date: {text!r}; use YYYY-MM-DD", param_hint="--as-of"
        ) from None


# options `run` and `cluster-run` share
ProfileOption = Annotated[
    str,
    typer.Option(
        help="Rule profile: a version id (de-gigabit-2024), a family id (de-gigabit: the "
        "version in force on --as-of) or a path to a profile TOML."
    ),
]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Reference date YYYY-MM-DD (default: today).")
]
IncludePlannedOption = Annotated[
    bool,
    typer.Option(
        "--include-planned/--existing-only",
        help="Count planned roll-outs within the profile's horizon.",
    ),
]
RegionOption = Annotated[
    str | None,
    typer.Option(
        help="Jurisdiction: de (EPSG:25832), us, uk; default: the profile's jurisdiction."
    ),
]
CoverageCrsOption = Annotated[
    str | None, typer.Option(help="CRS of the coverage files if they have none.")
]
CoverageColumnsOption = Annotated[
    str | None, typer.Option(help="Column mapping for the coverage files.")
]
BoundaryColumnsOption = Annotated[
    str | None, typer.Option(help="Column mapping for the boundary file.")
]
CkmDOption = Annotated[
    int,
    typer.Option(
        "--ckm-max-deviation",
        help="Cell key method: largest change of a published count (D).",
        min=1,
        max=50,
    ),
]
CkmVOption = Annotated[
    float,
    typer.Option("--ckm-variance", help="Cell key method: variance of the noise (V).", min=0.01),
]
CkmJsOption = Annotated[
    int,
    typer.Option(
        "--ckm-js", help="Cell key method: published counts are never 1..js.", min=0, max=20
    ),
]
SecretOption = Annotated[
    Path | None,
    typer.Option(
        "--cell-key-secret",
        help="File with the secret of the record keys (created if missing; default "
        "$GAPMAP_CELL_KEY_SECRET_FILE or ~/.config/gapmap/cell-key.secret).",
    ),
]
ValuesOption = Annotated[
    list[str] | None,
    typer.Option(
        help="Value mapping FIELD=FILE.csv (two columns: value in the file, value to use) or "
        "FIELD:FROM=TO;FROM=TO, e.g. 'technology:Koax=hfc;Glasfaser (FTTH)=ftth'; repeat.",
    ),
]
HeaderRowOption = Annotated[
    int | None,
    typer.Option(
        help="Row (from 1) holding the column names of the offer lists; default: detected.",
        min=1,
    ),
]
AcceptUnmatchedOption = Annotated[
    bool,
    typer.Option(
        "--accept-unmatched",
        help="Run even when an offer list matches less than 80 % of its rows to addresses.",
    ),
]
MinCountOption = Annotated[
    int, typer.Option(help="Public summaries hide counts between 1 and this minus one.", min=1)
]
PopulationOption = Annotated[
    Path | None,
    typer.Option(help="Population grid for DEGURBA: Zensus-style INSPIRE CSV or EPSG:3035 raster."),
]
RuralRuleOption = Annotated[
    str,
    typer.Option(help="Rural gap = eligible address in a rural cell | municipality | both."),
]
HouseholdSizeOption = Annotated[
    float,
    typer.Option(
        help="Inhabitants per household when population is estimated from addresses.", min=0.1
    ),
]
FibreOption = Annotated[
    Path | None,
    typer.Option(help="Existing fibre: PoPs (points) or routes (lines) gap areas link to."),
]
CostsOption = Annotated[
    str | None, typer.Option(help="Cost set: de, us, uk or a TOML file (default: --region).")
]
