"""release_free_memory hands freed heap pages back (glibc) and never fails elsewhere."""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np
import pytest
import shapely

from coverage.memory import _malloc_trim, release_free_memory


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_freed_geos_points_leave_the_process() -> None:
    assert _malloc_trim() is not None
    rng = np.random.default_rng(0)
    before = _rss_mib()
    points = shapely.points(rng.random(1_000_000), rng.random(1_000_000))  # ~200 MB
    grown = _rss_mib() - before
    anchor = [np.zeros(4) for _ in range(1000)]  # small blocks above the freed ones
    del points
    release_free_memory()
    assert grown > 100
    assert _rss_mib() - before < grown / 2
    del anchor


def test_release_is_harmless_to_call_repeatedly() -> None:
    for _ in range(3):
        assert release_free_memory() is None
