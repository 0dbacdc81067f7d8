"""``gapmap mev ...``: a Markterkundungsverfahren from start to result (the Breitbandkoordinator).

The procedure lives in the service catalog of a workspace (``--workspace``, as ``gapmap
keys``); the CLI and the HTTP service share it. Every change is audited with ``--actor``
(default: the login name).
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from api.cli.app import _catalog, app, err, out

if TYPE_CHECKING:
    from api.service.mev import MevWorkflow

mev_app = typer.Typer(help="Markterkundungsverfahren: create, publish, replies, conflicts, result.",
                      no_args_is_help=True)  # fmt: skip
app.add_typer(mev_app, name="mev")

Workspace = Annotated[
    Path | None,
    typer.Option(help="Workspace directory (default: GAPMAP_WORKSPACE or ./gapmap-workspace)."),
]
Actor = Annotated[str | None, typer.Option(help="Who does this (audit log); default: login name.")]
MevId = Annotated[str, typer.Argument(help="The MEV id (mev_...), see `gapmap mev list`.")]


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date; use YYYY-MM-DD", param_hint=option
        ) from None


def _actor(actor: str | None) -> str:
    if actor:
        return actor
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@contextmanager
def _flow(workspace: Path | None) -> Iterator[MevWorkflow]:
    from api.service.mev import MevWorkflow
    from api.service.mev_store import MevStore

    with _catalog(workspace) as store:
        yield MevWorkflow(MevStore(store))


@mev_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="Name, e.g. 'MEV Warstein 2026'.")],
    addresses: Annotated[Path, typer.Option(help="Address base (HK-DE, ALKIS, GeoParquet ...).")],
    start: Annotated[str, typer.Option(help="First day of the publication (YYYY-MM-DD).")],
    end: Annotated[
        str, typer.Option(help="Last day for replies (YYYY-MM-DD); >= 8 weeks after start.")
    ],
    ags: Annotated[
        list[str] | None, typer.Option(help="Gemeinde key (8 digits) of the area; repeatable.")
    ] = None,
    area: Annotated[
        Path | None, typer.Option(help="Project area as a WKT polygon file (EPSG:25832).")
    ] = None,
    boundaries: Annotated[Path | None, typer.Option(help="Gemeinde boundaries (VG250).")] = None,
    baseline_run: Annotated[
        Path | None,
        typer.Option("--baseline-run", help="An earlier run directory: today's classes."),
    ] = None,
    branchendialog: Annotated[
        str | None, typer.Option(help="Date of the Branchendialog result (YYYY-MM-DD).")
    ] = None,
    stichtag: Annotated[
        str | None, typer.Option(help="Reference date of the result (default: --end).")
    ] = None,
    profile: Annotated[
        str, typer.Option(help="Rule profile (version) of the result.")
    ] = "de-gigabit",
    horizon_months: Annotated[
        int, typer.Option(help="Horizon for planned builds (months; >= 36).")
    ] = 36,
    workspace: Workspace = None,
    actor: Actor = None,
) -> None:
    """Create an MEV (state draft); warns when the period is shorter than eight weeks or the
    Branchendialog older than six months."""
    from coverage.mev.procedure import MevSpec

    wkt = area.read_text(encoding="utf-8").strip() if area else None
    spec = MevSpec(name=name, start=_date(start, "--start"), end=_date(end, "--end"), profile=profile,
                   horizon_months=horizon_months, branchendialog=_date(branchendialog, "--branchendialog"),
                   area_ags=tuple(ags or ()), area_wkt=wkt, stichtag=_date(stichtag, "--stichtag"))  # fmt: skip
    inputs = {"addresses": str(addresses.resolve()),
              "boundaries": str(boundaries.resolve()) if boundaries else None,
              "baseline_run": str(baseline_run.resolve()) if baseline_run else None}  # fmt: skip
    with _flow(workspace) as flow:
        row = flow.create(spec, inputs, _actor(actor))
    for w in row.warnings:
        err.print(f"[yellow]Warnung:[/] {w}", highlight=False)
    out.print(row.id, highlight=False)


@mev_app.command("list")
def list_(workspace: Workspace = None) -> None:
    """All MEVs of the workspace."""
    with _flow(workspace) as flow:
        rows = flow.mevs.list()
    table = Table(title="MEVs", title_justify="left")
    for col in ("id", "name", "state", "start", "end", "addresses"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.id,
            r.name,
            r.state,
            r.spec["start"],
            r.spec["end"],
            str((r.counts or {}).get("addresses", "")),
        )
    out.print(table)


@mev_app.command("show")
def show(mev_id: MevId, workspace: Workspace = None) -> None:
    """Settings, state, warnings, replies and counts of one MEV."""
    import json

    with _flow(workspace) as flow:
        row = flow.mevs.get(mev_id)
        reps = flow.mevs.replies(mev_id)
    doc = {"id": row.id, "name": row.name, "state": row.state, "spec": row.spec, "inputs": row.inputs,
           "warnings": row.warnings, "counts": row.counts,
           "replies": [{"id": r.id, "operator": r.operator, "version": r.version, "kind": r.kind,
                        "current": r.superseded_at is None, **r.summary} for r in reps]}  # fmt: skip
    out.print_json(json.dumps(doc, ensure_ascii=False, default=str))


@mev_app.command("dates")
def dates(
    mev_id: MevId,
    start: Annotated[str | None, typer.Option(help="New first day (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="New last day for replies (YYYY-MM-DD).")] = None,
    branchendialog: Annotated[
        str | None, typer.Option(help="Date of the Branchendialog result.")
    ] = None,
    stichtag: Annotated[str | None, typer.Option(help="Reference date of the result.")] = None,
    workspace: Workspace = None,
    actor: Actor = None,
) -> None:
    """Change dates while the MEV is draft or published (e.g. an extended deadline)."""
    changes = {"start": _date(start, "--start"), "end": _date(end, "--end"),
               "branchendialog": _date(branchendialog, "--branchendialog"), "stichtag": _date(stichtag, "--stichtag")}  # fmt: skip
    if not any(changes.values()):
        raise typer.BadParameter(
            "give at least one of --start, --end, --branchendialog, --stichtag"
        )
    with _flow(workspace) as flow:
        row = flow.set_dates(mev_id, _actor(actor), **changes)
    for w in row.warnings:
        err.print(f"[yellow]Warnung:[/] {w}", highlight=False)
    out.print(f"{row.id}: {row.spec['start']} to {row.spec['end']}", highlight=False)


@mev_app.command("publish")
def publish(
    mev_id: MevId,
    out_zip: Annotated[
        Path | None, typer.Option("--out", help="Also copy the operator package here (.zip).")
    ] = None,
    contact: Annotated[
        str | None, typer.Option(help="Contact for questions and replies (cover sheet).")
    ] = None,
    workspace: Workspace = None,
    actor: Actor = None,
) -> None:
    """Build the operator package (addresses, template CSV/XLSX, GeoPackage, map, cover sheet)."""
    import shutil

    with _flow(workspace) as flow:
        path = flow.publish(mev_id, _actor(actor), contact=contact)
    if out_zip:
        shutil.copyfile(path, out_zip)
        path = out_zip
    out.print(f"operator package: [bold]{path}[/]")


@mev_app.command("reply")
def reply(
    mev_id: MevId,
    file: Annotated[
        Path, typer.Argument(help="The operator's reply: template .csv/.xlsx or polygons.")
    ],
    operator: Annotated[str, typer.Option(help="Operator who sent the reply.")],
    workspace: Workspace = None,
    actor: Actor = None,
) -> None:
    """Import one operator's reply; a second reply of the same operator replaces the first."""
    if not file.is_file():
        raise typer.BadParameter(f"{file}: file not found", param_hint="FILE")
    with _flow(workspace) as flow:
        res = flow.add_reply(mev_id, operator, file, file.name, _actor(actor))
    s = res.check.summary()
    out.print(f"{res.row.id}: {res.row.operator} version {res.row.version}: {s['rows_used']} of {s['rows']} "
              f"rows used, {s['claims']} claims at {s['addresses']} addresses, {s['errors']} errors, "
              f"{s['notes']} notes", highlight=False)  # fmt: skip
    _print_issues(res.check.issues)


def _print_issues(issues: object, limit: int = 30) -> None:
    import pandas as pd

    assert isinstance(issues, pd.DataFrame)
    if issues.empty:
        return
    table = Table(title=f"Prüfung ({len(issues)} Zeilen)", title_justify="left")
    for col in issues.columns:
        table.add_column(str(col))
    for row in issues.head(limit).itertuples(index=False):
        table.add_row(*[str(v) for v in row])
    out.print(table)
    if len(issues) > limit:
        out.print(f"... {len(issues) - limit} more; see `gapmap mev issues`")


@mev_app.command("issues")
def issues(
    mev_id: MevId, reply_id: Annotated[str, typer.Argument(help="The reply id (rep_...).")],
    workspace: Workspace = None,
) -> None:  # fmt: skip
    """The check of one reply version (row, field, value, reason)."""
    with _flow(workspace) as flow:
        frame = flow.issues(mev_id, reply_id)
    _print_issues(frame, limit=10_000)


@mev_app.command("conflicts")
def conflicts(
    mev_id: MevId,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Write all conflicts to this CSV.")
    ] = None,
    workspace: Workspace = None,
) -> None:
    """Conflicts between the replies (and with measured data), with their decisions."""
    from coverage.io.mev_files import write_csv_de
    from coverage.mev.reconcile import KIND_LABELS

    with _flow(workspace) as flow:
        rec = flow.reconcile(mev_id)
    k = rec.conflicts
    if csv:
        write_csv_de(k, csv)
    table = Table(title=f"{len(k)} conflicts, {rec.open_conflicts()} open; {len(rec.silent)} addresses "
                  f"without any reply", title_justify="left")  # fmt: skip
    for col in ("conflict", "address", "kind", "operators", "facts", "decision"):
        table.add_column(col)
    for r in k.head(200).itertuples(index=False):
        table.add_row(r.conflict_id, r.address_id, KIND_LABELS[r.kind], r.operators.replace("|", ", "),
                      r.detail, r.decision or "")  # fmt: skip
    out.print(table)


@mev_app.command("resolve")
def resolve(
    mev_id: MevId,
    conflict_id: Annotated[
        str | None, typer.Argument(help="The conflict id (k_...); or use --kind.")
    ] = None,
    decision: Annotated[str, typer.Option(help="accept | reject_all | reject:<operator>.")] = "",
    reason: Annotated[
        str, typer.Option(help="Why (recorded in the audit log and the result).")
    ] = "",
    kind: Annotated[
        str | None, typer.Option(help="Decide every open conflict of this kind at once.")
    ] = None,
    workspace: Workspace = None,
    actor: Actor = None,
) -> None:
    """Record a decision with its reason on one conflict (or on all open ones of --kind)."""
    if not decision:
        raise typer.BadParameter(
            "give --decision accept, reject_all or reject:<operator>", param_hint="--decision"
        )
    with _flow(workspace) as flow:
        done = flow.resolve(mev_id, conflict_id, decision, reason, _actor(actor), kind=kind)
    for res in done:
        out.print(f"{res['conflict_id']}: {res['decision']}", highlight=False)
    out.print(f"{len(done)} decision(s) recorded")


@mev_app.command("close")
def close(mev_id: MevId, workspace: Workspace = None, actor: Actor = None) -> None:
    """End the reply period (no more replies)."""
    with _flow(workspace) as flow:
        row = flow.transition(mev_id, "close", _actor(actor))
    out.print(f"{row.id}: {row.state}")


@mev_app.command("reopen")
def reopen(mev_id: MevId, workspace: Workspace = None, actor: Actor = None) -> None:
    """Accept replies again (e.g. a late correction)."""
    with _flow(workspace) as flow:
        row = flow.transition(mev_id, "reopen", _actor(actor))
    out.print(f"{row.id}: {row.state}")


@mev_app.command("result")
def result(
    mev_id: MevId,
    out_zip: Annotated[
        Path | None, typer.Option("--out", help="Also copy the result pack here (.zip).")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Also copy the PDF report here (.pdf).")
    ] = None,
    workspace: Workspace = None,
    actor: Actor = None,
) -> None:
    """Classify with the resolved replies; write eligible list, changes, map, evidence pack and
    the PDF report (ergebnisbericht.pdf, also inside the pack)."""
    import shutil

    from api.service.mev_result import build_result

    with _flow(workspace) as flow:
        summary = build_result(flow, mev_id, _actor(actor))
        path = flow.mevs.dir(mev_id) / "result.zip"
        pdf = flow.mevs.dir(mev_id) / "result" / "ergebnisbericht.pdf"
    if report:
        shutil.copyfile(pdf, report)
        pdf = report
    if out_zip:
        shutil.copyfile(path, out_zip)
        path = out_zip
    c = summary["counts"]
    out.print(f"{c['addresses']} addresses, {c['eligible']} eligible; classes {c['by_class']}; "
              f"changes {c['changes']}; ineligible through {c['ineligible_by_operator']}", highlight=False)  # fmt: skip
    out.print(
        "same classification: " + " ".join(summary["same_run"]), highlight=False, soft_wrap=True
    )
    out.print(f"result pack: [bold]{path}[/]")
    out.print(f"report (PDF): [bold]{pdf}[/]")


@mev_app.command("audit")
def audit(mev_id: MevId, workspace: Workspace = None) -> None:
    """Who changed what when."""
    with _flow(workspace) as flow:
        print_audit(mev_id, flow.mevs.audit(mev_id))


def print_audit(subject: str, rows: Iterable[Any]) -> None:
    """An audit log (rows with ``at``, ``actor``, ``action``, ``detail``) as a table."""
    import json

    table = Table(title=f"audit log of {subject}", title_justify="left")
    for col in ("when (UTC)", "who", "what", "detail"):
        table.add_column(col)
    for r in rows:
        table.add_row(f"{r.at:%Y-%m-%d %H:%M:%S}", r.actor, r.action,
                      json.dumps(r.detail, ensure_ascii=False, default=str)[:160])  # fmt: skip
    out.print(table)
