"""``gapmap bead-challenge``: the BEAD challenge process for a broadband office (US).

Challenges with rebuttals and decisions (NTIA's layout) are checked, applied to the BEAD
classification of the Fabric locations and written as NTIA's submission files.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from api.cli.app import _user_errors, app, out


@app.command("bead-challenge")
def bead_challenge(
    locations: Annotated[
        Path, typer.Option(help="FCC Fabric locations (or any address layer keyed by location_id).")
    ],
    offers: Annotated[Path, typer.Option(help="FCC BDC availability CSV of the locations.")],
    challengers: Annotated[Path, typer.Option(help="challengers.csv (NTIA layout).")],
    challenges: Annotated[
        Path, typer.Option(help="challenges.csv with rebuttals and decisions (NTIA layout).")
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Directory for the NTIA submission files.")
    ],
    cai: Annotated[Path | None, typer.Option(help="cai.csv: the pre-challenge CAI list.")] = None,
    cai_challenges: Annotated[
        Path | None, typer.Option("--cai-challenges", help="cai_challenges.csv.")
    ] = None,
    profile: Annotated[str, typer.Option(help="BEAD rule profile.")] = "us-bead-2022",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Reference date (YYYY-MM-DD; default today).")
    ] = None,
) -> None:
    """BEAD challenge process: check challenges, apply decisions, write the NTIA files
    (unserved, underserved, post_challenge_locations, challenges, challengers, cai ...)."""
    from api.service.bead import BeadInputs, build_submission, summary

    try:
        day = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        raise typer.BadParameter(
            f"{as_of!r} is not a date; use YYYY-MM-DD", param_hint="--as-of"
        ) from None
    with _user_errors():
        classes, written = build_submission(
            BeadInputs(locations, offers, challengers, challenges, cai, cai_challenges, profile),
            out_dir,
            day,
        )
    c = summary(classes)
    out.print(f"{c['locations']} locations: pre-challenge unserved {c['pre_unserved']}, underserved "
              f"{c['pre_underserved']}; post-challenge unserved {c['post_unserved']}, underserved "
              f"{c['post_underserved']}, served {c['post_served']}; {c['changed']} changed by challenges",
              highlight=False)  # fmt: skip
    out.print(f"{len(written)} NTIA files in [bold]{out_dir}[/]")
