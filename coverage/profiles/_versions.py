"""Dated rule-text versions: the ``[profile]`` version keys, ``[[rules]]`` and the choice of
the version in force on a date.

A profile *family* (``de-gigabit``) is the set of bundled profiles whose ``[profile] family``
names it; each member is one version of the published text with ``valid_from`` / ``valid_to``
(inclusive; ``valid_to`` absent = still in force), ``source_document``, ``source_section`` and
``source_date``. :func:`pick_version` returns the member in force on a date, or raises
:class:`~coverage.errors.ProfileError` naming every member's range.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from coverage.errors import ProfileError
from coverage.profiles.model import Profile, RuleText

#: Optional ``[profile]`` keys of a dated version.
VERSION_KEYS = frozenset(
    {"family", "valid_from", "valid_to", "source_document", "source_section", "source_date"}
)

_RULE_KEYS = ("en", "de", "source", "section", "date")

Fail = Callable[[str, str], ProfileError]


def _date(fail: Fail, where: str, table: Mapping[str, Any], key: str) -> date | None:
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise fail(where, f"key {key!r} must be a TOML date (YYYY-MM-DD), got {value!r}")
    return value


def _text(fail: Fail, where: str, table: Mapping[str, Any], key: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise fail(where, f"key {key!r} must be a string, got {value!r}")
    return value.strip()


def version_fields(
    fail: Fail, meta: Mapping[str, Any], profile_id: str, rules: Any
) -> dict[str, Any]:
    """The version keys of ``[profile]`` and the ``[[rules]]`` list as Profile fields."""
    w = "[profile]"
    valid_from = _date(fail, w, meta, "valid_from")
    valid_to = _date(fail, w, meta, "valid_to")
    if valid_to is not None and (valid_from is None or valid_to < valid_from):
        raise fail(w, f"key 'valid_to' ({valid_to}) must follow 'valid_from' ({valid_from})")
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise fail("[[rules]]", "must be an array of tables")
    parsed = []
    for i, rule in enumerate(rules, start=1):
        where = f"[[rules]] #{i}"
        unknown = sorted(set(rule) - set(_RULE_KEYS))
        missing = [k for k in _RULE_KEYS if k not in rule]
        if unknown or missing:
            raise fail(
                where,
                f"needs exactly the keys {', '.join(_RULE_KEYS)} (unknown {unknown}, missing {missing})",
            )
        day = _date(fail, where, rule, "date")
        texts = {k: _text(fail, where, rule, k) for k in ("en", "de", "source", "section")}
        if not all(texts.values()):
            raise fail(where, "keys en, de, source and section must not be empty")
        assert day is not None
        parsed.append(RuleText(date=day, **texts))
    return {
        "family": _text(fail, w, meta, "family") or profile_id,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "source_document": _text(fail, w, meta, "source_document"),
        "source_section": _text(fail, w, meta, "source_section"),
        "source_date": _date(fail, w, meta, "source_date"),
        "rules": tuple(parsed),
    }


def pick_version(family: str, members: Sequence[Profile], day: date) -> Profile:
    """The member of ``family`` in force on ``day``; the chosen profile records why.

    Raises
    ------
    ProfileError
        No member covers ``day`` (the message names every member's range), or two do.
    """
    dated = sorted(
        (p for p in members if p.valid_from is not None), key=lambda p: p.valid_from or day
    )
    ranges = "; ".join(f"{p.id}: {p.validity}" for p in dated) or "none dated"
    hits = [p for p in dated if p.in_force(day)]
    if not hits:
        raise ProfileError(
            f"profile family {family!r} has no version in force on {day.isoformat()} "
            f"(versions: {ranges}); give --as-of within one of these ranges or name a version id"
        )
    if len(hits) > 1:
        raise ProfileError(
            f"profile family {family!r}: {', '.join(p.id for p in hits)} are all in force on "
            f"{day.isoformat()}; their valid_from/valid_to ranges must not overlap"
        )
    return replace(hits[0], selected_by=f"family {family}, in force on {day.isoformat()}")


def out_of_force_note(profile: Profile, day: date, members: Sequence[Profile]) -> str | None:
    """A warning when ``profile`` is a dated version that is not in force on ``day``.

    ``members`` are the versions of its family; the note names the one in force on ``day``
    (if any) and how to choose it. None when the profile is in force, undated, or was
    picked by family.
    """
    if profile.valid_from is None or profile.in_force(day) or profile.selected_by:
        return None
    current = [p for p in members if p.valid_from is not None and p.in_force(day)]
    if profile.valid_to is not None and day > profile.valid_to:
        state = f"was in force until {profile.valid_to.isoformat()}"
    else:
        state = f"comes into force on {profile.valid_from.isoformat()}"
    note = (
        f"profile {profile.id} {state}: it is not the rule text in force "
        f"on the reference date {day.isoformat()}"
    )
    if current:
        note += (
            f"; the version in force then is {current[0].id}: choose it with --profile "
            f"{profile.family} (or keep {profile.id} and set --as-of to a date it was in "
            "force to reproduce an earlier result)"
        )
    return note
