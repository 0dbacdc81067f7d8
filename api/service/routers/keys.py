"""API keys over HTTP (admin): create (the key is shown once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.service.deps import AdminKey, KeyId, StoreDep
from api.service.errors import PROBLEM_SCHEMA
from api.service.schemas import KeyCreate, KeyCreated, KeyOut
from api.service.security import Role, create_key, revoke_key

_PROBLEM = {"content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}}}
router = APIRouter(
    prefix="/keys", tags=["keys"], responses={401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM}
)


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=KeyCreated, summary="Create an API key"
)
def create(body: KeyCreate, store: StoreDep, _: AdminKey) -> KeyCreated:
    """A new random key; ``key`` is in this response only (the catalog keeps its SHA-256)."""
    key_id, key = create_key(store, Role(body.role), body.name)
    row = next(k for k in store.list_keys() if k.id == key_id)
    return KeyCreated(**KeyOut.of(row).model_dump(), key=key)


@router.get("", response_model=list[KeyOut], summary="List API keys")
def list_keys(store: StoreDep, _: AdminKey) -> list[KeyOut]:
    """All keys (without secrets), newest first."""
    return [KeyOut.of(k) for k in store.list_keys()]


@router.post("/{key_id}/revoke", response_model=KeyOut, summary="Revoke an API key")
def revoke(key_id: KeyId, store: StoreDep, _: AdminKey) -> KeyOut:
    """The key stops working at once."""
    return KeyOut.of(revoke_key(store, key_id))
