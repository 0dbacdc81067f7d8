"""The hot reads (api.service.hot): the same answers as the routes, byte for byte, and every
request the layer does not know answered by the routes."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from api.service import hot
from tests.api.service.conftest import Service

ITEMS = "/ogc/collections/addresses/items"
Handler = Callable[[Request, Any], Awaitable[Response]]


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The paths the layer answered itself (not declined)."""
    seen: list[str] = []
    original = hot._handler

    def spy(path: str) -> Handler | None:
        handler = original(path)
        if handler is None:
            return None
        inner = handler

        async def recorded(request: Request, services: Any) -> Response:
            response = await inner(request, services)
            seen.append(path)
            return response

        return recorded

    monkeypatch.setattr(hot, "_handler", spy)
    yield seen


def _norm(r: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body without what differs per request (time, ids, nonce)."""
    headers = [
        (k, re.sub(r"nonce-[^']+", "nonce-", v))
        for k, v in r.headers.multi_items()
        if k not in ("date", "x-request-id")
    ]
    body = re.sub(rb'"timeStamp":"[^"]+"', b'"timeStamp":""', r.content)
    body = re.sub(rb'"request_id":"[^"]+"', b'"request_id":""', body)
    return r.status_code, headers, body


def _routes_only(service: Service, url: str, headers: dict[str, str]) -> httpx.Response:
    """The answer of the routes (the layer switched off)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(hot, "_handler", lambda path: None)
        return service.client.get(url, headers=headers)


def _urls(run_id: str, box: str) -> list[tuple[str, str]]:
    summary = f"/runs/{run_id}/summary"
    urls = [
        (f"{ITEMS}?limit=100&offset=0", "analyst"),
        (f"{ITEMS}?limit=7&offset=61", "admin"),
        (f"{ITEMS}?offset=10&limit=100&f=json", "analyst"),
        (f"{ITEMS}?limit=100&offset=0&bbox={box}", "analyst"),
        (f"{ITEMS}?bbox={box}&limit=3&offset=2", "analyst"),
        (f"{ITEMS}?limit=5&offset=99999999", "analyst"),  # past the end: empty page
        (f"{ITEMS}", "analyst"),  # the default page size
        ("/profiles", "public"),
    ]
    for role in ("analyst", "public"):
        urls.append((summary, role))
        for level in ("kreis", "gemeinde"):
            urls += [
                (f"{summary}?level={level}", role),
                (f"{summary}?level={level}&f=csv", role),
                (f"{summary}?f=csv&dialect=excel-de&level={level}", role),
                (f"{summary}?level={level}&f=json&dialect=plain", role),
            ]
    return urls


def _box(service: Service) -> str:
    extent = service.get("/ogc/collections/addresses").json()["extent"]["spatial"]["bbox"][0]
    minx, miny, maxx, maxy = extent
    w, h = (maxx - minx) / 5, (maxy - miny) / 5
    return f"{minx + 2 * w},{miny + 2 * h},{minx + 3 * w},{miny + 3 * h}"


def test_the_layer_answers_what_the_routes_answer(
    service: Service, demo_run: dict[str, Any], answered: list[str]
) -> None:
    urls = _urls(demo_run["id"], _box(service))
    for url, role in urls:  # the routes build what the layer serves (bodies, stores)
        assert service.get(url, role).status_code == 200, url
    answered.clear()
    for url, role in urls:
        with_layer = service.get(url, role)
        assert with_layer.status_code == 200, (url, with_layer.text)
        assert _norm(with_layer) == _norm(_routes_only(service, url, service.h(role))), url
    assert len(answered) == len(urls)  # every one of them answered by the layer
    feats = service.get(f"{ITEMS}?limit=100&offset=0&bbox={_box(service)}").json()
    assert feats["numberMatched"] > 0 and feats["features"]


def test_revalidation_and_other_keys_as_the_routes(
    service: Service, demo_run: dict[str, Any], answered: list[str]
) -> None:
    url = f"/runs/{demo_run['id']}/summary?level=gemeinde&f=csv"
    first = service.get(url)
    etag = first.headers["etag"]
    for headers in (
        {**service.h("analyst"), "If-None-Match": etag},
        {**service.h("analyst"), "If-None-Match": f'W/{etag}, "other"'},
        {**service.h("analyst"), "If-None-Match": '"other"'},
        {"Authorization": f"Bearer {service.keys['analyst']}"},
        {"X-API-Key": "gm_unknown"},
        {},
    ):
        answered.clear()
        mine = service.client.get(url, headers=headers)
        assert _norm(mine) == _norm(_routes_only(service, url, headers)), headers
        if mine.status_code in (200, 304):
            assert answered == [f"/runs/{demo_run['id']}/summary"]
    not_modified = service.client.get(url, headers={**service.h("analyst"), "If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""


def test_what_the_layer_does_not_know_goes_to_the_routes(
    service: Service, demo_run: dict[str, Any], answered: list[str]
) -> None:
    summary = f"/runs/{demo_run['id']}/summary"
    cases = [
        (f"{ITEMS}?limit=0", "analyst", 422),
        (f"{ITEMS}?limit=007", "analyst", 200),  # another form of 7: the route reads it
        (f"{ITEMS}?limit=10001", "analyst", 422),
        (f"{ITEMS}?limit=10&limit=20", "analyst", 200),  # twice: the route decides
        (f"{ITEMS}?limit=10%0A", "analyst", 200),  # a line break after it: the route reads it
        (f"{ITEMS}?limit=10&sortby=id", "analyst", 200),  # a parameter the route ignores
        (f"{ITEMS}?bbox=1,2,3", "analyst", 400),
        (f"{ITEMS}?bbox=", "analyst", 200),
        (f"{ITEMS}?bbox=7,51,6,52", "analyst", 400),  # min > max
        (f"{ITEMS}?f=html", "analyst", 422),
        (f"{ITEMS}?limit=5", "public", 403),  # addresses are not for public keys
        (f"{summary}?level=land", "analyst", 422),
        (f"{summary}?level=gemeinde&level=kreis", "analyst", 200),
        (f"{summary}?f=csv&dialect=excel", "analyst", 422),
        ("/runs/run_000000000000/summary", "analyst", 404),
        ("/runs/run_X/summary", "analyst", 422),
        (f"{summary[: -len('/summary')]}%0A/summary", "analyst", 422),
    ]
    for url, role, status in cases:
        answered.clear()
        mine = service.get(url, role)
        assert mine.status_code == status, (url, mine.text)
        assert answered == [], url
        assert _norm(mine) == _norm(_routes_only(service, url, service.h(role))), url
