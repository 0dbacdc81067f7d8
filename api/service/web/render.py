"""Rendering pages: Jinja2 (autoescaped), the language, the CSP nonce and the CSRF token."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec

import jinja2
from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.service.deps import get_services
from api.service.errors import ApiError
from api.service.security import Role
from api.service.web import HERE
from api.service.web.auth import Visitor, visitor
from api.service.web.headers import check_csrf
from api.service.web.i18n import LANG_COOKIE, LANGS, language, number, translator
from api.service.web.session import PRE_CSRF_COOKIE
from coverage.errors import GapmapError

templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.Undefined,
    )
)
P = ParamSpec("P")


class SignInRequiredError(Exception):
    """The page needs a signed-in visitor."""


def nonce(request: Request) -> str:
    """This request's CSP nonce (set by ``BrowserHeaders``)."""
    return str(request.scope.get("state", {}).get("csp_nonce", ""))


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    who: Visitor | None = None,
    status: int = 200,
) -> Response:
    """A page in the visitor's language with nonce and CSRF token."""
    lang = language(request)
    pre = None if who else request.cookies.get(PRE_CSRF_COOKIE) or secrets.token_urlsafe(24)
    ctx = {
        "t": translator(lang),
        "lang": lang,
        "other_lang": LANGS[1 - LANGS.index(lang)],
        "nonce": nonce(request),
        "csrf": who.session.csrf if who else pre,
        "who": who,
        "role": who.principal.role.value if who else None,
        "is_public": bool(who and who.principal.role is Role.PUBLIC),
        "num": lambda v, d=0: number(v, lang, d),
        "pct": lambda v: (
            number(None if v is None else float(v) * 100, lang, 1) + " %"
            if v is not None and v == v
            else "–"
        ),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, name, ctx, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    if pre and request.cookies.get(PRE_CSRF_COOKIE) != pre:
        response.set_cookie(PRE_CSRF_COOKIE, pre, httponly=True, samesite="strict")
    return response


async def signed_in(request: Request, minimum: Role = Role.PUBLIC) -> Visitor:
    """The visitor (SignInRequiredError without one; 403 when the role is too small)."""
    who = await visitor(request, get_services(request).store)
    if who is None:
        raise SignInRequiredError
    request.state.visitor = who
    if who.principal.role.rank < minimum.rank:
        raise ApiError(
            403,
            "forbidden",
            f"this page needs a key with role {minimum.value} or higher; "
            f"yours has role {who.principal.role.value}",
        )
    return who


def csrf_ok(request: Request, sent: str | None, who: Visitor | None) -> None:
    """403 unless ``sent`` is the visitor's token (or the sign-in form's pre-session token)."""
    expected = who.session.csrf if who else request.cookies.get(PRE_CSRF_COOKIE)
    check_csrf(sent, expected, request.headers.get("origin"), request.headers.get("host", ""))


def page(fn: Callable[P, Awaitable[Response]]) -> Callable[P, Awaitable[Response]]:
    """Turn errors of a page into an HTML error page (and a missing sign-in into a redirect)."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        request = kwargs.get("request")
        assert isinstance(request, Request), "page routes take `request` by keyword"
        try:
            return await fn(*args, **kwargs)
        except SignInRequiredError:
            return RedirectResponse("/ui/login", status_code=303)
        except ApiError as exc:
            return _error(request, exc.status, exc.detail)
        except GapmapError as exc:
            from api.service.errors import status_for

            return _error(request, status_for(exc), str(exc))

    return wrapper


def _error(request: Request, status: int, detail: str) -> Response:
    try:
        who = request.state.visitor
    except AttributeError:
        who = None
    return render(
        request, "error.html", {"status": status, "detail": detail}, who=who, status=status
    )
