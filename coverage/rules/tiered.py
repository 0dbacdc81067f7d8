"""One shape shared by the speed-tier methods ``de_white``, ``de_grey``, ``eu_2023`` (and the
offer side of ``eu_nga``): offers are ranked by speed tiers, an address takes the tier of its
best existing offer raised by its best planned offer within the horizon.

A :class:`TieredMethod` is the method's data: its :class:`Tier` list (best first) and a
:class:`Floor` (the class below every tier). Each profile TOML still names its own ``method``;
the method module only declares its tiers, the phrases of its reason sentences and its reason
codes, and hands ``offer_rules`` / ``decide`` to the shared code here.

Per offer (reliable technologies only, ``[technologies].reliable``; with ``require_low_latency``
a not-low-latency offer reaches no tier): an offer reaches a tier if down >= the tier's
``down_key`` threshold and (when set) up >= its ``up_key`` threshold, or (``by_technology``)
its technology is in ``[technologies].gigabit``. A missing speed fails every speed test.
Rank = number of tiers below the highest tier reached (0 = below every tier).

Reason sentences follow one pattern, so every method reads the same way::

    LABEL: existing <offer><phrase>[; <why no higher tier is planned>]
    LABEL: planned <offer> from <date> (within N months)<phrase>; best existing <offer>
    FLOOR: best existing <offer> below <floor threshold>; <why nothing is planned>
    FLOOR: no reliable ... offer; <why nothing is planned>
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
    level_with_plans,
    planned_note,
    reliable_offers,
)

#: A phrase of a reason sentence, computed from the profile's thresholds.
Phrase = Callable[[Profile], str]


@dataclass(frozen=True)
class Tier:
    """One speed tier: the class it gives and how an offer reaches it.

    ``phrase``: text after the offer in the reason (``" is gigabit (>= 1000 down)"``).
    ``missing``: what the planned-note names when an address stays below this tier
    (``"gigabit"`` -> ``"no gigabit planned within 36 months"``).
    """

    klass: str
    label: str
    code_existing: str
    code_planned: str
    down_key: str
    phrase: Phrase
    missing: Phrase
    up_key: str | None = None
    by_technology: bool = False

    def reached(self, offers: OfferArrays, profile: Profile, usable: np.ndarray) -> np.ndarray:
        """Offers that reach this tier (missing speeds fail)."""
        t = profile.thresholds
        with np.errstate(invalid="ignore"):
            ok = offers.down >= t[self.down_key]
            if self.up_key is not None:
                ok &= offers.up >= t[self.up_key]
        if self.by_technology:
            ok = ok | offers.tech_in(profile.gigabit_technologies)
        return usable & ok


@dataclass(frozen=True)
class Floor:
    """The class below every tier: codes with / without a counted existing offer, the label,
    the text for "no counted offer" and the threshold phrase named by ``below``."""

    klass: str
    label: str
    code_below: str
    code_none: str
    none_text: str
    below: Phrase


@dataclass(frozen=True)
class TieredMethod:
    """A speed-tier method: ``tiers`` best first, then the ``floor``."""

    tiers: tuple[Tier, ...]
    floor: Floor

    @property
    def classes(self) -> np.ndarray:
        """Class names indexed by rank (0 = floor)."""
        return np.array([self.floor.klass, *(t.klass for t in reversed(self.tiers))], dtype=object)

    def offer_rules(self, offers: OfferArrays, profile: Profile) -> OfferRules:
        """Reliable offers count; rank = the highest tier reached (0 = below every tier)."""
        counted, usable = reliable_offers(offers, profile)
        rank = np.zeros(offers.n, dtype=np.int8)
        any_tier = np.zeros(offers.n, dtype=bool)
        for i, tier in enumerate(reversed(self.tiers), start=1):
            hit = tier.reached(offers, profile, usable)
            rank[hit] = i
            any_tier |= hit
        return OfferRules(
            counted=counted,
            rank=rank,
            network_ok=any_tier,
            network_type=offers.tech_map(profile.network_types, None),
        )

    def decide(self, ctx: AddressContext, profile: Profile) -> Decision:
        """Class, reason code and one-line reason per address (see module docstring)."""
        n, h = ctx.n, profile.horizon_months
        level, by_plan = level_with_plans(ctx, profile.count_planned)
        klass = self.classes[np.maximum(level, 0)]
        has_best = ctx.best >= 0
        best = best_or(ctx, "best existing ", self.floor.none_text)
        plan: list[Part] = [
            "planned ",
            ctx.planned_text,
            " from ",
            ctx.planned_date,
            f" (within {h} months)",
        ]
        conds: list[np.ndarray] = []
        codes: list[str] = []
        cases: list[tuple[np.ndarray, list[Part]]] = []
        top = len(self.tiers)
        for i, tier in enumerate(self.tiers):
            at = level == top - i
            phrase = tier.phrase(profile)
            conds += [at & ~by_plan, at]
            codes += [tier.code_existing, tier.code_planned]
            existing: list[Part] = [f"{tier.label}: existing ", ctx.best_text, phrase]
            if i > 0:
                above = self.tiers[i - 1].missing(profile)
                existing.append(f"; {planned_note(ctx, profile.count_planned, h, above)}")
            cases += [
                (at & ~by_plan, existing),
                (at, [f"{tier.label}: ", *plan, f"{phrase}; ", best]),
            ]
        note = planned_note(ctx, profile.count_planned, h, self.tiers[-1].missing(profile))
        fl = self.floor
        cases.append((has_best, [f"{fl.label}: ", best, f" below {fl.below(profile)}; {note}"]))
        code = np.select([*conds, has_best], [*codes, fl.code_below], fl.code_none).astype(object)
        reason = compose(n, cases, f"{fl.label}: {fl.none_text}; {note}")
        return Decision(klass=klass, reason_code=code, reason=reason)

    def reason_codes(self, texts: dict[str, str]) -> dict[str, str]:
        """``texts`` checked to name exactly the codes this method emits."""
        emitted = {c for t in self.tiers for c in (t.code_existing, t.code_planned)}
        emitted |= {self.floor.code_below, self.floor.code_none}
        if set(texts) != emitted:
            raise ValueError(f"reason codes {sorted(texts)} != emitted {sorted(emitted)}")
        return texts
