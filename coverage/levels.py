"""Administrative level of a boundary row from its key: AGS / ARS digit counts.

A boundary file may hold several levels at once (a VG250 export with Gemeinden and Kreise,
a Land outline for the map). The key length says which: Land 2 digits, Regierungsbezirk 3,
Kreis 5, Gemeinde 8 (AGS); a 12-digit ARS (Regionalschlüssel LLRKKVVVVGGG) is a Gemeinde,
whose AGS is ``ARS[:5] + ARS[9:]``; 9 digits are a Gemeindeverband. Gapmap summarises per
Gemeinde and Kreis: rows of the other levels are set aside (and reported), never padded into
fake Gemeinde keys.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

GEMEINDE = "gemeinde"
KREIS = "kreis"
#: digits -> level
KEY_LEVELS = {
    2: "land",
    3: "regierungsbezirk",
    5: KREIS,
    8: GEMEINDE,
    9: "gemeindeverband",
    12: GEMEINDE,
}
#: VG250 ADE -> level
ADE_LEVELS = {1: "staat", 2: "land", 3: "regierungsbezirk", 4: KREIS, 5: "gemeindeverband", 6: GEMEINDE}  # fmt: skip


def ags_from_ars(keys: pd.Series) -> pd.Series:
    """12-digit ARS -> 8-digit AGS; other keys unchanged."""
    text = keys.astype("string")
    ars = text.str.len() == 12
    return text.where(~ars, text.str.slice(0, 5) + text.str.slice(9, 12))


def levels_from_keys(keys: pd.Series) -> pd.Series:
    """Level per row from the digit count of its key (NA for a count no level has)."""
    lengths = keys.astype("string").str.len()
    return lengths.map(KEY_LEVELS).astype("string")


def describe_set_aside(levels: pd.Series) -> str | None:
    """'2 land, 1 regierungsbezirk row(s) set aside ...' for rows not Gemeinde or Kreis."""
    other = levels[~levels.isin([GEMEINDE, KREIS])].fillna("unknown level")
    if other.empty:
        return None
    counts = ", ".join(f"{n} {lv}" for lv, n in other.value_counts().sort_index().items())
    return f"set aside {counts} row(s): the summaries are per Gemeinde and Kreis"


def keep_mask(levels: pd.Series) -> np.ndarray:
    return levels.isin([GEMEINDE, KREIS]).to_numpy(dtype=bool)
