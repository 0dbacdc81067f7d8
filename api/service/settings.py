"""Service settings (pydantic-settings, environment prefix ``GAPMAP_``).

Settings are injected: ``create_app(Settings(workspace=...))`` in tests, ``Settings()`` (from
the environment) only in the uvicorn factory and the CLI. Nothing reads the environment at
import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the service can be configured with."""

    model_config = SettingsConfigDict(env_prefix="GAPMAP_", extra="ignore")

    workspace: Path = Field(
        default=Path("gapmap-workspace"),
        description="Directory for uploaded datasets, run directories and the SQLite catalog.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the catalog; default sqlite:///<workspace>/gapmap.db. "
        "PostgreSQL: postgresql+psycopg://user:pass@host:port/db",
    )
    max_upload_bytes: int = Field(default=1 << 30, gt=0, description="Largest accepted upload.")
    max_zip_members: int = Field(default=1000, gt=0, description="Most entries in an uploaded zip.")
    max_unzipped_bytes: int = Field(
        default=4 << 30, gt=0, description="Largest total size an uploaded zip may expand to."
    )
    public_min_count: int = Field(
        default=3,
        ge=1,
        description="k of the small-count suppression for public keys: counts 1..k-1 become null.",
    )
    bootstrap_admin_key: SecretStr | None = Field(
        default=None,
        description="An admin key accepted from the start (created in the catalog if missing).",
    )
    workers: int = Field(default=2, ge=1, le=64, description="Runs executed at the same time.")
    lookup_cache_runs: int = Field(default=4, ge=1, description="Run indexes kept in memory.")
    session_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs browser sessions; default: a random one kept in "
        "<workspace>/session.key.",
    )
    session_ttl_s: int = Field(
        default=8 * 3600, ge=60, le=30 * 86400, description="Lifetime of a browser session."
    )
    run_step_delay_s: float = Field(
        default=0.0,
        ge=0.0,
        description="Sleep this long at every progress step of a run (testing and demos only).",
    )

    def resolved_database_url(self) -> str:
        """The catalog URL: the configured one, else SQLite in the workspace."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.workspace / 'gapmap.db').resolve()}"
