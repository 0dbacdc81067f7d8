"""FCC Section 706 fixed benchmark, 2024 report (method ``fcc_706``): served / unserved_100_20.

Per offer: counted if its FCC BDC technology code is in ``reliable_fcc_codes`` (fixed
terrestrial: copper, cable, fibre, fixed wireless; an explicit ``fcc_technology`` column wins
over the profile's technology mapping). *Served* if down >= ``served_down_mbps`` and up >=
``served_up_mbps`` (missing speeds fail; with ``require_low_latency`` also low latency).

Per location: served if the best existing counted offer is served (or, with
``count_planned``, a planned one within the horizon is); otherwise unserved_100_20 (eligible).
"""

from __future__ import annotations

import numpy as np

from coverage.profiles import Profile
from coverage.rules.common import (
    AddressContext,
    Decision,
    OfferArrays,
    OfferRules,
    compose,
    g,
    level_with_plans,
    shown_plan_note,
)

REASON_CODES: dict[str, str] = {
    "FCC706_SERVED": "an existing fixed terrestrial offer reaches the benchmark (100/20)",
    "FCC706_SERVED_PLANNED": "served only through a planned offer (profiles with count_planned)",
    "FCC706_BELOW_BENCHMARK": "fixed terrestrial offers exist, all below the benchmark or lacking a speed",
    "FCC706_NO_FIXED_TERRESTRIAL": "only satellite, mobile or other offers",
    "FCC706_NO_OFFER": "no existing offer at the location",
}


def offer_rules(offers: OfferArrays, profile: Profile) -> OfferRules:
    """Counted = fixed terrestrial FCC code; rank 1 = meets the benchmark."""
    t = profile.thresholds
    counted = np.isin(offers.fcc_code, sorted(profile.reliable_fcc_codes))
    usable = counted & offers.low_latency if profile.require_low_latency else counted
    with np.errstate(invalid="ignore"):
        served = (
            usable & (offers.down >= t["served_down_mbps"]) & (offers.up >= t["served_up_mbps"])
        )
    return OfferRules(
        counted=counted,
        rank=served.astype(np.int8),
        network_ok=served,
        network_type=offers.fcc_code.astype(str).astype(object),
    )


def decide(
    ctx: AddressContext, offers: OfferArrays, rules: OfferRules, profile: Profile
) -> Decision:
    """Class, reason code and one-line reason per location (see module docstring)."""
    t, n, h = profile.thresholds, ctx.n, profile.horizon_months
    level, by_plan = level_with_plans(ctx, profile.count_planned)
    served = level >= 1
    has_best = ctx.best >= 0
    no_offer = ~ctx.any_existing
    klass = np.where(served, "served", "unserved_100_20").astype(object)
    code = np.select(
        [served & ~by_plan, served, has_best, no_offer],
        ["FCC706_SERVED", "FCC706_SERVED_PLANNED", "FCC706_BELOW_BENCHMARK", "FCC706_NO_OFFER"],
        "FCC706_NO_FIXED_TERRESTRIAL",
    ).astype(object)

    bench = f"{g(t['served_down_mbps'])}/{g(t['served_up_mbps'])}"
    fcc = offers.fcc_code[ctx.best] if offers.n else np.full(n, -1)
    best = ["best fixed terrestrial ", ctx.best_text, " [BDC ", fcc.astype(str).astype(object), "]"]
    reason = compose(
        n,
        [
            (served & ~by_plan, ["SERVED: ", *best, f" meets {bench}"]),
            (
                served,
                [
                    "SERVED: planned ",
                    ctx.planned_text,
                    " from ",
                    ctx.planned_date,
                    f" (within {h} months) meets {bench}",
                ],
            ),
            (has_best, ["UNSERVED_100_20: ", *best, f" below {bench} or speed not reported"]),
            (no_offer, ["UNSERVED_100_20: no existing offer at this location"]),
        ],
        "UNSERVED_100_20: no fixed terrestrial offer (only satellite, mobile or other)",
    )
    note = shown_plan_note(ctx) if not profile.count_planned else np.full(n, "", dtype=object)
    return Decision(klass=klass, reason_code=code, reason=reason + note)
