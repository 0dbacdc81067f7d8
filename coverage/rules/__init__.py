"""Rule engines, one module per profile ``method``.

Each module exposes ``REASON_CODES`` (code -> description), ``offer_rules(offers, profile)``
(per-offer decisions) and ``decide(ctx, offers, rules, profile)`` (per-address class, reason
code and reason). :data:`ENGINES` maps a profile's ``method`` to its module; reason codes are
unique across modules (``coverage.classify.REASON_CODES`` merges them).

| method | module | profiles |
|---|---|---|
| ``de_gigabit`` | :mod:`.de_gigabit` | de-gigabit-2023 |
| ``de_grey`` | :mod:`.de_grey` | de-grey-2021 |
| ``de_white`` | :mod:`.de_white` | de-white-nga |
| ``tkmv`` | :mod:`.tkmv` | de-tkmv-2022 |
| ``eu_nga`` | :mod:`.eu_nga` | eu-nga-2013 |
| ``eu_2023`` | :mod:`.eu_2023` | eu-2023 |
| ``bead`` | :mod:`.bead` | us-bead-2022 |
| ``fcc_706`` | :mod:`.fcc_706` | us-fcc-706-2024 |
| ``uk_omr`` | :mod:`.uk_omr` | uk-gigabit-omr |
| ``ofcom_bands`` | :mod:`.ofcom_bands` | uk-ofcom-bands |

``de_white``, ``de_grey`` and ``eu_2023`` are speed-tier methods: each module only declares its
tiers and reason phrases for the shared :class:`~coverage.rules.tiered.TieredMethod`
(``eu_nga`` ranks offers with the ``de_white`` NGA tier and classifies by network counts).

``networks_now`` / ``networks_planned`` count the distinct operators (:mod:`.operators`) whose networks an
engine marks ``network_ok``: NGA (de_gigabit, de_white, eu_nga), >= threshold or gigabit
(de_grey), ultrafast or 1000/150 (eu_2023), gigabit-capable (uk_omr), decent (ofcom_bands),
meeting the minimum (tkmv), BEAD level >= 1 (bead), meeting the benchmark (fcc_706). Only
de_gigabit, eu_nga and uk_omr classify by these counts.
"""

from __future__ import annotations

from types import MappingProxyType, ModuleType

from coverage.rules import (
    bead,
    de_gigabit,
    de_grey,
    de_white,
    eu_2023,
    eu_nga,
    fcc_706,
    ofcom_bands,
    tkmv,
    uk_omr,
)

ENGINES: MappingProxyType[str, ModuleType] = MappingProxyType(
    {
        "de_gigabit": de_gigabit,
        "bead": bead,
        "de_grey": de_grey,
        "de_white": de_white,
        "tkmv": tkmv,
        "eu_nga": eu_nga,
        "eu_2023": eu_2023,
        "fcc_706": fcc_706,
        "uk_omr": uk_omr,
        "ofcom_bands": ofcom_bands,
    }
)

__all__ = ["ENGINES"]
