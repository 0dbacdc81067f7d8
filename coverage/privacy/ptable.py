"""The perturbation table (p-table) of the cell key method for counts.

For every original count ``i`` the table gives a noise distribution over the published
counts ``j = i + v``. It is built as in the R package ``ptable`` of the German statistical
offices (sdcTools; Giessing 2016, doi:10.1007/978-3-319-45381-1_18): per row the
probabilities maximise entropy subject to

* ``sum p = 1`` and ``sum v p = 0`` (unbiased: no count is shifted on average),
* ``sum v^2 p <= V`` (noise variance at most ``V``),
* ``|v| <= D`` (``D`` = largest change), ``j >= 0`` and ``j`` not in ``1..js`` (no published
  count is 1..js),
* probabilities growing towards ``v = 0`` on the negative side (``ptable``'s ``mono``),
* every allowed target at least ``1e-8``.

Row ``0`` is fixed: a true zero is always published as zero. Rows run up to
``ncat = D`` (``js = 0``) or ``D + js + 1``; the last row serves every larger count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from coverage.errors import GapmapError
from coverage.privacy.ptable_default import DEFAULT_UPPER_BOUNDS

__all__ = ["CkmParams", "PTable", "ptable", "solve_ptable", "targets"]

_EPS = 1e-8
_DIGITS = 8


@dataclass(frozen=True)
class CkmParams:
    """Parameters of the cell key method (documented in the README, section Privacy).

    ``max_deviation`` (D): largest change of a count; ``variance`` (V): noise variance;
    ``js``: published counts never lie in 1..js (a true 1..js is shown as 0 or > js).
    """

    max_deviation: int = 10
    variance: float = 3.0
    js: int = 2

    def __post_init__(self) -> None:
        if not 1 <= self.max_deviation <= 50:
            raise GapmapError(f"cell key method: D = {self.max_deviation}; use 1..50")
        if not 0 < self.variance <= self.max_deviation**2:
            raise GapmapError(
                f"cell key method: V = {self.variance}; use a value in (0, D^2 = "
                f"{self.max_deviation**2}]"
            )
        if not 0 <= self.js <= 20:
            raise GapmapError(f"cell key method: js = {self.js}; use 0..20")

    @property
    def smallest_shown(self) -> int:
        """The smallest positive count that can be published (js + 1)."""
        return self.js + 1

    def record(self, secret_kept: bool) -> dict[str, float | int | str]:
        """The manifest's record of the method (``secret_kept``: the caller passed a secret)."""
        return {
            "method": "cell key method (Destatis / ABS), p-table by maximum entropy",
            "D": self.max_deviation,
            "V": self.variance,
            "js": self.js,
            "secret": "kept by the caller"
            if secret_kept
            else "one-off for this run (published values differ between runs)",
        }


@dataclass(frozen=True)
class PTable:
    """Rows ``(i, j, v, p_int_lb, p_int_ub)``; intervals tile [0, 1) within each ``i``."""

    params: CkmParams
    i: npt.NDArray[np.int64]
    j: npt.NDArray[np.int64]
    lb: npt.NDArray[np.float64]
    ub: npt.NDArray[np.float64]

    @property
    def imax(self) -> int:
        return int(self.i.max())

    @property
    def v(self) -> npt.NDArray[np.int64]:
        return self.j - self.i

    def row(self, i: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Perturbations and probabilities of row group ``min(i, imax)``."""
        sel = self.i == min(i, self.imax)
        return self.v[sel], self.ub[sel] - self.lb[sel]

    def perturbation(
        self, counts: npt.ArrayLike, cell_keys: npt.ArrayLike
    ) -> npt.NDArray[np.int64]:
        """The change ``v`` for each (original count, cell key in [0, 1)); 0 for a count of 0."""
        n = np.asarray(counts, dtype=np.int64)
        ck = np.asarray(cell_keys, dtype=np.float64)
        if (n < 0).any():
            raise GapmapError("cell key method: counts must be >= 0")
        out = np.zeros(n.shape, dtype=np.int64)
        group = np.minimum(n, self.imax)
        for g in np.unique(group[n > 0]):
            sel = self.i == g
            ub, v = self.ub[sel], (self.j - self.i)[sel]
            at = group == g
            # the first row whose upper bound exceeds the cell key (lb <= ck < ub)
            pos = np.searchsorted(ub, ck[at], side="right")
            out[at] = v[np.minimum(pos, len(v) - 1)]
        return out

    def originals(self, published: int) -> npt.NDArray[np.int64]:
        """Every original count that can be published as ``published`` (for risk checks)."""
        d = self.params.max_deviation
        cand = np.arange(max(published - d, 0), published + d + 1)
        ok = []
        for n in cand:
            v, p = self.row(int(n))
            if n == 0:
                ok.append(published == 0)
                continue
            ok.append(bool(((v == published - n) & (p > 0)).any()))
        return cand[np.asarray(ok, dtype=bool)]


def targets(i: int, d: int, js: int) -> npt.NDArray[np.int64]:
    """The published counts an original count ``i`` may become: ``i - d .. i + d``, at least
    0, never 1..js."""
    j = np.arange(max(i - d, 0), i + d + 1)
    return j[~np.isin(j, np.arange(1, js + 1))]


def _row(i: int, d: int, var: float, js: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy.optimize import minimize

    j = targets(i, d, js)
    v = (j - i).astype(float)
    n = len(v)
    cons = [
        {"type": "eq", "fun": lambda p: p.sum() - 1.0, "jac": lambda p: np.ones(n)},
        {"type": "eq", "fun": lambda p: p @ v, "jac": lambda p: v},
        {"type": "ineq", "fun": lambda p: var - p @ v**2, "jac": lambda p: -(v**2)},
    ]
    zero = np.flatnonzero(v == 0)
    for k in range(int(zero[0]) if len(zero) else 0):  # p[k] <= p[k+1] left of v = 0
        grad = np.zeros(n)
        grad[k], grad[k + 1] = -1.0, 1.0
        cons.append(
            {"type": "ineq", "fun": lambda p, k=k: p[k + 1] - p[k], "jac": lambda p, g=grad: g}
        )
    res = minimize(
        lambda p: float(np.sum(p * np.log2(p))),
        np.full(n, 1.0 / n),
        jac=lambda p: np.log2(p) + 1.0 / np.log(2),
        method="SLSQP",
        bounds=[(_EPS, 1.0)] * n,
        constraints=cons,
        options={"ftol": 1e-12, "maxiter": 1000},
    )
    p = np.clip(res.x, _EPS, None)
    p = p / p.sum()
    if abs(float(p @ v)) > 1e-6 or float(p @ v**2) > var * (1 + 1e-6):
        raise GapmapError(
            f"cell key method: no unbiased noise with D = {d}, V = {var}, js = {js} for a "
            f"count of {i} (its targets skip 1..js); raise V or D, or lower js"
        )
    return j, p


@lru_cache(maxsize=8)
def ptable(params: CkmParams = CkmParams()) -> PTable:
    """The p-table for ``params`` (deterministic; computed once per parameter set; the
    default parameters' table is kept solved in :mod:`coverage.privacy.ptable_default`)."""
    return solve_ptable(params, solved=DEFAULT_UPPER_BOUNDS if params == CkmParams() else None)


def solve_ptable(params: CkmParams, solved: Sequence[Sequence[float]] | None = None) -> PTable:
    """The p-table for ``params``, every row solved by maximum entropy, or taken from
    ``solved`` (upper interval bounds per count ``1..ncat``) when given."""
    d, js = params.max_deviation, params.js
    ncat = d if js == 0 else d + js + 1
    rows_i, rows_j, lbs, ubs = [0], [0], [0.0], [1.0]
    for i in range(1, ncat + 1):
        if solved is None:
            j, p = _row(i, d, params.variance, js)
            ub = np.round(np.cumsum(p), _DIGITS)
            ub[-1] = 1.0
        else:
            j, ub = targets(i, d, js), np.asarray(solved[i - 1], dtype=np.float64)
        lb = np.concatenate([[0.0], ub[:-1]])
        rows_i += [i] * len(j)
        rows_j += j.tolist()
        lbs += lb.tolist()
        ubs += ub.tolist()
    return PTable(
        params,
        np.asarray(rows_i, dtype=np.int64),
        np.asarray(rows_j, dtype=np.int64),
        np.asarray(lbs),
        np.asarray(ubs),
    )


if __name__ == "__main__":  # print the default table's rows for ptable_default.py
    table = solve_ptable(CkmParams())
    for count in range(1, table.imax + 1):
        print(f"count {count}:", [float(u) for u in table.ub[table.i == count]])
