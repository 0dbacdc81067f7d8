"""Request and response bodies (pydantic), with the examples shown in /docs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.service.deps import DATASET_ID
from api.service.models import ApiKey, Dataset, Run
from api.service.store import as_utc

RunState = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class DatasetOut(BaseModel):
    """An uploaded dataset and its validation report."""

    id: str = Field(examples=["ds_0a1b2c3d4e5f"])
    kind: str = Field(examples=["addresses"])
    filename: str = Field(examples=["hauskoordinaten_soest.gpkg"])
    size_bytes: int
    sha256: str
    crs: str | None = Field(description="CRS stated at upload (null: taken from the file)")
    rows: int | None
    created_at: datetime
    report: dict[str, Any] | None = Field(None, description="Validation report (detail view only)")

    @classmethod
    def of(cls, ds: Dataset, *, report: bool = False) -> DatasetOut:
        """From the catalog row."""
        return cls(
            id=ds.id, kind=ds.kind, filename=ds.filename, size_bytes=ds.size_bytes, sha256=ds.sha256,
            crs=ds.crs, rows=ds.rows, created_at=as_utc(ds.created_at) or ds.created_at,
            report=ds.report if report else None,
        )  # fmt: skip


class DatasetList(BaseModel):
    """A page of datasets."""

    items: list[DatasetOut]
    total: int


class RunCreate(BaseModel):
    """What to analyse: dataset ids by role, the rule profile and options."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "addresses": "ds_0a1b2c3d4e5f",
                    "coverage": ["ds_1b2c3d4e5f60"],
                    "boundaries": "ds_2c3d4e5f6071",
                    "profile": "de-gigabit",
                    "as_of": "2026-01-01",
                    "include_planned": True,
                }
            ]
        },
    )

    addresses: str = Field(pattern=DATASET_ID, description="Dataset of kind addresses")
    coverage: list[str] = Field(
        min_length=1, max_length=50, description="Datasets of kind coverage"
    )
    boundaries: str | None = Field(
        None, pattern=DATASET_ID, description="Dataset of kind boundaries"
    )
    profile: str = Field(
        "de-gigabit",
        pattern=r"^[a-z0-9][a-z0-9._-]{0,99}$",
        description="A bundled profile version id or a family id (the version in force on as_of; GET /profiles)",
    )
    region: Literal["de", "us", "uk"] | None = Field(
        None, description="Jurisdiction (default: the profile's own)"
    )
    as_of: date | None = Field(
        None,
        ge=date(2000, 1, 1),
        le=date(2100, 12, 31),
        description="Reference date, 2000-01-01 to 2100-12-31 (default: today)",
    )
    include_planned: bool = Field(
        True, description="Count planned roll-outs within the profile's horizon"
    )


class RunOut(BaseModel):
    """A run's status (and its counts once it succeeded)."""

    id: str = Field(examples=["run_3f2c9a7e1b0d"])
    state: RunState
    stage: str | None = Field(examples=["join"])
    progress_percent: float = Field(examples=[42.5])
    profile: str
    region: str
    as_of: str | None
    include_planned: bool
    inputs: dict[str, Any]
    counts: dict[str, Any] | None
    error_code: str | None
    error: str | None
    resubmitted_from: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    published_at: datetime | None = Field(
        None, description="When an admin published the run (POST /runs/{id}/publish)"
    )
    links: dict[str, str]

    @classmethod
    def of(cls, run: Run) -> RunOut:
        """From the catalog row."""
        base = f"/runs/{run.id}"
        links = {"self": base}
        if run.state == "succeeded":
            links |= {
                "summary": f"{base}/summary?level=gemeinde",
                "addresses": f"{base}/addresses",
                "map": f"{base}/map",
            }
        elif run.state in ("failed", "cancelled"):
            links["resubmit"] = f"{base}/resubmit"
        return cls(
            id=run.id, state=run.state, stage=run.stage, progress_percent=run.progress,  # type: ignore[arg-type]
            profile=run.profile, region=run.region, as_of=run.as_of, include_planned=run.include_planned,
            inputs=run.inputs, counts=run.counts, error_code=run.error_code, error=run.error,
            resubmitted_from=run.resubmitted_from, created_at=as_utc(run.created_at) or run.created_at,
            started_at=as_utc(run.started_at), finished_at=as_utc(run.finished_at),
            published_at=as_utc(run.published_at), links=links,
        )  # fmt: skip


class RunList(BaseModel):
    """A page of runs."""

    items: list[RunOut]
    total: int


class KeyCreate(BaseModel):
    """A new API key."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"role": "analyst", "name": "Kreis Soest GIS"}]},
    )

    role: Literal["public", "analyst", "admin"]
    name: str | None = Field(None, max_length=200)


class KeyOut(BaseModel):
    """An API key without its secret."""

    id: str
    prefix: str = Field(description="First characters of the key, to recognise it")
    role: str
    name: str | None
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiKey) -> KeyOut:
        """From the catalog row."""
        return cls(
            id=row.id, prefix=row.prefix, role=row.role, name=row.name,
            created_at=as_utc(row.created_at) or row.created_at, revoked_at=as_utc(row.revoked_at),
        )  # fmt: skip


class KeyCreated(KeyOut):
    """A freshly created key: ``key`` is shown this once only."""

    key: str = Field(examples=["gm_6pWz..."])


class Health(BaseModel):
    """Liveness and readiness."""

    status: Literal["ok", "degraded"]
    database: Literal["ok", "down"]
    active_runs: int
    free_bytes: int = Field(description="Free space of the workspace's filesystem")
    disk: Literal["ok", "low"] = Field(
        description="low below GAPMAP_MIN_FREE_BYTES (the status is then degraded)"
    )


class Version(BaseModel):
    """Versions of the service and its engine stack."""

    gapmap: str
    api: str
    software: dict[str, str]
