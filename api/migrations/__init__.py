"""Alembic migrations of the catalog; applied at service start by :func:`api.store.migrate`."""
