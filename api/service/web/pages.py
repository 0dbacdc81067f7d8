"""Pages: sign in/out, runs (list, live progress, start) and datasets (upload, report).

Every form posts a CSRF token; uploads go through the API's ``ingest`` (same size limit,
zip checks, readers and validation). Roles are the API's: runs need analyst keys, uploads
admin keys; a public key sees the published (newest succeeded) run's report only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.service.deps import DATASET_ID, get_services, newest_succeeded_run
from api.service.errors import ApiError
from api.service.ingest import DatasetKind, ingest
from api.service.jobs import check_run_request
from api.service.responses import ORJSONResponse
from api.service.security import Role
from api.service.web.auth import sessions, visitor
from api.service.web.i18n import language, translator
from api.service.web.render import csrf_ok, page, render, signed_in
from api.service.web.session import COOKIE
from coverage.errors import InputDataError

router = APIRouter(prefix="/ui", include_in_schema=False)
root = APIRouter(include_in_schema=False)


@router.get("")
@router.get("/")
async def home(request: Request) -> Response:
    """Runs for signed-in visitors, else the sign-in page."""
    who = await visitor(request, get_services(request).store)
    if who is None:
        return RedirectResponse("/ui/login", status_code=303)
    if who.principal.role is Role.PUBLIC:
        return RedirectResponse("/ui/public", status_code=303)
    return RedirectResponse("/ui/runs", status_code=303)


@router.get("/login")
@page
async def login_form(request: Request) -> Response:
    """The sign-in form."""
    return render(request, "login.html")


@router.post("/login")
@page
async def login(
    request: Request,
    key: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Exchange an API key for a session cookie."""
    from api.service.web.session import check_key

    csrf_ok(request, csrf, None)
    principal = await check_key(get_services(request).store, key.strip()) if key.strip() else None
    if principal is None:
        t = translator(language(request))
        return render(request, "login.html", {"message": t("bad_key")}, status=401)
    signer = sessions(request)
    value, _ = signer.issue(key.strip())
    response = RedirectResponse("/ui/", status_code=303)
    response.set_cookie(
        COOKIE,
        value,
        max_age=signer.ttl_s,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
@page
async def logout(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """End the session (the cookie is cleared)."""
    who = await visitor(request, get_services(request).store)
    if who is not None:
        csrf_ok(request, csrf, who)
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


# -- runs ---------------------------------------------------------------------------------------
def _run_row(run: Any) -> dict[str, Any]:
    return {
        "id": run.id,
        "state": run.state,
        "stage": run.stage,
        "progress": round(float(run.progress or 0.0), 1),
        "profile": run.profile,
        "as_of": run.as_of,
        "created": f"{run.created_at:%Y-%m-%d %H:%M}",
        "addresses": (run.counts or {}).get("addresses"),
        "error": run.error,
    }


@router.get("/runs")
@page
async def runs_page(request: Request) -> Response:
    """Runs with live progress, and the form that starts one."""
    who = await signed_in(request, Role.ANALYST)
    services = get_services(request)

    def load() -> dict[str, Any]:
        from coverage.profiles import list_profiles

        runs = services.store.list_runs(None, 100, 0).items
        datasets = services.store.list_datasets(None, 1000, 0).items
        published = (
            services.store.newest_succeeded_run()
            if any(r.state == "succeeded" for r in runs)
            else None
        )
        return {
            "runs": [_run_row(r) for r in runs],
            "published": published.id if published else None,
            "datasets": {
                kind: [d for d in datasets if d.kind == kind]
                for kind in ("addresses", "coverage", "boundaries")
            },
            "profiles": [(p.id, p.version, p.title) for p in list_profiles()],
            "today": dt.date.today().isoformat(),
        }

    return render(request, "runs.html", await run_in_threadpool(load), who=who)


@router.get("/runs.json")
async def runs_status(request: Request) -> Response:
    """State and progress of the newest runs (polled by the runs page)."""
    who = await visitor(request, get_services(request).store)
    if who is None or who.principal.role.rank < Role.ANALYST.rank:
        raise ApiError(401, "credentials_required", "sign in with an analyst key")
    store = get_services(request).store
    runs = await run_in_threadpool(lambda: store.list_runs(None, 100, 0).items)
    return ORJSONResponse({"items": [_run_row(r) for r in runs]})


@router.post("/runs")
@page
async def start_run(
    request: Request,
    addresses: Annotated[str, Form(pattern=DATASET_ID)],
    profile: Annotated[str, Form(max_length=100)],
    csrf: Annotated[str, Form(max_length=200)] = "",
    coverage: Annotated[list[str] | None, Form()] = None,
    boundaries: Annotated[str, Form(max_length=40)] = "",
    as_of: Annotated[str, Form(max_length=10)] = "",
    include_planned: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Queue a run of uploaded datasets (analyst)."""
    who = await signed_in(request, Role.ANALYST)
    csrf_ok(request, csrf, who)
    services = get_services(request)
    chosen = [c for c in coverage or [] if c]
    if not chosen:
        raise InputDataError("coverage: choose at least one coverage dataset")
    try:
        stichtag = dt.date.fromisoformat(as_of).isoformat() if as_of else None
    except ValueError:
        raise InputDataError(f"as_of: {as_of!r} is not a date (YYYY-MM-DD)") from None

    def create() -> str:
        inputs = check_run_request(services.store, addresses, chosen, boundaries or None, profile)
        run = services.store.create_run(
            {
                "profile": profile,
                "region": "de",
                "as_of": stichtag,
                "include_planned": bool(include_planned),
                "inputs": inputs,
            },
            who.principal.key_id,
        )
        services.jobs.submit(run.id)
        return run.id

    await run_in_threadpool(create)
    return RedirectResponse("/ui/runs", status_code=303)


# -- datasets -----------------------------------------------------------------------------------
@router.get("/datasets")
@page
async def datasets_page(request: Request) -> Response:
    """Datasets and (for admins) the upload form."""
    who = await signed_in(request, Role.ANALYST)
    store = get_services(request).store
    items = await run_in_threadpool(lambda: store.list_datasets(None, 1000, 0).items)
    return render(
        request,
        "datasets.html",
        {"datasets": items, "kinds": [k.value for k in DatasetKind], "shown": None},
        who=who,
    )


@router.get("/datasets/{dataset_id}")
@page
async def dataset_page(request: Request, dataset_id: str) -> Response:
    """One dataset with its validation report as a table."""
    who = await signed_in(request, Role.ANALYST)
    if not _valid_id(dataset_id):
        raise ApiError(404, "not_found", "no such dataset")
    store = get_services(request).store
    ds = await run_in_threadpool(store.get_dataset, dataset_id)
    items = await run_in_threadpool(lambda: store.list_datasets(None, 1000, 0).items)
    return render(
        request,
        "datasets.html",
        {
            "datasets": items,
            "kinds": [k.value for k in DatasetKind],
            "shown": ds,
            "report_rows": report_rows(ds.report or {}),
        },
        who=who,
    )


def _valid_id(dataset_id: str) -> bool:
    import re

    return re.fullmatch(DATASET_ID, dataset_id) is not None


@router.post("/datasets")
@page
async def upload(
    request: Request,
    file: Annotated[UploadFile, File()],
    kind: Annotated[DatasetKind, Form()],
    csrf: Annotated[str, Form(max_length=200)] = "",
    crs: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Store and validate an upload exactly as ``POST /datasets`` does (admin)."""
    who = await signed_in(request, Role.ADMIN)
    csrf_ok(request, csrf, who)
    services = get_services(request)
    ds = await run_in_threadpool(
        ingest,
        services.store,
        services.settings,
        file.file,
        file.filename or "",
        kind,
        crs.strip() or None,
        who.principal.key_id,
    )
    return RedirectResponse(f"/ui/datasets/{ds.id}", status_code=303)


def report_rows(report: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """A validation report flattened into (field, value) rows for a table."""
    rows: list[tuple[str, Any]] = []
    for key, value in report.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += report_rows(value, f"{name} › ")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for i, item in enumerate(value[:50], start=1):
                rows += report_rows(item, f"{name} {i} › ")
            if len(value) > 50:
                rows.append((f"{name}", f"… {len(value) - 50} more"))
        elif isinstance(value, list):
            rows.append((name, ", ".join(str(v) for v in value[:50])))
        else:
            rows.append((name, value))
    return rows


# -- public entry ------------------------------------------------------------------------------
@router.get("/public")
@page
async def public_entry(request: Request) -> Response:
    """Public keys land on the published run's report."""
    await signed_in(request, Role.PUBLIC)
    run = await newest_succeeded_run(get_services(request).store)
    return RedirectResponse(f"/ui/runs/{run.id}", status_code=303)


@root.get("/", include_in_schema=False)
async def index(request: Request) -> Response:
    """The service's front door is the web face."""
    return RedirectResponse("/ui/", status_code=307)
