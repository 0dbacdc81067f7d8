"""``gapmap profiles`` and ``gapmap profile show``: the rule profiles and their dated versions
(the analyst checking which text a run follows)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.cli.app import _user_errors, app, out
from api.cli.options import AsOfOption, _parse_as_of


@app.command()
def profiles() -> None:
    """List the bundled rule profiles."""
    from coverage.profiles import list_profiles

    table = Table(
        title="rule profiles (a family id picks the version in force on --as-of)",
        title_justify="left",
    )
    for col in ("id", "family", "in force", "jurisdiction", "title"):
        table.add_column(col)
    for p in list_profiles():
        table.add_row(p.id, p.family, p.validity, p.jurisdiction, p.title)
    out.print(table)


profile_app = typer.Typer(help="Inspect rule profiles.", no_args_is_help=True)
app.add_typer(profile_app, name="profile")


@profile_app.command("show")
def profile_show(
    profile_id: Annotated[
        str,
        typer.Argument(
            help="A profile version id, a family id (the version in force on --as-of) or a "
            "path to a profile TOML."
        ),
    ],
    lang: Annotated[
        str, typer.Option(help="Language of the rules: en or de.", case_sensitive=False)
    ] = "en",
    as_of: AsOfOption = None,
) -> None:
    """Print one profile version: its rules in plain language beside source, section and date,
    thresholds, technologies, classes, interpretations."""
    from coverage.profiles import format_profile, load_profile

    language = lang.strip().lower()
    if language not in ("en", "de"):
        raise typer.BadParameter(f"{lang!r}; use en or de", param_hint="--lang")
    with _user_errors():
        text = format_profile(load_profile(profile_id, _parse_as_of(as_of)), language)
    out.print(text, highlight=False, markup=False)
