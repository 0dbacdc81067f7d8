"""Browser sessions: an API key exchanged for a signed, HttpOnly, SameSite cookie.

The cookie holds the SHA-256 of the key (never the key), an expiry and a CSRF token,
signed with HMAC-SHA256. Every request resolves the key hash through the same cache and
catalog as the API (``security``), so a revoked key ends its sessions and roles are the
API's. The secret is ``GAPMAP_SESSION_SECRET`` or a random one kept in
``<workspace>/session.key`` (mode 0600), so sessions survive a restart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from api.service.errors import ApiError
from api.service.security import Principal, _principal_from_catalog, hash_key, key_cache
from api.service.store import Store

COOKIE = "gm_session"
PRE_CSRF_COOKIE = "gm_csrf"


def load_secret(workspace: Path, configured: str | None) -> bytes:
    """The signing secret: the configured one, else the workspace's (created on first use)."""
    if configured:
        return configured.encode("utf-8")
    path = workspace / "session.key"
    if path.is_file():
        return path.read_bytes().strip()
    secret = secrets.token_hex(32).encode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secret)
    return secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Session:
    """What a valid cookie says."""

    key_hash: str
    expires: float
    csrf: str


class Sessions:
    """Sign and verify session cookies."""

    def __init__(self, secret: bytes, ttl_s: int) -> None:
        self._secret = secret
        self.ttl_s = ttl_s

    def _sign(self, payload: str) -> str:
        mac = hmac.new(self._secret, payload.encode("ascii"), hashlib.sha256).digest()
        return _b64(mac)

    def issue(self, key: str) -> tuple[str, Session]:
        """A cookie value for a (checked) API key."""
        session = Session(hash_key(key), time.time() + self.ttl_s, secrets.token_urlsafe(24))
        payload = _b64(
            json.dumps(
                {"h": session.key_hash, "e": int(session.expires), "c": session.csrf},
                separators=(",", ":"),
            ).encode("utf-8")
        )
        return f"{payload}.{self._sign(payload)}", session

    def read(self, value: str | None) -> Session | None:
        """The session of a cookie value, or None when absent, forged or expired."""
        if not value or len(value) > 1024 or "." not in value:
            return None
        payload, _, mac = value.partition(".")
        if not hmac.compare_digest(mac, self._sign(payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
            session = Session(str(data["h"]), float(data["e"]), str(data["c"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > time.time() else None


async def principal_of(request: Request, store: Store, session: Session) -> Principal:
    """The key behind a session (401 when it was revoked since sign-in)."""
    cached = key_cache(store).get(session.key_hash)
    if cached is not None:
        return cached
    return await run_in_threadpool(_principal_from_catalog, store, session.key_hash)


async def check_key(store: Store, key: str) -> Principal | None:
    """The principal of a typed-in key, or None when it is unknown or revoked."""
    try:
        return await run_in_threadpool(_principal_from_catalog, store, hash_key(key))
    except ApiError:
        return None
