"""Weiße Flecken under the NGA-Rahmenregelung (method ``de_white``): served / white.

Per offer: *NGA* if its technology is reliable (``[technologies].reliable``, wired) and down >=
``nga_down_mbps`` (a missing download fails); with ``require_low_latency`` a not-low-latency
offer is never NGA.

Per address: served if the best existing reliable offer is NGA, or (``count_planned``) an NGA
offer is planned within the horizon; otherwise white (eligible).
"""

from __future__ import annotations

import numpy as np

from coverage.profiles import Profile
from coverage.rules.common import (
    AddressContext,
    Decision,
    OfferArrays,
    OfferRules,
    best_or,
    compose,
    g,
    level_with_plans,
    planned_note,
    reliable_offers,
)

REASON_CODES: dict[str, str] = {
    "DE_WHITE_SERVED_EXISTING": "an existing reliable wired offer reaches nga_down_mbps (30)",
    "DE_WHITE_SERVED_PLANNED": "no existing NGA offer, but one is planned within the horizon",
    "DE_WHITE_BELOW_NGA": "white: reliable wired offers exist, all below nga_down_mbps, none planned",
    "DE_WHITE_NO_WIRED": "white: no reliable wired offer and none planned",
}


def offer_rules(offers: OfferArrays, profile: Profile) -> OfferRules:
    """Reliable wired offers count; rank 1 = NGA, 0 = below."""
    counted, usable = reliable_offers(offers, profile)
    with np.errstate(invalid="ignore"):
        nga = usable & (offers.down >= profile.threshold("nga_down_mbps"))
    return OfferRules(
        counted=counted,
        rank=nga.astype(np.int8),
        network_ok=nga,
        network_type=offers.tech_map(profile.network_types, None),
    )


def decide(
    ctx: AddressContext, offers: OfferArrays, rules: OfferRules, profile: Profile
) -> Decision:
    """Class, reason code and one-line reason per address (see module docstring)."""
    n, h = ctx.n, profile.horizon_months
    level, by_plan = level_with_plans(ctx, profile.count_planned)
    served = level >= 1
    now = served & ~by_plan
    has_best = ctx.best >= 0
    klass = np.where(served, "served", "white").astype(object)
    code = np.select(
        [now, by_plan, has_best],
        ["DE_WHITE_SERVED_EXISTING", "DE_WHITE_SERVED_PLANNED", "DE_WHITE_BELOW_NGA"],
        "DE_WHITE_NO_WIRED",
    ).astype(object)

    nga = f"{g(profile.threshold('nga_down_mbps'))} down"
    best = best_or(ctx, "best existing ", "no reliable wired offer")
    note = planned_note(ctx, profile.count_planned, h, f"offer >= {nga}")
    reason = compose(
        n,
        [
            (now, ["SERVED: existing ", ctx.best_text, f" reaches {nga}"]),
            (
                by_plan,
                [
                    "SERVED: planned ",
                    ctx.planned_text,
                    " from ",
                    ctx.planned_date,
                    f" (within {h} months) reaches {nga}; ",
                    best,
                ],
            ),
            (has_best, ["WHITE: ", best, f" below {nga}; {note}"]),
        ],
        f"WHITE: no reliable wired offer; {note}",
    )
    return Decision(klass=klass, reason_code=code, reason=reason)
