"""Plausibility checks of a run's inputs: what stops a run, and what it warns about.

* an offer list matching less than ``MIN_OFFER_MATCH`` of its rows stops the run with the
  reasons counted (:func:`match_summary`), unless the user accepts it;
* addresses no boundary Gemeinde covers go to the summaries' keyless row and are reported;
  none inside is an error (:func:`inside_boundaries`);
* rurality judged from a sparse address file without a population grid is a warning
  (:func:`sparse_rurality_warning`);
* a Breitbandatlas table that is not per 100 m cell is refused before anything is computed
  (:func:`check_atlas`).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.errors import InputDataError
from coverage.io.detect import detect_format

#: below this share of matched rows an offer list stops the run unless the user accepts it
MIN_OFFER_MATCH = 0.8


_REASONS = {
    "no_key": "no address id and no street with house number",
    "unknown_address_id": "address id not in the address file",
    "street_not_found": "street not found in that postcode/place",
    "number_not_found": "street found, house number not",
}


def match_summary(source: str, rows: int, match: Any, min_match: float) -> str:
    """The message when an offer list matches too few addresses: reasons counted, examples."""
    um = match.unmatched
    counts = um["reason"].value_counts()
    parts = [f"{n:,} {_REASONS.get(str(r), str(r))} ({r})" for r, n in counts.items()]
    example = um.head(3)
    shown = "; ".join(
        f"row {int(r['row'])}: "
        + " ".join(
            str(r[c])
            for c in ("street", "house_number", "postcode", "place")
            if c in um and pd.notna(r[c])
        )
        for _, r in example.iterrows()
    )
    return (
        f"{source}: only {match.matched_rows:,} of {rows:,} offer rows "
        f"({match.matched_rows / max(rows, 1):.0%}) match an address (at least {min_match:.0%} expected): "
        f"{', '.join(parts)}; e.g. {shown}. Check that the address file holds the addressed area "
        "and that street, house number, postcode and place columns are recognised (gapmap inspect "
        "shows them; map others with --address-columns / --offers-columns), or accept the "
        "unmatched rows with --accept-unmatched (they are listed in unmatched_offers.csv)"
    )


def check_atlas(spec: Any) -> None:
    """Refuse a Breitbandatlas table that is not per 100 m cell before anything is computed
    (``--atlas`` compares operator claims per cell; per-Gemeinde tables give no cell shares)."""
    if spec is None:
        return
    guess = detect_format(spec.path)
    if guess.name == "breitbandatlas" and "grid" in guess.reason:
        return
    what = (
        "a Breitbandatlas table per Gemeinde or Kreis (keyed by AGS)"
        if guess.name == "breitbandatlas"
        else f"not a Breitbandatlas cell table ({guess.reason})"
    )
    raise InputDataError(
        f"{spec.path}: {what}; --atlas compares operator claims per 100 m cell and needs the "
        "cell table (a cell id column with down_fn_hh_<technology>_<Mbit/s> shares); leave "
        "--atlas out or give the cell table"
    )


#: more than this share of addresses outside the boundaries gives a warning
OUTSIDE_WARN_SHARE = 0.05


def inside_boundaries(
    ags: pd.Series, boundaries: gpd.GeoDataFrame | None, source: str
) -> tuple[pd.Series, dict[str, Any], list[str]]:
    """The keys the summaries use: an address whose Gemeinde no boundary covers gets NA (the
    summaries' "outside" row), counted and named, never a table row of its own.

    Returns (ags for the summaries, counts for the manifest, warnings). None of the addresses
    inside is an InputDataError: the boundaries and addresses describe different areas.
    """
    if boundaries is None or len(ags) == 0:
        return ags, {}, []
    gem = boundaries.loc[boundaries["level"] == "gemeinde", "ags"].astype(str)
    if len(gem):
        inside = ags.isin(set(gem)).fillna(False)
    else:  # Kreis polygons only: a Gemeinde counts as covered when its Kreis is
        krs = set(boundaries.loc[boundaries["level"] == "kreis", "ags"].astype(str))
        inside = ags.str.slice(0, 5).isin(krs).fillna(False)
    outside = ~inside.to_numpy(dtype=bool)
    n, n_out = len(ags), int(outside.sum())
    keys = ags[outside].fillna("(no key)").value_counts().head(10)
    shown = ", ".join(f"{k} ({v})" for k, v in keys.items())
    if n_out == n:
        raise InputDataError(
            f"none of the {n:,} addresses lies in a Gemeinde of the boundary file {source} "
            f"(their Gemeinde keys: {shown}); give the boundaries of the area the addresses are "
            "in, or check the CRS of both files"
        )
    record = {"addresses_outside_boundaries": n_out, "outside_keys": dict(keys.items())}
    warnings = []
    if n_out > OUTSIDE_WARN_SHARE * n:
        warnings.append(
            f"{n_out:,} of {n:,} addresses ({n_out / n:.0%}) lie outside the boundaries "
            f"(Gemeinde keys {shown}); they are counted in the summaries' row without a key"
        )
    return ags.where(inside), record, warnings


#: below this many addresses per km² of the area they lie in, an address file is too sparse to
#: judge rurality from (Germany has ~53 residential buildings per km², rural Gemeinden 10-20)
SPARSE_ADDRESSES_PER_KM2 = 5.0


def sparse_rurality_warning(
    xy: tuple[np.ndarray, np.ndarray], ags: pd.Series, gemeinden: gpd.GeoDataFrame | None
) -> str | None:
    """A warning when rurality is judged from an address file that cannot hold the population.

    The area is that of the boundary Gemeinden holding addresses, else the addresses' bounding
    box. Only called when no population grid is given.
    """
    n = len(ags)
    if n == 0:
        return None
    if gemeinden is not None and len(gemeinden):
        used = gemeinden[gemeinden["ags"].isin(set(ags.dropna()))]
        area_km2 = float(used.geometry.area.sum()) / 1e6
    else:
        area_km2 = float(np.ptp(xy[0]) * np.ptp(xy[1])) / 1e6
    area_km2 = max(area_km2, 1.0)
    density = n / area_km2
    if density >= SPARSE_ADDRESSES_PER_KM2:
        return None
    return (
        f"rurality is judged from the address file without a population grid: {n:,} addresses on "
        f"{area_km2:,.0f} km² ({density:.2f} per km²) cannot stand for the population, so the "
        "DEGURBA classes and rural gaps are not meaningful; give a population grid with --population"
    )
