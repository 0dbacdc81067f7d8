"""The hottest reads answered without routing and dependency solving.

A pure ASGI middleware, the innermost one: every middleware (request id, the gate with its
key check before any body, the security headers) runs as for any other request. For
``GET`` of

* ``/ogc/collections/addresses/items`` (the run's address store already open),
* ``/runs/{run_id}/summary`` (the run cached as succeeded, the body already built),
* ``/profiles`` (the document already built),

whose query parameters are exactly the route's, each at most once, in their plain form
(decimal integers without sign or leading zeros, the literals the route accepts, a bbox
the route accepts), and whose key is in the key cache, it answers with the response the
route builds (:func:`api.service.routers.ogc.items_response`,
:func:`api.service.routers.reports.summary_response`: the same functions, so the same
bytes). Anything else (another form of a parameter, a key not cached, a run or body not
prepared yet, an error of any kind) goes to the routes unchanged, which answer it as
always: this layer only skips FastAPI's route matching, parameter validation and
dependency solving (about half of a cached read's CPU time) where their outcome is known.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.service import ogc
from api.service.addresses import parse_bbox
from api.service.deps import RUN_ID, Services, newest_succeeded_run
from api.service.security import Principal, hash_key, key_cache, key_from_request

ITEMS = "/ogc/collections/addresses/items"
_ADDRESSES = ogc.COLLECTIONS["addresses"]
_RUN_ID = re.compile(RUN_ID.removeprefix("^").removesuffix("$"))  # fullmatch: no "\n" at the end
_NATURAL = re.compile(r"0|[1-9][0-9]{0,9}")


class DeclinedError(Exception):
    """The request is not one this layer answers: the routes do."""


def _params(request: Request, allowed: frozenset[str]) -> dict[str, str]:
    """The query parameters, each at most once and each one the route has."""
    items = request.query_params.multi_items()
    params = dict(items)
    if len(params) != len(items) or not params.keys() <= allowed:
        raise DeclinedError
    return params


def _natural(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    if not _NATURAL.fullmatch(text) or not low <= int(text) <= high:
        raise DeclinedError
    return int(text)


def _choice(params: dict[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = params.get(name, default)
    if value not in allowed:
        raise DeclinedError
    return value


def _principal(request: Request, services: Services) -> Principal:
    key = key_from_request(request)
    principal = key_cache(services.store).get(hash_key(key)) if key else None
    if principal is None:
        raise DeclinedError
    return principal


_ITEM_PARAMS = frozenset({"bbox", "limit", "offset", "f"})


async def _items(request: Request, services: Services) -> Response:
    """As :func:`api.service.routers.ogc.items` for the addresses with the store open."""
    from api.service.routers.ogc import PAGE_SIZE, items_response

    params = _params(request, _ITEM_PARAMS)
    limit = _natural(params, "limit", PAGE_SIZE, 1, 10_000)
    offset = _natural(params, "offset", 0, 0, 100_000_000)
    _choice(params, "f", "json", ("json",))
    text = params.get("bbox")
    if text is not None and not 0 < len(text) <= 200:
        raise DeclinedError
    principal = _principal(request, services)
    if principal.role.rank < _ADDRESSES.role.rank:  # the route answers 403
        raise DeclinedError
    # the catalog is asked at most once a second, by one request for all (single flight)
    run = await newest_succeeded_run(services.store)
    reads = services.results.cached_address_reads(run)
    if reads is None:
        raise DeclinedError
    box = parse_bbox(text) if text is not None else None
    feats, matched = reads.page(box, offset, limit)  # what ogc.items does for addresses
    return items_response(request, feats, matched, limit, offset)


_SUMMARY_PARAMS = frozenset({"level", "f", "dialect"})


async def _summary(request: Request, services: Services) -> Response:
    """As :func:`api.service.routers.reports.summary` for a cached run and body."""
    from api.service.routers.reports import summary_response

    run_id = request.scope["path"][len("/runs/") : -len("/summary")]
    if not _RUN_ID.fullmatch(run_id):
        raise DeclinedError
    params = _params(request, _SUMMARY_PARAMS)
    level = _choice(params, "level", "kreis", ("kreis", "gemeinde"))
    f = _choice(params, "f", "json", ("json", "csv"))
    dialect = _choice(params, "dialect", "plain", ("plain", "excel-de"))
    principal = _principal(request, services)
    run = services.store._runs.get(run_id)
    if run is None or run.state != "succeeded":
        raise DeclinedError
    fmt = "json" if f == "json" else ("csv-excel-de" if dialect == "excel-de" else "csv")
    body = services.results.cached_summary_body(run, level, principal.is_public, fmt)
    if body is None:
        raise DeclinedError
    return summary_response(request, run, body, level, f)


async def _profiles(request: Request, services: Services) -> Response:
    """As :func:`api.service.routers.meta.profiles` once the document is built."""
    from api.service.routers.meta import _BODIES

    _principal(request, services)
    body = _BODIES.get("list")
    if body is None:
        raise DeclinedError
    return Response(body, media_type="application/json")


def _handler(path: str) -> Callable[[Request, Services], Awaitable[Response]] | None:
    if path == ITEMS:
        return _items
    if path.startswith("/runs/") and path.endswith("/summary"):
        return _summary
    if path == "/profiles":
        return _profiles
    return None


class HotReads:
    """See the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            handler = _handler(scope["path"])
            services = getattr(scope["app"].state, "services", None)
            if handler is not None and services is not None:
                try:
                    response = await handler(Request(scope, receive), services)
                except Exception:  # declined, or an error the route reports itself
                    response = None
                if response is not None:
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


__all__ = ["ITEMS", "HotReads"]
