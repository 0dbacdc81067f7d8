"""Exact orientation of three points (the sign of a 2x2 determinant), compiled with numba.

:func:`orient` is ``orient2d`` of Shewchuk's robust predicates as the *robust-predicates*
package orders its arguments: a floating-point filter with Shewchuk's error bound, and
below it the determinant summed exactly as an expansion of error-free products and sums.
"""

from __future__ import annotations

import numpy as np

from coverage.kernel.jit import njit

_SPLITTER = 134217729.0  # 2**27 + 1: splits a double into two 26-bit halves
_EPS = 2.0**-53
_CCW_BOUND = (3.0 + 16.0 * _EPS) * _EPS  # Shewchuk's ccwerrboundA


@njit
def orient_exact(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> float:
    """Sign (-1, 0, 1) of ``(ay - cy) (bx - cx) - (ax - cx) (by - cy)``, exactly.

    Each difference is split into its rounded value and its error (Knuth's two-sum), the
    eight products of the two-term factors into error-free pairs (Dekker's split), and the
    sixteen terms grown one by one into a nonoverlapping expansion (Shewchuk's
    grow-expansion): its largest nonzero component has the sign of the exact sum. (One
    function, written out: each compiled function costs time on first use.)
    """
    # factors: d[0:2] = ay - cy, d[2:4] = bx - cx, d[4:6] = -(ax - cx), d[6:8] = by - cy
    left = (ay, bx, ax, by)
    right = (cy, cx, cx, cy)
    d = np.empty(8)
    for q in range(4):
        a, b = left[q], -right[q]
        x = a + b
        bv = x - a
        av = x - bv
        d[2 * q], d[2 * q + 1] = x, (a - av) + (b - bv)
    d[4], d[5] = -d[4], -d[5]
    e = np.empty(16)
    m = 0
    for k in range(16):
        side, u, v, part = k // 8, (k // 4) % 2, (k // 2) % 2, k % 2
        a, b = d[4 * side + u], d[4 * side + 2 + v]
        x = a * b
        if part == 0:  # the product's error (Dekker), added before the product itself
            c = _SPLITTER * a
            ahi = c - (c - a)
            alo = a - ahi
            c = _SPLITTER * b
            bhi = c - (c - b)
            blo = b - bhi
            x = alo * blo - (((x - ahi * bhi) - alo * bhi) - ahi * blo)
        for r in range(m):  # grow the expansion by x (two-sum with each component)
            s = x + e[r]
            bv = s - x
            av = s - bv
            e[r] = (x - av) + (e[r] - bv)
            x = s
        e[m] = x
        m += 1
    for k in range(m - 1, -1, -1):
        if e[k] != 0.0:
            return 1.0 if e[k] > 0.0 else -1.0
    return 0.0


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
