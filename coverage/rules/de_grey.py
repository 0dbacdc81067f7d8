"""Graue Flecken under the Gigabit-Rahmenregelung 2021 (method ``de_grey``).

Classes: gigabit / served_100 / grey_eligible.

Per offer (reliable wired technologies only; with ``require_low_latency`` a not-low-latency
offer reaches no tier): *gigabit* if down >= ``gigabit_down_mbps`` or its technology is in
``[technologies].gigabit``; *served* if down >= ``eligible_below_down_mbps`` (the
Aufgreifschwelle, 100 Mbit/s). A missing download fails every speed test.

Per address: the highest tier of the best existing offer and (``count_planned``) of the best
planned offer within the horizon: gigabit, else served_100 (not eligible), else grey_eligible.
Socio-economic focal points and farms are profile ``[[site_rules]]``: they widen eligibility
(``site_rule`` column) without changing the class.
"""

from __future__ import annotations

import numpy as np

from coverage.profiles import Profile
from coverage.rules.common import (
    AddressContext,
    Decision,
    OfferArrays,
    OfferRules,
    Part,
    best_or,
    compose,
    g,
    level_with_plans,
    planned_note,
    reliable_offers,
    tech_list,
)

REASON_CODES: dict[str, str] = {
    "DE_GREY_GIGABIT_EXISTING": "an existing reliable wired offer is gigabit (speed or technology)",
    "DE_GREY_GIGABIT_PLANNED": "no existing gigabit offer, but one is planned within the horizon",
    "DE_GREY_SERVED_EXISTING": "not gigabit; an existing reliable wired offer reaches the threshold (100 down)",
    "DE_GREY_SERVED_PLANNED": "not gigabit; an offer reaching the threshold is planned within the horizon",
    "DE_GREY_BELOW_THRESHOLD": "grey spot: best reliable wired offer below the threshold, none planned",
    "DE_GREY_NO_WIRED": "grey spot: no reliable wired offer and none planned",
}

_GIGABIT, _SERVED = 2, 1
_CLASSES = np.array(["grey_eligible", "served_100", "gigabit"], dtype=object)


def offer_rules(offers: OfferArrays, profile: Profile) -> OfferRules:
    """Reliable wired offers count; rank 2 = gigabit, 1 = reaches the threshold, 0 = below."""
    t = profile.thresholds
    counted, usable = reliable_offers(offers, profile)
    with np.errstate(invalid="ignore"):
        gigabit = usable & (
            (offers.down >= t["gigabit_down_mbps"]) | offers.tech_in(profile.gigabit_technologies)
        )
        served = usable & (offers.down >= t["eligible_below_down_mbps"])
    rank = np.where(gigabit, _GIGABIT, np.where(served, _SERVED, 0)).astype(np.int8)
    return OfferRules(
        counted=counted,
        rank=rank,
        network_ok=gigabit | served,
        network_type=offers.tech_map(profile.network_types, None),
    )


def decide(
    ctx: AddressContext, offers: OfferArrays, rules: OfferRules, profile: Profile
) -> Decision:
    """Class, reason code and one-line reason per address (see module docstring)."""
    t, n, h = profile.thresholds, ctx.n, profile.horizon_months
    level, by_plan = level_with_plans(ctx, profile.count_planned)
    klass = _CLASSES[np.maximum(level, 0)]
    gig, srv = level == _GIGABIT, level == _SERVED
    has_best = ctx.best >= 0
    code = np.select(
        [gig & ~by_plan, gig, srv & ~by_plan, srv, has_best],
        [
            "DE_GREY_GIGABIT_EXISTING",
            "DE_GREY_GIGABIT_PLANNED",
            "DE_GREY_SERVED_EXISTING",
            "DE_GREY_SERVED_PLANNED",
            "DE_GREY_BELOW_THRESHOLD",
        ],
        "DE_GREY_NO_WIRED",
    ).astype(object)

    gtech = tech_list(profile.gigabit_technologies)
    crit = f">= {g(t['gigabit_down_mbps'])} down" + (f" or {gtech}" if gtech else "")
    thr = f"{g(t['eligible_below_down_mbps'])} down"
    best = best_or(ctx, "best existing ", "no reliable wired offer")
    no_gig = planned_note(ctx, profile.count_planned, h, "gigabit")
    no_srv = planned_note(ctx, profile.count_planned, h, f"offer >= {thr}")
    plan: list[Part] = [
        "planned ",
        ctx.planned_text,
        " from ",
        ctx.planned_date,
        f" (within {h} months)",
    ]
    reason = compose(
        n,
        [
            (gig & ~by_plan, ["GIGABIT: existing ", ctx.best_text, f" is gigabit ({crit})"]),
            (gig, ["GIGABIT: ", *plan, f" is gigabit ({crit}); ", best]),
            (
                srv & ~by_plan,
                ["SERVED_100: existing ", ctx.best_text, f" reaches {thr}, not gigabit; {no_gig}"],
            ),
            (srv, ["SERVED_100: ", *plan, f" reaches {thr}, not gigabit; ", best]),
            (has_best, ["GREY_ELIGIBLE: ", best, f" below {thr}; {no_srv}"]),
        ],
        f"GREY_ELIGIBLE: no reliable wired offer; {no_srv}",
    )
    return Decision(klass=klass, reason_code=code, reason=reason)
