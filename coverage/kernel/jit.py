"""numba for gapmap's compiled loops: ``njit`` (no Python objects, releases the GIL).

Each loop is compiled on its first use and kept in numba's cache (``__pycache__`` beside
the module, or the user's cache directory where that is not writable; ``NUMBA_CACHE_DIR``
moves it), as Python keeps its byte code: the first run after an install or an update
compiles (a few seconds for all loops together), later runs load the machine code in
milliseconds. numba checks each cached loop against its source file and compiles again
when that changed.

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
    """``numba.njit(nogil=True, cache=True)``: gapmap's one way to compile a loop."""
    return numba.njit(nogil=True, cache=True)(fn)
