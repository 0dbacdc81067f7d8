"""EU broadband state-aid guidelines 2023, fixed networks (method ``eu_2023``).

Classes: served / ultrafast_no_gigabit / market_failure (a
:class:`~coverage.rules.tiered.TieredMethod` plus the step-change note).

Per offer (reliable fixed technologies; with ``require_low_latency`` a not-low-latency offer
reaches no tier): *gigabit* if down >= ``gigabit_down_mbps`` and up >= ``gigabit_up_mbps``
(1000/150); *ultrafast* if down >= ``ultrafast_down_mbps`` (100). Missing speeds fail.

Per address: the highest tier of the best existing offer and (``count_planned``) of the best
planned offer within the horizon. served (no market failure) if gigabit; ultrafast_no_gigabit if
ultrafast (market failure for 1000/150, eligible subject to the detailed assessment of the area);
market_failure otherwise. The step change of the 2023 guidelines (Commission press release of
12.12.2022): a funded network must "at least triple the available download speed" and, in
competitive areas, "provide at least 1 Gbps download and 150 Mbps upload". The reason names
what a funded network must reach: ``step_change_factor`` x the best download now or counted as
planned, and where an ultrafast network is present (ultrafast_no_gigabit, a competitive area)
also at least ``gigabit_down_mbps`` / ``gigabit_up_mbps``.
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
)
from coverage.rules.tiered import Floor, Tier, TieredMethod


def _gbit(p: Profile) -> str:
    return f"{g(p.threshold('gigabit_down_mbps'))}/{g(p.threshold('gigabit_up_mbps'))}"


def _uf(p: Profile) -> str:
    return f"{g(p.threshold('ultrafast_down_mbps'))} down"


METHOD = TieredMethod(
    tiers=(
        Tier(
            klass="served",
            label="SERVED",
            code_existing="EU23_SERVED_EXISTING",
            code_planned="EU23_SERVED_PLANNED",
            down_key="gigabit_down_mbps",
            up_key="gigabit_up_mbps",
            phrase=lambda p: f" reaches {_gbit(p)}",
            missing=_gbit,
        ),
        Tier(
            klass="ultrafast_no_gigabit",
            label="ULTRAFAST_NO_GIGABIT",
            code_existing="EU23_ULTRAFAST_EXISTING",
            code_planned="EU23_ULTRAFAST_PLANNED",
            down_key="ultrafast_down_mbps",
            phrase=lambda p: f" reaches {_uf(p)} but is below {_gbit(p)}",
            missing=lambda p: f"ultrafast or {_gbit(p)}",
        ),
    ),
    floor=Floor(
        klass="market_failure",
        label="MARKET_FAILURE",
        code_below="EU23_NO_ULTRAFAST",
        code_none="EU23_NO_ULTRAFAST",
        none_text="no reliable fixed offer",
        below=_uf,
    ),
)

REASON_CODES: dict[str, str] = METHOD.reason_codes(
    {
        "EU23_SERVED_EXISTING": "an existing reliable fixed offer reaches 1000/150: no market failure",
        "EU23_SERVED_PLANNED": "an offer reaching 1000/150 is planned within the horizon: no market failure",
        "EU23_ULTRAFAST_EXISTING": "market failure for 1000/150, but an existing offer reaches ultrafast (100 down)",
        "EU23_ULTRAFAST_PLANNED": "market failure for 1000/150, but an ultrafast offer is planned within the horizon",
        "EU23_NO_ULTRAFAST": "market failure: no reliable fixed offer reaches ultrafast, none planned",
    }
)

_GIGABIT = len(METHOD.tiers)


def offer_rules(offers: OfferArrays, profile: Profile) -> OfferRules:
    """Reliable fixed offers count; rank 2 = 1000/150, 1 = ultrafast, 0 = below."""
    return METHOD.offer_rules(offers, profile)


def decide(
    ctx: AddressContext, offers: OfferArrays, rules: OfferRules, profile: Profile
) -> Decision:
    """Class, reason code and one-line reason per address (see module docstring)."""
    t, n = profile.thresholds, ctx.n
    base_decision = METHOD.decide(ctx, profile)
    level, _ = level_with_plans(ctx, profile.count_planned)

    # step change: factor x the best download now or counted as planned
    down = offers.down if offers.n else np.zeros(1)
    best_down = np.where(ctx.best >= 0, down[ctx.best], np.nan)
    plan_down = np.where((ctx.planned >= 0) & profile.count_planned, down[ctx.planned], np.nan)
    with np.errstate(invalid="ignore"):
        base = np.fmax(best_down, plan_down)
    factor = t["step_change_factor"]
    gd, gu = t["gigabit_down_mbps"], t["gigabit_up_mbps"]
    # competitive areas (an ultrafast network present): also at least 1000/150
    competitive = level == _GIGABIT - 1
    step = compose(
        n,
        [
            (
                competitive & ~np.isnan(base),
                [
                    "; step change: a funded network needs >= ",
                    fmt_numbers(np.fmax(base * factor, gd)),
                    (
                        f" down and >= {g(gu)} up ({g(factor)}x the download; competitive area: "
                        f"at least {g(gd)}/{g(gu)})"
                    ),
                ],
            ),
            (
                ~np.isnan(base),
                [
                    "; step change: a funded network needs >= ",
                    fmt_numbers(base * factor),
                    f" down ({g(factor)}x)",
                ],
            ),
        ],
    )
    eligible = level < _GIGABIT
    return Decision(
        klass=base_decision.klass,
        reason_code=base_decision.reason_code,
        reason=base_decision.reason + np.where(eligible, step, "").astype(object),
    )
