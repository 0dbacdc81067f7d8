"""Shared fixtures: small demo inputs, and the real Suedwestfalen data when present."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from coverage.io.demo_files import DemoInputs

#: Small enough for quick tests, large enough that every class and Kreis occurs.
TEST_SCALE = 0.02


@pytest.fixture(scope="session", autouse=True)
def _cell_key_secret(tmp_path_factory: pytest.TempPathFactory):
    """The CLI's cell key secret in a temporary file, never in the tester's home."""
    path = tmp_path_factory.mktemp("secret") / "cell-key.secret"
    old = os.environ.get("GAPMAP_CELL_KEY_SECRET_FILE")
    os.environ["GAPMAP_CELL_KEY_SECRET_FILE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("GAPMAP_CELL_KEY_SECRET_FILE", None)
    else:
        os.environ["GAPMAP_CELL_KEY_SECRET_FILE"] = old


@pytest.fixture(scope="session")
def demo_inputs(tmp_path_factory: pytest.TempPathFactory) -> DemoInputs:
    """Demo input files at TEST_SCALE, built once per session."""
    from coverage.io.demo_files import write_demo_inputs

    return write_demo_inputs(tmp_path_factory.mktemp("demo") / "inputs", scale=TEST_SCALE)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real Suedwestfalen data directory (GAPMAP_SHARED_DATA); skips when absent."""
    value = os.environ.get("GAPMAP_SHARED_DATA")
    if not value or not Path(value).is_dir():
        pytest.skip(
            "real Suedwestfalen data not available: set GAPMAP_SHARED_DATA to the shared/data directory"
        )
    return Path(value)


@pytest.fixture(scope="module")
def dask_client():
    """A client of a LocalCluster with 2 single-threaded worker processes (one per test
    module, so what a module leaves on the cluster stays its own)."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed not installed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client
