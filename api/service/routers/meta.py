"""Health, version, profiles and regions."""

from __future__ import annotations

import platform
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.service.deps import JobsDep, PublicKey, SettingsDep, StoreDep
from api.service.responses import dumps
from api.service.schemas import Health, Version
from coverage import __version__

router = APIRouter(tags=["meta"])

API_VERSION = "1"


@router.get("/health", response_model=Health, summary="Liveness and database status")
def health(store: StoreDep, jobs: JobsDep, settings: SettingsDep) -> Health:
    """``ok`` when the catalog answers and the workspace has room. No key needed."""
    import shutil

    db = store.ping()
    free = shutil.disk_usage(store.workspace).free
    low = free < settings.min_free_bytes
    return Health(
        status="ok" if db and not low else "degraded",
        database="ok" if db else "down",
        active_runs=jobs.active(),
        free_bytes=free,
        disk="low" if low else "ok",
    )


@router.get("/version", response_model=Version, summary="Service and engine versions")
def version(_: PublicKey) -> Version:
    """Versions of gapmap, the API and the main libraries (any key; none: 401)."""
    import fastapi
    import geopandas
    import pandas
    import shapely
    import sqlalchemy

    software = {
        "python": platform.python_version(),
        "fastapi": fastapi.__version__,
        "sqlalchemy": sqlalchemy.__version__,
        "pandas": pandas.__version__,
        "geopandas": geopandas.__version__,
        "shapely": shapely.__version__,
    }
    return Version(gapmap=__version__, api=API_VERSION, software=software)


def _profile_dict(p: Any, detail: bool) -> dict[str, Any]:
    out = {
        "id": p.id,
        "version": p.version,
        "title": p.title,
        "jurisdiction": p.jurisdiction,
        "source_url": p.source_url,
        "effective_date": p.effective_date.isoformat(),
        "classes": [{"name": c.name, "label": c.label} for c in p.classes],
        "eligible_classes": list(p.eligible_classes),
    }
    if detail:
        out |= {
            "method": p.method,
            "description": p.description,
            "thresholds": dict(p.thresholds),
            "horizon_months": p.horizon_months,
            "reliable_technologies": sorted(p.reliable_technologies),
            "interpretations": list(p.interpretations),
            "sha256": p.sha256,
        }
    return out


#: the /profiles documents, built once per process: the profiles are package data (TOML
#: files bundled with gapmap), which change only with a new installation and a restart
_BODIES: dict[str, Any] = {}


def _profiles_body() -> bytes:
    """The /profiles document."""
    from coverage.profiles import list_profiles

    body: bytes = _BODIES.get("list") or dumps([_profile_dict(p, False) for p in list_profiles()])
    _BODIES["list"] = body
    return body


def _profile_bodies() -> dict[str, bytes]:
    """Each profile's detail document by id."""
    from coverage.profiles import list_profiles

    bodies: dict[str, bytes] = _BODIES.get("one") or {
        p.id: dumps(_profile_dict(p, True)) for p in list_profiles()
    }
    _BODIES["one"] = bodies
    return bodies


_LIST = {200: {"content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}}  # fmt: skip
_ONE = {200: {"content": {"application/json": {"schema": {"type": "object"}}}}}


@router.get("/profiles", summary="Bundled rule profiles", responses=_LIST)
async def profiles(_: PublicKey) -> Response:
    """The rule profiles a run can use."""
    body = _BODIES.get("list") or await run_in_threadpool(_profiles_body)
    return Response(body, media_type="application/json")


@router.get(
    "/profiles/{profile_id}", summary="One rule profile with its thresholds", responses=_ONE
)
async def profile(profile_id: str, _: PublicKey) -> Response:
    """Thresholds, classes and interpretations of one bundled profile."""
    body = (_BODIES.get("one") or await run_in_threadpool(_profile_bodies)).get(profile_id)
    if body is None:
        from coverage.errors import NotFoundError

        raise NotFoundError(f"unknown profile {profile_id!r}")
    return Response(body, media_type="application/json")


@router.get("/regions", summary="Jurisdictions and their working CRS")
def regions(_: PublicKey) -> list[dict[str, Any]]:
    """Regions a run can use: code, name, working CRS (metres), lon/lat extent."""
    from coverage.crs import REGIONS

    return [
        {
            "code": r.code,
            "name": r.name,
            "working_crs": r.working_crs,
            "lonlat_bounds": list(r.lonlat_bounds),
        }
        for r in REGIONS.values()
    ]
