"""Hand memory freed by a finished step back to the operating system.

A run of millions of addresses frees large amounts between its steps: Point objects, GEOS
geometries of the gap-area unions, Arrow buffers of the reader. glibc's ``malloc`` keeps
freed small blocks in its heaps and Arrow's allocator keeps freed buffers cached, so the
resident size of the process would only grow; the next step's peak would stack on top.
:func:`release_free_memory` asks both to return what is free (a few milliseconds).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import pyarrow as pa


@functools.cache
def _malloc_trim() -> ctypes._CFuncPtr | None:
    """glibc's ``malloc_trim``, or None where the C library is not glibc (musl, macOS)."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None


def release_free_memory() -> None:
    """Return freed Arrow buffers and freed ``malloc`` pages to the operating system."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
