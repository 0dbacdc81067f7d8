"""Who is using the browser: the session cookie's key, resolved like an API key."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from api.service.errors import ApiError
from api.service.security import Principal, Role, authenticate_async, key_from_request
from api.service.store import Store
from api.service.web.session import COOKIE, Session, Sessions, load_secret, principal_of


@dataclass
class Visitor:
    """A signed-in browser: the session and the key's principal."""

    session: Session
    principal: Principal


def sessions(request: Request) -> Sessions:
    """The app's session signer (the secret is loaded on first use)."""
    state = request.app.state
    signer: Sessions | None = getattr(state, "web_sessions", None)
    if signer is None:
        settings = state.services.settings
        secret = settings.session_secret
        signer = Sessions(
            load_secret(
                settings.workspace, secret.get_secret_value() if secret is not None else None
            ),
            settings.session_ttl_s,
        )
        state.web_sessions = signer
    return signer


async def visitor(request: Request, store: Store) -> Visitor | None:
    """The signed-in visitor, or None (no cookie, forged, expired, or the key was revoked)."""
    session = sessions(request).read(request.cookies.get(COOKIE))
    if session is None:
        return None
    try:
        return Visitor(session, await principal_of(request, store, session))
    except ApiError:
        return None


async def caller(request: Request, store: Store) -> Principal:
    """An API key (header) or else a browser session; 401 without either."""
    if key_from_request(request):
        return await authenticate_async(request, store, Role.PUBLIC)
    found = await visitor(request, store)
    if found is None:
        raise ApiError(
            401,
            "credentials_required",
            "send an API key in the X-API-Key header or sign in at /ui/login",
            {"WWW-Authenticate": 'Bearer realm="gapmap"'},
        )
    return found.principal
