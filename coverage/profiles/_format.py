"""Human-readable text of one profile (``gapmap profile show ID``)."""

from __future__ import annotations

import textwrap

from coverage.profiles._rules_text import rules_lines
from coverage.profiles.model import Profile
from coverage.schema import Technology

_WIDTH = 100


def _techs(values: frozenset[str]) -> str:
    ordered = [t.value for t in Technology if t.value in values]
    return ", ".join(ordered) if ordered else "(none)"


def _wrap(text: str, indent: str = "  ", bullet: str = "") -> list[str]:
    return textwrap.wrap(
        " ".join(text.split()),
        width=_WIDTH,
        initial_indent=indent + bullet,
        subsequent_indent=indent + " " * len(bullet),
        break_on_hyphens=False,
        break_long_words=False,
    ) or [indent + bullet]


def format_profile(profile: Profile, lang: str = "en") -> str:
    """One profile as plain text: title, source, the version and its rules in plain language
    (``lang`` "en" or "de", each rule beside its source, section and date), thresholds,
    technologies, planning and network counting, classes (with eligibility), site rules,
    interpretations.

    Deterministic (no colours, no terminal width), so it can be printed, logged or diffed.
    """
    p = profile
    lines = [
        f"{p.id} {p.version}: {p.title}",
        f"  jurisdiction:   {p.jurisdiction}",
        f"  source:         {p.source_url}",
        f"  effective date: {p.effective_date.isoformat()}",
        f"  method:         {p.method}",
        f"  sha256:         {p.sha256}",
    ]
    for line in rules_lines(p, lang):
        lines += (
            _wrap(line[2:], bullet="")
            if line.startswith("  ")
            else (_wrap(line[2:], indent="", bullet="- ") if line.startswith("- ") else [line])
        )
    lines += [
        "",
        "description:",
        *_wrap(p.description),
        "",
        "thresholds:",
    ]
    width = max((len(k) for k in p.thresholds), default=0)
    for key, value in sorted(p.thresholds.items()):
        lines.append(f"  {key.ljust(width)} = {value:g}")
    lines += ["", "technologies:", f"  reliable (counted): {_techs(p.reliable_technologies)}"]
    if p.gigabit_technologies:
        lines.append(f"  gigabit:            {_techs(p.gigabit_technologies)}")
    if p.high_latency_technologies:
        lines.append(f"  high latency:       {_techs(p.high_latency_technologies)}")
    if p.reliable_fcc_codes:
        codes = ", ".join(str(c) for c in sorted(p.reliable_fcc_codes))
        lines.append(f"  FCC BDC codes:      {codes}")
    planned = (
        f"counted when available within {p.horizon_months} months of the as-of date"
        if p.count_planned
        else f"shown (within {p.horizon_months} months) but not counted"
    )
    scope = "existing and planned" if p.networks_include_planned else "existing only"
    lines += [
        "",
        "planning and networks:",
        f"  planned offers: {planned}",
        f"  networks: one per operator (normalised provider name or operator_id), {scope}",
        "  latency: "
        + ("low latency required" if p.require_low_latency else "low latency not required")
        + (
            "; unknown counts as low" if p.unknown_is_low_latency else "; unknown counts as not low"
        ),
        "",
        "classes (in profile order):",
    ]
    cwidth = max(len(c.name) for c in p.classes)
    for c in p.classes:
        mark = "eligible" if c.eligible else "not eligible"
        lines.append(f"  {c.name.ljust(cwidth)}  {mark.ljust(12)}  {c.label}")
    if p.site_rules:
        lines += ["", "site rules (widen eligibility only):"]
        for r in p.site_rules:
            if r.action == "eligible":
                what = "always eligible"
            else:
                parts = []
                if r.unless_classes:
                    parts.append("class " + " or ".join(r.unless_classes))
                if r.unless_down_mbps is not None or r.unless_up_mbps is not None:
                    down = "-" if r.unless_down_mbps is None else f"{r.unless_down_mbps:g}"
                    up = "-" if r.unless_up_mbps is None else f"{r.unless_up_mbps:g}"
                    parts.append(f"any existing offer reaches {down}/{up}")
                if r.unless_technologies:
                    parts.append("an existing offer uses " + ", ".join(r.unless_technologies))
                what = "eligible unless " + " or ".join(parts)
            lines += _wrap(
                f"{r.id}: {r.label}; site types {', '.join(r.site_types)}: {what}", bullet="- "
            )
    else:
        lines += ["", "site rules: none"]
    lines += ["", "interpretations:"]
    for text in p.interpretations:
        lines += _wrap(text, bullet="- ")
    return "\n".join(lines) + "\n"
