"""UK Project Gigabit Open Market Review classes (method ``uk_omr``).

Classes: black / grey / under_review / white.

Per offer: *gigabit-capable* if its technology is reliable and (down >= ``gigabit_down_mbps``
or the technology is in ``[technologies].gigabit``); a missing download fails the speed test.
A network is one operator (:mod:`coverage.rules.operators`), whatever its technologies.

BDUK's Under Review class: "claimed current gigabit coverage has not been verified, or, in
respect of planned build, ... some risks to delivery remain, or there are some gaps in
evidence". An offer whose ``verified`` column is false (an unverified claim, or a plan with
open risks or evidence gaps) is therefore not counted as a network; a missing ``verified``
cell means the claim was accepted. Per address, with the credible networks = verified existing
ones plus (with ``[networks].include_planned``) verified plans within the whole horizon: black
with >= ``black_min_networks``, grey with one, under_review with none but an unverified
gigabit claim or plan, white otherwise. Eligible: white.
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
    reliable_offers,
    tech_list,
)

REASON_CODES: dict[str, str] = {
    "UK_OMR_BLACK": "at least black_min_networks gigabit-capable networks, existing or credibly planned",
    "UK_OMR_GREY": "exactly one gigabit-capable network, existing or credibly planned",
    "UK_OMR_UNDER_REVIEW": "no verified gigabit-capable network; a claimed or planned one is not verified (risks or evidence gaps)",
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
    plans = offers.planned_ok & profile.networks_include_planned
    claims = offers.existing_now | plans
    nets = count_networks(ctx, claims & offers.verified)
    unverified = claims & ~offers.verified & rules.network_ok
    risky = any_per_point(ctx.addr_idx, unverified[ctx.offer_idx], n)

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
        scope = f"existing or credibly planned within {h} months"
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
                    (
                        "UNDER_REVIEW: no verified gigabit-capable network; a claimed or planned "
                        "gigabit network is not verified (open risks or evidence gaps); "
                    ),
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
