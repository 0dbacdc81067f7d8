"""A Markterkundungsverfahren (MEV) as data: its settings, date checks and states.

Nr. 5.5 Gigabit-RL 2.0 (as summarised in docs/mev.md): before applying for funding a
Gebietskoerperschaft publishes its project area and addresses for at least eight weeks, after a
Branchendialog whose result is not older than six months; operators report per address what
they supply today and what they will build privately within the horizon (at least three
years). The minimum period and the Branchendialog age are checked here as *warnings*, not
errors: the Projekttraeger decides, and a shorter period may have been agreed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from coverage.errors import InputDataError, StateError

#: Nr. 5.5 Gigabit-RL 2.0: the MEV runs at least eight weeks
MIN_PERIOD = timedelta(weeks=8)
#: Nr. 5.5 Gigabit-RL 2.0: the Branchendialog result is not older than six months at the start
MAX_BRANCHENDIALOG_MONTHS = 6
#: the horizon an operator's planned build is asked for: at least three years (36 months)
MIN_HORIZON_MONTHS = 36

STATES = ("draft", "published", "closed", "result")
#: action -> (state it needs, state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "publish": (("draft",), "published"),
    "close": (("published",), "closed"),
    "result": (("closed", "result"), "result"),
    "reopen": (("closed",), "published"),
}
_AGS = re.compile(r"^\d{8}$")


@dataclass(frozen=True)
class MevSpec:
    """What an MEV is about. ``area_ags`` (Gemeinde keys) or ``area_wkt`` (a polygon in the
    working CRS) names the project area; ``stichtag`` is the reference date of the result
    (default: the end date)."""

    name: str
    start: date
    end: date
    profile: str = "de-gigabit"
    horizon_months: int = MIN_HORIZON_MONTHS
    branchendialog: date | None = None
    area_ags: tuple[str, ...] = ()
    area_wkt: str | None = None
    stichtag: date | None = None
    region: str = "de"
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def reference_date(self) -> date:
        """The date the result is classified on (Stichtag)."""
        return self.stichtag or self.end

    @property
    def horizon_end(self) -> date:
        """Last date a planned build may name to count (Stichtag + horizon)."""
        return add_months(self.reference_date, self.horizon_months)


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months (the last day of a shorter month when needed)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def check_spec(spec: MevSpec) -> list[str]:
    """Raise InputDataError for settings that cannot work; return warnings (German) for
    settings the Richtlinie does not foresee."""
    if not spec.name.strip():
        raise InputDataError("name: the MEV needs a name (e.g. 'MEV Warstein 2026')")
    if bool(spec.area_ags) == bool(spec.area_wkt):
        raise InputDataError(
            "project area: give either Gemeinde keys (ags, 8 digits each) or a polygon (area), not both"
        )
    bad = [a for a in spec.area_ags if not _AGS.match(a)]
    if bad:
        raise InputDataError(
            f"project area: {', '.join(bad)} is not an 8-digit Gemeinde key (AGS), e.g. 05974044"
        )
    if spec.end <= spec.start:
        raise InputDataError(
            f"end date {spec.end} is not after the start date {spec.start}; give a later end date"
        )
    if spec.horizon_months < 1:
        raise InputDataError("horizon_months: give at least one month")
    warnings = []
    if spec.end - spec.start < MIN_PERIOD:
        weeks = f"{(spec.end - spec.start).days / 7:.1f}".replace(".", ",")  # German decimal
        warnings.append(
            f"Die Frist von {weeks} Wochen ist kürzer als die Mindestdauer von acht Wochen "
            "(Nr. 5.5 Gigabit-RL 2.0)."
        )
    if spec.branchendialog is None:
        warnings.append("Kein Datum des Branchendialogs angegeben.")
    elif add_months(spec.branchendialog, MAX_BRANCHENDIALOG_MONTHS) < spec.start:
        warnings.append(
            f"Das Ergebnis des Branchendialogs vom {spec.branchendialog:%d.%m.%Y} ist zum Beginn "
            f"am {spec.start:%d.%m.%Y} älter als sechs Monate (Nr. 5.5 Gigabit-RL 2.0)."
        )
    if spec.branchendialog is not None and spec.branchendialog > spec.start:
        warnings.append(
            f"Der Branchendialog ({spec.branchendialog:%d.%m.%Y}) liegt nach dem Beginn "
            f"({spec.start:%d.%m.%Y})."
        )
    if spec.horizon_months < MIN_HORIZON_MONTHS:
        warnings.append(
            f"Der Zeithorizont von {spec.horizon_months} Monaten ist kürzer als drei Jahre."
        )
    return warnings


def next_state(state: str, action: str) -> str:
    """The state after ``action``; InputDataError naming the allowed actions otherwise."""
    if action not in TRANSITIONS:
        raise InputDataError(f"unknown action {action!r}; use one of {', '.join(TRANSITIONS)}")
    needs, leads = TRANSITIONS[action]
    if state not in needs:
        allowed = [a for a, (n, _) in TRANSITIONS.items() if state in n]
        raise StateError(
            f"the MEV is {state}; '{action}' needs it {' or '.join(needs)}"
            + (f" (possible now: {', '.join(allowed)})" if allowed else "")
        )
    return leads


def accepts_replies(state: str) -> bool:
    """Replies may be uploaded while the MEV is published (late replies: reopen first)."""
    return state == "published"


def with_dates(spec: MevSpec, **changes: date | None) -> MevSpec:
    """A copy with changed dates (the catalog stores a new spec for every change)."""
    return replace(spec, **changes)
