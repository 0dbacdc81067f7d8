"""Gigabit-Richtlinie 2.0 style rules (method ``de_gigabit``): gigabit / black / grey / white.

One method for every dated version of the text; the version's thresholds say which tests apply.

Per existing offer: *served* ("gigabit" class) if reliable and (down >= ``gigabit_down_mbps``
when given, or (down >= ``gigabit_symmetric_down_mbps`` and up >= ``gigabit_symmetric_up_mbps``)
or technology in ``[technologies].gigabit``). Per planned offer within the horizon: with
``planned_more_than_down_mbps`` only down > that value serves (31.03.2023 text: "mehr als 500
Mbit/s", no technology, no symmetric test); with ``planned_down_mbps`` (and optionally
``planned_up_mbps``) down >= / up >= those values; otherwise the existing-offer test. *NGA
network*: reliable and down >= ``nga_down_mbps`` or down > ``nga_more_than_down_mbps`` (the
Commission's approval of 2024: "above 100 Mbps"). Missing speeds (NaN) fail every speed test;
when the profile requires low latency, an offer that is not low latency passes no test.

Per address: gigabit if the best existing counted offer serves, or (``count_planned``) the
best planned offer within the horizon does; otherwise black with >= ``black_min_networks``
distinct NGA networks (one per operator, :mod:`coverage.rules.operators`; existing only
unless ``[networks].include_planned``), grey with one, white with none.
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


def _served(offers: OfferArrays, profile: Profile, usable: np.ndarray) -> np.ndarray:
    """The existing-offer test (see module docstring)."""
    t = profile.thresholds
    down, up = offers.down, offers.up
    with np.errstate(invalid="ignore"):
        ok = (down >= t["gigabit_symmetric_down_mbps"]) & (up >= t["gigabit_symmetric_up_mbps"])
        if "gigabit_down_mbps" in t:
            ok |= down >= t["gigabit_down_mbps"]
    return usable & (ok | offers.tech_in(profile.gigabit_technologies))


def _served_planned(offers: OfferArrays, profile: Profile, usable: np.ndarray) -> np.ndarray:
    """The planned-offer test (see module docstring)."""
    t = profile.thresholds
    down, up = offers.down, offers.up
    with np.errstate(invalid="ignore"):
        if "planned_more_than_down_mbps" in t:
            return usable & (down > t["planned_more_than_down_mbps"])
        if "planned_down_mbps" in t:
            ok = down >= t["planned_down_mbps"]
            if "planned_up_mbps" in t:
                ok &= up >= t["planned_up_mbps"]
            return usable & ok
    return _served(offers, profile, usable)


def _nga(offers: OfferArrays, profile: Profile, usable: np.ndarray) -> np.ndarray:
    t = profile.thresholds
    with np.errstate(invalid="ignore"):
        if "nga_more_than_down_mbps" in t:
            return usable & (offers.down > t["nga_more_than_down_mbps"])
        return usable & (offers.down >= t["nga_down_mbps"])


def offer_rules(offers: OfferArrays, profile: Profile) -> OfferRules:
    """Reliable wired offers count; rank 2 = serves (planned offers: the planned test),
    1 = NGA, 0 = other reliable."""
    reliable = offers.tech_in(profile.reliable_technologies)
    usable = reliable & offers.low_latency if profile.require_low_latency else reliable
    served = np.where(
        offers.planned_ok,
        _served_planned(offers, profile, usable),
        _served(offers, profile, usable),
    )
    nga = _nga(offers, profile, usable)
    rank = np.where(served, _RANK_GIGABIT, np.where(nga, _RANK_NGA, 0)).astype(np.int8)
    types = offers.tech_map(profile.network_types, None)
    return OfferRules(counted=reliable, rank=rank, network_ok=nga, network_type=types)


def _g(x: float) -> str:
    return f"{x:g}"


def criteria(profile: Profile) -> tuple[str, str, str]:
    """Reason phrases: (existing-offer test, planned-offer test, NGA test)."""
    t = profile.thresholds
    sym = f"{_g(t['gigabit_symmetric_down_mbps'])}/{_g(t['gigabit_symmetric_up_mbps'])}"
    crit = f"{_g(t['gigabit_down_mbps'])} down or {sym}" if "gigabit_down_mbps" in t else sym
    if "planned_more_than_down_mbps" in t:
        plan = f"more than {_g(t['planned_more_than_down_mbps'])} down"
    elif "planned_down_mbps" in t:
        plan = f"{_g(t['planned_down_mbps'])}" + (
            f"/{_g(t['planned_up_mbps'])}" if "planned_up_mbps" in t else " down"
        )
    else:
        plan = crit
    if "nga_more_than_down_mbps" in t:
        nga = f"> {_g(t['nga_more_than_down_mbps'])} down"
    else:
        nga = f">= {_g(t['nga_down_mbps'])} down"
    return crit, plan, nga


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

    crit, plan_crit, nga = criteria(profile)
    # the 2023 text counts NGA networks (>= 30 Mbit/s); from 2024 networks above 100 Mbit/s
    net = "network" if "nga_more_than_down_mbps" in profile.thresholds else "NGA network"
    gtech = ", ".join(
        TECH_LABELS[x.value] for x in Technology if x.value in profile.gigabit_technologies
    )
    meets = f"meets {crit}" + (f" or is {gtech}" if gtech else "")
    meets_plan = meets if plan_crit == crit else f"meets {plan_crit}"
    if not ctx.include_planned:
        planned_note = "planned offers not considered"
    elif not profile.count_planned:
        planned_note = "planned offers not counted by this profile"
    else:
        planned_note = (
            f"no gigabit planned within {h} months"
            if plan_crit == crit
            else f"no offer with {plan_crit} planned within {h} months"
        )
    has_best = ctx.best >= 0
    best_desc = compose(
        n, [(has_best, ["best existing ", ctx.best_text])], "no reliable wired offer"
    )
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
                    meets_plan,
                    "; ",
                    best_desc,
                ],
            ),
            (
                black,
                [
                    "BLACK: ",
                    nets_s,
                    f" {net}s ({nga}); ",
                    best_desc,
                    f" below {crit}; {planned_note}",
                ],
            ),
            (grey, ["GREY: ", best_desc, f" below {crit}; {planned_note}"]),
            (white, [f"WHITE: no {net} ({nga}); ", best_desc, f"; {planned_note}"]),
        ],
    )
    return Decision(klass=klass, reason_code=code, reason=reason)
