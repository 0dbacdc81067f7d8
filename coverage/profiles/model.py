"""Profile data model: frozen dataclasses and the rule-engine registry (:data:`METHODS`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from types import MappingProxyType

#: FCC BDC fixed technology codes (0 other, 10 copper, 40 cable, 50 fibre, 60/61 GSO/NGSO
#: satellite, 70 unlicensed FW, 71 licensed FW, 72 licensed-by-rule FW).
FCC_TECHNOLOGY_CODES = frozenset({0, 10, 40, 50, 60, 61, 70, 71, 72})


@dataclass(frozen=True)
class MethodSpec:
    """What a rule engine needs from a profile."""

    thresholds: frozenset[str]
    integer_thresholds: frozenset[str]
    classes: frozenset[str]
    needs_fcc_codes: bool = False
    #: threshold keys a profile may give (a rule text version that has the test)
    optional_thresholds: frozenset[str] = frozenset()
    #: groups of threshold keys of which a profile gives exactly one
    one_of: tuple[frozenset[str], ...] = ()


#: Rule engines (``coverage.rules.<method>``) and the profile keys each one reads.
METHODS: Mapping[str, MethodSpec] = MappingProxyType(
    {
        "de_gigabit": MethodSpec(
            thresholds=frozenset(
                {
                    "gigabit_symmetric_down_mbps",
                    "gigabit_symmetric_up_mbps",
                    "black_min_networks",
                }
            ),
            integer_thresholds=frozenset({"black_min_networks"}),
            classes=frozenset({"gigabit", "black", "grey", "white"}),
            optional_thresholds=frozenset(
                {
                    "gigabit_down_mbps",
                    "nga_down_mbps",
                    "nga_more_than_down_mbps",
                    "planned_more_than_down_mbps",
                    "planned_down_mbps",
                    "planned_up_mbps",
                }
            ),
            one_of=(frozenset({"nga_down_mbps", "nga_more_than_down_mbps"}),),
        ),
        "bead": MethodSpec(
            thresholds=frozenset(
                {
                    "unserved_below_down_mbps",
                    "unserved_below_up_mbps",
                    "served_down_mbps",
                    "served_up_mbps",
                }
            ),
            integer_thresholds=frozenset(),
            classes=frozenset({"unserved", "underserved", "served"}),
            needs_fcc_codes=True,
        ),
        "de_grey": MethodSpec(
            thresholds=frozenset({"eligible_below_down_mbps", "gigabit_down_mbps"}),
            integer_thresholds=frozenset(),
            classes=frozenset({"gigabit", "served_100", "grey_eligible"}),
        ),
        "de_white": MethodSpec(
            thresholds=frozenset({"nga_down_mbps"}),
            integer_thresholds=frozenset(),
            classes=frozenset({"served", "white"}),
        ),
        "tkmv": MethodSpec(
            thresholds=frozenset({"min_down_mbps", "min_up_mbps", "max_latency_ms"}),
            integer_thresholds=frozenset(),
            classes=frozenset({"meets_minimum", "below_minimum"}),
        ),
        "eu_nga": MethodSpec(
            thresholds=frozenset({"nga_down_mbps", "black_min_networks"}),
            integer_thresholds=frozenset({"black_min_networks"}),
            classes=frozenset({"black", "grey", "white"}),
        ),
        "eu_2023": MethodSpec(
            thresholds=frozenset(
                {
                    "gigabit_down_mbps",
                    "gigabit_up_mbps",
                    "ultrafast_down_mbps",
                    "step_change_factor",
                }
            ),
            integer_thresholds=frozenset(),
            classes=frozenset({"served", "ultrafast_no_gigabit", "market_failure"}),
        ),
        "fcc_706": MethodSpec(
            thresholds=frozenset({"served_down_mbps", "served_up_mbps"}),
            integer_thresholds=frozenset(),
            classes=frozenset({"served", "unserved_100_20"}),
            needs_fcc_codes=True,
        ),
        "uk_omr": MethodSpec(
            thresholds=frozenset({"gigabit_down_mbps", "black_min_networks"}),
            integer_thresholds=frozenset({"black_min_networks"}),
            classes=frozenset({"black", "grey", "under_review", "white"}),
        ),
        "ofcom_bands": MethodSpec(
            thresholds=frozenset(
                {
                    "decent_down_mbps",
                    "decent_up_mbps",
                    "superfast_down_mbps",
                    "ultrafast_down_mbps",
                    "gigabit_down_mbps",
                }
            ),
            integer_thresholds=frozenset(),
            classes=frozenset({"gigabit", "ultrafast", "superfast", "decent", "below_decent"}),
        ),
    }
)

SITE_ACTIONS = ("eligible", "eligible_unless")


@dataclass(frozen=True)
class ClassDef:
    """One result class: machine name, human label, whether it is eligible for funding."""

    name: str
    label: str
    eligible: bool


@dataclass(frozen=True)
class SiteRule:
    """A site-type rule that can only *widen* eligibility.

    ``action = "eligible"``: addresses of these site types are always eligible.
    ``action = "eligible_unless"``: eligible unless the class is in ``unless_classes`` or any
    one existing counted offer reaches both ``unless_down_mbps`` and ``unless_up_mbps`` (Mbit/s;
    a missing speed never reaches a threshold).
    """

    id: str
    label: str
    site_types: tuple[str, ...]
    action: str
    unless_classes: tuple[str, ...] = ()
    unless_down_mbps: float | None = None
    unless_up_mbps: float | None = None
    #: ... or any existing counted offer uses one of these technologies (e.g. HFC)
    unless_technologies: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleText:
    """One rule of a profile version in plain language (English and German) and its source:
    document, section and date of the published text."""

    en: str
    de: str
    source: str
    section: str
    date: date


@dataclass(frozen=True)
class Profile:
    """A validated, immutable rule profile. Speeds in Mbit/s, latency in ms, horizon in months."""

    id: str
    version: str
    title: str
    jurisdiction: str
    source_url: str
    effective_date: date
    method: str
    description: str
    thresholds: Mapping[str, float]
    reliable_technologies: frozenset[str]
    gigabit_technologies: frozenset[str]
    fcc_codes: Mapping[str, int]
    reliable_fcc_codes: frozenset[int]
    horizon_months: int
    count_planned: bool
    networks_include_planned: bool
    network_types: Mapping[str, str]
    require_low_latency: bool
    unknown_is_low_latency: bool
    site_rules: tuple[SiteRule, ...]
    interpretations: tuple[str, ...]
    classes: tuple[ClassDef, ...]
    eligible_classes: tuple[str, ...]
    sha256: str
    path: Path
    #: Technologies presumed above any latency limit when an offer reports no ``latency_ms``
    #: (``[technologies].high_latency``; read by methods with a latency limit, e.g. ``tkmv``).
    high_latency_technologies: frozenset[str] = frozenset()
    #: Profile family (``de-gigabit``): the rule set whose dated versions this is one of.
    family: str = ""
    #: First and last day (inclusive; ``None`` = still in force) the rule text version applies.
    valid_from: date | None = None
    valid_to: date | None = None
    #: The published text this version encodes: document, section and date of the text.
    source_document: str = ""
    source_section: str = ""
    source_date: date | None = None
    #: Plain-language rules of this version, each beside its source (``[[rules]]``).
    rules: tuple[RuleText, ...] = ()
    #: How this version was chosen (``"family de-gigabit, in force on 2023-06-01"``); set by
    #: :func:`coverage.profiles.resolve_profile`, empty when the id named the version.
    selected_by: str = ""

    @property
    def validity(self) -> str:
        """``"2023-03-31 to 2024-04-29"`` / ``"from 2024-04-30"`` / ``"undated"``."""
        if self.valid_from is None:
            return "undated"
        if self.valid_to is None:
            return f"from {self.valid_from.isoformat()}"
        return f"{self.valid_from.isoformat()} to {self.valid_to.isoformat()}"

    def in_force(self, day: date) -> bool:
        """True when ``day`` falls within ``valid_from``..``valid_to`` (inclusive)."""
        if self.valid_from is None or day < self.valid_from:
            return False
        return self.valid_to is None or day <= self.valid_to

    #: German reader texts (``title_de``, ``description_de``, ``interpretations_de`` in
    #: ``[profile]``, one
    #: per interpretation); empty when the profile gives none (documents then show English).
    title_de: str = ""
    description_de: str = ""
    interpretations_de: tuple[str, ...] = ()

    @property
    def class_names(self) -> tuple[str, ...]:
        """Class names in profile order."""
        return tuple(c.name for c in self.classes)

    @property
    def class_labels(self) -> dict[str, str]:
        """Class name -> human label."""
        return {c.name: c.label for c in self.classes}

    def threshold(self, key: str) -> float:
        """One threshold value (Mbit/s, ms or a count, as the key name says)."""
        return self.thresholds[key]

    def __reduce__(self) -> tuple[object, tuple[dict[str, object]]]:
        """Pickle support (profiles travel to Dask workers): read-only mappings, which
        pickle cannot copy, travel as dicts and are made read-only again on arrival."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return _profile_from_values, (
            {k: dict(v) if isinstance(v, MappingProxyType) else v for k, v in values.items()},
        )


def _profile_from_values(values: dict[str, object]) -> Profile:
    """The profile pickled by :meth:`Profile.__reduce__`."""
    return Profile(
        **{k: MappingProxyType(v) if isinstance(v, dict) else v for k, v in values.items()}  # type: ignore[arg-type]
    )
