"""The gate: keys are checked before a request body is read, and JSON bodies are small.

A pure ASGI middleware in front of the routes. For every API path (not ``/health``, the
OpenAPI document, ``/docs`` and the OGC landing pages) a request without a valid key is
answered 401 at once, before routing: its body is never read, and an unauthenticated
caller cannot tell an existing run from a missing one. Requests that carry a body
(POST, PUT, PATCH, DELETE) also need the role their path needs (admin for ``/datasets``
and ``/keys``, analyst otherwise) before the body is read, and a body that is not a
multipart upload may be at most :data:`MAX_JSON_BYTES` (413 otherwise; uploads have the
upload limit of :class:`api.service.ingest.UploadLimitMiddleware`). Every answer gets
``X-Content-Type-Options: nosniff``; answers with per-address data ``Cache-Control: no-store``.
A signed-in browser session (``/ui``) counts as the key for requests without a body.
A Host header outside ``GAPMAP_ALLOWED_HOSTS`` is refused (400) except for ``/health``: links
the service writes (OGC, cursors) are built from it.
"""

from __future__ import annotations

import base64
import re
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.service.errors import ApiError, problem
from api.service.ingest import limited_receive
from api.service.security import (
    _CHALLENGE,
    OGC_CHALLENGE,
    Role,
    _check_role,
    _principal_from_catalog,
    hash_key,
    key_cache,
    single_flight,
)

__all__ = ["MAX_JSON_BYTES", "GateMiddleware"]

#: the largest request body that is not a file upload
MAX_JSON_BYTES = 1 << 20
#: first path segments of the API that need a key (everything the routers serve)
_GATED = frozenset({"profiles", "regions", "datasets", "runs", "lookup", "ogc", "keys", "version"})
_OPEN = frozenset({"/ogc", "/ogc/", "/ogc/conformance"})  # OGC landing pages are open
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_ADMIN_SEGMENTS = frozenset({"datasets", "keys"})


def _host(headers: dict[bytes, bytes]) -> str:
    """The Host header without its port (IPv6 without brackets)."""
    value = headers.get(b"host", b"").decode("latin-1").strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _key(headers: dict[bytes, bytes]) -> str | None:
    """The key of ``X-API-Key``, ``Authorization: Bearer`` or the password of HTTP Basic
    (how GIS clients such as QGIS send it)."""
    key = headers.get(b"x-api-key", b"").decode("latin-1").strip()
    if key:
        return key
    scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if scheme.lower() == "basic" and token.strip():
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2].strip() or None
    return None


def _session_key_hash(scope: Scope) -> str | None:
    """The key hash of a signed-in browser session (the web face's pages and tiles)."""
    from api.service.web.auth import sessions
    from api.service.web.session import COOKIE

    request = Request(scope)
    cookie = request.cookies.get(COOKIE)
    session = sessions(request).read(cookie) if cookie else None
    return session.key_hash if session is not None else None


class GateMiddleware:
    """401/403/413 before the body; see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self._gate(scope, receive, _with_headers(send, scope.get("path", "")))

    async def _gate(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        host = _host(dict(scope.get("headers") or []))
        services = getattr(scope["app"].state, "services", None)
        allowed = services.settings.allowed_hosts if services is not None else ["*"]
        if path != "/health" and "*" not in allowed and host not in allowed:
            detail = (
                f"Host {host!r} is not served here; the service writes links with the Host "
                "header, so only the hosts in GAPMAP_ALLOWED_HOSTS are accepted"
            )
            await self._refuse(scope, receive, send, 400, "host_not_allowed", detail, None)
            return
        segment = path.lstrip("/").split("/", 1)[0]
        method = scope.get("method", "GET")
        if segment not in _GATED or path in _OPEN:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        try:
            await self._authenticate(scope, headers, segment, method)
        except ApiError as exc:
            await self._refuse(scope, receive, send, exc.status, exc.code, exc.detail, exc.headers)
            return
        if method not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        ctype = headers.get(b"content-type", b"").decode("latin-1").lower()
        if ctype.startswith("multipart/form-data"):
            await self.app(scope, receive, send)  # uploads: the upload limit applies
            return
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > MAX_JSON_BYTES:
            await self._refuse(scope, receive, send, 413, "payload_too_large", _too_big(), None)
            return
        too_big = HTTPException(413, _too_big())
        await self.app(scope, limited_receive(receive, MAX_JSON_BYTES, too_big), send)

    async def _authenticate(
        self, scope: Scope, headers: dict[bytes, bytes], segment: str, method: str
    ) -> None:
        services = getattr(scope["app"].state, "services", None)
        key = _key(headers)
        # a browser session counts for reading (tiles, files); bodies need a key or /ui forms
        if key:
            key_hash: str | None = hash_key(key)
        elif method not in _BODY_METHODS and services is not None:
            key_hash = _session_key_hash(scope)
        else:
            key_hash = None
        if key_hash is None:
            challenge = OGC_CHALLENGE if segment == "ogc" else _CHALLENGE
            raise ApiError(
                401, "credentials_required", "send an API key in the X-API-Key header", challenge
            )
        if services is None:  # not started: the routes answer (503) themselves
            return
        store = services.store
        principal = key_cache(store).get(key_hash)
        if principal is None:
            principal = await single_flight(
                ("key", store, key_hash), _principal_from_catalog, store, key_hash
            )
        if method in _BODY_METHODS:
            _check_role(principal, Role.ADMIN if segment in _ADMIN_SEGMENTS else Role.ANALYST)

    async def _refuse(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        status: int,
        code: str,
        detail: str | None,
        headers: dict[str, str] | None,
    ) -> None:
        response = problem(
            None,
            status,
            code,
            detail or HTTPStatus(status).phrase,
            headers={**(headers or {}), "Connection": "close"},
            rid=scope.get("state", {}).get("request_id"),
            instance=scope.get("path"),
        )
        await response(scope, receive, send)


#: paths whose answers hold per-address data: never kept in shared or browser caches
_PER_ADDRESS = re.compile(
    r"^/(lookup|runs/[^/]+/(addresses|files|map|diff)|ogc/collections/addresses)(/|$)"
)


def _with_headers(send: Send, path: str) -> Send:
    """``X-Content-Type-Options: nosniff`` on every answer; ``Cache-Control: no-store`` on
    per-address ones."""
    no_store = bool(_PER_ADDRESS.match(path))

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            drop = {b"x-content-type-options", *((b"cache-control",) if no_store else ())}
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in drop]
            headers.append((b"x-content-type-options", b"nosniff"))
            if no_store:
                headers.append((b"cache-control", b"no-store"))
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


def _too_big() -> str:
    return f"request body larger than {MAX_JSON_BYTES:,} bytes; uploads go to POST /datasets"
