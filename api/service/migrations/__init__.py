"""Alembic migrations of the catalog; applied at service start by :func:`api.service.store.migrate`."""
