"""The BEAD challenge process for a broadband office (US).

``gapmap bead ...`` keeps a process in the catalog of a workspace (as ``gapmap mev``):
challenges, rebuttals and decisions are stored and audited, and NTIA's files are built from
the stored state. ``gapmap bead-challenge`` does the same in one step from finished tables
(challenges with their rebuttals and decisions in NTIA's layout).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from api.cli.app import _catalog, _user_errors, app, err, out
from api.cli.mev import Actor, Workspace, print_audit
from api.cli.mev import _actor as _mev_actor

if TYPE_CHECKING:
    from api.service.bead_process import BeadWorkflow


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


# -- the challenge process with state (catalog of a workspace, shared with the service) ------
bead_app = typer.Typer(help="BEAD challenge process: create, challenges, rebuttals, decisions, "
                       "NTIA files, audit.", no_args_is_help=True)  # fmt: skip
challenger_app = typer.Typer(
    help="Register challengers (NTIA challengers.csv).", no_args_is_help=True
)
challenge_app = typer.Typer(
    help="File challenges (one, or NTIA's challenges.csv).", no_args_is_help=True
)
bead_app.add_typer(challenger_app, name="challenger")
bead_app.add_typer(challenge_app, name="challenge")
app.add_typer(bead_app, name="bead")
ProcessId = Annotated[str, typer.Argument(help="The process id (bcp_...), see `gapmap bead list`.")]
ChallengeId = Annotated[str, typer.Argument(help="The challenge id (NTIA's challenge column).")]


@contextmanager
def _flow(workspace: Path | None) -> Iterator[BeadWorkflow]:
    from api.service.bead_process import BeadWorkflow
    from api.service.bead_store import BeadStore

    with _catalog(workspace) as store:
        yield BeadWorkflow(BeadStore(store))


def _day(text: str | None, option: str) -> date | None:
    from api.cli.mev import _date

    return _date(text, option)


def _need(text: str, option: str) -> date:
    day = _day(text, option)
    assert day is not None
    return day


@bead_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="Name, e.g. 'Vermont BEAD challenge 2024'.")],
    run: Annotated[Path, typer.Option(help="The run directory whose classification is challenged (a us-bead profile).")],
    challenge_start: Annotated[str, typer.Option(help="First day of the challenge window (YYYY-MM-DD).")],
    challenge_end: Annotated[str, typer.Option(help="Last day of the challenge window.")],
    rebuttal_start: Annotated[str, typer.Option(help="First day of the rebuttal window.")],
    rebuttal_end: Annotated[str, typer.Option(help="Last day of the rebuttal window.")],
    cai: Annotated[Path | None, typer.Option(help="cai.csv: the pre-challenge CAI list (NTIA layout).")] = None,
    workspace: Workspace = None,
    actor: Actor = None,
) -> None:  # fmt: skip
    """Open a challenge process (phase challenges) over a BEAD classification."""
    from coverage.mev.bead_process import Windows

    w = Windows(_need(challenge_start, "--challenge-start"), _need(challenge_end, "--challenge-end"),
                _need(rebuttal_start, "--rebuttal-start"), _need(rebuttal_end, "--rebuttal-end"))  # fmt: skip
    with _flow(workspace) as flow:
        row = flow.create(name, w, _mev_actor(actor), run_dir=run.resolve(), cai=cai)
    for note in row.warnings:
        err.print(f"[yellow]note:[/] {note}", highlight=False)
    c = row.counts or {}
    out.print(f"{row.id}: {c.get('locations')} locations; pre-challenge unserved {c.get('pre_unserved')}, "
              f"underserved {c.get('pre_underserved')}, served {c.get('pre_served')}", highlight=False)  # fmt: skip


@bead_app.command("list")
def list_(workspace: Workspace = None) -> None:
    """All challenge processes of the workspace."""
    with _flow(workspace) as flow:
        rows = flow.beads.list()
    table = Table(title="BEAD challenge processes", title_justify="left")
    for col in ("id", "name", "phase", "challenge window", "rebuttal window", "locations"):
        table.add_column(col)
    for r in rows:
        s = r.spec
        table.add_row(r.id, r.name, r.state, f"{s['challenge_start']} to {s['challenge_end']}",
                      f"{s['rebuttal_start']} to {s['rebuttal_end']}", str((r.counts or {}).get("locations", "")))  # fmt: skip
    out.print(table)


@bead_app.command("show")
def show(process_id: ProcessId, workspace: Workspace = None) -> None:
    """Phase, windows, counts and every challenge with its rebuttal and decision."""
    import json

    with _flow(workspace) as flow:
        p = flow.beads.get(process_id)
        frame = flow.challenges_frame(process_id)
    doc = {"id": p.id, "name": p.name, "phase": p.state, "spec": p.spec, "counts": p.counts,
           "warnings": p.warnings, "challenges": frame.to_dict(orient="records")}  # fmt: skip
    out.print_json(json.dumps(doc, ensure_ascii=False, default=str))


@challenger_app.command("add")
def challenger_add(
    process_id: ProcessId,
    challenger: Annotated[str, typer.Option(help="Id of the challenger (letters, digits, hyphens).")],
    category: Annotated[str, typer.Option(help="L local government, T Tribal, N nonprofit, B provider.")],
    organization: Annotated[str, typer.Option(help="Name of the organization.")],
    contact_name: Annotated[str, typer.Option(help="Contact person.")],
    contact_email: Annotated[str, typer.Option(help="Contact e-mail.")],
    webpage: Annotated[str, typer.Option(help="Web page (http:// or https://).")] = "",
    provider_id: Annotated[str, typer.Option(help="FCC provider id (6 digits; providers).")] = "",
    contact_phone: Annotated[str, typer.Option(help="Phone, 123-456-7890.")] = "",
    workspace: Workspace = None,
    actor: Actor = None,
) -> None:  # fmt: skip
    """Register one challenger."""
    import pandas as pd

    row = {"challenger": challenger, "category": category, "organization": organization, "webpage": webpage,
           "provider_id": provider_id, "contact_name": contact_name, "contact_email": contact_email,
           "contact_phone": contact_phone}  # fmt: skip
    with _flow(workspace) as flow:
        flow.add_challengers(
            process_id, pd.DataFrame([row]), _mev_actor(actor), source="challenger"
        )
    out.print(f"challenger {challenger} registered", highlight=False)


@challenger_app.command("import")
def challenger_import(
    process_id: ProcessId,
    file: Annotated[Path, typer.Argument(help="challengers.csv (NTIA layout).")],
    workspace: Workspace = None,
    actor: Actor = None,
) -> None:
    """Register the challengers of an NTIA challengers.csv."""
    from coverage.io.mev_files import read_bead_table

    with _flow(workspace) as flow:
        n = flow.add_challengers(
            process_id, read_bead_table(file), _mev_actor(actor), source=file.name
        )
    out.print(f"{n} challenger(s) registered")


@challenge_app.command("add")
def challenge_add(
    process_id: ProcessId,
    challenge: Annotated[str, typer.Option(help="Challenge id (letters, digits, hyphens; <= 50).")],
    challenge_type: Annotated[str, typer.Option("--type", help="NTIA type: A S L D T B E P N V F M X Y Z.")],
    location_id: Annotated[int, typer.Option(help="FCC Fabric location id (10 digits).")],
    challenger: Annotated[str, typer.Option(help="A registered challenger id.")] = "",
    provider_id: Annotated[str, typer.Option(help="FCC provider id of the challenged service.")] = "",
    technology: Annotated[str, typer.Option(help="FCC technology code (10, 40, 50, 60, 61, 70, 71, 72, 0).")] = "",
    reason_code: Annotated[str, typer.Option(help="Availability reason (type A): 1-6, 8, 9.")] = "",
    evidence: Annotated[list[Path] | None, typer.Option(help="Evidence file (.pdf, repeatable; or one .zip).")] = None,
    advertised_download_speed: Annotated[str, typer.Option("--advertised-down", help="Mbps.")] = "",
    advertised_upload_speed: Annotated[str, typer.Option("--advertised-up", help="Mbps.")] = "",
    download_speed: Annotated[str, typer.Option("--measured-down", help="Measured Mbps (S, M).")] = "",
    upload_speed: Annotated[str, typer.Option("--measured-up", help="Measured Mbps (S, M).")] = "",
    latency: Annotated[str, typer.Option(help="Measured latency in ms (L, M).")] = "",
    unit: Annotated[str, typer.Option(help="Unit within an MDU.")] = "",
    challenge_date: Annotated[str | None, typer.Option("--date", help="Challenge date (default today).")] = None,
    workspace: Workspace = None,
    actor: Actor = None,
) -> None:  # fmt: skip
    """File one challenge with its evidence files."""
    import pandas as pd

    from api.service.bead_process import Upload

    files = evidence or []
    for f in files:
        if not f.is_file():
            raise typer.BadParameter(f"{f}: file not found", param_hint="--evidence")
    row = {"challenge": challenge, "challenge_type": challenge_type.upper(), "challenger": challenger,
           "provider_id": provider_id, "technology": technology, "location_id": str(location_id), "unit": unit,
           "reason_code": reason_code, "evidence_file_id": " ".join(f.name for f in files),
           "advertised_download_speed": advertised_download_speed, "download_speed": download_speed,
           "advertised_upload_speed": advertised_upload_speed, "upload_speed": upload_speed, "latency": latency,
           "challenge_date": (_day(challenge_date, "--date") or date.today()).isoformat()}  # fmt: skip
    with _flow(workspace) as flow:
        flow.add_challenges(process_id, pd.DataFrame([row]), {f.name: Upload(f, f.name) for f in files},
                            _mev_actor(actor), source="challenge")  # fmt: skip
    out.print(f"challenge {challenge} filed with {len(files)} evidence file(s)", highlight=False)


@challenge_app.command("import")
def challenge_import(
    process_id: ProcessId,
    file: Annotated[Path, typer.Argument(help="challenges.csv (NTIA columns; no rebuttal/decision yet).")],
    evidence_dir: Annotated[Path | None, typer.Option(help="Folder with the evidence files named in evidence_file_id.")] = None,
    workspace: Workspace = None,
    actor: Actor = None,
) -> None:  # fmt: skip
    """File the challenges of a CSV in NTIA's layout (all or none)."""
    from api.service.bead_process import Upload
    from coverage.io.mev_files import read_bead_table

    frame = read_bead_table(file)
    uploads = {}
    if evidence_dir is not None:
        names = {n for v in frame.get("evidence_file_id", []) for n in str(v).split()}
        missing = sorted(n for n in names if not (evidence_dir / Path(n).name).is_file())
        if missing:
            raise typer.BadParameter(
                f"{evidence_dir}: {', '.join(missing[:5])} not found", param_hint="--evidence-dir"
            )
        uploads = {n: Upload(evidence_dir / Path(n).name, n) for n in names}
    with _flow(workspace) as flow:
        done = flow.add_challenges(process_id, frame, uploads, _mev_actor(actor), source=file.name)
    out.print(
        f"{len(done)} challenge(s) filed"
        + (f", evidence of {len(uploads)} file(s) kept" if uploads else "")
    )


@bead_app.command("advance")
def advance(process_id: ProcessId, workspace: Workspace = None, actor: Actor = None) -> None:
    """The next phase: challenges -> rebuttal -> decisions -> final."""
    with _flow(workspace) as flow:
        row, notes = flow.advance(process_id, _mev_actor(actor))
    for note in notes:
        err.print(f"[yellow]note:[/] {note}", highlight=False)
    out.print(f"{row.id}: phase {row.state}")


@bead_app.command("rebut")
def rebut(
    process_id: ProcessId,
    challenge: ChallengeId,
    kind: Annotated[str, typer.Option(help="rebut (with --response) or agree.")] = "rebut",
    response: Annotated[list[Path] | None, typer.Option(help="The provider's response file (.pdf/.zip).")] = None,
    note: Annotated[str | None, typer.Option(help="A note on the rebuttal.")] = None,
    rebuttal_date: Annotated[str | None, typer.Option("--date", help="Rebuttal date (default today).")] = None,
    workspace: Workspace = None,
    actor: Actor = None,
) -> None:  # fmt: skip
    """Record the challenged provider's rebuttal (or its agreement)."""
    from api.service.bead_process import Upload

    for f in response or []:
        if not f.is_file():
            raise typer.BadParameter(f"{f}: file not found", param_hint="--response")
    with _flow(workspace) as flow:
        row = flow.rebut(process_id, challenge, kind, _mev_actor(actor), note=note,
                         response=[Upload(f, f.name) for f in response or []], day=_day(rebuttal_date, "--date"))  # fmt: skip
    out.print(f"{row.challenge}: {row.rebuttal_kind}", highlight=False)


@bead_app.command("decide")
def decide(
    process_id: ProcessId,
    challenge: ChallengeId,
    disposition: Annotated[str, typer.Option(help="N no rebuttal, A agreed, S sustained, R rejected, I incomplete, M moot.")],
    reason: Annotated[str, typer.Option(help="Why (NTIA: resolution; in the audit log).")],
    resolution_date: Annotated[str | None, typer.Option("--date", help="Decision date (default today).")] = None,
    workspace: Workspace = None,
    actor: Actor = None,
) -> None:  # fmt: skip
    """Record the broadband office's decision on a challenge."""
    with _flow(workspace) as flow:
        row = flow.decide(process_id, challenge, disposition, reason, _mev_actor(actor),
                          _day(resolution_date, "--date"))  # fmt: skip
    out.print(f"{row.challenge}: {row.disposition}", highlight=False)


@bead_app.command("files")
def files(
    process_id: ProcessId,
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for NTIA's files.")],
    workspace: Workspace = None,
    actor: Actor = None,
) -> None:
    """NTIA's submission files from the stored state (before final: the pre-challenge lists)."""
    with _flow(workspace) as flow:
        counts, written = flow.files(process_id, out_dir, _mev_actor(actor))
    out.print(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()), highlight=False)
    out.print(
        f"{len(written)} NTIA file(s) in [bold]{out_dir}[/]: {', '.join(p.name for p in written)}"
    )


@bead_app.command("audit")
def audit(process_id: ProcessId, workspace: Workspace = None) -> None:
    """Who changed what when."""
    with _flow(workspace) as flow:
        print_audit(process_id, flow.beads.audit(process_id))
