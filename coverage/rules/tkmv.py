"""Legal minimum service, TKMV §2 (method ``tkmv``): meets_minimum / below_minimum.

Every technology in ``[technologies].reliable`` counts (the bundled profile lists all of them:
wired, fixed wireless, mobile and satellite). Per offer: *speed ok* if down >= ``min_down_mbps``
and up >= ``min_up_mbps`` (a missing speed fails); *latency ok* if ``latency_ms`` <=
``max_latency_ms``, or, when the offer reports no latency, if its technology is not in
``[technologies].high_latency`` (e.g. GEO satellite). Rank 2 = meets the minimum, 1 = speed ok
but latency too high, 0 = below.

Per address: meets_minimum if the best existing offer meets the minimum (or, with
``count_planned``, a planned one within the horizon does); otherwise below_minimum, which is the
"eligible" class: entitled to the minimum supply claim, not to funding.
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
    fmt_numbers,
    g,
    level_with_plans,
    shown_plan_note,
    tech_list,
)

REASON_CODES: dict[str, str] = {
    "TKMV_MEETS_MINIMUM": "an existing offer (any technology) meets the minimum speeds and latency",
    "TKMV_MEETS_MINIMUM_PLANNED": "meets the minimum only through a planned offer (profiles with count_planned)",
    "TKMV_BELOW_SPEED": "offers exist, but none reaches the minimum download and upload",
    "TKMV_BELOW_LATENCY": "an offer reaches the minimum speeds but its latency is above the limit (or presumed so)",
    "TKMV_NO_OFFER": "no existing offer of any counted technology",
}

_MEETS, _SPEED_ONLY = 2, 1


def offer_rules(offers: OfferArrays, profile: Profile) -> OfferRules:
    """All listed technologies count; rank 2 = meets, 1 = speeds but latency too high, 0 = below."""
    t = profile.thresholds
    counted = offers.tech_in(profile.reliable_technologies)
    with np.errstate(invalid="ignore"):
        speed_ok = (offers.down >= t["min_down_mbps"]) & (offers.up >= t["min_up_mbps"])
        latency_ok = np.where(
            np.isnan(offers.latency),
            ~offers.tech_in(profile.high_latency_technologies),
            offers.latency <= t["max_latency_ms"],
        )
    rank = np.where(speed_ok, np.where(latency_ok, _MEETS, _SPEED_ONLY), 0).astype(np.int8)
    return OfferRules(
        counted=counted,
        rank=rank,
        network_ok=counted & (rank == _MEETS),
        network_type=offers.tech_map(profile.network_types, None),
    )


def decide(
    ctx: AddressContext, offers: OfferArrays, rules: OfferRules, profile: Profile
) -> Decision:
    """Class, reason code and one-line reason per address (see module docstring)."""
    t, n, h = profile.thresholds, ctx.n, profile.horizon_months
    level, by_plan = level_with_plans(ctx, profile.count_planned)
    meets = level == _MEETS
    latency = ~meets & (ctx.best_rank == _SPEED_ONLY)
    has_best = ctx.best >= 0
    klass = np.where(meets, "meets_minimum", "below_minimum").astype(object)
    code = np.select(
        [meets & ~by_plan, meets, latency, has_best],
        [
            "TKMV_MEETS_MINIMUM",
            "TKMV_MEETS_MINIMUM_PLANNED",
            "TKMV_BELOW_LATENCY",
            "TKMV_BELOW_SPEED",
        ],
        "TKMV_NO_OFFER",
    ).astype(object)

    speeds = f"{g(t['min_down_mbps'])}/{g(t['min_up_mbps'])}"
    lat = f"{g(t['max_latency_ms'])} ms"
    best_lat = offers.latency[ctx.best] if offers.n else np.full(n, np.nan)
    best_lat = np.where(ctx.best >= 0, best_lat, np.nan)
    known = ~np.isnan(best_lat)
    hl = tech_list(profile.high_latency_technologies) or "its technology"
    lat_text = compose(
        n,
        [(known, ["latency ", fmt_numbers(best_lat), f" ms above {lat}"])],
        f"no latency reported ({hl} presumed above {lat})",
    )
    reason = compose(
        n,
        [
            (
                meets & ~by_plan,
                [
                    "MEETS_MINIMUM: existing ",
                    ctx.best_text,
                    f" meets {speeds} and latency <= {lat}",
                ],
            ),
            (
                meets,
                [
                    "MEETS_MINIMUM: planned ",
                    ctx.planned_text,
                    " from ",
                    ctx.planned_date,
                    f" (within {h} months) meets {speeds} and latency <= {lat}",
                ],
            ),
            (
                latency,
                [
                    "BELOW_MINIMUM: best existing ",
                    ctx.best_text,
                    f" reaches {speeds} but ",
                    lat_text,
                ],
            ),
            (has_best, ["BELOW_MINIMUM: best existing ", ctx.best_text, f" below {speeds}"]),
        ],
        "BELOW_MINIMUM: no offer of any technology",
    )
    note = shown_plan_note(ctx) if not profile.count_planned else np.full(n, "", dtype=object)
    return Decision(klass=klass, reason_code=code, reason=reason + note)
