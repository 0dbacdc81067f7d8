"""Service administration: ``gapmap serve`` and ``gapmap keys`` (registered on ``api.cli.app.app``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli.app import _user_errors, app, err, out


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=0, max=65535)] = 8000,
    workspace: Annotated[
        Path | None,
        typer.Option(help="Workspace directory (default: GAPMAP_WORKSPACE or ./gapmap-workspace)."),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    processes: Annotated[
        int,
        typer.Option(
            help="Server processes sharing the port (reads scale with them, up to one per "
            "core); each runs up to GAPMAP_WORKERS runs at a time.",
            min=1,
            max=64,
        ),
    ] = 1,
) -> None:
    """Run the HTTP service (uvicorn); other settings come from GAPMAP_* variables."""
    import logging

    from api.service import serve as service
    from api.service.settings import Settings

    settings = Settings(workspace=workspace) if workspace else Settings()
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    err.print(
        f"gapmap service on http://{host}:{port} (docs at /docs), workspace {settings.workspace.resolve()}"
        + (f", {processes} processes" if processes > 1 else "")
    )
    service.run(settings, host, port, log_level, processes)


@app.command()
def keys(
    action: Annotated[str, typer.Argument(help="create | list | revoke")],
    key_id: Annotated[str | None, typer.Argument(help="Key id (for revoke).")] = None,
    role: Annotated[
        str, typer.Option(help="Role of a new key: public, analyst or admin.")
    ] = "analyst",
    name: Annotated[str | None, typer.Option(help="A label for a new key.")] = None,
    workspace: Annotated[
        Path | None,
        typer.Option(help="Workspace directory (default: GAPMAP_WORKSPACE or ./gapmap-workspace)."),
    ] = None,
) -> None:
    """Manage API keys of the service: `keys create --role analyst`, `keys list`, `keys revoke ID`."""
    from api.service.security import Role, create_key
    from api.service.settings import Settings
    from api.service.store import Store

    if action not in ("create", "list", "revoke"):
        raise typer.BadParameter("expected create, list or revoke", param_hint="ACTION")
    settings = Settings(workspace=workspace) if workspace else Settings()
    settings.workspace.mkdir(parents=True, exist_ok=True)
    store = Store(settings.workspace, settings.resolved_database_url())
    try:
        store.migrate()
        with _user_errors():
            if action == "create":
                try:
                    chosen = Role(role)
                except ValueError:
                    raise typer.BadParameter(
                        "role must be public, analyst or admin", param_hint="--role"
                    ) from None
                kid, key = create_key(store, chosen, name)
                err.print(f"created {chosen.value} key {kid}; it is shown once, store it now:")
                out.print(key, highlight=False, soft_wrap=True)
            elif action == "list":
                table = Table(title="API keys", title_justify="left")
                for col in ("id", "prefix", "role", "name", "created", "revoked"):
                    table.add_column(col)
                for k in store.list_keys():
                    table.add_row(
                        k.id,
                        k.prefix + "...",
                        k.role,
                        k.name or "",
                        f"{k.created_at:%Y-%m-%d %H:%M}",
                        f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "",
                    )
                out.print(table)
            else:
                if not key_id:
                    raise typer.BadParameter(
                        "give the id of the key to revoke", param_hint="KEY_ID"
                    )
                row = store.revoke_key(key_id)
                out.print(f"revoked {row.id} ({row.role})")
    finally:
        store.close()
