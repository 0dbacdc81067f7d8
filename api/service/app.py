"""The HTTP service: ``create_app(settings)``; everything is built in the lifespan.

No module-level app: tests call ``create_app(Settings(...))``; uvicorn uses the factory
``uvicorn --factory api.service.app:factory`` (settings from ``GAPMAP_*`` variables), and
``gapmap serve`` builds the settings from its options.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.service import errors, openapi_doc
from api.service.addresses import freeze_long_lived
from api.service.deps import Services
from api.service.gate import GateMiddleware
from api.service.ingest import UploadLimitMiddleware
from api.service.jobs import JobRunner
from api.service.results import Results
from api.service.routers import addresses, datasets, keys, meta, ogc, reports, runs
from api.service.security import Role, ensure_key
from api.service.settings import Settings
from api.service.store import Store
from coverage import __version__

log = logging.getLogger("gapmap.api")

DESCRIPTION = """
Broadband coverage gap analysis as a service: upload address, coverage and boundary files,
run the classification under a funding rule profile, and read the results as summaries,
per-address explanations, lookups, exports and OGC API - Features.

**Keys.** Send `X-API-Key: <key>` (or `Authorization: Bearer <key>`). Roles:
`public` (aggregates only, small counts suppressed), `analyst` (runs and per-address data),
`admin` (datasets, keys, everything). Create keys with `gapmap keys create --role analyst`.

**Errors** are `application/problem+json` with `type`, `title`, `status`, `detail`,
`instance`, `code` and `request_id`.
"""


def _check_disclosure_control(settings: Settings) -> None:
    """Fail at start-up, not in the first run: the p-table must exist, the secret be readable."""
    from coverage.io.secret import load_or_create_secret
    from coverage.privacy.ptable import CkmParams, ptable

    ptable(CkmParams(settings.ckm_max_deviation, settings.ckm_variance, settings.ckm_js))
    load_or_create_secret(settings.secret_path())


def create_app(settings: Settings) -> FastAPI:
    """Build the FastAPI application for ``settings`` (nothing happens until startup)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.workspace.mkdir(parents=True, exist_ok=True)
        _check_disclosure_control(settings)
        store = Store(settings.workspace, settings.resolved_database_url())
        store.migrate()
        interrupted = store.interrupt_unfinished()
        if interrupted:
            log.warning(
                "marked %d unfinished run(s) failed after a restart: %s",
                len(interrupted),
                ", ".join(interrupted),
            )
        if settings.bootstrap_admin_key is not None and not ensure_key(
            store, settings.bootstrap_admin_key.get_secret_value(), Role.ADMIN, "bootstrap"
        ):
            log.warning(
                "GAPMAP_BOOTSTRAP_ADMIN_KEY was revoked and stays revoked; starting without it "
                "(create an admin key with: gapmap keys create --role admin, then unset the "
                "variable)"
            )
        jobs = JobRunner(settings, store)
        app.state.services = Services(
            settings, store, jobs, Results(store, settings.lookup_cache_runs)
        )
        freeze_long_lived()  # modules and services live as long as the process
        try:
            yield
        finally:
            jobs.shutdown()
            store.close()

    app = FastAPI(
        title="gapmap",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.add_middleware(UploadLimitMiddleware, max_bytes=settings.max_upload_bytes)
    app.add_middleware(GateMiddleware)  # outside the upload limit: keys before any body
    errors.install(app)  # added last: the request-id middleware is the outermost
    for module in (meta, datasets, runs, reports, addresses, ogc, keys):
        app.include_router(module.router)
    openapi_doc.install(app)
    return app


def factory() -> FastAPI:
    """For ``uvicorn --factory api.service.app:factory``: settings from the environment."""
    return create_app(Settings())
