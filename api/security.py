"""API keys and roles.

Keys are random (``gm_`` + 43 url-safe characters), shown once, and stored as SHA-256
hashes. Roles are ordered: ``public`` < ``analyst`` < ``admin``.

* public: aggregates only (summaries, grid, DEGURBA, the municipalities collection), with
  small-count suppression.
* analyst: runs and per-address data (operator-reported coverage is confidential).
* admin: datasets, keys, everything.

Clients send ``X-API-Key: <key>`` or ``Authorization: Bearer <key>``. No key -> 401,
an unknown or revoked key -> 401, too small a role -> 403 (problem bodies).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from fastapi import Request
from fastapi.security import APIKeyHeader, HTTPBearer

from api.errors import ApiError
from api.store import Store

KEY_PREFIX = "gm_"


class Role(StrEnum):
    """Access levels, lowest first."""

    PUBLIC = "public"
    ANALYST = "analyst"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Position in the order public < analyst < admin."""
        return list(Role).index(self)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key id and its role."""

    key_id: str
    role: Role

    @property
    def is_public(self) -> bool:
        """True for public keys (aggregates only, suppressed)."""
        return self.role is Role.PUBLIC


def hash_key(key: str) -> str:
    """SHA-256 hex digest of a key (what the catalog stores)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_key() -> str:
    """A new random key (256 bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def create_key(store: Store, role: Role, name: str | None = None) -> tuple[str, str]:
    """Create a key; returns ``(key id, plaintext key)`` - the only time the key is visible."""
    key = generate_key()
    row = store.add_key(hash_key(key), key[:10], role.value, name)
    return row.id, key


def ensure_key(store: Store, key: str, role: Role, name: str) -> None:
    """Make sure ``key`` is accepted (the bootstrap admin key from the settings)."""
    if store.key_by_hash(hash_key(key)) is None:
        store.add_key(hash_key(key), key[:10], role.value, name)


# Declared for OpenAPI (the "Authorize" button in /docs); checked by hand in ``authenticate``.
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")
bearer = HTTPBearer(auto_error=False, description="API key as a bearer token")

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="gapmap"'}


def key_from_request(request: Request) -> str | None:
    """The key from ``X-API-Key`` or ``Authorization: Bearer``."""
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def authenticate(request: Request, store: Store, minimum: Role) -> Principal:
    """Resolve the caller's key and check that its role is at least ``minimum``."""
    key = key_from_request(request)
    if not key:
        raise ApiError(
            401, "credentials_required", "send an API key in the X-API-Key header", _CHALLENGE
        )
    row = store.key_by_hash(hash_key(key))
    if row is None:
        raise ApiError(401, "credentials_invalid", "the API key is unknown or revoked", _CHALLENGE)
    principal = Principal(row.id, Role(row.role))
    if principal.role.rank < minimum.rank:
        raise ApiError(
            403,
            "forbidden",
            f"this needs a key with role {minimum.value} or higher; yours has role {principal.role.value}",
        )
    return principal
