"""``gapmap demo-workspace``: a service workspace with the demo uploaded, run and three keys.

Registered on ``api.cli.app.app``. After it, ``gapmap serve --workspace DIR`` and a browser
at http://127.0.0.1:8000/ show the web face with a finished run.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from api.cli.app import _user_errors, app, err, out


@app.command("demo-workspace")
def demo_workspace(
    workspace: Annotated[
        Path, typer.Option(help="Workspace directory of the service (created).")
    ] = Path("gapmap-workspace"),
    scale: Annotated[
        float,
        typer.Option(
            help="Share of the real address count (1.0: the full demo).", min=0.001, max=2.0
        ),
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic data.")] = 20261125,
) -> None:
    """Upload the synthetic Suedwestfalen demo into a service workspace, run it, print keys."""
    from api.service.ingest import DatasetKind, ingest
    from api.service.jobs import JobRunner, check_run_request
    from api.service.security import Role, create_key
    from api.service.settings import Settings
    from api.service.store import Store
    from coverage.io.demo_files import write_demo_inputs

    settings = Settings(workspace=workspace)
    settings.workspace.mkdir(parents=True, exist_ok=True)
    store = Store(settings.workspace, settings.resolved_database_url())
    try:
        store.migrate()
        with _user_errors():
            err.print(f"building demo inputs (scale {scale}) ...")
            inputs = write_demo_inputs(settings.workspace / "demo-inputs", scale=scale, seed=seed)
            ids = {}
            for kind in ("addresses", "coverage", "boundaries"):
                path: Path = getattr(inputs, kind)
                with path.open("rb") as fh:
                    ids[kind] = ingest(
                        store, settings, fh, path.name, DatasetKind(kind), None, "demo"
                    ).id
            run_inputs = check_run_request(
                store, ids["addresses"], [ids["coverage"]], ids["boundaries"], "de-gigabit"
            )
            run = store.create_run(
                {
                    "profile": "de-gigabit",
                    "region": "de",
                    "as_of": inputs.as_of.isoformat(),
                    "include_planned": True,
                    "inputs": run_inputs,
                },
                "demo",
            )
            err.print(f"running {run.id} ...")
            jobs = JobRunner(settings, store)
            jobs.submit(run.id)
            deadline = time.monotonic() + 3600
            while jobs.active() and time.monotonic() < deadline:
                time.sleep(0.5)
            jobs.shutdown()
            done = store.get_run(run.id)
            if done.state != "succeeded":
                err.print(f"[bold red]the demo run {run.id} {done.state}:[/] {done.error}")
                raise typer.Exit(1)
        out.print(
            f"workspace {settings.workspace.resolve()}: run {run.id} succeeded", highlight=False
        )
        out.print("keys (shown once; sign in with one at http://127.0.0.1:8000/):", highlight=False)
        for role in (Role.ADMIN, Role.ANALYST, Role.PUBLIC):
            _, key = create_key(store, role, f"demo {role.value}")
            out.print(f"  {role.value:8} {key}", highlight=False, soft_wrap=True)
        out.print(f"then: gapmap serve --workspace {settings.workspace}", highlight=False)
    finally:
        store.close()
