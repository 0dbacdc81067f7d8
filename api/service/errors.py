"""Errors of the HTTP face: ONE table from engine error classes to status codes.

Every error response is ``application/problem+json`` (RFC 9457) with ``type``, ``title``,
``status``, ``detail``, ``instance``, ``code`` and ``request_id``. 4xx are logged at INFO;
5xx bodies are generic (the traceback goes to the log only, under the request id).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coverage.errors import (
    CRSError,
    GapmapError,
    InputDataError,
    NotFoundError,
    ProfileError,
    RunCancelledError,
    SourceReadError,
    StateError,
)

log = logging.getLogger("gapmap.api")

PROBLEM_JSON = "application/problem+json"


class LastAdminKeyError(GapmapError):
    """Revoking this key would leave no active admin key (409)."""


#: The one table: engine error class -> HTTP status. Checked in order (subclasses first).
ERROR_STATUS: tuple[tuple[type[GapmapError], int], ...] = (
    (CRSError, 422),
    (StateError, 409),
    (InputDataError, 422),
    (SourceReadError, 422),  # an upload the readers cannot open is bad input, not a server fault
    (ProfileError, 422),
    (NotFoundError, 404),
    (RunCancelledError, 409),
    (LastAdminKeyError, 409),
)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

#: Documented in OpenAPI for every operation that can fail.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "example": "urn:gapmap:problem:not_found"},
        "title": {"type": "string", "example": "Not Found"},
        "status": {"type": "integer", "example": 404},
        "detail": {"type": "string", "example": "run r_0123 does not exist"},
        "instance": {"type": "string", "example": "/runs/r_0123"},
        "code": {"type": "string", "example": "not_found"},
        "request_id": {"type": "string", "example": "3f2c9a7e1b0d4c55"},
    },
    "required": ["type", "title", "status", "code", "request_id"],
}


class ApiError(Exception):
    """An error raised by the service itself (auth, state conflicts, limits)."""

    def __init__(
        self, status: int, code: str, detail: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})


def status_for(exc: GapmapError) -> int:
    """HTTP status of an engine error (400 for a GapmapError the table does not name)."""
    for cls, status in ERROR_STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def request_id(request: Request) -> str:
    """The request id set by :class:`RequestIdMiddleware`."""
    return str(request.scope.get("state", {}).get("request_id", "-"))


def problem(
    request: Request | None,
    status: int,
    code: str,
    detail: str | None,
    *,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    rid: str | None = None,
    instance: str | None = None,
) -> Response:
    """Build an ``application/problem+json`` response."""
    rid = rid or (request_id(request) if request is not None else "-")
    body: dict[str, Any] = {
        "type": f"urn:gapmap:problem:{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path if request is not None else instance,
        "code": code,
        "request_id": rid,
    }
    if extra:
        body.update(extra)
    hdrs = {"X-Request-ID": rid, **(headers or {})}
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=hdrs)


def _log_4xx(request: Request, status: int, code: str, detail: object) -> None:
    log.info(
        "%s %s -> %d %s: %s [%s]",
        request.method,
        request.url.path,
        status,
        code,
        detail,
        request_id(request),
    )


async def _gapmap_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GapmapError)
    status = status_for(exc)
    _log_4xx(request, status, exc.code, exc)
    return problem(request, status, exc.code, str(exc))


async def _api_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    _log_4xx(request, exc.status, exc.code, exc.detail)
    return problem(request, exc.status, exc.code, exc.detail, headers=exc.headers)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
        exc.status_code, "http_error"
    )
    _log_4xx(request, exc.status_code, code, exc.detail)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:  # every method of the path, not only those of one route
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return problem(request, exc.status_code, code, str(exc.detail), headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    """The methods of every route whose path matches (routes of included routers too)."""
    from starlette.routing import Match

    methods: set[str] = set()
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        for route in request.app.router.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                methods.add(method)
                break
    return sorted(methods)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]
    detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5])
    _log_4xx(request, 422, "request_invalid", detail)
    return problem(request, 422, "request_invalid", detail, extra={"errors": errors})


class RequestIdMiddleware:
    """Give every request an id (``X-Request-ID``) and turn unhandled errors into a generic 500.

    Pure ASGI so that streaming responses pass through untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = rid
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", rid.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception(
                "unhandled error in %s %s [%s]", scope.get("method"), scope.get("path"), rid
            )
            if started:  # a streamed body broke half-way: nothing sensible left to send
                raise
            response = problem(
                None,
                500,
                "internal_error",
                f"internal server error; quote request id {rid} when reporting it",
                rid=rid,
                instance=str(scope.get("path", "")),
            )
            await response(scope, receive, send)


async def _os_error(request: Request, exc: Exception) -> Response:
    """A full disk is 507 with a clear message; any other OSError stays a server error."""
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        log.error("%s %s: the workspace disk is full (%s)", request.method, request.url.path, exc)
        return problem(
            request,
            507,
            "insufficient_storage",
            "the service's disk is full; nothing was stored. Try again after an administrator "
            "has freed space (GET /health shows the free space)",
        )
    raise exc


def install(app: FastAPI) -> None:
    """Register the problem+json handlers and the request-id middleware on ``app``."""
    app.add_exception_handler(OSError, _os_error)
    app.add_exception_handler(GapmapError, _gapmap_error)
    app.add_exception_handler(ApiError, _api_problem)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(RequestIdMiddleware)
