"""Weiße Flecken under the NGA-Rahmenregelung (method ``de_white``): served / white.

A one-tier :class:`~coverage.rules.tiered.TieredMethod`. Per offer: *NGA* if its technology
is reliable (``[technologies].reliable``, wired) and down >= ``nga_down_mbps`` (a missing
download fails); with ``require_low_latency`` a not-low-latency offer is never NGA.

Per address: served if the best existing reliable offer is NGA, or (``count_planned``) an NGA
offer is planned within the horizon; otherwise white (eligible).
"""

from __future__ import annotations

from coverage.profiles import Profile
from coverage.rules.common import AddressContext, Decision, OfferArrays, OfferRules, g
from coverage.rules.tiered import Floor, Tier, TieredMethod


def _nga(p: Profile) -> str:
    return f"{g(p.threshold('nga_down_mbps'))} down"


#: The NGA tier, shared with ``eu_nga`` (which classifies by network counts instead).
NGA_TIER = Tier(
    klass="served",
    label="SERVED",
    code_existing="DE_WHITE_SERVED_EXISTING",
    code_planned="DE_WHITE_SERVED_PLANNED",
    down_key="nga_down_mbps",
    phrase=lambda p: f" reaches {_nga(p)}",
    missing=lambda p: f"offer >= {_nga(p)}",
)

METHOD = TieredMethod(
    tiers=(NGA_TIER,),
    floor=Floor(
        klass="white",
        label="WHITE",
        code_below="DE_WHITE_BELOW_NGA",
        code_none="DE_WHITE_NO_WIRED",
        none_text="no reliable wired offer",
        below=_nga,
    ),
)

REASON_CODES: dict[str, str] = METHOD.reason_codes(
    {
        "DE_WHITE_SERVED_EXISTING": "an existing reliable wired offer reaches nga_down_mbps (30)",
        "DE_WHITE_SERVED_PLANNED": "no existing NGA offer, but one is planned within the horizon",
        "DE_WHITE_BELOW_NGA": "white: reliable wired offers exist, all below nga_down_mbps, none planned",
        "DE_WHITE_NO_WIRED": "white: no reliable wired offer and none planned",
    }
)


def offer_rules(offers: OfferArrays, profile: Profile) -> OfferRules:
    """Reliable wired offers count; rank 1 = NGA, 0 = below."""
    return METHOD.offer_rules(offers, profile)


def decide(
    ctx: AddressContext, offers: OfferArrays, rules: OfferRules, profile: Profile
) -> Decision:
    """Class, reason code and one-line reason per address (see module docstring)."""
    return METHOD.decide(ctx, profile)
