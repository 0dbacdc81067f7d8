"""EU broadband state-aid guidelines 2013, NGA white/grey/black (method ``eu_nga``).

Per offer: *NGA* if its technology is reliable (``[technologies].reliable``) and down >=
``nga_down_mbps`` (a missing download fails; with ``require_low_latency`` a not-low-latency
offer is never NGA). A network is one operator (:mod:`coverage.rules.operators`), whatever its technologies.

Per address: the number of distinct NGA networks, existing now or (``[networks].include_planned``)
planned within the horizon: black with >= ``black_min_networks``, grey with at least one,
white with none. Eligible: white and grey (grey subject to the detailed assessment).
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
)
from coverage.rules.de_white import METHOD as _NGA

REASON_CODES: dict[str, str] = {
    "EU_NGA_BLACK": "at least black_min_networks distinct NGA networks, now or planned within the horizon",
    "EU_NGA_GREY": "exactly one NGA network (fewer than black_min_networks), now or planned",
    "EU_NGA_WHITE": "no NGA network now or planned within the horizon",
}


def offer_rules(offers: OfferArrays, profile: Profile) -> OfferRules:
    """Reliable offers count; rank 1 = NGA, 0 = below (the ``de_white`` NGA tier)."""
    return _NGA.offer_rules(offers, profile)


def decide(
    ctx: AddressContext, offers: OfferArrays, rules: OfferRules, profile: Profile
) -> Decision:
    """Class, reason code and one-line reason per address (see module docstring)."""
    n, h = ctx.n, profile.horizon_months
    with_plans = profile.networks_include_planned and ctx.include_planned
    nets = ctx.networks_any if profile.networks_include_planned else ctx.networks_now
    black = nets >= profile.threshold("black_min_networks")
    grey = ~black & (nets >= 1)
    klass = np.select([black, grey], ["black", "grey"], "white").astype(object)
    code = np.select([black, grey], ["EU_NGA_BLACK", "EU_NGA_GREY"], "EU_NGA_WHITE").astype(object)

    nga = f"(>= {g(profile.threshold('nga_down_mbps'))} down)"
    scope = f"now or planned within {h} months" if with_plans else "existing"
    if not ctx.include_planned:
        scope += ", planned offers not considered"
    elif not profile.networks_include_planned:
        scope += ", planned networks not counted by this profile"
    existing = ctx.networks_now.astype(str).astype(object)
    best = best_or(ctx, "best existing ", "no reliable offer")
    plan = compose(
        n,
        [(ctx.planned >= 0, ["; best planned ", ctx.planned_text, " from ", ctx.planned_date])],
    )
    reason = compose(
        n,
        [
            (
                black,
                [
                    "BLACK: ",
                    nets.astype(str).astype(object),
                    f" NGA networks {nga} {scope} (",
                    existing,
                    " existing); ",
                    best,
                ],
            ),
            (
                grey,
                [
                    f"GREY: one NGA network {nga} {scope} (",
                    existing,
                    " existing), eligible subject to detailed assessment; ",
                    best,
                ],
            ),
            (np.ones(n, dtype=bool), [f"WHITE: no NGA network {nga} {scope}; ", best]),
        ],
    )
    return Decision(klass=klass, reason_code=code, reason=reason + plan)
