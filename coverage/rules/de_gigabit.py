"""Gigabit-Richtlinie 2.0 style rules (method ``de_gigabit``): gigabit / black / grey / white.

Per offer: *gigabit* if reliable and (down >= ``gigabit_down_mbps`` or (down >=
``gigabit_symmetric_down_mbps`` and up >= ``gigabit_symmetric_up_mbps``) or technology in
``[technologies].gigabit``); *NGA* if reliable and down >= ``nga_down_mbps``. Missing speeds
(NaN) fail every speed test. When the profile requires low latency, an offer that is not low
latency is neither gigabit nor NGA.

Per address: gigabit if the best existing counted offer is gigabit, or (``count_planned``) the
best planned offer within the horizon is; otherwise black with >= ``black_min_networks``
distinct NGA networks (provider x network type; existing only unless
``[networks].include_planned``), grey with one, white with none.
"""

from __future__ import annotations

import numpy as np

from coverage.profiles import Profile
from coverage.rules.common import (
    TECH_LABELS,
    AddressContext,
    Decision,
    OfferArrays,
    OfferRules,
    compose,
)
from coverage.schema import Technology

REASON_CODES: dict[str, str] = {
    "GIGABIT_EXISTING": "an existing reliable offer is gigabit (speed or gigabit technology)",
    "GIGABIT_PLANNED": "no existing gigabit offer, but a gigabit offer is planned within the horizon",
    "BLACK_TWO_NGA": "not gigabit; at least black_min_networks distinct NGA networks",
    "GREY_ONE_NGA": "not gigabit; exactly one NGA network (fewer than black_min_networks)",
    "WHITE_NO_NGA": "not gigabit; no NGA network",
}

_RANK_GIGABIT = 2
_RANK_NGA = 1


def offer_rules(offers: OfferArrays, profile: Profile) -> OfferRules:
    """Reliable wired offers count; rank 2 = gigabit, 1 = NGA, 0 = other reliable."""
    t = profile.thresholds
    reliable = offers.tech_in(profile.reliable_technologies)
    usable = reliable & offers.low_latency if profile.require_low_latency else reliable
    down, up = offers.down, offers.up
    with np.errstate(invalid="ignore"):
        gigabit = usable & (
            (down >= t["gigabit_down_mbps"])
            | ((down >= t["gigabit_symmetric_down_mbps"]) & (up >= t["gigabit_symmetric_up_mbps"]))
            | offers.tech_in(profile.gigabit_technologies)
        )
        nga = usable & (down >= t["nga_down_mbps"])
    rank = np.where(gigabit, _RANK_GIGABIT, np.where(nga, _RANK_NGA, 0)).astype(np.int8)
    types = offers.tech_map(profile.network_types, None)
    return OfferRules(counted=reliable, rank=rank, network_ok=nga, network_type=types)


def _g(x: float) -> str:
    return f"{x:g}"


def decide(
    ctx: AddressContext, offers: OfferArrays, rules: OfferRules, profile: Profile
) -> Decision:
    """Class, reason code and one-line reason per address (see module docstring)."""
    t = profile.thresholds
    n = ctx.n
    h = profile.horizon_months
    gig_now = ctx.best_rank == _RANK_GIGABIT
    gig_planned = (ctx.planned_rank == _RANK_GIGABIT) & profile.count_planned & ~gig_now
    nets = ctx.networks_any if profile.networks_include_planned else ctx.networks_now
    rest = ~(gig_now | gig_planned)
    black = rest & (nets >= t["black_min_networks"])
    grey = rest & ~black & (nets >= 1)
    white = rest & ~black & ~grey

    klass = np.select(
        [gig_now | gig_planned, black, grey], ["gigabit", "black", "grey"], "white"
    ).astype(object)
    code = np.select(
        [gig_now, gig_planned, black, grey],
        ["GIGABIT_EXISTING", "GIGABIT_PLANNED", "BLACK_TWO_NGA", "GREY_ONE_NGA"],
        "WHITE_NO_NGA",
    ).astype(object)

    crit = f"{_g(t['gigabit_down_mbps'])} down or {_g(t['gigabit_symmetric_down_mbps'])}/{_g(t['gigabit_symmetric_up_mbps'])}"
    gtech = ", ".join(
        TECH_LABELS[x.value] for x in Technology if x.value in profile.gigabit_technologies
    )
    meets = f"meets {crit}" + (f" or is {gtech}" if gtech else "")
    if not ctx.include_planned:
        planned_note = "planned offers not considered"
    elif not profile.count_planned:
        planned_note = "planned offers not counted by this profile"
    else:
        planned_note = f"no gigabit planned within {h} months"
    has_best = ctx.best >= 0
    best_desc = compose(
        n, [(has_best, ["best existing ", ctx.best_text])], "no reliable wired offer"
    )
    nga = _g(t["nga_down_mbps"])
    nets_s = nets.astype(str).astype(object)
    reason = compose(
        n,
        [
            (gig_now, ["GIGABIT: existing ", ctx.best_text, " ", meets]),
            (
                gig_planned,
                [
                    "GIGABIT: planned ",
                    ctx.planned_text,
                    " from ",
                    ctx.planned_date,
                    f" (within {h} months) ",
                    meets,
                    "; ",
                    best_desc,
                ],
            ),
            (
                black,
                [
                    "BLACK: ",
                    nets_s,
                    f" NGA networks (>= {nga} down); ",
                    best_desc,
                    f" below {crit}; {planned_note}",
                ],
            ),
            (grey, ["GREY: ", best_desc, f" below {crit}; {planned_note}"]),
            (white, [f"WHITE: no NGA network (>= {nga} down); ", best_desc, f"; {planned_note}"]),
        ],
    )
    return Decision(klass=klass, reason_code=code, reason=reason)
