"""Ofcom speed bands (method ``ofcom_bands``): gigabit / ultrafast / superfast / decent /
below_decent.

Per offer (``[technologies].reliable``: any fixed technology; with ``require_low_latency`` a
not-low-latency offer is below_decent): gigabit with down >= ``gigabit_down_mbps``, ultrafast
with >= ``ultrafast_down_mbps``, superfast with >= ``superfast_down_mbps``; these bands are
download-only (Ofcom Connected Nations). Below superfast: decent if down >=
``decent_down_mbps`` and up >= ``decent_up_mbps`` (the only band with an upload condition,
the USO 10/1), else below_decent. Missing speeds fail.

Per address: the band of the best existing counted offer (raised by a planned one within the
horizon when ``count_planned``); no counted offer = below_decent (eligible: the USO floor).
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
    reliable_offers,
    shown_plan_note,
)

REASON_CODES: dict[str, str] = {
    "OFCOM_GIGABIT": "best existing fixed offer reaches gigabit_down_mbps (1000 down)",
    "OFCOM_ULTRAFAST": "best existing fixed offer reaches ultrafast_down_mbps (300) but not gigabit",
    "OFCOM_SUPERFAST": "best existing fixed offer reaches superfast_down_mbps (30) but not ultrafast",
    "OFCOM_DECENT": "best existing fixed offer reaches decent (10/1) but not superfast",
    "OFCOM_BAND_PLANNED": "band reached only through a planned offer (profiles with count_planned)",
    "OFCOM_BELOW_DECENT": "fixed offers exist, all below decent (10/1) or lacking a speed",
    "OFCOM_NO_FIXED": "no fixed offer (mobile and satellite are not counted)",
}

_NAMES = ("below_decent", "decent", "superfast", "ultrafast", "gigabit")
_CLASSES = np.array(_NAMES, dtype=object)


def offer_rules(offers: OfferArrays, profile: Profile) -> OfferRules:
    """Fixed offers count; rank = band 0 (below decent) .. 4 (gigabit)."""
    t = profile.thresholds
    counted, usable = reliable_offers(offers, profile)
    down = offers.down
    with np.errstate(invalid="ignore"):
        decent = usable & (down >= t["decent_down_mbps"]) & (offers.up >= t["decent_up_mbps"])
        band = np.select(
            [
                usable & (down >= t["gigabit_down_mbps"]),
                usable & (down >= t["ultrafast_down_mbps"]),
                usable & (down >= t["superfast_down_mbps"]),
                decent,
            ],
            [4, 3, 2, 1],
            0,
        ).astype(np.int8)
    return OfferRules(
        counted=counted,
        rank=band,
        network_ok=decent,
        network_type=offers.tech_map(profile.network_types, None),
    )


def decide(
    ctx: AddressContext, offers: OfferArrays, rules: OfferRules, profile: Profile
) -> Decision:
    """Class, reason code and one-line reason per address (see module docstring)."""
    t, n, h = profile.thresholds, ctx.n, profile.horizon_months
    level, by_plan = level_with_plans(ctx, profile.count_planned)
    band = np.maximum(level, 0)
    klass = _CLASSES[band]
    has_best = ctx.best >= 0
    code = np.select(
        [by_plan, band == 4, band == 3, band == 2, band == 1, has_best],
        [
            "OFCOM_BAND_PLANNED",
            "OFCOM_GIGABIT",
            "OFCOM_ULTRAFAST",
            "OFCOM_SUPERFAST",
            "OFCOM_DECENT",
            "OFCOM_BELOW_DECENT",
        ],
        "OFCOM_NO_FIXED",
    ).astype(object)

    gig, uf, sf = (
        g(t[k]) for k in ("gigabit_down_mbps", "ultrafast_down_mbps", "superfast_down_mbps")
    )
    decent = f"{g(t['decent_down_mbps'])}/{g(t['decent_up_mbps'])}"
    reach = {
        4: f" reaches {gig} down",
        3: f" reaches {uf} down, below {gig}",
        2: f" reaches {sf} down, below {uf}",
        1: f" reaches {decent}, below {sf} down",
    }
    upper = np.array([c.upper() for c in _NAMES], dtype=object)[band]
    cases: list[tuple[np.ndarray, list[str | np.ndarray]]] = [
        (
            by_plan,
            [
                upper,
                ": planned ",
                ctx.planned_text,
                " from ",
                ctx.planned_date,
                f" (within {h} months) counted by this profile",
            ],
        )
    ]
    for b, text in reach.items():
        cases.append((band == b, [f"{_NAMES[b].upper()}: best fixed ", ctx.best_text, text]))
    cases.append((has_best, ["BELOW_DECENT: best fixed ", ctx.best_text, f" below {decent}"]))
    reason = compose(n, cases, "BELOW_DECENT: no fixed offer (mobile and satellite not counted)")
    note = shown_plan_note(ctx) if not profile.count_planned else np.full(n, "", dtype=object)
    return Decision(klass=klass, reason_code=code, reason=reason + note)
