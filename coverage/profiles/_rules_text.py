"""The rules of a profile version in plain language, in English or German, each beside its
source, section and date: the block ``gapmap profile show ID --lang`` prints and the table
``docs/rules.md`` is generated from (:func:`rules_markdown`)."""

from __future__ import annotations

from coverage.profiles.model import Profile

LANGS = ("en", "de")

_WORDS = {
    "en": {
        "version": "version",
        "family": "family",
        "valid": "in force",
        "from": "from",
        "to": "to",
        "undated": "undated",
        "text": "text",
        "section": "section",
        "date": "date",
        "rules": "rules (plain language, with source, section and date of the text)",
        "none": "no rule texts recorded",
        "rule": "Rule",
        "source": "Source",
        "interpretations": "Interpretations",
    },
    "de": {
        "version": "Fassung",
        "family": "Regelwerk",
        "valid": "gültig",
        "from": "ab",
        "to": "bis",
        "undated": "ohne Datum",
        "text": "Text",
        "section": "Abschnitt",
        "date": "Datum",
        "rules": "Regeln (in einfachen Worten, mit Quelle, Abschnitt und Datum des Textes)",
        "none": "keine Regeltexte hinterlegt",
        "rule": "Regel",
        "source": "Quelle",
        "interpretations": "Auslegungen",
    },
}


def _check(lang: str) -> dict[str, str]:
    if lang not in _WORDS:
        raise ValueError(f"unknown language {lang!r}; use {' or '.join(LANGS)}")
    return _WORDS[lang]


def validity(profile: Profile, lang: str = "en") -> str:
    """``"from 2024-04-30"`` / ``"ab 2024-04-30"`` / ``"2023-03-31 to 2024-04-29"``."""
    w = _check(lang)
    if profile.valid_from is None:
        return w["undated"]
    start = profile.valid_from.isoformat()
    if profile.valid_to is None:
        return f"{w['from']} {start}"
    return f"{start} {w['to']} {profile.valid_to.isoformat()}"


def rules_lines(profile: Profile, lang: str = "en") -> list[str]:
    """The version block and one bullet per rule (plain text, no wrapping)."""
    w = _check(lang)
    p = profile
    lines = [
        f"  {w['version']}: {p.id} ({w['family']} {p.family}; {w['valid']} {validity(p, lang)})",
    ]
    if p.source_document:
        src = p.source_document
        if p.source_section:
            src += f"; {w['section']} {p.source_section}"
        if p.source_date:
            src += f"; {w['date']} {p.source_date.isoformat()}"
        lines.append(f"  {w['text']}: {src}")
    if p.selected_by:
        lines.append(f"  ({p.selected_by})")
    lines += ["", f"{w['rules']}:"]
    if not p.rules:
        lines.append(f"  {w['none']}")
    for r in p.rules:
        text = r.de if lang == "de" else r.en
        lines.append(f"- {text}")
        lines.append(f"  [{r.source}; {r.section}; {r.date.isoformat()}]")
    return lines


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def rules_markdown(profiles: list[Profile]) -> str:
    """``docs/rules.md``: every profile version, every rule in English and German beside its
    source, section and date, then the version's interpretations."""
    out = [
        "# Rules of every profile version",
        "",
        (
            "Generated from the profile files in `coverage/profiles/` (`python -m "
            "coverage.profiles.rules_doc > docs/rules.md`; a test keeps this file equal to the "
            "profiles). `gapmap profile show ID --lang de|en` prints the same for one version. "
            "A family id (`de-gigabit`, `de-tkmv`, `us-bead`) with `--as-of DATE` picks the "
            "version in force on that date."
        ),
        "",
    ]
    for p in profiles:
        out += [
            f"## {p.id} ({p.family}, {validity(p, 'en')})",
            "",
            f"{p.title}",
            "",
            f"- Text: {p.source_document or p.source_url}",
            f"- Section: {p.source_section or '-'}",
            f"- Date of the text: {p.source_date.isoformat() if p.source_date else '-'}",
            (
                f"- Method: `{p.method}`; classes: {', '.join(p.class_names)}; eligible: "
                f"{', '.join(p.eligible_classes)}"
            ),
            "",
            "| Rule (English) | Regel (Deutsch) | Source | Section | Date |",
            "|---|---|---|---|---|",
        ]
        for r in p.rules:
            out.append(
                f"| {_cell(r.en)} | {_cell(r.de)} | {_cell(r.source)} | {_cell(r.section)} "
                f"| {r.date.isoformat()} |"
            )
        out += ["", "Interpretations (stated in plain words where the text leaves a choice):", ""]
        out += [f"- {_cell(i)}" for i in p.interpretations]
        if p.interpretations_de:
            out += ["", "Auslegungen (wo der Text eine Wahl lässt, in einfachen Worten):", ""]
            out += [f"- {_cell(i)}" for i in p.interpretations_de]
        out.append("")
    return "\n".join(out)
