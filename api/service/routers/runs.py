"""Runs: create (202), list, status with stage and progress, cancel, resubmit."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from api.service.deps import AdminKey, AnalystKey, JobsDep, ResultsDep, RunId, StoreDep
from api.service.errors import PROBLEM_SCHEMA, ApiError
from api.service.jobs import check_run_request, profile_region
from api.service.schemas import RunCreate, RunList, RunOut

_PROBLEM = {"content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}}}
router = APIRouter(
    prefix="/runs", tags=["runs"], responses={401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM}
)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RunOut,
    summary="Start a run",
    responses={422: _PROBLEM},
)
def create(body: RunCreate, store: StoreDep, jobs: JobsDep, principal: AnalystKey) -> RunOut:
    """Queue an analysis of uploaded datasets; poll ``GET /runs/{id}`` for its progress."""
    inputs = check_run_request(store, body.addresses, body.coverage, body.boundaries, body.profile)
    region = body.region or profile_region(body.profile)
    run = store.create_run(
        {
            "profile": body.profile,
            "region": region,
            "as_of": body.as_of.isoformat() if body.as_of else None,
            "include_planned": body.include_planned,
            "inputs": inputs,
        },
        principal.key_id,
    )
    jobs.submit(run.id)
    return RunOut.of(run)


@router.get("", response_model=RunList, summary="List runs")
def list_runs(
    store: StoreDep,
    _: AnalystKey,
    state: Literal["queued", "running", "succeeded", "failed", "cancelled"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> RunList:
    """Runs, newest first."""
    page = store.list_runs(state, limit, offset)
    return RunList(items=[RunOut.of(r) for r in page.items], total=page.total)


@router.get("/{run_id}", response_model=RunOut, summary="Run status and progress")
def show(run_id: RunId, store: StoreDep, _: AnalystKey) -> RunOut:
    """State, stage and progress percent; counts once it succeeded, the error once it failed."""
    return RunOut.of(store.get_run(run_id))


@router.post(
    "/{run_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RunOut,
    summary="Cancel a run",
    responses={409: _PROBLEM},
)
def cancel(run_id: RunId, store: StoreDep, jobs: JobsDep, _: AnalystKey) -> RunOut:
    """A queued run is cancelled at once; a running one stops at its next progress step."""
    run = store.request_cancel(run_id)
    jobs.cancel(run_id)
    return RunOut.of(run)


@router.post(
    "/{run_id}/resubmit",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RunOut,
    summary="Run a failed or cancelled run again",
    responses={409: _PROBLEM, 422: _PROBLEM},
)
def resubmit(run_id: RunId, store: StoreDep, jobs: JobsDep, principal: AnalystKey) -> RunOut:
    """A new run with the same inputs and options (``resubmitted_from`` names the old one).
    While an earlier resubmission of the same run is queued or running, that one is
    answered again: submitting twice does not run twice."""
    old = store.get_run(run_id)
    pending = store.active_resubmission(run_id)
    if pending is not None:
        return RunOut.of(pending)
    if old.state not in ("failed", "cancelled"):
        raise ApiError(
            409,
            "run_not_resubmittable",
            f"run {run_id} is {old.state}; only failed or cancelled runs can be resubmitted",
        )
    inputs = check_run_request(
        store,
        old.inputs["addresses"],
        list(old.inputs["coverage"]),
        old.inputs.get("boundaries"),
        old.profile,
    )
    run = store.create_run(
        {
            "profile": old.profile,
            "region": old.region,
            "as_of": old.as_of,
            "include_planned": old.include_planned,
            "inputs": inputs,
            "resubmitted_from": old.id,
        },
        principal.key_id,
    )
    jobs.submit(run.id)
    return RunOut.of(run)


@router.post(
    "/{run_id}/publish",
    response_model=RunOut,
    summary="Serve this run (lookup, OGC, public pages)",
    responses={409: _PROBLEM},
)
def publish(run_id: RunId, store: StoreDep, results: ResultsDep, _: AdminKey) -> RunOut:
    """From now on /lookup, the OGC collections and public pages serve this succeeded run
    (until another one is published). Before any run is published they serve the newest."""
    run = store.publish_run(run_id)
    results.prepare(run)
    return RunOut.of(run)
