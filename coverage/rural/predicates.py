"""Exact orientation of three points (the sign of a 2x2 determinant), compiled with numba.

:func:`orient` is ``orient2d`` of Shewchuk's robust predicates as the *robust-predicates*
package orders its arguments: a floating-point filter with Shewchuk's error bound, and
below it the determinant summed exactly as an expansion of error-free products and sums.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from coverage.kernel.jit import njit

_SPLITTER = 134217729.0  # 2**27 + 1: splits a double into two 26-bit halves
_EPS = 2.0**-53
_CCW_BOUND = (3.0 + 16.0 * _EPS) * _EPS  # Shewchuk's ccwerrboundA


@njit
def _two_sum(a: float, b: float) -> tuple[float, float]:
    x = a + b
    bv = x - a
    av = x - bv
    return x, (a - av) + (b - bv)


@njit
def _two_product(a: float, b: float) -> tuple[float, float]:
    x = a * b
    c = _SPLITTER * a
    ahi = c - (c - a)
    alo = a - ahi
    c = _SPLITTER * b
    bhi = c - (c - b)
    blo = b - bhi
    err = x - ahi * bhi
    err -= alo * bhi
    err -= ahi * blo
    return x, alo * blo - err


@njit
def orient_exact(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> float:
    """Sign (-1, 0, 1) of ``(ay - cy) (bx - cx) - (ax - cx) (by - cy)``, exactly.

    Each difference is split into its rounded value and its error (Knuth's two-sum), the
    eight products of the two-term factors into error-free pairs (Dekker), and the sixteen
    terms grown into one nonoverlapping expansion (Shewchuk): its largest nonzero
    component has the sign of the exact sum.
    """
    acy, acy_t = _two_sum(ay, -cy)
    bcx, bcx_t = _two_sum(bx, -cx)
    acx, acx_t = _two_sum(ax, -cx)
    bcy, bcy_t = _two_sum(by, -cy)
    e = np.empty(16)
    m = _grow_product(e, 0, acy, bcx)
    m = _grow_product(e, m, acy_t, bcx)
    m = _grow_product(e, m, acy, bcx_t)
    m = _grow_product(e, m, acy_t, bcx_t)
    m = _grow_product(e, m, -acx, bcy)
    m = _grow_product(e, m, -acx_t, bcy)
    m = _grow_product(e, m, -acx, bcy_t)
    m = _grow_product(e, m, -acx_t, bcy_t)
    for k in range(m - 1, -1, -1):
        if e[k] != 0.0:
            return 1.0 if e[k] > 0.0 else -1.0
    return 0.0


@njit
def _grow_product(e: npt.NDArray[np.float64], m: int, a: float, b: float) -> int:
    """Adds ``a b`` (two error-free terms) to the expansion ``e[:m]``."""
    hi, lo = _two_product(a, b)
    return _grow(e, _grow(e, m, lo), hi)


@njit
def _grow(e: npt.NDArray[np.float64], m: int, t: float) -> int:
    """Adds ``t`` to the nonoverlapping expansion ``e[:m]`` (Shewchuk's grow-expansion)."""
    for k in range(m):
        t, e[k] = _two_sum(t, e[k])
    e[m] = t
    return m + 1


@njit
def orient(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> float:
    """``(ay - cy) (bx - cx) - (ax - cx) (by - cy)`` with the exact sign (delaunator's
    ``orient2d`` of robust-predicates; its value is a rounded one or just the sign)."""
    detleft = (ay - cy) * (bx - cx)
    detright = (ax - cx) * (by - cy)
    det = detleft - detright
    if detleft > 0.0:
        if detright <= 0.0:
            return det
        detsum = detleft + detright
    elif detleft < 0.0:
        if detright >= 0.0:
            return det
        detsum = -detleft - detright
    else:
        return det  # ay == cy or bx == cx exactly: det is -detright, rounded once
    if abs(det) >= _CCW_BOUND * detsum:
        return det
    return orient_exact(ax, ay, bx, by, cx, cy)
