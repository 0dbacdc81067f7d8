"""The catalog (SQL via SQLAlchemy 2) and the workspace layout on disk.

All SQL of the service lives here, written with SQLAlchemy constructs (never from strings).
Paths on disk are built from server-generated ids only: ``datasets/<dataset id>/<stored
name>`` and ``runs/<run id>/``. The engine writes run directories atomically; the catalog
state says whether a run directory may be served (only ``succeeded``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.service.db import TTLCache, make_engine, migrate
from api.service.errors import ApiError, LastAdminKeyError
from api.service.models import ApiKey, Dataset, Job, Run, utcnow
from coverage.errors import NotFoundError

ACTIVE_STATES = ("queued", "running")
FINAL_STATES = ("succeeded", "failed", "cancelled")
INTERRUPTED = "interrupted by service restart"
LEASE_EXPIRED = "interrupted: the service process running it stopped renewing its lease"


def new_id(prefix: str) -> str:
    """A fresh random id such as ``run_3f2c9a7e1b0d``: safe as a path component."""
    return f"{prefix}_{secrets.token_hex(6)}"


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; the catalog stores UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Page:
    """One page of a listing."""

    items: list[Any]
    total: int


#: A revoked key keeps working in *another* process (e.g. revoked by the CLI) this long.
KEY_CACHE_TTL_S = 10.0


class Store:
    """Catalog access and workspace paths. Thread-safe: one session per call.

    Hot reads are cached: finished runs for good (they never change) and the newest
    succeeded run for a second (cleared when a run of this process finishes). API keys are
    cached by ``api.service.security`` (``KEY_CACHE_TTL_S``), which also clears them on revocation.
    """

    def __init__(self, workspace: Path, database_url: str) -> None:
        self._runs = TTLCache(float("inf"), 4096)
        self._newest = TTLCache(1.0, 1)
        self.workspace = workspace.resolve()
        for sub in ("datasets", "runs", "tmp"):
            (self.workspace / sub).mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(database_url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    # -- lifecycle ---------------------------------------------------------------------------
    def migrate(self) -> None:
        """Bring the catalog schema to the newest revision."""
        migrate(self.engine)

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()

    def ping(self) -> bool:
        """True when the database answers."""
        try:
            with self.session() as s:
                s.execute(select(1))
        except Exception:  # health check: any failure means "down"
            return False
        return True

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success, rolled back on error."""
        with self._sessions() as s, s.begin():
            yield s

    # -- paths (server-generated ids only) ---------------------------------------------------
    @property
    def tmp_dir(self) -> Path:
        """Scratch space inside the workspace (same filesystem as the targets)."""
        return self.workspace / "tmp"

    def dataset_dir(self, dataset_id: str) -> Path:
        """Directory of one stored dataset."""
        return self.workspace / "datasets" / dataset_id

    def dataset_path(self, ds: Dataset) -> Path:
        """The stored file of a dataset."""
        return self.dataset_dir(ds.id) / ds.stored_name

    def run_dir(self, run_id: str) -> Path:
        """The run directory the engine writes for ``run_id``."""
        return self.workspace / "runs" / run_id

    # -- API keys ----------------------------------------------------------------------------
    def add_key(self, key_hash: str, prefix: str, role: str, name: str | None) -> ApiKey:
        """Store a new key (its hash only)."""
        row = ApiKey(
            id=new_id("key"),
            key_hash=key_hash,
            prefix=prefix,
            role=role,
            name=name,
            created_at=utcnow(),
        )
        with self.session() as s:
            s.add(row)
        return row

    def key_by_hash(self, key_hash: str) -> ApiKey | None:
        """The unrevoked key with this hash, if any."""
        with self.session() as s:
            return s.scalars(
                select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
            ).first()

    def list_keys(self) -> list[ApiKey]:
        """All keys, newest first."""
        with self.session() as s:
            return list(s.scalars(select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id)))

    def revoke_key(self, key_id: str) -> ApiKey:
        """Revoke a key (idempotent). The last active admin key is kept: one UPDATE that
        revokes only while another admin key is active, so two admins revoking each other
        at the same time cannot lock everyone out (raises LastAdminKeyError)."""
        others = (
            select(func.count())
            .select_from(ApiKey)
            .where(ApiKey.role == "admin", ApiKey.revoked_at.is_(None), ApiKey.id != key_id)
            .scalar_subquery()
        )
        with self.session() as s:
            row = s.get(ApiKey, key_id)
            if row is None:
                raise NotFoundError(f"API key {key_id} does not exist")
            if row.revoked_at is None:
                done = s.execute(
                    update(ApiKey)
                    .where(
                        ApiKey.id == key_id,
                        ApiKey.revoked_at.is_(None),
                        (ApiKey.role != "admin") | (others > 0),
                    )
                    .values(revoked_at=utcnow())
                    .execution_options(synchronize_session=False)
                )
                if done.rowcount == 0:
                    raise LastAdminKeyError(
                        f"API key {key_id} is the last active admin key; create another admin "
                        "key first (POST /keys or gapmap keys create --role admin)"
                    )
                s.refresh(row)
        return row

    def key_revoked(self, key_hash: str) -> bool:
        """Whether a key with this hash exists and is revoked."""
        with self.session() as s:
            row = s.scalars(select(ApiKey).where(ApiKey.key_hash == key_hash)).first()
            return row is not None and row.revoked_at is not None

    # -- datasets ----------------------------------------------------------------------------
    def add_dataset(self, ds: Dataset) -> Dataset:
        """Record a stored and validated dataset."""
        with self.session() as s:
            s.add(ds)
        return ds

    def get_dataset(self, dataset_id: str) -> Dataset:
        """One dataset or NotFoundError."""
        with self.session() as s:
            row = s.get(Dataset, dataset_id)
        if row is None:
            raise NotFoundError(f"dataset {dataset_id} does not exist")
        return row

    def list_datasets(self, kind: str | None, limit: int, offset: int) -> Page:
        """Datasets, newest first, optionally of one kind."""
        q = select(Dataset)
        if kind:
            q = q.where(Dataset.kind == kind)
        with self.session() as s:
            total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
            rows = s.scalars(
                q.order_by(Dataset.created_at.desc(), Dataset.id).limit(limit).offset(offset)
            )
            return Page(list(rows), int(total))

    def delete_dataset(self, dataset_id: str) -> Dataset:
        """Remove a dataset from the catalog (409 while an active run uses it)."""
        with self.session() as s:
            row = s.get(Dataset, dataset_id)
            if row is None:
                raise NotFoundError(f"dataset {dataset_id} does not exist")
            for run in s.scalars(select(Run).where(Run.state.in_(ACTIVE_STATES))):
                if dataset_id in _dataset_ids(run.inputs):
                    raise ApiError(
                        409,
                        "dataset_in_use",
                        f"dataset {dataset_id} is used by active run {run.id}",
                    )
            s.delete(row)
            return row

    # -- runs and jobs -----------------------------------------------------------------------
    def create_run(self, fields: dict[str, Any], created_by: str | None) -> Run:
        """Insert a queued run and its first job."""
        run = Run(
            id=new_id("run"),
            state="queued",
            progress=0.0,
            created_by=created_by,
            created_at=utcnow(),
            **fields,
        )
        with self.session() as s:
            s.add(run)
            s.flush()
            s.add(Job(run_id=run.id, state="queued", cancel_requested=False, created_at=utcnow()))
        return run

    def get_run(self, run_id: str) -> Run:
        """One run or NotFoundError (finished runs come from a cache: they never change)."""
        cached = self._runs.get(run_id)
        if cached is not None:
            return cached
        with self.session() as s:
            row = s.get(Run, run_id)
        if row is None:
            raise NotFoundError(f"run {run_id} does not exist")
        if row.state in FINAL_STATES:
            self._runs.put(run_id, row)
        return row

    def list_runs(self, state: str | None, limit: int, offset: int) -> Page:
        """Runs, newest first, optionally in one state."""
        q = select(Run)
        if state:
            q = q.where(Run.state == state)
        with self.session() as s:
            total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
            rows = s.scalars(q.order_by(Run.created_at.desc(), Run.id).limit(limit).offset(offset))
            return Page(list(rows), int(total))

    def newest_succeeded_run(self) -> Run:
        """The run that is served (lookup, OGC, public pages): the one published last
        (POST /runs/{id}/publish), else the most recently finished successful run."""
        cached = self._newest.get("newest")
        if cached is not None:
            return cached
        with self.session() as s:
            row = (
                s.scalars(
                    select(Run)
                    .where(Run.state == "succeeded", Run.published_at.is_not(None))
                    .order_by(Run.published_at.desc(), Run.id.desc())
                ).first()
                or s.scalars(
                    select(Run)
                    .where(Run.state == "succeeded")
                    .order_by(Run.finished_at.desc(), Run.id.desc())
                ).first()
            )
        if row is None:
            raise NotFoundError("no succeeded run yet; create one with POST /runs")
        self._newest.put("newest", row)
        return row

    def active_resubmission(self, run_id: str) -> Run | None:
        """A queued or running run resubmitted from ``run_id``, if any."""
        with self.session() as s:
            return s.scalars(
                select(Run)
                .where(Run.resubmitted_from == run_id, Run.state.in_(ACTIVE_STATES))
                .order_by(Run.created_at.desc())
            ).first()

    def publish_run(self, run_id: str) -> Run:
        """Serve this succeeded run from now on (409 for a run that has not succeeded)."""
        with self.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                raise NotFoundError(f"run {run_id} does not exist")
            if run.state != "succeeded":
                raise ApiError(
                    409,
                    "run_not_publishable",
                    f"run {run_id} is {run.state}; publish a succeeded run",
                )
            run.published_at = utcnow()
        self._newest.clear()
        return run

    def start_run(self, run_id: str, worker: str) -> bool:
        """queued -> running; False when the run is no longer queued (cancelled meanwhile)."""
        now = utcnow()
        with self.session() as s:
            result: CursorResult[Any] = s.execute(  # type: ignore[assignment]
                update(Run)
                .where(Run.id == run_id, Run.state == "queued")
                .values(state="running", started_at=now, stage="starting")
            )
            moved = result.rowcount
            if moved:
                s.execute(
                    update(Job)
                    .where(Job.run_id == run_id, Job.state == "queued")
                    .values(state="running", worker=worker, started_at=now)
                )
        return bool(moved)

    def set_progress(self, run_id: str, stage: str, percent: float) -> None:
        """Record the stage and progress percent of a running run."""
        with self.session() as s:
            s.execute(
                update(Run)
                .where(Run.id == run_id, Run.state == "running")
                .values(stage=stage, progress=percent)
            )

    def cancel_requested(self, run_id: str) -> bool:
        """Whether someone asked to cancel the run's current job."""
        with self.session() as s:
            return bool(
                s.scalar(
                    select(func.count())
                    .select_from(Job)
                    .where(
                        Job.run_id == run_id,
                        Job.cancel_requested.is_(True),
                        Job.finished_at.is_(None),
                    )
                )
            )

    def finish_run(
        self,
        run_id: str,
        state: str,
        *,
        counts: dict[str, Any] | None = None,
        error_code: str | None = None,
        error: str | None = None,
    ) -> None:
        """Move an active run to a final state, with its counts or its error."""
        now = utcnow()
        values: dict[str, Any] = {
            "state": state,
            "finished_at": now,
            "error_code": error_code,
            "error": error,
        }
        if state == "succeeded":
            values.update(progress=100.0, stage="done", counts=counts)
        with self.session() as s:
            s.execute(
                update(Run).where(Run.id == run_id, Run.state.in_(ACTIVE_STATES)).values(**values)
            )
            s.execute(
                update(Job)
                .where(Job.run_id == run_id, Job.finished_at.is_(None))
                .values(state=state, finished_at=now)
            )
        self._newest.clear()  # after the commit, so no reader re-caches the previous run

    def request_cancel(self, run_id: str) -> Run:
        """Cancel a queued run at once; flag a running one for its worker (409 when final)."""
        with self.session() as s:
            run = s.get(Run, run_id, with_for_update=True)
            if run is None:
                raise NotFoundError(f"run {run_id} does not exist")
            if run.state in FINAL_STATES:
                raise ApiError(409, "run_finished", f"run {run_id} is already {run.state}")
            s.execute(
                update(Job)
                .where(Job.run_id == run_id, Job.finished_at.is_(None))
                .values(cancel_requested=True)
            )
            if run.state == "queued":
                now = utcnow()
                run.state, run.finished_at, run.error_code, run.error = (
                    "cancelled",
                    now,
                    "run_cancelled",
                    "cancelled before it started",
                )
                s.execute(
                    update(Job)
                    .where(Job.run_id == run_id, Job.finished_at.is_(None))
                    .values(state="cancelled", finished_at=now)
                )
            return run

    def claim(self, run_id: str, worker: str) -> None:
        """This process holds the run (queued in its pool): its lease starts now."""
        with self.session() as s:
            s.execute(
                update(Job)
                .where(Job.run_id == run_id, Job.finished_at.is_(None))
                .values(worker=worker, heartbeat_at=utcnow())
            )

    def heartbeat(self, worker: str) -> None:
        """Renew the leases of every unfinished job of ``worker``."""
        with self.session() as s:
            s.execute(
                update(Job)
                .where(Job.worker == worker, Job.finished_at.is_(None))
                .values(heartbeat_at=utcnow())
            )

    def expire_leases(self, lease_s: float, dead: Callable[[str], bool]) -> list[str]:
        """Runs whose lease ran out (no heartbeat for ``lease_s``), or whose process is
        certainly gone (``dead(worker)``: this host, pid not alive), become failed."""
        cutoff = utcnow() - timedelta(seconds=lease_s)
        with self.session() as s:
            rows = s.execute(
                select(Run.id, Job.worker, Job.heartbeat_at, Job.created_at)
                .join(Job, Job.run_id == Run.id)
                .where(Run.state.in_(ACTIVE_STATES), Job.finished_at.is_(None))
            ).all()
        gone = [run_id for run_id, worker, _, _ in rows if worker and dead(worker)]
        expired = [
            run_id
            for run_id, worker, beat, created in rows
            if run_id not in gone and (as_utc(beat) or as_utc(created) or cutoff) < cutoff
        ]
        if gone:
            self._fail(gone, INTERRUPTED)
        if expired:
            self._fail(expired, f"{LEASE_EXPIRED} for {lease_s:g} s")
        return gone + expired

    def _fail(self, ids: list[str], error: str) -> None:
        now = utcnow()
        with self.session() as s:
            s.execute(
                update(Run)
                .where(Run.id.in_(ids), Run.state.in_(ACTIVE_STATES))
                .values(state="failed", finished_at=now, error_code="interrupted", error=error)
            )
            s.execute(
                update(Job)
                .where(Job.run_id.in_(ids), Job.finished_at.is_(None))
                .values(state="failed", finished_at=now)
            )
        self._newest.clear()


def _dataset_ids(inputs: dict[str, Any]) -> set[str]:
    """Dataset ids a run's inputs refer to."""
    ids: set[str] = set()
    for value in inputs.values():
        if isinstance(value, str):
            ids.add(value)
        elif isinstance(value, list):
            ids.update(v for v in value if isinstance(v, str))
    return ids
