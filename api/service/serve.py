"""Start the service under uvicorn: one process, or ``processes`` processes on one socket.

One process serves everything on one core. With ``processes > 1`` uvicorn starts that many
processes that share the listening socket (each builds its own app with the factory
:func:`api.service.app.factory`, settings from the ``GAPMAP_*`` variables); they share the
workspace and the catalog as any two service processes do (runs are leased in the catalog,
read stores are built into a temporary directory and renamed into place, a key revoked
in one process is refused by the others within the key cache's TTL; each process keeps its
own caches and runs up to ``GAPMAP_WORKERS`` runs at a time). What the processes
would otherwise race for at start-up is done here once before they start: the workspace,
the catalog's migrations, the bootstrap admin key, the cell key secret and the session
signing secret.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from api.service.settings import Settings


def prepare_shared(settings: Settings) -> None:
    """Create what every process of the service reads at start-up, once."""
    from api.service.app import _check_disclosure_control
    from api.service.security import Role, ensure_key
    from api.service.store import Store
    from api.service.web.session import load_secret

    settings.workspace.mkdir(parents=True, exist_ok=True)
    _check_disclosure_control(settings)
    if settings.session_secret is None:
        load_secret(settings.workspace, None)
    store = Store(settings.workspace, settings.resolved_database_url())
    try:
        store.migrate()
        if settings.bootstrap_admin_key is not None:
            # a revoked bootstrap key stays revoked; each process logs it at its start
            ensure_key(
                store, settings.bootstrap_admin_key.get_secret_value(), Role.ADMIN, "bootstrap"
            )
    finally:
        store.close()


def _log_config(log_level: str) -> dict[str, Any]:
    """uvicorn's logging, with the service's own loggers (``gapmap.*``) on its handler:
    the worker processes do not inherit the parent's logging set-up."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["gapmap"] = {"handlers": ["default"], "level": log_level.upper()}
    return config


def run(settings: Settings, host: str, port: int, log_level: str, processes: int = 1) -> None:
    """Serve until stopped (Ctrl-C or SIGTERM)."""
    import uvicorn

    from api.service.app import create_app

    # below info the access log is filtered anyway; not building its records saves ~3 % of
    # a cached read's CPU time
    access_log = log_level.lower() in ("trace", "debug", "info")
    if processes <= 1:
        uvicorn.run(
            create_app(settings), host=host, port=port, log_level=log_level, access_log=access_log
        )
        return
    prepare_shared(settings)
    # the worker processes build their settings from the environment
    os.environ["GAPMAP_WORKSPACE"] = str(settings.workspace.resolve())
    uvicorn.run(
        "api.service.app:factory",
        factory=True,
        host=host,
        port=port,
        workers=processes,
        log_level=log_level,
        access_log=access_log,
        log_config=_log_config(log_level),
    )


__all__ = ["prepare_shared", "run"]
