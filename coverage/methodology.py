"""METHODOLOGY.md of an evidence pack, and the plain-language method of the gap report.

Written for the reader, in German or English: the rule set's description and its
interpretations in the reader's language (a profile gives German texts in
``description_de``/``interpretations_de``; where it has none the English text is shown and
said to be English), thresholds with names instead of keys, technologies with names instead
of codes, counts in the reader's number format. Internal references of the profile files
(``domain 1.1``, source keys in brackets, ``UNCONFIRMED``) never reach the reader: an
unconfirmed point is stated as an interpretation in plain words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from coverage import texts
from coverage.evidence import input_provenance
from coverage.profiles import Profile

_THRESHOLDS = {
    "de": {
        "gigabit_down_mbps": "Gigabit: Download allein (Mbit/s)",
        "gigabit_symmetric_down_mbps": "Gigabit symmetrisch: Download (Mbit/s)",
        "gigabit_symmetric_up_mbps": "Gigabit symmetrisch: Upload (Mbit/s)",
        "nga_down_mbps": "NGA-Netz: mindestens Download (Mbit/s)",
        "black_min_networks": "Schwarzer Fleck ab so vielen NGA-Netzen",
        "eligible_below_down_mbps": "Aufgreifschwelle: förderfähig unter Download (Mbit/s)",
    },
    "en": {
        "gigabit_down_mbps": "Gigabit: download alone (Mbit/s)",
        "gigabit_symmetric_down_mbps": "Gigabit symmetric: download (Mbit/s)",
        "gigabit_symmetric_up_mbps": "Gigabit symmetric: upload (Mbit/s)",
        "nga_down_mbps": "NGA network: at least download (Mbit/s)",
        "black_min_networks": "Black spot from this many NGA networks",
        "eligible_below_down_mbps": "Eligible below download (Mbit/s)",
    },
}

_T = {
    "de": {
        "title": "Methodik", "scope": "Gebiet", "profile": "Regelwerk", "as_of": "Stichtag",
        "version": "Version", "valid": "gültig ab", "source": "Quelle",
        "rules": "Regeln", "thresholds": "Schwellenwerte", "tech": "Gezählte Technologien",
        "reliable": "zuverlässig", "gigabit": "gigabitfähig",
        "planning": "Planungshorizont", "latency": "Latenz", "site": "Sonderregeln für Standorte",
        "classes": "Klassen und Zählung", "interp": "Auslegungen",
        "interp_text": "Wo der Regeltext eine Frage offenlässt, legt gapmap ihn so aus:",
        "inputs": "Eingangsdaten", "rows": "Zeilen", "vintage": "Stand", "licence": "Lizenz",
        "shp": "Shapefile-Feldnamen", "synthetic": "ACHTUNG: synthetische Daten",
        "english": "(Der folgende Regeltext liegt nur auf Englisch vor.)",
        "planned_yes": "Geplanter Ausbau zählt, wenn er innerhalb von {h} Monaten ab Stichtag verfügbar ist.",
        "planned_no": "Nur bestehende Angebote bestimmen die Klasse; geplanter Ausbau wird nur angezeigt.",
        "lat_yes": "Nur Angebote mit niedriger Latenz zählen (unbekannte Latenz gilt als {u}).",
        "lat_no": "Die Latenz begrenzt die Klasse nicht.", "low": "niedrig", "high": "nicht niedrig",
        "shp_text": "dBASE erlaubt höchstens 10 Zeichen je Feldname; die Zuordnung steht in gis/shapefile/FIELDS.csv. Texte über 254 Zeichen sind gekürzt.",
        "hdr": "| Klasse | förderfähig | Adressen | Haushalte |", "yes": "ja",
        "areas": "Lückengebiete: Kosten und Rangfolge",
        "areas_text": "Kosten als Spanne (niedrig/mittel/hoch) aus dem Kostensatz `{id}` ({cur}, Preisstand {year}); jede Quelle steht in cost_sources.csv der Auswertung. Die Rangfolge der Lückengebiete ist der Screening-Wert von gapmap, nicht der amtliche Kriterienkatalog; dessen Punkte je Gemeinde stehen in project_areas.csv.",
        "kinds": {"addresses": "Adressen", "coverage": "Versorgungsgebiete", "offers": "Angebotslisten",
                  "boundaries": "Gemeindegrenzen", "population": "Bevölkerungsraster",
                  "measured": "Messdaten", "atlas": "Breitbandatlas"},
        "site_actions": {"eligible": "immer förderfähig", "eligible_unless": "förderfähig, außer wenn gut versorgt"},
    },
    "en": {
        "title": "Methodology", "scope": "Area", "profile": "Rule set", "as_of": "Reference date",
        "version": "version", "valid": "in force from", "source": "source",
        "rules": "Rules", "thresholds": "Thresholds", "tech": "Technologies counted",
        "reliable": "reliable", "gigabit": "gigabit-capable",
        "planning": "Planning horizon", "latency": "Latency", "site": "Site rules",
        "classes": "Classes and counts", "interp": "Interpretations",
        "interp_text": "Where the rule text leaves a question open, gapmap reads it as follows:",
        "inputs": "Inputs", "rows": "rows", "vintage": "vintage", "licence": "licence",
        "shp": "Shapefile field names", "synthetic": "WARNING: synthetic data", "english": "",
        "planned_yes": "Planned roll-out counts when available within {h} months of the reference date.",
        "planned_no": "Only existing offers decide the class; planned roll-out is shown only.",
        "lat_yes": "Only low-latency offers count (unknown latency counts as {u}).",
        "lat_no": "Latency does not limit the class.", "low": "low", "high": "not low",
        "shp_text": "dBASE allows at most 10 characters per field name; the mapping is in gis/shapefile/FIELDS.csv. Texts longer than 254 characters are cut.",
        "hdr": "| Class | eligible | Addresses | Households |", "yes": "yes",
        "areas": "Gap areas: costs and ranking",
        "areas_text": "Costs as a range (low/central/high) from cost set `{id}` ({cur}, {year} prices); every source is in the run's cost_sources.csv. The gap-area rank is gapmap's screening score, not the official Kriterienkatalog; its points per Gemeinde are in project_areas.csv.",
        "kinds": {},
        "site_actions": {"eligible": "always eligible", "eligible_unless": "eligible unless well served"},
    },
}  # fmt: skip

_SCOPE = {
    "de": {"gemeinde": "Gemeinde", "kreis": "Kreis", "ags": "AGS", "gap_area": "Lückengebiet",
           "run": "gesamte Auswertung"},
    "en": {"gemeinde": "Gemeinde", "kreis": "Kreis", "ags": "AGS", "gap_area": "gap area",
           "run": "whole run"},
}  # fmt: skip

_INTERNAL = [
    (re.compile(r"\s*\((?:[^()]*\bdomain\s+\d[\d.]*[^()]*)\)"), ""),  # "(domain 1.1, ...)"
    (re.compile(r",?\s*\bdomain\s+\d[\d.]*"), ""),
    (re.compile(r"\s*\[[A-Z][A-Z0-9-]+\]"), ""),  # source keys such as [LWL]
    (re.compile(r"\(\s*(?:interpretation,\s*)?UNCONFIRMED\s*\)"), "(interpretation, not confirmed by the rule text)"),
    (re.compile(r"\bUNCONFIRMED\b"), "not confirmed by the rule text"),
    (re.compile(r"\(\s*[,;]\s*"), "("),
    (re.compile(r"\s*\(\s*\)"), ""),
]  # fmt: skip


def plain(text: str) -> str:
    """A profile text without internal references (domain sections, source keys, 'UNCONFIRMED')."""
    for pattern, repl in _INTERNAL:
        text = pattern.sub(repl, text)
    return re.sub(r"\s{2,}", " ", text).strip()


def scope_text(scope: Mapping[str, str], lang: str = "en") -> str:
    """A pack's area in words, e.g. 'Gemeinde 05974044 (Warstein)'."""
    s = _SCOPE[texts.check_lang(lang)]
    kind, ident = scope.get("kind", "run"), scope.get("id", "")
    if kind == "run":
        return s["run"]
    if kind == "ags":
        kind = {8: "gemeinde", 5: "kreis"}.get(len(ident), "ags")
    name = f" ({scope['name']})" if scope.get("name") else ""
    return f"{s[kind]} {ident}{name}"


_SYNTHETIC_DE = (
    "Synthetische Demodaten: erfundene „Demo“-Betreiber und erzeugte Adressen auf echten "
    "VG250-Grenzen; keine echte Versorgung."
)
_LICENCE_DE = {
    "SYNTHETIC": "synthetisch (keine Lizenz nötig)",
    "not stated": "nicht angegeben",
    "SYNTHETIC data generated by gapmap demo; no real addresses": "von gapmap demo erzeugte synthetische Adressen; keine echten Adressen",
    "SYNTHETIC coverage of fictional 'Demo' operators": "synthetische Versorgung erfundener „Demo“-Betreiber",
    "not stated: add source and licence before publishing": "nicht angegeben: Quelle und Lizenz vor der Veröffentlichung ergänzen",
    "© GeoBasis-DE / BKG (2016), modified": "© GeoBasis-DE / BKG (2016), verändert",
}  # fmt: skip


def title(profile: Profile, lang: str) -> str:
    """The rule set's name for the reader."""
    return profile.title_de if lang == "de" and profile.title_de else profile.title


def synthetic_note(run_manifest: Mapping[str, Any], lang: str) -> str:
    """The run's synthetic-data warning in the reader's language ('' for real data)."""
    note = run_manifest.get("synthetic_data")
    if not note:
        return ""
    return _SYNTHETIC_DE if lang == "de" else str(note)


def licence_text(text: object, lang: str) -> str:
    """A licence or attribution string of :data:`coverage.evidence.LICENCES` for the reader."""
    value = str(text)
    if lang != "de":
        return value
    if value.startswith("synthetic, generated for "):
        day = pd.Timestamp(value.removeprefix("synthetic, generated for ")[:10])
        return f"synthetisch, erzeugt für den {day.strftime('%d.%m.%Y')}"
    return _LICENCE_DE.get(value, value)


def rule_texts(profile: Profile, lang: str) -> tuple[str, list[str], bool]:
    """(description, interpretations, shown in English) in the reader's language."""
    if lang == "de" and profile.description_de:
        return profile.description_de.strip(), list(profile.interpretations_de), False
    desc = plain(profile.description.strip())
    return desc, [plain(t) for t in profile.interpretations], lang == "de"


def methodology_markdown(
    profile: Profile,
    run_manifest: Mapping[str, Any],
    scope: Mapping[str, str],
    counts: pd.DataFrame,
    *,
    lang: str = "de",
    shapefile: bool = True,
) -> str:
    """METHODOLOGY.md: the profile's rules in plain language, with the counts of this pack."""
    t = _T[texts.check_lang(lang)]
    params = run_manifest.get("parameters", {})
    planned = profile.count_planned and params.get("include_planned", True)
    desc, interpretations, english = rule_texts(profile, lang)
    as_of = params.get("as_of")
    day = pd.Timestamp(as_of).strftime("%d.%m.%Y" if lang == "de" else "%Y-%m-%d") if as_of else "?"
    eff = profile.effective_date.strftime("%d.%m.%Y" if lang == "de" else "%Y-%m-%d")
    lines = [f"# {t['title']}: {title(profile, lang)}", ""]
    if run_manifest.get("synthetic_data"):
        lines += [f"**{t['synthetic']}:** {synthetic_note(run_manifest, lang)}", ""]
    lines += [
        f"- {t['scope']}: {scope_text(scope, lang)}",
        f"- {t['profile']}: {title(profile, lang)}, {t['version']} {profile.version}, {t['valid']} {eff}",
        f"- {t['source']}: {profile.source_url}",
        f"- {t['as_of']}: {day}",
        "",
        f"## {t['rules']}",
        "",
        *([t["english"], ""] if english else []),
        desc,
        "",
        f"## {t['thresholds']}",
        "",
        *[
            f"- {_THRESHOLDS[lang].get(k, k)}: {texts.number(v, lang, 0 if float(v).is_integer() else 1)}"
            for k, v in sorted(profile.thresholds.items())
        ],
        "",
        f"## {t['tech']}",
        "",
        f"- {t['reliable']}: {_techs(profile.reliable_technologies, lang)}",
    ]
    if profile.gigabit_technologies:
        lines.append(f"- {t['gigabit']}: {_techs(profile.gigabit_technologies, lang)}")
    if profile.reliable_fcc_codes:
        lines.append(f"- FCC: {', '.join(map(str, sorted(profile.reliable_fcc_codes)))}")
    unknown = t["low"] if profile.unknown_is_low_latency else t["high"]
    lines += [
        "",
        f"## {t['planning']}",
        "",
        (t["planned_yes"] if planned else t["planned_no"]).format(h=profile.horizon_months),
        "",
        f"## {t['latency']}",
        "",
        t["lat_yes"].format(u=unknown) if profile.require_low_latency else t["lat_no"],
        "",
    ]
    if profile.site_rules:
        lines += [f"## {t['site']}", ""]
        for r in profile.site_rules:
            sites = ", ".join(texts.site_label(s, lang) for s in r.site_types)
            lines.append(f"- {sites}: {t['site_actions'].get(r.action, r.action)}")
        lines.append("")
    lines += [f"## {t['classes']}", "", t["hdr"], "|---|---|---:|---:|"]
    for row in counts.itertuples(index=False):
        label = texts.class_label(row[0], lang)
        yes = t["yes"] if row[2] and row[0] not in ("eligible", "total") else ""
        lines.append(
            f"| {label} | {yes} | {texts.number(row[3], lang)} | {texts.number(row[4], lang)} |"
        )
    if interpretations:
        lines += ["", f"## {t['interp']}", "", t["interp_text"], ""]
        lines += [f"- {text}" for text in interpretations]
    costs = params.get("costs") or {}
    if costs.get("id"):
        text = t["areas_text"].format(
            id=costs["id"], cur=costs.get("currency", ""), year=costs.get("index_year", "")
        )
        lines += ["", f"## {t['areas']}", "", text]
    lines += ["", f"## {t['inputs']}", ""]
    for rec in input_provenance(run_manifest):
        kind = t["kinds"].get(rec["kind"], rec["kind"])
        rows = texts.number(rec["rows"], lang) if isinstance(rec["rows"], int | float) else "?"
        lines.append(
            f"- {kind} `{rec['name']}` ({rows} {t['rows']}, {t['vintage']} "
            f"{licence_text(rec['vintage'], lang)}): {licence_text(rec['attribution'], lang)}; "
            f"{t['licence']} {licence_text(rec['licence'], lang)}; SHA-256 `{rec['sha256']}`"
        )
    if shapefile:
        lines += ["", f"## {t['shp']}", "", t["shp_text"]]
    return "\n".join(lines) + "\n"


def _techs(codes: frozenset[str], lang: str) -> str:
    return ", ".join(texts.tech_label(c, lang) for c in sorted(codes)) or "-"
