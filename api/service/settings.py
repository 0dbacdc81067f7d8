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
    ckm_max_deviation: int = Field(
        default=10,
        ge=1,
        le=50,
        description="Cell key method: largest change of a public count (D).",
    )
    ckm_variance: float = Field(
        default=3.0, gt=0, description="Cell key method: variance of the noise (V)."
    )
    ckm_js: int = Field(
        default=2, ge=0, le=20, description="Cell key method: public counts are never 1..js."
    )
    cell_key_secret_file: Path | None = Field(
        default=None,
        description="Secret of the record keys; default <workspace>/cell-key.secret (created "
        "on first use, mode 0600). Keep it: a new secret changes every public value.",
    )
    allowed_hosts: list[str] = Field(
        default=["localhost", "127.0.0.1", "::1", "testserver"],
        description="Host header values accepted (the service writes links with them); "
        'JSON list, e.g. GAPMAP_ALLOWED_HOSTS=\'["gapmap.kreis-soest.de"]\'; "*" accepts any.',
    )
    lease_s: float = Field(
        default=60.0,
        ge=1.0,
        description="A run's lease: its process renews it every third of this; another "
        "process marks the run failed only when it has not been renewed for this long.",
    )
    min_free_bytes: int = Field(
        default=1 << 30,
        ge=0,
        description="/health reports degraded when the workspace has less free space.",
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

    def secret_path(self) -> Path:
        """Where the cell key secret lives."""
        return self.cell_key_secret_file or self.workspace / "cell-key.secret"

    def resolved_database_url(self) -> str:
        """The catalog URL: the configured one, else SQLite in the workspace."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.workspace / 'gapmap.db').resolve()}"
