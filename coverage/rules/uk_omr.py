"""UK Project Gigabit Open Market Review classes (method ``uk_omr``).

Classes: black / grey / under_review / white.

Per offer: *gigabit-capable* if its technology is reliable and (down >= ``gigabit_down_mbps``
or the technology is in ``[technologies].gigabit``); a missing download fails the speed test.
A network is one operator (:mod:`coverage.rules.operators`), whatever its technologies.

A planned gigabit offer inside the horizon is *at risk* when its ``available_from`` falls in
the last ``under_review_window_months`` of the horizon (after as-of + horizon - window); it is
not counted as a network. Per address, with the credible networks = existing ones plus (with
``[networks].include_planned``) planned ones not at risk: black with >= ``black_min_networks``,
grey with one, under_review with none but an at-risk plan, white otherwise. Eligible: white.
"""

from __future__ import annotations

import numpy as np

from coverage.profiles import Profile
from coverage.rules.common import (
    AddressContext,
    Decision,
    OfferArrays,
    OfferRules,
    any_per_point,
    best_or,
    compose,
    count_networks,
    g,
    months_after,
    reliable_offers,
    tech_list,
)

REASON_CODES: dict[str, str] = {
    "UK_OMR_BLACK": "at least black_min_networks gigabit-capable networks, existing or credibly planned",
    "UK_OMR_GREY": "exactly one gigabit-capable network, existing or credibly planned",
    "UK_OMR_UNDER_REVIEW": "no credible gigabit-capable network; only plans in the last window of the horizon (at risk)",
    "UK_OMR_WHITE": "no gigabit-capable network now or planned within the horizon",
}


def offer_rules(offers: OfferArrays, profile: Profile) -> OfferRules:
    """Reliable offers count; rank 1 = gigabit-capable."""
    counted, usable = reliable_offers(offers, profile)
    with np.errstate(invalid="ignore"):
        gigabit = usable & (
            (offers.down >= profile.threshold("gigabit_down_mbps"))
            | offers.tech_in(profile.gigabit_technologies)
        )
    return OfferRules(
        counted=counted,
        rank=gigabit.astype(np.int8),
        network_ok=gigabit,
        network_type=offers.tech_map(profile.network_types, None),
    )


def decide(
    ctx: AddressContext, offers: OfferArrays, rules: OfferRules, profile: Profile
) -> Decision:
    """Class, reason code and one-line reason per address (see module docstring)."""
    t, n, h = profile.thresholds, ctx.n, profile.horizon_months
    window = int(t["under_review_window_months"])
    risk_from = months_after(ctx.as_of, max(h - window, 0))
    plans = offers.planned_ok & profile.networks_include_planned
    at_risk = plans & (offers.available_from > risk_from)
    nets = count_networks(ctx, offers.existing_now | (plans & ~at_risk))
    risky = any_per_point(ctx.addr_idx, (at_risk & rules.network_ok)[ctx.offer_idx], n)

    black = nets >= t["black_min_networks"]
    grey = ~black & (nets >= 1)
    review = (nets == 0) & risky
    klass = np.select([black, grey, review], ["black", "grey", "under_review"], "white").astype(
        object
    )
    code = np.select(
        [black, grey, review],
        ["UK_OMR_BLACK", "UK_OMR_GREY", "UK_OMR_UNDER_REVIEW"],
        "UK_OMR_WHITE",
    ).astype(object)

    gtech = tech_list(profile.gigabit_technologies)
    crit = f"(>= {g(t['gigabit_down_mbps'])} down" + (f" or {gtech})" if gtech else ")")
    if not ctx.include_planned:
        scope = white_scope = "existing (planned offers not considered)"
    elif not profile.networks_include_planned:
        scope = white_scope = "existing (planned networks not counted by this profile)"
    else:
        scope = f"existing or credibly planned within {h - window} months"
        white_scope = f"now or planned within {h} months"
    existing = ctx.networks_now.astype(str).astype(object)
    best = best_or(ctx, "best existing ", "no reliable offer")
    reason = compose(
        n,
        [
            (
                black,
                [
                    "BLACK: ",
                    nets.astype(str).astype(object),
                    f" gigabit-capable networks {crit} {scope} (",
                    existing,
                    " existing); ",
                    best,
                ],
            ),
            (
                grey,
                [
                    f"GREY: one gigabit-capable network {crit} {scope} (",
                    existing,
                    " existing); ",
                    best,
                ],
            ),
            (
                review,
                [
                    "UNDER_REVIEW: no credible gigabit-capable network; planned ",
                    ctx.planned_text,
                    " from ",
                    ctx.planned_date,
                    f" falls in the last {window} months of the {h}-month horizon (at risk); ",
                    best,
                ],
            ),
            (
                np.ones(n, dtype=bool),
                [f"WHITE: no gigabit-capable network {crit} {white_scope}; ", best],
            ),
        ],
    )
    return Decision(klass=klass, reason_code=code, reason=reason)
