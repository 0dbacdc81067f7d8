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

from api.service import errors, openapi_doc, web
from api.service.addresses import freeze_long_lived
from api.service.deps import Services
from api.service.gate import GateMiddleware
from api.service.hot import HotReads
from api.service.ingest import UploadLimitMiddleware
from api.service.jobs import JobRunner
from api.service.results import Results
from api.service.routers import addresses, bead, datasets, keys, meta, mev, ogc, reports, runs
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
`public` (aggregates only, counts perturbed), `analyst` (runs and per-address data),
`admin` (datasets, keys, everything). Create keys with `gapmap keys create --role analyst`.

**Errors** are `application/problem+json` with `type`, `title`, `status`, `detail`,
`instance`, `code` and `request_id`.
"""


def _check_disclosure_control(settings: Settings) -> None:
    """Fail at start-up, not in the first run: the parameters must be valid and the secret
    readable. (The p-table itself, a few seconds of optimisation, is built by the first
    run; parameters without one fail that run with the fix named.)"""
    from coverage.io.secret import load_or_create_secret
    from coverage.privacy.ptable import CkmParams

    CkmParams(settings.ckm_max_deviation, settings.ckm_variance, settings.ckm_js)
    load_or_create_secret(settings.secret_path())


def _offline_docs(app: FastAPI) -> None:
    """/docs from the swagger-ui-bundle package's files under /docs/static, not a CDN."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs/static", StaticFiles(directory=swagger_ui_path), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="gapmap API",
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="/docs/static/favicon-32x32.png",
        )


def _clean_debris(store: Store) -> list[str]:
    """What killed runs and uploads left behind: half-written run directories of runs that
    are no longer active, and upload/zip scratch directories older than a minute."""
    import shutil
    import time

    removed = []
    active = {r.id for r in store.list_runs(state="running", limit=10_000, offset=0).items} | {
        r.id for r in store.list_runs(state="queued", limit=10_000, offset=0).items
    }
    runs = store.workspace / "runs"
    for path in runs.glob(".*") if runs.is_dir() else []:
        run_id = path.name[1:].split(".", 1)[0]
        if (path.name.endswith(".partial") or ".old-" in path.name) and run_id not in active:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(str(path.relative_to(store.workspace)))
    cutoff = time.time() - 60
    # read stores a killed build left half-written (a build under way elsewhere renews its
    # files' times; ten minutes without a write means nobody is building it)
    for path in (store.workspace / "reads").glob("*/.*"):
        stale = path.stat().st_mtime < time.time() - 600
        if stale and (path.name.endswith(".partial") or ".old-" in path.name):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(str(path.relative_to(store.workspace)))
    tmp = store.tmp_dir
    for path in tmp.iterdir() if tmp.is_dir() else []:
        if path.name.startswith(("upload-", "zipcheck-")) and path.stat().st_mtime < cutoff:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(str(path.relative_to(store.workspace)))
    return removed


def create_app(settings: Settings) -> FastAPI:
    """Build the FastAPI application for ``settings`` (nothing happens until startup)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.workspace.mkdir(parents=True, exist_ok=True)
        _check_disclosure_control(settings)
        store = Store(settings.workspace, settings.resolved_database_url())
        store.migrate()
        from api.service.jobs import _dead

        # runs of processes that stopped: dead on this host, or without a lease renewal
        interrupted = store.expire_leases(settings.lease_s, _dead)
        if interrupted:
            log.warning(
                "marked %d unfinished run(s) failed after a restart: %s",
                len(interrupted),
                ", ".join(interrupted),
            )
        debris = _clean_debris(store)
        if debris:
            log.warning("removed what killed runs and uploads left: %s", ", ".join(debris))
        if settings.bootstrap_admin_key is not None and not ensure_key(
            store, settings.bootstrap_admin_key.get_secret_value(), Role.ADMIN, "bootstrap"
        ):
            log.warning(
                "GAPMAP_BOOTSTRAP_ADMIN_KEY was revoked and stays revoked; starting without it "
                "(create an admin key with: gapmap keys create --role admin, then unset the "
                "variable)"
            )
        jobs = JobRunner(settings, store)
        results = Results(store, settings.lookup_cache_runs)
        jobs.on_success = results.prepare  # the served run's read store, built before it is read
        app.state.services = Services(settings, store, jobs, results)
        freeze_long_lived()  # modules and services live as long as the process
        try:
            yield
        finally:
            jobs.shutdown()
            results.close()
            store.close()

    app = FastAPI(
        title="gapmap",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served below with local Swagger UI assets (works offline)
        redoc_url=None,  # ReDoc would load its script from a CDN
        openapi_url="/openapi.json",
    )
    _offline_docs(app)
    app.add_middleware(HotReads)  # the innermost: every other middleware runs before it
    app.add_middleware(UploadLimitMiddleware, max_bytes=settings.max_upload_bytes)
    web.install(app)  # pages, tiles, static assets, browser security headers
    app.add_middleware(GateMiddleware)  # outside the upload limit: keys before any body
    errors.install(app)  # added last: the request-id middleware is the outermost
    for module in (meta, datasets, runs, reports, addresses, ogc, keys, mev, bead):
        app.include_router(module.router)
    openapi_doc.install(app)
    return app


def factory() -> FastAPI:
    """For ``uvicorn --factory api.service.app:factory``: settings from the environment."""
    return create_app(Settings())
