"""EU broadband state-aid guidelines 2023, fixed networks (method ``eu_2023``).

Classes: served / ultrafast_no_gigabit / market_failure.

Per offer (reliable fixed technologies; with ``require_low_latency`` a not-low-latency offer
reaches no tier): *gigabit* if down >= ``gigabit_down_mbps`` and up >= ``gigabit_up_mbps``
(1000/150); *ultrafast* if down >= ``ultrafast_down_mbps`` (100). Missing speeds fail.

Per address: the highest tier of the best existing offer and (``count_planned``) of the best
planned offer within the horizon. served (no market failure) if gigabit; ultrafast_no_gigabit if
ultrafast (market failure for 1000/150, eligible subject to the detailed assessment of the area);
market_failure otherwise. ``step_change_factor`` is recorded for project checks: the reason
names the download a funded network must reach (factor x the best download now or counted as
planned).
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
    fmt_numbers,
    g,
    level_with_plans,
    planned_note,
    reliable_offers,
)

REASON_CODES: dict[str, str] = {
    "EU23_SERVED_EXISTING": "an existing reliable fixed offer reaches 1000/150: no market failure",
    "EU23_SERVED_PLANNED": "an offer reaching 1000/150 is planned within the horizon: no market failure",
    "EU23_ULTRAFAST_EXISTING": "market failure for 1000/150, but an existing offer reaches ultrafast (100 down)",
    "EU23_ULTRAFAST_PLANNED": "market failure for 1000/150, but an ultrafast offer is planned within the horizon",
    "EU23_NO_ULTRAFAST": "market failure: no reliable fixed offer reaches ultrafast, none planned",
}

_GIGABIT, _ULTRAFAST = 2, 1
_CLASSES = np.array(["market_failure", "ultrafast_no_gigabit", "served"], dtype=object)


def offer_rules(offers: OfferArrays, profile: Profile) -> OfferRules:
    """Reliable fixed offers count; rank 2 = 1000/150, 1 = ultrafast, 0 = below."""
    t = profile.thresholds
    counted, usable = reliable_offers(offers, profile)
    with np.errstate(invalid="ignore"):
        gigabit = (
            usable & (offers.down >= t["gigabit_down_mbps"]) & (offers.up >= t["gigabit_up_mbps"])
        )
        ultrafast = usable & (offers.down >= t["ultrafast_down_mbps"])
    rank = np.where(gigabit, _GIGABIT, np.where(ultrafast, _ULTRAFAST, 0)).astype(np.int8)
    return OfferRules(
        counted=counted,
        rank=rank,
        network_ok=gigabit | ultrafast,
        network_type=offers.tech_map(profile.network_types, None),
    )


def decide(
    ctx: AddressContext, offers: OfferArrays, rules: OfferRules, profile: Profile
) -> Decision:
    """Class, reason code and one-line reason per address (see module docstring)."""
    t, n, h = profile.thresholds, ctx.n, profile.horizon_months
    level, by_plan = level_with_plans(ctx, profile.count_planned)
    klass = _CLASSES[np.maximum(level, 0)]
    gig, ultra = level == _GIGABIT, level == _ULTRAFAST
    has_best = ctx.best >= 0
    code = np.select(
        [gig & ~by_plan, gig, ultra & ~by_plan, ultra],
        [
            "EU23_SERVED_EXISTING",
            "EU23_SERVED_PLANNED",
            "EU23_ULTRAFAST_EXISTING",
            "EU23_ULTRAFAST_PLANNED",
        ],
        "EU23_NO_ULTRAFAST",
    ).astype(object)

    # step change: factor x the best download now or counted as planned
    down = offers.down if offers.n else np.zeros(1)
    best_down = np.where(ctx.best >= 0, down[ctx.best], np.nan)
    plan_down = np.where((ctx.planned >= 0) & profile.count_planned, down[ctx.planned], np.nan)
    with np.errstate(invalid="ignore"):
        base = np.fmax(best_down, plan_down)
    factor = t["step_change_factor"]
    step = compose(
        n,
        [
            (
                ~np.isnan(base),
                [
                    "; step change: a funded network needs >= ",
                    fmt_numbers(base * factor),
                    f" down ({g(factor)}x)",
                ],
            )
        ],
    )

    gbit = f"{g(t['gigabit_down_mbps'])}/{g(t['gigabit_up_mbps'])}"
    uf = f"{g(t['ultrafast_down_mbps'])} down"
    best = best_or(ctx, "best existing ", "no reliable fixed offer")
    no_gig = planned_note(ctx, profile.count_planned, h, gbit)
    no_any = planned_note(ctx, profile.count_planned, h, f"ultrafast or {gbit}")
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
            (gig & ~by_plan, ["SERVED: existing ", ctx.best_text, f" reaches {gbit}"]),
            (gig, ["SERVED: ", *plan, f" reaches {gbit}; ", best]),
            (
                ultra & ~by_plan,
                [
                    "ULTRAFAST_NO_GIGABIT: existing ",
                    ctx.best_text,
                    f" reaches {uf} but is below {gbit}; {no_gig}",
                ],
            ),
            (
                ultra,
                ["ULTRAFAST_NO_GIGABIT: ", *plan, f" reaches {uf} but is below {gbit}; ", best],
            ),
            (has_best, ["MARKET_FAILURE: ", best, f" below {uf}; {no_any}"]),
        ],
        f"MARKET_FAILURE: no reliable fixed offer; {no_any}",
    )
    eligible = level < _GIGABIT
    return Decision(
        klass=klass,
        reason_code=code,
        reason=reason + np.where(eligible, step, "").astype(object),
    )
