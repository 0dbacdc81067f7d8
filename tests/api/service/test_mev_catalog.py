"""The MEV catalog tables: the Alembic migration creates exactly what the models declare."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import api.service.mev_models  # noqa: F401  (registers the MEV tables on Base.metadata)
from api.service.models import Base
from api.service.store import Store


def test_migration_0004_matches_the_mev_models(tmp_path: Path) -> None:
    store = Store(tmp_path, f"sqlite:///{tmp_path / 'catalog.db'}")
    try:
        store.migrate()
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        store.close()
    mev = [d for d in diff if "mev" in repr(d)]
    assert mev == []
