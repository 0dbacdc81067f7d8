"""Rule engines, one module per profile ``method``.

Each module exposes ``REASON_CODES`` (code -> description), ``offer_rules(offers, profile)``
(per-offer decisions) and ``decide(ctx, offers, rules, profile)`` (per-address class, reason
code and reason). :data:`ENGINES` maps a profile's ``method`` to its module.
"""

from __future__ import annotations

from types import MappingProxyType, ModuleType

from coverage.rules import bead, de_gigabit

ENGINES: MappingProxyType[str, ModuleType] = MappingProxyType(
    {"de_gigabit": de_gigabit, "bead": bead}
)

__all__ = ["ENGINES"]
