"""The web face: server-rendered pages (Jinja2), the map page and their browser security.

``install(app)`` is the one hook in ``api.service.app``: static files, the page routers,
the tile router and the browser-security middleware. Nothing here is built at import time.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

HERE = Path(__file__).resolve().parent


def install(app: FastAPI) -> None:
    """Add the pages, tiles, static assets and security headers to ``app``."""
    from api.service import tiles
    from api.service.web import bead_forms, bead_pages, mev_pages, mev_review, pages, report
    from api.service.web.headers import BrowserHeaders
    from maps.assets import STATIC as MAP_STATIC

    app.mount("/static/web", StaticFiles(directory=HERE / "static"), name="web-static")
    app.mount("/static/maps", StaticFiles(directory=MAP_STATIC), name="map-static")
    app.include_router(pages.router)
    app.include_router(pages.root)
    app.include_router(report.router)
    app.include_router(mev_pages.router)
    app.include_router(mev_review.router)
    app.include_router(bead_pages.router)
    app.include_router(bead_forms.router)
    app.include_router(tiles.router)
    app.add_middleware(BrowserHeaders)
