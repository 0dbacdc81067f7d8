"""Graue Flecken under the Gigabit-Rahmenregelung 2021 (method ``de_grey``).

Classes: gigabit / served_100 / grey_eligible (a :class:`~coverage.rules.tiered.TieredMethod`).

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

from coverage.profiles import Profile
from coverage.rules.common import (
    AddressContext,
    Decision,
    OfferArrays,
    OfferRules,
    g,
    tech_list,
)
from coverage.rules.tiered import Floor, Tier, TieredMethod


def _thr(p: Profile) -> str:
    return f"{g(p.threshold('eligible_below_down_mbps'))} down"


def _crit(p: Profile) -> str:
    gtech = tech_list(p.gigabit_technologies)
    return f">= {g(p.threshold('gigabit_down_mbps'))} down" + (f" or {gtech}" if gtech else "")


METHOD = TieredMethod(
    tiers=(
        Tier(
            klass="gigabit",
            label="GIGABIT",
            code_existing="DE_GREY_GIGABIT_EXISTING",
            code_planned="DE_GREY_GIGABIT_PLANNED",
            down_key="gigabit_down_mbps",
            by_technology=True,
            phrase=lambda p: f" is gigabit ({_crit(p)})",
            missing=lambda p: "gigabit",
        ),
        Tier(
            klass="served_100",
            label="SERVED_100",
            code_existing="DE_GREY_SERVED_EXISTING",
            code_planned="DE_GREY_SERVED_PLANNED",
            down_key="eligible_below_down_mbps",
            phrase=lambda p: f" reaches {_thr(p)}, not gigabit",
            missing=lambda p: f"offer >= {_thr(p)}",
        ),
    ),
    floor=Floor(
        klass="grey_eligible",
        label="GREY_ELIGIBLE",
        code_below="DE_GREY_BELOW_THRESHOLD",
        code_none="DE_GREY_NO_WIRED",
        none_text="no reliable wired offer",
        below=_thr,
    ),
)

REASON_CODES: dict[str, str] = METHOD.reason_codes(
    {
        "DE_GREY_GIGABIT_EXISTING": "an existing reliable wired offer is gigabit (speed or technology)",
        "DE_GREY_GIGABIT_PLANNED": "no existing gigabit offer, but one is planned within the horizon",
        "DE_GREY_SERVED_EXISTING": "not gigabit; an existing reliable wired offer reaches the threshold (100 down)",
        "DE_GREY_SERVED_PLANNED": "not gigabit; an offer reaching the threshold is planned within the horizon",
        "DE_GREY_BELOW_THRESHOLD": "grey spot: best reliable wired offer below the threshold, none planned",
        "DE_GREY_NO_WIRED": "grey spot: no reliable wired offer and none planned",
    }
)


def offer_rules(offers: OfferArrays, profile: Profile) -> OfferRules:
    """Reliable wired offers count; rank 2 = gigabit, 1 = reaches the threshold, 0 = below."""
    return METHOD.offer_rules(offers, profile)


def decide(
    ctx: AddressContext, offers: OfferArrays, rules: OfferRules, profile: Profile
) -> Decision:
    """Class, reason code and one-line reason per address (see module docstring)."""
    return METHOD.decide(ctx, profile)
