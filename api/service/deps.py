"""Annotated dependency aliases for the routers (settings, store, jobs, results, keys, runs).

The dependencies are ``async``: FastAPI runs a sync dependency in the thread pool, and a
thread hop per dependency costs more than what most of them do. Whatever may block (a
catalog query on a cache miss) goes to the thread pool explicitly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request, Security
from fastapi.security import HTTPAuthorizationCredentials

from api.service.errors import ApiError
from api.service.jobs import JobRunner
from api.service.models import Run
from api.service.results import Results
from api.service.security import (
    Principal,
    Role,
    api_key_header,
    authenticate_async,
    bearer,
    single_flight,
)
from api.service.settings import Settings
from api.service.store import Store

#: Server-generated ids: a prefix, an underscore and hex digits (never a path).
RUN_ID = r"^run_[0-9a-f]{12}$"
DATASET_ID = r"^ds_[0-9a-f]{12}$"
KEY_ID = r"^key_[0-9a-f]{12}$"


@dataclass
class Services:
    """What the app builds in its lifespan and the routers use."""

    settings: Settings
    store: Store
    jobs: JobRunner
    results: Results


def get_services(request: Request) -> Services:
    """The services built by the lifespan."""
    services: Services = request.app.state.services
    return services


async def _settings(request: Request) -> Settings:
    return get_services(request).settings


async def _store(request: Request) -> Store:
    return get_services(request).store


async def _jobs(request: Request) -> JobRunner:
    return get_services(request).jobs


async def _results(request: Request) -> Results:
    return get_services(request).results


SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[Store, Depends(_store)]
JobsDep = Annotated[JobRunner, Depends(_jobs)]
ResultsDep = Annotated[Results, Depends(_results)]


def require(minimum: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates the caller and checks their role."""

    async def dependency(
        request: Request,
        store: StoreDep,
        _key: Annotated[str | None, Security(api_key_header)] = None,
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
    ) -> Principal:
        return await authenticate_async(request, store, minimum)

    return dependency


PublicKey = Annotated[Principal, Depends(require(Role.PUBLIC))]
AnalystKey = Annotated[Principal, Depends(require(Role.ANALYST))]
AdminKey = Annotated[Principal, Depends(require(Role.ADMIN))]

RunId = Annotated[str, Path(pattern=RUN_ID, examples=["run_3f2c9a7e1b0d"], description="A run id.")]
DatasetId = Annotated[
    str, Path(pattern=DATASET_ID, examples=["ds_0a1b2c3d4e5f"], description="A dataset id.")
]
KeyId = Annotated[
    str, Path(pattern=KEY_ID, examples=["key_0a1b2c3d4e5f"], description="An API key id.")
]


def succeeded_run(store: Store, run_id: str) -> Run:
    """A run whose results may be served (409 while it is not succeeded)."""
    return _check_succeeded(store.get_run(run_id))


def _check_succeeded(run: Run) -> Run:
    if run.state != "succeeded":
        raise ApiError(
            409,
            "run_not_ready",
            f"run {run.id} is {run.state}; results exist only for succeeded runs",
        )
    return run


async def succeeded_run_async(store: Store, run_id: str) -> Run:
    """:func:`succeeded_run` for the event loop: the catalog is read in a worker thread, and
    only when the run is not cached (finished runs are cached by the store for good)."""
    cached: Run | None = store._runs.get(run_id)
    if cached is not None:
        return _check_succeeded(cached)
    return await single_flight(("run", store, run_id), succeeded_run, store, run_id)


async def newest_succeeded_run(store: Store) -> Run:
    """``store.newest_succeeded_run()`` for the event loop (thread pool on a cache miss)."""
    cached: Run | None = store._newest.get("newest")
    if cached is not None:
        return cached
    return await single_flight(("newest", store), store.newest_succeeded_run)


async def _run_dep(store: StoreDep, run_id: RunId) -> Run:
    return await succeeded_run_async(store, run_id)


#: A succeeded run named by the ``run_id`` path parameter.
RunDep = Annotated[Run, Depends(_run_dep)]
