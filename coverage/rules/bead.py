"""NTIA BEAD location service levels (method ``bead``), as in NTIA's reference notebook.

Per offer (BDC availability row): counted only if its FCC technology code is in
``reliable_fcc_codes`` (an explicit ``fcc_technology`` column wins over the profile's mapping of
our technologies). Level 0 (unserved) if not low latency, a speed is missing (NaN), down <
``unserved_below_down_mbps`` or up < ``unserved_below_up_mbps``; else level 1 (underserved) if
down < ``served_down_mbps`` or up < ``served_up_mbps``; else level 2 (served). Unknown
low_latency follows ``unknown_is_low_latency`` (false for BEAD: like a missing value in the
notebook, the row is level 0).

Per location: the maximum level over its counted existing rows; no counted row = unserved.
Planned offers change the level only when the profile sets ``count_planned``.
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
    compose,
)

REASON_CODES: dict[str, str] = {
    "BEAD_SERVED": "a reliable low-latency offer reaches the served speeds (100/20)",
    "BEAD_SERVED_PLANNED": "served only through a planned offer (profiles with count_planned)",
    "BEAD_UNDERSERVED_SPEED": "best reliable low-latency offer reaches 25/3 but not 100/20",
    "BEAD_UNDERSERVED_PLANNED": "underserved only through a planned offer (profiles with count_planned)",
    "BEAD_UNSERVED_SPEED": "reliable offers exist but all are below 25/3 or lack a speed",
    "BEAD_UNSERVED_LATENCY": "a reliable offer reaches 25/3 but is not low latency (or latency unknown)",
    "BEAD_UNSERVED_NO_RELIABLE": "only non-reliable technologies (satellite, unlicensed FW, mobile, other)",
    "BEAD_UNSERVED_NO_OFFER": "no existing offer at the location",
}

_CLASSES = np.array(["unserved", "underserved", "served"], dtype=object)


def _speed_ok(offers: OfferArrays, profile: Profile) -> np.ndarray:
    t = profile.thresholds
    with np.errstate(invalid="ignore"):
        return (offers.down >= t["unserved_below_down_mbps"]) & (
            offers.up >= t["unserved_below_up_mbps"]
        )


def offer_rules(offers: OfferArrays, profile: Profile) -> OfferRules:
    """Counted = reliable FCC code; rank = BEAD level 0/1/2 of the row."""
    t = profile.thresholds
    counted = np.isin(offers.fcc_code, sorted(profile.reliable_fcc_codes))
    ll = offers.low_latency if profile.require_low_latency else np.ones(offers.n, dtype=bool)
    with np.errstate(invalid="ignore"):
        served = (offers.down >= t["served_down_mbps"]) & (offers.up >= t["served_up_mbps"])
    level = np.where(ll & _speed_ok(offers, profile), np.where(served, 2, 1), 0).astype(np.int8)
    return OfferRules(
        counted=counted,
        rank=level,
        network_ok=counted & (level >= 1),
        network_type=offers.fcc_code.astype(str).astype(object),
    )


def _g(x: float) -> str:
    return f"{x:g}"


def decide(
    ctx: AddressContext, offers: OfferArrays, rules: OfferRules, profile: Profile
) -> Decision:
    """Class, reason code and one-line reason per location (see module docstring)."""
    t = profile.thresholds
    n = ctx.n
    level_now = np.maximum(ctx.best_rank, 0)
    level = np.maximum(level_now, ctx.planned_rank) if profile.count_planned else level_now
    by_plan = level > level_now
    klass = _CLASSES[level]

    latency_flag = (
        rules.counted & offers.existing_now & _speed_ok(offers, profile) & ~offers.low_latency
    )
    latency_fail = any_per_point(ctx.addr_idx, latency_flag[ctx.offer_idx], n)
    has_reliable = ctx.best >= 0
    l0 = level == 0
    no_offer = l0 & ~ctx.any_existing
    no_reliable = l0 & ctx.any_existing & ~has_reliable
    lat = l0 & has_reliable & latency_fail
    code = np.select(
        [by_plan & (level == 2), by_plan, level == 2, level == 1, no_offer, no_reliable, lat],
        [
            "BEAD_SERVED_PLANNED",
            "BEAD_UNDERSERVED_PLANNED",
            "BEAD_SERVED",
            "BEAD_UNDERSERVED_SPEED",
            "BEAD_UNSERVED_NO_OFFER",
            "BEAD_UNSERVED_NO_RELIABLE",
            "BEAD_UNSERVED_LATENCY",
        ],
        "BEAD_UNSERVED_SPEED",
    ).astype(object)

    low, high = (
        f"{_g(t['unserved_below_down_mbps'])}/{_g(t['unserved_below_up_mbps'])}",
        f"{_g(t['served_down_mbps'])}/{_g(t['served_up_mbps'])}",
    )
    fcc = offers.fcc_code[np.maximum(ctx.best, 0)] if offers.n else np.full(n, -1)
    best = compose(
        n,
        [
            (
                has_reliable,
                ["best reliable ", ctx.best_text, " [BDC ", fcc.astype(str).astype(object), "]"],
            )
        ],
    )
    planned = ctx.planned >= 0
    plan_note = compose(
        n,
        [
            (
                planned & ~by_plan,
                ["; planned ", ctx.planned_text, " from ", ctx.planned_date, " not counted"],
            )
        ],
    )
    klass_upper = np.char.upper(klass.astype(str)).astype(object)
    reason = compose(
        n,
        [
            (
                by_plan,
                [
                    klass_upper,
                    ": planned ",
                    ctx.planned_text,
                    " from ",
                    ctx.planned_date,
                    " counted by this profile",
                ],
            ),
            (level == 2, ["SERVED: ", best, f", low latency, meets {high}"]),
            (level == 1, ["UNDERSERVED: ", best, f" reaches {low} but is below {high}"]),
            (no_offer, ["UNSERVED: no existing offer at this location"]),
            (
                no_reliable,
                [
                    "UNSERVED: no reliable technology (only satellite, unlicensed fixed wireless, mobile or other)"
                ],
            ),
            (
                lat,
                ["UNSERVED: ", best, f" reaches {low} but is not low latency (or latency unknown)"],
            ),
            (l0, ["UNSERVED: ", best, f" below {low} or speed not reported"]),
        ],
    )
    return Decision(klass=klass, reason_code=code, reason=reason + plan_note)
