"""Rule profiles: versioned TOML package data loaded into frozen dataclasses.

A profile is data, not code: every threshold, technology list, horizon and class of a funding
rule set lives in one TOML file next to this module. The ``method`` names the rule engine in
``coverage.rules`` that interprets it; :data:`METHODS` says which threshold keys and classes each
engine needs, so a new profile for an existing method needs no code, and a new method needs one
entry here plus one module in ``coverage.rules``.

TOML layout (all tables required unless marked optional)::

    [profile]       id, version, title, jurisdiction, source_url, effective_date (date),
                    method, description, interpretations (list of str)
    [thresholds]    method-specific numbers >= 0 (Mbit/s, ms, network counts)
    [technologies]  reliable (list), gigabit (list, optional), high_latency (list, optional:
                    presumed above a latency limit when latency_ms is missing), fcc_codes
                    (table technology -> FCC BDC code, optional), reliable_fcc_codes (list,
                    optional)
    [planning]      horizon_months (int >= 0), count_planned (bool)
    [networks]      include_planned (bool), types (table technology -> network type, optional)
    [latency]       require_low_latency (bool), unknown_is_low_latency (bool)
    [[classes]]     name, label, eligible (bool)              -- ordered
    [[site_rules]]  id, label, site_types, action ("eligible" | "eligible_unless"),
                    unless_classes, unless_down_mbps, unless_up_mbps   (optional table array)

Every problem raises :class:`~coverage.errors.ProfileError` naming the file and the key.

Bundled profiles (method in brackets; see ``coverage.rules``): de-gigabit-2023 [de_gigabit],
de-grey-2021 [de_grey], de-white-nga [de_white], de-tkmv-2022 [tkmv], eu-nga-2013 [eu_nga],
eu-2023 [eu_2023], us-bead-2022 [bead], us-fcc-706-2024 [fcc_706], uk-gigabit-omr [uk_omr],
uk-ofcom-bands [ofcom_bands]. Classes are listed best served first (``coverage.diff`` reads the
order as a ranking), except us-bead-2022, which lists them least served first.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path

from coverage.errors import NotFoundError
from coverage.profiles._format import format_profile
from coverage.profiles._toml import parse_profile
from coverage.profiles._versions import out_of_force_note, pick_version
from coverage.profiles.model import (
    FCC_TECHNOLOGY_CODES,
    METHODS,
    ClassDef,
    MethodSpec,
    Profile,
    RuleText,
    SiteRule,
)

__all__ = [
    "FCC_TECHNOLOGY_CODES",
    "METHODS",
    "ClassDef",
    "MethodSpec",
    "Profile",
    "RuleText",
    "SiteRule",
    "families",
    "format_profile",
    "list_profiles",
    "load_profile",
    "version_warning",
]


# --------------------------------------------------------------------------------------------
# public API


def _bundled() -> dict[str, Path]:
    root = resources.files(__name__)
    return {
        Path(entry.name).stem: Path(str(entry))
        for entry in root.iterdir()
        if entry.name.endswith(".toml")
    }


def families() -> dict[str, list[Profile]]:
    """Bundled profiles by family id (``de-gigabit`` -> its dated versions, oldest first)."""
    out: dict[str, list[Profile]] = {}
    for p in list_profiles():
        out.setdefault(p.family, []).append(p)
    for members in out.values():
        members.sort(key=lambda p: (p.valid_from or date.min, p.id))
    return out


def load_profile(id_or_path: str | Path, as_of: date | None = None) -> Profile:
    """Load and validate a profile.

    Parameters
    ----------
    id_or_path
        A bundled profile id (``"de-gigabit-2023"``), a family id (``"de-gigabit"``: the
        version in force on ``as_of``, today when not given), or the path of a user TOML file
        (a :class:`~pathlib.Path`, or a string ending in ``.toml`` or containing a path
        separator).
    as_of
        Reference date choosing a family's version; ignored for a version id or a file.

    Returns
    -------
    Profile
        Frozen; ``sha256`` is the hash of the file's bytes, for the run manifest.

    Raises
    ------
    NotFoundError
        Unknown id (the message lists the bundled ids and families) or a missing file.
    ProfileError
        A family without a version in force on ``as_of`` (the message names the ranges).
        Malformed TOML, unknown or missing keys, wrong types, negative thresholds, unknown
        technologies, site types or classes; the message names the file and the key.
    """
    text = str(id_or_path)
    is_path = isinstance(id_or_path, Path) or text.endswith(".toml") or "/" in text or "\\" in text
    if is_path:
        path = Path(id_or_path)
        if not path.is_file():
            raise NotFoundError(
                f"profile file {path} does not exist; give a bundled id or a TOML path"
            )
    else:
        bundled = _bundled()
        if text not in bundled:
            fams = families()
            fam_ids = sorted(f for f in fams if f not in bundled)
            if text in fam_ids:
                return pick_version(text, fams[text], as_of or date.today())
            raise NotFoundError(
                f"unknown profile {text!r}; known profiles: {', '.join(sorted(bundled))}; "
                f"families (version chosen by --as-of): {', '.join(fam_ids)}"
            )
        path = bundled[text]
    return parse_profile(path.read_bytes(), path)


def list_profiles() -> list[Profile]:
    """All bundled profiles, sorted by id."""
    return [load_profile(p) for _, p in sorted(_bundled().items())]


def version_warning(profile: Profile, day: date) -> str | None:
    """A warning for a run whose named profile version is not in force on ``day`` (a
    superseded text such as ``de-gigabit-2023`` on a date in 2026), naming the version in
    force and how to choose it; None when it is in force, undated or chosen by family."""
    if not profile.family:
        return out_of_force_note(profile, day, ())
    return out_of_force_note(profile, day, families().get(profile.family, ()))
