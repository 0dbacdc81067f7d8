"""Alembic environment: runs on the connection :func:`api.service.store.migrate` passes in.

Only online migrations are supported; the URL never comes from an ini file, so credentials
stay in the service settings.
"""

from __future__ import annotations

from alembic import context

from api.service.models import Base

config = context.config
target_metadata = Base.metadata

connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - the service always passes a connection
    raise RuntimeError(
        "run migrations through api.service.store.migrate(), which passes a connection"
    )

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
