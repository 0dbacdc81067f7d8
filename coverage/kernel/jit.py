"""numba for the kernel's compiled loops: ``njit`` (no Python objects, releases the GIL,
compiled on first use in a process; no cache files, as the kernel writes no files).

numba looks for the coverage.py measurement tool with ``import coverage`` when it is
first imported, and this package is called ``coverage`` too: :func:`_import_numba` hides
it from that one probe, so numba sees no coverage.py (which gapmap never installs).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()


def _import_numba() -> Any:
    """numba, imported with ``coverage`` hidden from its coverage.py probe."""
    if "numba" in sys.modules:
        return sys.modules["numba"]
    with _lock:
        saved = sys.modules.get("coverage")
        sys.modules["coverage"] = None  # type: ignore[assignment]  # "import coverage" fails
        try:
            import numba
        finally:
            if saved is None:
                del sys.modules["coverage"]
            else:
                sys.modules["coverage"] = saved
    return numba


numba = _import_numba()


def njit(fn: Callable) -> Callable:
    """``numba.njit(nogil=True, cache=False)``: the kernel's one way to compile a loop."""
    return numba.njit(nogil=True, cache=False)(fn)
