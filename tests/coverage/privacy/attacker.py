"""An attacker on the published tables: what can be concluded with certainty about true counts.

Every published count ``p`` bounds its true count to the originals the p-table can turn into
``p`` (the p-table follows from the documented D, V, js: the attacker knows it). Every row of
a table exists only when it holds at least one address. Identities tie the counts together:

* per row: ``addresses = sum of the class counts``; ``eligible = sum of the eligible
  classes``; ``rural_gap <= eligible <= addresses``; the household columns below
  ``households``; when every address has a household, households >= addresses (and so on
  for eligible and rural gap);
* Kreis row = sum of its Gemeinde rows, column by column;
* 1 km cell = sum of its 100 m cells, column by column;
* the whole area: the sum of all Kreis rows = the sum of all 1 km cells.

Bounds are propagated through all of them until nothing changes (interval constraint
propagation, as an attacker with a linear solver would). A count is disclosed when its
lower and upper bound meet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from coverage.privacy.ptable import PTable

COLUMNS_GRID_TO_SUMMARY = {
    "addresses": "addresses",
    "households": "households",
    "eligible": "eligible",
    "eligible_households": "eligible_households",
    "rural_gap": "rural_gap",
    "rural_gap_households": "rural_gap_households",
}


@dataclass
class Model:
    pt: PTable
    lo: list[int] = field(default_factory=list)
    hi: list[int] = field(default_factory=list)
    truth: list[int] = field(default_factory=list)
    names: list[tuple[str, str, str]] = field(default_factory=list)
    sums: list[tuple[int, list[int]]] = field(default_factory=list)
    leq: list[tuple[int, int]] = field(default_factory=list)
    index: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def var(self, table: str, row: str, col: str, published: int, true: int, exists: bool) -> int:
        orig = self.pt.originals(int(published))
        lo, hi = int(orig.min()), int(orig.max())
        if exists and col == "addresses":
            lo = max(lo, 1)
        self.index[(table, row, col)] = len(self.lo)
        self.lo.append(lo)
        self.hi.append(hi)
        self.truth.append(int(true))
        self.names.append((table, row, col))
        return len(self.lo) - 1

    def add_table(
        self,
        name: str,
        key: str,
        public: pd.DataFrame,
        exact: pd.DataFrame,
        classes: Sequence[str],
        eligible_classes: Sequence[str],
        class_prefix: str,
        households_at_least_one: bool,
    ) -> None:
        exact = exact.set_index(exact[key].astype(str))
        for _, row in public.iterrows():
            k = str(row[key])
            ids = {}
            for col in [*COLUMNS_GRID_TO_SUMMARY, *(f"{class_prefix}{c}" for c in classes)]:
                if col in public.columns:
                    ids[col] = self.var(name, k, col, row[col], exact.at[k, col], True)
            parts = [ids[f"{class_prefix}{c}"] for c in classes if f"{class_prefix}{c}" in ids]
            if parts:
                self.sums.append((ids["addresses"], parts))
            elig = [
                ids[f"{class_prefix}{c}"] for c in eligible_classes if f"{class_prefix}{c}" in ids
            ]
            if elig and "eligible" in ids:
                self.sums.append((ids["eligible"], elig))
            for sub, sup in (("rural_gap", "eligible"), ("eligible", "addresses"),
                             ("rural_gap_households", "eligible_households"),
                             ("eligible_households", "households")):  # fmt: skip
                if sub in ids and sup in ids:
                    self.leq.append((ids[sub], ids[sup]))
            if households_at_least_one:
                for a, h in (("addresses", "households"), ("eligible", "eligible_households"),
                             ("rural_gap", "rural_gap_households")):  # fmt: skip
                    if a in ids and h in ids:
                        self.leq.append((ids[a], ids[h]))

    def nest(self, parent: str, child: str, parent_of, columns: dict[str, str]) -> None:
        """parent row = sum of its child rows, for each child column -> parent column."""
        groups: dict[tuple[str, str], list[int]] = {}
        for (table, row, col), i in self.index.items():
            if table == child and col in columns:
                groups.setdefault((parent_of(row), columns[col]), []).append(i)
        for (prow, pcol), parts in groups.items():
            self.sums.append((self.index[(parent, prow, pcol)], parts))

    def total(self, a: str, b: str, columns: dict[str, str]) -> None:
        """The sum over all rows of table a = the sum over all rows of table b."""
        for ca, cb in columns.items():
            pa = [i for (t, _, c), i in self.index.items() if t == a and c == ca]
            pb = [i for (t, _, c), i in self.index.items() if t == b and c == cb]
            if pa and pb:
                # a helper variable for the common total, bounded by nothing but the sums
                self.lo.append(0)
                self.hi.append(10**12)
                self.truth.append(int(sum(self.truth[i] for i in pa)))
                self.names.append(("total", a + "=" + b, ca))
                t = len(self.lo) - 1
                self.sums += [(t, pa), (t, pb)]

    def propagate(self, max_rounds: int = 200) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.array(self.lo, dtype=np.int64), np.array(self.hi, dtype=np.int64)
        tot = np.array([t for t, _ in self.sums], dtype=np.int64)
        parts = (
            np.concatenate([np.asarray(p, dtype=np.int64) for _, p in self.sums])
            if self.sums
            else np.zeros(0, np.int64)
        )
        group = np.repeat(np.arange(len(self.sums)), [len(p) for _, p in self.sums])
        sub = np.array([s for s, _ in self.leq], dtype=np.int64)
        sup = np.array([s for _, s in self.leq], dtype=np.int64)
        for _ in range(max_rounds):
            before = (lo.copy(), hi.copy())
            if len(tot):
                slo = np.bincount(group, weights=lo[parts], minlength=len(tot)).astype(np.int64)
                shi = np.bincount(group, weights=hi[parts], minlength=len(tot)).astype(np.int64)
                np.maximum.at(lo, tot, slo)
                np.minimum.at(hi, tot, shi)
                np.maximum.at(lo, parts, lo[tot][group] - (shi[group] - hi[parts]))
                np.minimum.at(hi, parts, hi[tot][group] - (slo[group] - lo[parts]))
            if len(sub):
                np.minimum.at(hi, sub, hi[sup])
                np.maximum.at(lo, sup, lo[sub])
            if np.array_equal(before[0], lo) and np.array_equal(before[1], hi):
                break
        return lo, hi


def disclosed(model: Model, js: int) -> list[tuple[tuple[str, str, str], int]]:
    """Counts an attacker pins to one value in 1..js (and a soundness check of the attack)."""
    lo, hi = model.propagate()
    truth = np.array(model.truth)
    assert ((lo <= truth) & (truth <= hi)).all(), "the attacker's bounds must hold the truth"
    pinned = (lo == hi) & (lo >= 1) & (lo <= js)
    return [(model.names[i], int(lo[i])) for i in np.flatnonzero(pinned)]
