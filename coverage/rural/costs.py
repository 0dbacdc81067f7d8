"""Build cost of gap areas as ranges, and gapmap's screening score.

The unit costs come from a region's cost set (:mod:`coverage.costs`, every value with source
and year). For each area, all lengths in metres::

    route        = routing_factor x (tree_m + link_m)        straight-line tree -> streets
    civil works  = route x sum(share_c x rate_c)             civil-works classes c
    network      = civil works / (1 - other_share)           planning, material, PoP, active
    connections  = addresses x connection
    cost         = network + connections
    per home passed  = network / addresses                   (what private thresholds use)
    per connection   = cost / addresses

``low`` takes every low value (routing factor, rates, other share, connection), ``high`` every
high value, so each cost is a range that contains the central estimate. Rates are escalated
from their price year to the set's index year.

The screening score is gapmap's own ranking aid, not an official points scheme (the official
one for Gigabit-RL 2.0 is :mod:`coverage.rules.kriterien`)::

    score = 35 x share_white + 25 x share_rural + 25 x M / (M + per_connection) + 15 x size

with ``M`` the median central cost per connection of the ranked areas of the run (an area at
the median earns half the cost points; no outside currency figure is needed) and
``size = min(1, log(1 + addresses) / log(1 + 100))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from coverage.costs import CostSet

LEVELS = ("low", "central", "high")


def area_costs(
    tree_m: npt.ArrayLike,
    link_m: npt.ArrayLike,
    addresses: npt.ArrayLike,
    costs: CostSet,
    *,
    routed: bool = False,
) -> pd.DataFrame:
    """Cost ranges of areas (see the module docstring).

    ``routed`` True: ``tree_m + link_m`` is already a route length (a published project's
    route km); the routing factor is not applied.

    Columns: ``route_m`` (central), ``cost_low``, ``cost_central``, ``cost_high``,
    ``per_home_passed_{low,central,high}``, ``per_connection_{low,central,high}`` (NaN
    without addresses) and ``above_private_threshold`` (central cost per home passed above
    the set's private roll-out threshold).
    """
    straight = np.asarray(tree_m, dtype="float64") + np.asarray(link_m, dtype="float64")
    n = np.asarray(addresses, dtype="float64")
    rate = costs.blended_rate()
    conn = costs.connection_cost()
    routing = (
        (1.0, 1.0, 1.0)
        if routed
        else (costs.routing_factor.low, costs.routing_factor.central, costs.routing_factor.high)
    )
    other = (costs.other_share.low, costs.other_share.central, costs.other_share.high)
    out = pd.DataFrame(index=range(straight.size))
    out["route_m"] = straight * routing[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        for i, level in enumerate(LEVELS):
            network = straight * routing[i] * rate[i] / (1.0 - other[i])
            total = network + n * conn[i]
            out[f"cost_{level}"] = total
            out[f"per_home_passed_{level}"] = np.where(n > 0, network / n, np.nan)
            out[f"per_connection_{level}"] = np.where(n > 0, total / n, np.nan)
    out["above_private_threshold"] = out["per_home_passed_central"] > costs.private_threshold
    return out


@dataclass(frozen=True)
class ScreeningWeights:
    """Points of the four parts of the screening score (they sum to the maximum, 100).

    ``size_reference``: addresses at which an area earns all size points.
    """

    white: float = 35.0
    rural: float = 25.0
    cost: float = 25.0
    size: float = 15.0
    size_reference: int = 100


def screening_score(
    share_white: npt.ArrayLike,
    share_rural: npt.ArrayLike,
    per_connection: npt.ArrayLike,
    addresses: npt.ArrayLike,
    weights: ScreeningWeights = ScreeningWeights(),
    reference: float | None = None,
) -> npt.NDArray[np.float64]:
    """gapmap's screening score, 0..100 (higher = look first); see the module docstring.

    ``reference`` is ``M``; None: the median of the finite, non-negative ``per_connection``.
    NaN inputs score 0 for their part.
    """
    white = np.nan_to_num(np.clip(np.asarray(share_white, dtype="float64"), 0, 1), nan=0.0)
    rural = np.nan_to_num(np.clip(np.asarray(share_rural, dtype="float64"), 0, 1), nan=0.0)
    cpc = np.asarray(per_connection, dtype="float64")
    ok = np.isfinite(cpc) & (cpc >= 0)
    ref = float(np.median(cpc[ok])) if reference is None and ok.any() else (reference or 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        efficiency = np.where(ok & (ref + cpc > 0), ref / (ref + cpc), 0.0)
    n = np.maximum(np.asarray(addresses, dtype="float64"), 0.0)
    size = np.minimum(1.0, np.log1p(n) / np.log1p(weights.size_reference))
    return (
        weights.white * white
        + weights.rural * rural
        + weights.cost * efficiency
        + weights.size * size
    )
