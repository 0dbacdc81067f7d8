"""Build cost and priority score of a gap area (Germany; domain.md section 6).

Source keys in brackets resolve in shared/domain.md, section "Sources". Every default is a
published figure or range from domain.md 6; where none exists the default is marked
UNCONFIRMED and is meant to be set per project.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from coverage.errors import InputDataError


@dataclass(frozen=True)
class CostParams:
    """Unit costs in EUR (net), lengths in metres.

    Attributes
    ----------
    eur_per_m_unpaved
        Trench in unpaved ground: 60 EUR/m, midpoint of "unpaved 20–100 EUR/m" [HAUSJ].
    eur_per_m_paved
        Trench in paved ground: 150 EUR/m, midpoint of "paved 100–200 EUR/m" [HAUSJ]; matches
        "trenching ~EUR 150/m (2022)" [VERIVOX].
    paved_share
        Share of the route under paved surface: 0.5, UNCONFIRMED (no published share; set
        it from the route survey). The blended rate is then 105 EUR/m, near "open trench
        ~100 EUR/m" [CB].
    eur_per_connection
        House lead-in per address: 850 EUR, inside "750–1,000 EUR" [HAUSJ].
    fixed_eur_per_area
        Fixed cost per area (planning, splicing, active equipment): 0 EUR, UNCONFIRMED (no
        published figure in domain.md 6).
    private_threshold_eur_per_address
        Cost per address above which private roll-out is unlikely: 2,000 EUR, "private
        threshold often <= EUR 2,000 per home passed" [MICUS].
    reference_eur_per_address
        Typical cost of a subsidised address: 8,700 EUR, the mean of 43 Gigabit-2.0
        applications (range 4,000–38,000) [MICUS]; scales the cost part of the priority.

    Plausibility: one isolated address 150 m from the network costs
    150 x 105 + 850 = 16,600 EUR, within "isolated site 15–20 kEUR" [HAUSJ].
    """

    eur_per_m_unpaved: float = 60.0
    eur_per_m_paved: float = 150.0
    paved_share: float = 0.5
    eur_per_connection: float = 850.0
    fixed_eur_per_area: float = 0.0
    private_threshold_eur_per_address: float = 2_000.0
    reference_eur_per_address: float = 8_700.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.paved_share <= 1.0:
            raise InputDataError(f"paved_share must lie in [0, 1], got {self.paved_share}")
        for name in (
            "eur_per_m_unpaved",
            "eur_per_m_paved",
            "eur_per_connection",
            "fixed_eur_per_area",
            "reference_eur_per_address",
        ):
            if getattr(self, name) < 0:
                raise InputDataError(f"cost parameter {name} must be >= 0")

    @property
    def eur_per_m(self) -> float:
        """Blended trench rate: paved_share x paved + (1 - paved_share) x unpaved (EUR/m)."""
        return (
            self.paved_share * self.eur_per_m_paved
            + (1.0 - self.paved_share) * self.eur_per_m_unpaved
        )


def area_cost(
    trench_m: npt.ArrayLike, addresses: npt.ArrayLike, costs: CostParams = CostParams()
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Cost of each area and cost per address, in EUR.

    ``cost_eur = trench_m x eur_per_m + addresses x eur_per_connection + fixed_eur_per_area``
    with ``eur_per_m = paved_share x eur_per_m_paved + (1 - paved_share) x eur_per_m_unpaved``;
    ``cost_per_address = cost_eur / addresses`` (NaN for an area without addresses).
    """
    trench = np.asarray(trench_m, dtype="float64")
    n = np.asarray(addresses, dtype="float64")
    cost = trench * costs.eur_per_m + n * costs.eur_per_connection + costs.fixed_eur_per_area
    with np.errstate(invalid="ignore", divide="ignore"):
        per_address = np.where(n > 0, cost / n, np.nan)
    return cost, per_address


@dataclass(frozen=True)
class PriorityWeights:
    """Points of the four parts of the priority score (they sum to the maximum, 100).

    ``size_reference`` is the number of addresses at which an area earns all size points
    (a typical village-sized tender lot).
    """

    white: float = 35.0
    rural: float = 25.0
    cost: float = 25.0
    size: float = 15.0
    size_reference: int = 100


def priority_score(
    share_white: npt.ArrayLike,
    share_rural: npt.ArrayLike,
    cost_per_address: npt.ArrayLike,
    costs: CostParams = CostParams(),
    weights: PriorityWeights = PriorityWeights(),
    addresses: npt.ArrayLike | None = None,
) -> npt.NDArray[np.float64]:
    """Priority of a gap area, 0..100 points (higher = fund first).

    Inspired by the inputs the Gigabit-RL ranking weighs (white-spot share, rurality,
    efficiency; domain.md 6 [ACONIUM-LOG][MICUS]); it is a screening score, not the
    official points scheme::

        score = 35 x share_white
              + 25 x share_rural
              + 25 x R / (R + cost_per_address)
              + 15 x min(1, log(1 + addresses) / log(1 + S))

    * ``share_white``: share of the area's addresses without any NGA network (0..1);
    * ``share_rural``: share of its addresses in rural grid cells (DEGURBA cell class 1);
    * ``R = reference_eur_per_address`` (8,700 EUR [MICUS]): an area connecting at R per
      address earns half the cost points, a free one all, a very expensive one near 0.

    NaN inputs score 0 for their part.
    """
    white = np.nan_to_num(np.clip(np.asarray(share_white, dtype="float64"), 0, 1), nan=0.0)
    rural = np.nan_to_num(np.clip(np.asarray(share_rural, dtype="float64"), 0, 1), nan=0.0)
    cpa = np.asarray(cost_per_address, dtype="float64")
    ref = costs.reference_eur_per_address
    with np.errstate(invalid="ignore", divide="ignore"):
        efficiency = np.where(np.isfinite(cpa) & (cpa >= 0), ref / (ref + cpa), 0.0)
    if addresses is None:
        size = np.zeros_like(efficiency)
    else:
        n = np.maximum(np.asarray(addresses, dtype="float64"), 0.0)
        size = np.minimum(1.0, np.log1p(n) / np.log1p(weights.size_reference))
    return (
        weights.white * white
        + weights.rural * rural
        + weights.cost * efficiency
        + weights.size * size
    )
