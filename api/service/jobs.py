"""Background execution of runs: a thread pool, progress into the catalog, cancel, restart safety.

* ``submit(run_id)`` queues a run; a worker thread calls ``coverage.pipeline.run`` with a
  progress callback that writes stage and percent to the catalog and raises
  ``RunCancelledError`` when a cancel was requested (the engine then writes nothing).
* The engine builds the run directory in a temporary sibling and renames it into place, so a
  killed process never leaves a half-written run; the catalog state (``succeeded``) is what
  makes a run servable.
* At startup, runs left ``queued``/``running`` by a previous process are marked failed
  ("interrupted by service restart") and can be re-submitted.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

from api.service.models import Run
from api.service.settings import Settings
from api.service.store import Store
from coverage.errors import (
    GapmapError,
    InputDataError,
    NotFoundError,
    ProfileError,
    RunCancelledError,
)

log = logging.getLogger("gapmap.jobs")

#: Progress is written to the catalog at most this often (seconds), and at every new stage.
_PROGRESS_INTERVAL_S = 0.5


class JobRunner:
    """Runs analysis jobs on a bounded thread pool."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self._pool = ThreadPoolExecutor(
            max_workers=settings.workers, thread_name_prefix="gapmap-run"
        )
        self._cancel: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        #: called with a run that just succeeded (the app prepares its read store)
        self.on_success: Callable[[Run], None] | None = None
        # the lease: renewed every third of lease_s; expired leases of others are failed
        self._beat = threading.Thread(target=self._heartbeat, name="gapmap-lease", daemon=True)
        self._beat.start()

    def _heartbeat(self) -> None:
        interval = self.settings.lease_s / 3
        while not self._stopping.wait(interval):
            try:
                self.store.heartbeat(self.worker)
                # only the lease decides here: a live process elsewhere keeps its runs
                expired = self.store.expire_leases(self.settings.lease_s, lambda _: False)
                if expired:
                    log.warning("runs whose process stopped marked failed: %s", ", ".join(expired))
            except Exception:  # the catalog is down for a moment: try again next beat
                log.exception("lease heartbeat failed")

    # -- control -----------------------------------------------------------------------------
    def submit(self, run_id: str) -> None:
        """Queue a run for execution."""
        with self._lock:
            self._cancel[run_id] = threading.Event()
        self.store.claim(run_id, self.worker)  # the lease starts while it is queued here
        self._pool.submit(self._execute, run_id)

    def cancel(self, run_id: str) -> None:
        """Ask a running run to stop at its next progress step."""
        with self._lock:
            event = self._cancel.get(run_id)
        if event is not None:
            event.set()

    def active(self) -> int:
        """Runs queued or running in this process."""
        with self._lock:
            return len(self._cancel)

    def shutdown(self, wait_s: float = 5.0) -> None:
        """Stop: cancel queued work, ask running runs to stop, wait briefly for them."""
        self._stopping.set()
        with self._lock:
            for event in self._cancel.values():
                event.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + wait_s
        while self.active() and time.monotonic() < deadline:
            time.sleep(0.05)

    # -- execution ---------------------------------------------------------------------------
    def _execute(self, run_id: str) -> None:
        try:
            if self._stopping.is_set() or not self.store.start_run(run_id, self.worker):
                return
            self._run(self.store.get_run(run_id))
        except Exception:  # the catalog itself failed; nothing better to do than log it
            log.exception("run %s: could not record its outcome", run_id)
            try:
                self.store.finish_run(
                    run_id,
                    "failed",
                    error_code="internal_error",
                    error="internal error; see the service log",
                )
            except Exception:
                log.exception("run %s: could not mark it failed either", run_id)
        finally:
            with self._lock:
                self._cancel.pop(run_id, None)

    def _run(self, run: Run) -> None:
        started = time.perf_counter()
        try:
            from coverage.pipeline import run as run_pipeline  # heavy imports only when needed

            inputs = self._inputs(run)
            options = self._options(run)
            run_pipeline(inputs, self.store.run_dir(run.id), options, self._progress(run.id))
        except RunCancelledError as exc:
            if self._stopping.is_set():
                self.store.finish_run(
                    run.id,
                    "failed",
                    error_code="interrupted",
                    error="interrupted by service shutdown",
                )
            else:
                self.store.finish_run(run.id, "cancelled", error_code=exc.code, error=str(exc))
            log.info("run %s cancelled", run.id)
            return
        except GapmapError as exc:
            self.store.finish_run(run.id, "failed", error_code=exc.code, error=str(exc))
            log.info("run %s failed: %s", run.id, exc)
            return
        except Exception:
            log.exception("run %s failed with an internal error", run.id)
            self.store.finish_run(
                run.id,
                "failed",
                error_code="internal_error",
                error="internal error; see the service log",
            )
            return
        manifest = _read_manifest(self.store, run.id)
        self.store.finish_run(run.id, "succeeded", counts=manifest.get("counts", {}))
        log.info("run %s succeeded in %.1f s", run.id, time.perf_counter() - started)
        if self.on_success is not None:
            self.on_success(self.store.get_run(run.id))

    def _inputs(self, run: Run) -> Any:
        from coverage.pipeline import LayerSpec, RunInputs

        def spec(dataset_id: str) -> LayerSpec:
            ds = self.store.get_dataset(dataset_id)
            return LayerSpec(self.store.dataset_path(ds), ds.crs)

        boundaries = run.inputs.get("boundaries")
        return RunInputs(
            spec(run.inputs["addresses"]),
            tuple(spec(d) for d in run.inputs["coverage"]),
            spec(boundaries) if boundaries else None,
        )

    def _options(self, run: Run) -> Any:
        from coverage.io.secret import load_or_create_secret
        from coverage.pipeline import RunOptions
        from coverage.privacy.ptable import CkmParams

        s = self.settings
        return RunOptions(
            ckm=CkmParams(s.ckm_max_deviation, s.ckm_variance, s.ckm_js),
            cell_key_secret=load_or_create_secret(s.secret_path()),
            profile=run.profile,
            region=run.region,
            as_of=date.fromisoformat(run.as_of) if run.as_of else None,
            include_planned=run.include_planned,
            extra_manifest={"service_run_id": run.id, "datasets": run.inputs},
        )

    def _progress(self, run_id: str) -> Any:
        with self._lock:
            event = self._cancel.setdefault(run_id, threading.Event())
        delay = self.settings.run_step_delay_s
        state: dict[str, Any] = {"stage": "", "t": 0.0}

        def progress(stage: str, fraction: float) -> None:
            if delay:
                event.wait(delay)
            if event.is_set() or self.store.cancel_requested(run_id):
                raise RunCancelledError(f"run {run_id} cancelled during {stage}")
            now = time.monotonic()
            if (
                stage != state["stage"]
                or now - state["t"] >= _PROGRESS_INTERVAL_S
                or fraction >= 1.0
            ):
                state["stage"], state["t"] = stage, now
                self.store.set_progress(
                    run_id, stage, round(100.0 * min(max(fraction, 0.0), 1.0), 1)
                )

        return progress


def check_run_request(
    store: Store, addresses: str, coverage: list[str], boundaries: str | None, profile: str
) -> dict[str, Any]:
    """Check that the datasets exist with the right kinds and the profile is bundled.

    Returns the run's ``inputs`` mapping. Raises InputDataError / ProfileError (422).
    """
    from coverage.profiles import load_profile

    wanted = [("addresses", addresses), *(("coverage", c) for c in coverage)]
    if boundaries:
        wanted.append(("boundaries", boundaries))
    for kind, ds_id in wanted:
        try:
            ds = store.get_dataset(ds_id)
        except NotFoundError:
            raise InputDataError(
                f"{kind}: dataset {ds_id} does not exist; upload it with POST /datasets"
            ) from None
        if ds.kind != kind:
            raise InputDataError(f"{kind}: dataset {ds_id} is of kind {ds.kind}, not {kind}")
    try:
        load_profile(profile)
    except NotFoundError as exc:
        raise ProfileError(str(exc)) from None
    return {"addresses": addresses, "coverage": list(coverage), "boundaries": boundaries}


def profile_region(profile: str) -> str:
    """The region a run takes when the request names none: the profile's jurisdiction."""
    from coverage.profiles import load_profile

    return load_profile(profile).jurisdiction.lower()


def _read_manifest(store: Store, run_id: str) -> dict[str, Any]:
    import json

    path = store.run_dir(run_id) / "manifest.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data


def _dead(worker: str) -> bool:
    """Whether ``worker`` ("host:pid") is a process of this host that no longer exists."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, but another user's
        return False
    return False
