"""The BEAD challenge process as a procedure with states: windows, phases and the rules of
rebuttals and decisions. The NTIA codes are those of :mod:`coverage.mev.bead`.

Phases (BEAD Challenge Process Policy Notice, NTIA 2023: a challenge phase, then a rebuttal
phase for the challenged provider, then the Eligible Entity's final determination)::

    challenges --advance--> rebuttal --advance--> decisions --advance--> final

* challenges are filed while the process is in ``challenges``, with a challenge date inside
  the challenge window;
* the challenged provider rebuts (with a response file) or agrees while in ``rebuttal``, with
  a rebuttal date inside the rebuttal window;
* the broadband office decides every challenge while in ``decisions`` (a reason is always
  required); ``final`` needs every challenge decided, and then the submission files are
  complete.

Which disposition fits which rebuttal (NTIA's codes): no rebuttal -> ``N`` (the challenge
stands); the provider agreed -> ``A``; rebutted -> ``S`` (sustained) or ``R`` (rejected);
``I`` (incomplete) and ``M`` (moot) always.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pandas as pd

from coverage.errors import InputDataError, StateError
from coverage.mev.bead import CHALLENGER_CATEGORIES, DISPOSITIONS
from coverage.mev.bead_files import CHALLENGERS

PHASES = ("challenges", "rebuttal", "decisions", "final")
#: rebuttal kind -> dispositions it allows
ALLOWED = {None: ("N", "I", "M"), "agree": ("A", "I", "M"), "rebut": ("S", "R", "I", "M")}
REBUTTAL_KINDS = ("rebut", "agree")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\d{3}-\d{3}-\d{4}$")
PROVIDER_ID = re.compile(r"^[1-9]\d{5}$")
_ID = re.compile(r"^[A-Za-z0-9-]{1,50}$")
#: evidence and response files: NTIA names them by file name (one .zip or .pdf files)
EVIDENCE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}\.(pdf|zip)$")


@dataclass(frozen=True)
class Windows:
    """The challenge and rebuttal windows (first and last day, inclusive)."""

    challenge_start: date
    challenge_end: date
    rebuttal_start: date
    rebuttal_end: date

    def check(self) -> None:
        if self.challenge_end < self.challenge_start:
            raise InputDataError("challenge window: the end is before the start")
        if self.rebuttal_end < self.rebuttal_start:
            raise InputDataError("rebuttal window: the end is before the start")
        if self.rebuttal_start < self.challenge_start:
            raise InputDataError("rebuttal window: it starts before the challenge window")

    def notes(self) -> list[str]:
        """Warnings the office may want to see (NTIA's model: 30 days each)."""
        out = []
        for what, a, b in (("challenge", self.challenge_start, self.challenge_end),
                           ("rebuttal", self.rebuttal_start, self.rebuttal_end)):  # fmt: skip
            days = (b - a).days + 1
            if days < 30:
                out.append(f"the {what} window is {days} days; NTIA's model process allows 30")
        return out


def next_phase(state: str) -> str:
    """The phase after ``state``; StateError at the end."""
    if state not in PHASES:
        raise StateError(f"unknown phase {state!r}")
    i = PHASES.index(state)
    if i == len(PHASES) - 1:
        raise StateError("the challenge process is final; nothing follows")
    return PHASES[i + 1]


def require_phase(state: str, phase: str, what: str) -> None:
    if state != phase:
        raise StateError(f"the challenge process is in phase {state}; {what} only in phase {phase}")


def in_window(day: date, start: date, end: date, field: str) -> None:
    if not start <= day <= end:
        raise InputDataError(
            f"{field}: {day.isoformat()} lies outside the window {start.isoformat()} to "
            f"{end.isoformat()}; give a date inside it"
        )


def check_rebuttal(kind: str, response_file: str | None) -> None:
    if kind not in REBUTTAL_KINDS:
        raise InputDataError(f"rebuttal: {kind!r}; use rebut or agree")
    if kind == "rebut" and not response_file:
        raise InputDataError(
            "rebuttal: a rebuttal needs the provider's response file (.pdf or .zip)"
        )


def check_decision(disposition: str, rebuttal_kind: str | None, reason: str) -> str:
    """The disposition normalised; InputDataError when it does not fit the rebuttal."""
    d = disposition.strip().upper()
    if d not in DISPOSITIONS:
        raise InputDataError(
            f"disposition {disposition!r}: use one of "
            + ", ".join(f"{k} ({v})" for k, v in DISPOSITIONS.items())
        )
    allowed = ALLOWED[rebuttal_kind]
    if d not in allowed:
        was = {None: "was not rebutted", "agree": "was agreed by the provider",
               "rebut": "was rebutted"}[rebuttal_kind]  # fmt: skip
        raise InputDataError(f"disposition {d}: the challenge {was}; use {', '.join(allowed)}")
    if not reason or not reason.strip():
        raise InputDataError("reason: every decision needs its reason (NTIA: resolution)")
    return d


def check_evidence_name(name: str, field: str = "evidence") -> str:
    base = name.strip()
    if not EVIDENCE_NAME.match(base):
        raise InputDataError(
            f"{field}: {name!r}; NTIA names evidence by file name: letters, digits, _ and -, "
            "ending in .pdf or .zip (rename the file)"
        )
    return base


def check_challengers(frame: pd.DataFrame, *, source: str = "challengers.csv") -> pd.DataFrame:
    """Check challenger rows against NTIA's rules; returns them in NTIA's columns as text."""
    missing = [c for c in ("challenger", "category", "organization", "contact_name",
                           "contact_email") if c not in frame]  # fmt: skip
    if missing:
        raise InputDataError(f"{source}: columns {', '.join(missing)} are missing")
    out = pd.DataFrame({c: frame.get(c, "") for c in CHALLENGERS}).fillna("")
    out = out.astype(str).apply(lambda col: col.str.strip())
    problems = []
    seen: set[str] = set()
    for i, r in enumerate(out.itertuples(index=False), start=2):
        if not _ID.match(r.challenger):
            problems.append(f"row {i} field challenger: letters, digits and hyphens, at most 50")
        elif r.challenger.lower() in seen:
            problems.append(f"row {i} field challenger: {r.challenger} appears twice")
        seen.add(r.challenger.lower())
        if r.category not in CHALLENGER_CATEGORIES:
            problems.append(f"row {i} field category: {r.category!r}; use one of "
                            + ", ".join(f"{k} ({v})" for k, v in CHALLENGER_CATEGORIES.items()))  # fmt: skip
        if not r.organization:
            problems.append(f"row {i} field organization: name the organization")
        if r.webpage and not r.webpage.startswith(("http://", "https://")):
            problems.append(f"row {i} field webpage: starts with http:// or https://")
        if (r.category == "B" or r.provider_id) and not PROVIDER_ID.match(r.provider_id):
            problems.append(
                f"row {i} field provider_id: the 6-digit FCC provider id (providers need it)"
            )
        if not r.contact_name:
            problems.append(f"row {i} field contact_name: name the contact")
        if not _EMAIL.match(r.contact_email):
            problems.append(f"row {i} field contact_email: an e-mail address")
        if r.contact_phone and not _PHONE.match(r.contact_phone):
            problems.append(f"row {i} field contact_phone: write it as 123-456-7890")
    if problems:
        more = f" (and {len(problems) - 8} more)" if len(problems) > 8 else ""
        raise InputDataError(f"{source}: " + "; ".join(problems[:8]) + more)
    return out
