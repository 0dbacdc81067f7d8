"""Browser security for the pages and tiles: CSP with a per-request nonce, framing, CSRF.

* Every response under ``/ui`` (and the tile and static paths) gets a Content-Security-Policy
  whose ``script-src`` allows only the service's own files and inline scripts carrying this
  request's nonce (``request.state.csp_nonce``; the map page stamps it on every inline
  script Folium writes), ``frame-ancestors 'none'`` with ``X-Frame-Options: DENY``,
  and ``Referrer-Policy: same-origin`` (``nosniff`` is set on every answer by ``gate``).
* CSRF: every POST form carries a token, compared in constant time with the session's token
  (or, for the sign-in form, with the pre-session cookie ``gm_csrf``); a cross-site
  ``Origin`` is refused as well.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.service.errors import ApiError

_PATHS = ("/ui", "/static/web", "/runs/")
_IMG = "img-src 'self' data: blob:"


def csp(nonce: str) -> str:
    """The policy of one page: scripts only from here or with the nonce; no framing."""
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            # Folium writes <style> blocks and Leaflet style attributes; a nonce here would
            # disable 'unsafe-inline', and styles cannot run code
            "style-src 'self' 'unsafe-inline'",
            _IMG,
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


class BrowserHeaders:
    """Pure ASGI middleware: nonce into the scope, security headers onto page responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/" or path.startswith(_PATHS)):
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce

        async def send_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [
                    (b"content-security-policy", csp(nonce).encode("ascii")),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                ]
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", []),
                        *[(k, v) for k, v in extra if k not in names],
                    ],
                }
            await send(message)

        await self.app(scope, receive, send_headers)


def check_csrf(sent: str | None, expected: str | None, origin: str | None, host: str) -> None:
    """403 unless the form's token equals the expected one and the origin is this host."""
    if origin and origin != "null":
        netloc = origin.split("://", 1)[-1]
        if netloc != host:
            raise ApiError(403, "csrf_failed", f"cross-site form post from {origin} refused")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise ApiError(
            403, "csrf_failed", "the form's security token is missing or stale; reload the page"
        )
