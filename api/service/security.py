"""API keys and roles.

Keys are random (``gm_`` + 43 url-safe characters), shown once, and stored as SHA-256
hashes. Roles are ordered: ``public`` < ``analyst`` < ``admin``.

* public: aggregates only (summaries, grid, DEGURBA, the municipalities collection), with
  counts perturbed by the cell key method (the run's public tables).
* analyst: runs and per-address data (operator-reported coverage is confidential).
* admin: datasets, keys, everything.

Clients send ``X-API-Key: <key>``, ``Authorization: Bearer <key>`` or HTTP Basic
authentication with the key as password (any user name; for QGIS and GDAL). No key -> 401,
an unknown or revoked key -> 401, too small a role -> 403 (problem bodies).

Accepted keys are remembered in memory per catalog (:class:`KeyCache`, by hash) for
``KEY_CACHE_TTL_S``, so the hot path costs one SHA-256 and a dict lookup. A revocation
through this process (:func:`revoke_key`, used by ``POST /keys/{id}/revoke``) clears the
cache at once; one made by another process (the CLI) takes effect within the TTL. Unknown
keys are never cached (a key created elsewhere works at once).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from fastapi import Request
from fastapi.security import APIKeyHeader, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.service.errors import ApiError
from api.service.models import ApiKey
from api.service.store import KEY_CACHE_TTL_S, Store

KEY_PREFIX = "gm_"
T = TypeVar("T")

_INFLIGHT: dict[tuple[asyncio.AbstractEventLoop, Hashable], asyncio.Future[Any]] = {}


def _landed(slot: tuple[asyncio.AbstractEventLoop, Hashable], done: asyncio.Future[Any]) -> None:
    _INFLIGHT.pop(slot, None)
    if not done.cancelled():
        done.exception()  # retrieved: no "never retrieved" warning when every waiter left


async def single_flight(key: Hashable, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in the thread pool, shared by every caller that asks for ``key`` while
    it runs: when a cache entry expires under load, one catalog query refills it instead of
    one per request in flight (a burst that stalls the event loop)."""
    loop = asyncio.get_running_loop()
    slot = (loop, key)
    future = _INFLIGHT.get(slot)
    if future is None:
        future = asyncio.ensure_future(run_in_threadpool(fn, *args))
        _INFLIGHT[slot] = future
        future.add_done_callback(lambda done: _landed(slot, done))
    result: T = await asyncio.shield(future)
    return result


class Role(StrEnum):
    """Access levels, lowest first."""

    PUBLIC = "public"
    ANALYST = "analyst"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Position in the order public < analyst < admin."""
        return _RANK[self]


_RANK = {role: i for i, role in enumerate(Role)}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key id and its role."""

    key_id: str
    role: Role

    @property
    def is_public(self) -> bool:
        """True for public keys (aggregates only, the perturbed public tables)."""
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


class KeyCache:
    """Principals of accepted keys by key hash, for ``ttl_s``; thread-safe.

    ``clear`` bumps a generation: a lookup that read the catalog before a revocation
    committed cannot put its (now stale) answer back afterwards.
    """

    def __init__(self, ttl_s: float = KEY_CACHE_TTL_S, size: int = 4096) -> None:
        self.ttl_s, self.size = ttl_s, size
        self._data: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()
        self.generation = 0

    def get(self, key_hash: str) -> Principal | None:
        """The cached principal, or None when absent or expired."""
        hit = self._data.get(key_hash)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key_hash: str, principal: Principal, generation: int) -> None:
        """Remember a principal read from the catalog under ``generation`` (else drop it)."""
        with self._lock:
            if generation != self.generation:
                return
            if len(self._data) >= self.size:
                self._data.clear()
            self._data[key_hash] = (time.monotonic() + self.ttl_s, principal)

    def clear(self) -> None:
        """Forget every key (after a revocation)."""
        with self._lock:
            self.generation += 1
            self._data.clear()


_CACHES: weakref.WeakKeyDictionary[Store, KeyCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def key_cache(store: Store) -> KeyCache:
    """The key cache of one catalog."""
    cache = _CACHES.get(store)
    if cache is None:
        with _CACHES_LOCK:
            cache = _CACHES.setdefault(store, KeyCache())
    return cache


def revoke_key(store: Store, key_id: str) -> ApiKey:
    """Revoke a key (idempotent); it is refused at once by this process."""
    try:
        return store.revoke_key(key_id)
    finally:
        key_cache(store).clear()


def ensure_key(store: Store, key: str, role: Role, name: str) -> bool:
    """Make sure ``key`` is accepted (the bootstrap admin key from the settings). A key
    that was revoked stays revoked: returns False (the caller logs it), never raises."""
    if store.key_by_hash(hash_key(key)) is not None:
        return True
    if store.key_revoked(hash_key(key)):
        return False
    store.add_key(hash_key(key), key[:10], role.value, name)
    return True


# Declared for OpenAPI (the "Authorize" button in /docs); checked by hand in ``authenticate``.
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")
bearer = HTTPBearer(auto_error=False, description="API key as a bearer token")

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="gapmap"'}
#: OGC API paths also offer Basic: GIS clients (QGIS, GDAL) answer it with a login dialog
OGC_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="gapmap", Basic realm="gapmap"'}


def key_from_request(request: Request) -> str | None:
    """The key from ``X-API-Key``, ``Authorization: Bearer <key>`` or HTTP Basic
    authentication with any user name and the key as password (what QGIS's "Basic"
    authentication method and GDAL's ``GDAL_HTTP_AUTH=BASIC`` send)."""
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if scheme.lower() == "basic" and token.strip():
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        _user, sep, password = decoded.partition(":")
        return password.strip() if sep and password.strip() else None
    return None


def _challenge(request: Request) -> dict[str, str]:
    """Bearer everywhere; OGC API paths also offer Basic, so GIS clients ask for a login."""
    return OGC_CHALLENGE if request.url.path.startswith("/ogc") else _CHALLENGE


def _key_hash(request: Request) -> str:
    key = key_from_request(request)
    if not key:
        raise ApiError(
            401,
            "credentials_required",
            "send an API key in the X-API-Key header (or as the password of HTTP Basic "
            "authentication, any user name)",
            _challenge(request),
        )
    return hash_key(key)


def _principal_from_catalog(store: Store, key_hash: str) -> Principal:
    cache = key_cache(store)
    generation = cache.generation  # read before the catalog: see KeyCache
    row = store.key_by_hash(key_hash)
    if row is None:
        raise ApiError(401, "credentials_invalid", "the API key is unknown or revoked", _CHALLENGE)
    principal = Principal(row.id, Role(row.role))
    cache.put(key_hash, principal, generation)
    return principal


def _check_role(principal: Principal, minimum: Role) -> Principal:
    if principal.role.rank < minimum.rank:
        raise ApiError(
            403,
            "forbidden",
            f"this needs a key with role {minimum.value} or higher; yours has role {principal.role.value}",
        )
    return principal


def authenticate(request: Request, store: Store, minimum: Role) -> Principal:
    """Resolve the caller's key and check that its role is at least ``minimum``."""
    key_hash = _key_hash(request)
    principal = key_cache(store).get(key_hash) or _principal_from_catalog(store, key_hash)
    return _check_role(principal, minimum)


async def authenticate_async(request: Request, store: Store, minimum: Role) -> Principal:
    """:func:`authenticate` for the event loop: the catalog is read in a worker thread, and
    only when the key is not cached."""
    key_hash = _key_hash(request)
    principal = key_cache(store).get(key_hash)
    if principal is None:
        principal = await single_flight(
            ("key", store, key_hash), _principal_from_catalog, store, key_hash
        )
    return _check_role(principal, minimum)
