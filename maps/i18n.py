"""German and English labels for the maps, and number formatting per language.

Every label here is plain text; the callers escape it before it reaches HTML.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from typing import Any

from coverage.errors import GapmapError
from coverage.profiles import load_profile

LANGS = ("de", "en")

_LABELS: dict[str, dict[str, str]] = {
    "de": {
        "eligible_share": "Förderfähige Adressen je Gemeinde",
        "rural_gap_share": "Ländliche Versorgungslücken je Gemeinde",
        "gap_areas": "Lückengebiete (Cluster)",
        "addresses": "Adressen nach Klasse",
        "grid_cells": "Adressen nach Klasse (Rasterzellen {res})",
        "coverage": "Versorgung: {tech}",
        "degurba": "Verstädterungsgrad (DEGURBA, 1-km-Raster)",
        "focal_points": "Schulen und Krankenhäuser",
        "kreis_outline": "Kreisgrenzen",
        "no_basemap": "Kein Hintergrund",
        "osm": "OpenStreetMap (online)",
        "search": "Gemeinde suchen …",
        "gemeinde": "Gemeinde",
        "kreis": "Kreis",
        "ags": "AGS",
        "n_addresses": "Adressen",
        "households": "Haushalte",
        "eligible": "förderfähig",
        "rural_gap": "ländliche Lücken",
        "focal": "Schwerpunkte (Schulen, Krankenhäuser, Gewerbe)",
        "cost_per_address": "Kosten je Adresse",
        "cost_per_connection": "Kosten je Anschluss (Spanne)",
        "priority": "Screening-Wert von gapmap (Rang; nicht amtlich)",
        "remainder": "Streulage (unter der Mindestgröße, ohne Rang)",
        "area": "Gebiet",
        "distance_to_served": "Abstand zum Gigabit-Netz",
        "class": "Klasse",
        "provider": "Betreiber",
        "technology": "Technologie",
        "down": "Download",
        "existing_offer": "bestes Angebot heute",
        "planned_offer": "bestes geplantes Angebot",
        "reason": "Begründung",
        "from": "ab",
        "status": "Status",
        "existing": "bestehend",
        "planned": "geplant",
        "none": "keine",
        "suppressed": "ausgeblendet: weniger als 3 Adressen in der Zelle",
        "suppressed_legend": "ausgeblendet (kleine Zahlen, siehe Popup)",
        "suppressed_parts": "Aufteilung nach Klassen ausgeblendet (eine Klasse hätte 1–2 Adressen oder ließe sich daraus errechnen)",
        "cell": "Rasterzelle",
        "population": "Einwohner (geschätzt)",
        "degurba_cell_3": "Städtisches Zentrum (Zelle 3)",
        "degurba_cell_2": "Urbaner Cluster (Zelle 2)",
        "degurba_cell_1": "Ländliche Rasterzelle (Zelle 1)",
        "degurba_cell_0": "unbekannt (Zelle 0)",
        "school": "Schule",
        "hospital": "Krankenhaus",
        "site": "Standort",
        "title": "Breitband-Versorgungslücken",
        "profile": "Regelwerk",
        "as_of": "Stichtag",
        "bkg": "Verwaltungsgrenzen © GeoBasis-DE / BKG (2016), dl-de/by-2-0",
        "geonames": "Orte: GeoNames, CC BY 4.0",
        "gapmap": "Analyse: gapmap",
        "synthetic": "Synthetische Demodaten – keine echte Versorgung",
        "priority_legend": "Screening-Wert von gapmap (nicht der amtliche Kriterienkatalog)",
        "legend": "Legende",
        "scale": "Maßstab",
        "north": "N",
        "overview_title": "Förderfähige Adressen und Lückengebiete",
    },
    "en": {
        "eligible_share": "Eligible addresses per Gemeinde",
        "rural_gap_share": "Rural coverage gaps per Gemeinde",
        "gap_areas": "Gap areas (clusters)",
        "addresses": "Addresses by class",
        "grid_cells": "Addresses by class (grid cells {res})",
        "coverage": "Coverage: {tech}",
        "degurba": "Degree of urbanisation (DEGURBA, 1 km grid)",
        "focal_points": "Schools and hospitals",
        "kreis_outline": "Kreis boundaries",
        "no_basemap": "No basemap",
        "osm": "OpenStreetMap (online)",
        "search": "Find a Gemeinde …",
        "gemeinde": "Gemeinde",
        "kreis": "Kreis",
        "ags": "AGS",
        "n_addresses": "Addresses",
        "households": "Households",
        "eligible": "eligible",
        "rural_gap": "rural gaps",
        "focal": "Focal points (schools, hospitals, businesses)",
        "cost_per_address": "Cost per address",
        "cost_per_connection": "Cost per connection (range)",
        "priority": "gapmap screening score (rank; not official)",
        "remainder": "Scattered remainder (below the minimum area, not ranked)",
        "area": "Area",
        "distance_to_served": "Distance to a gigabit network",
        "class": "Class",
        "provider": "Operator",
        "technology": "Technology",
        "down": "Download",
        "existing_offer": "best offer today",
        "planned_offer": "best planned offer",
        "reason": "Reason",
        "from": "from",
        "status": "Status",
        "existing": "existing",
        "planned": "planned",
        "none": "none",
        "suppressed": "hidden: fewer than 3 addresses in the cell",
        "suppressed_legend": "hidden (small counts, see popup)",
        "suppressed_parts": "split by class hidden (a class would show 1–2 addresses or let one be recomputed)",
        "cell": "Grid cell",
        "population": "Population (estimated)",
        "degurba_cell_3": "Urban centre (cell 3)",
        "degurba_cell_2": "Urban cluster (cell 2)",
        "degurba_cell_1": "Rural grid cell (cell 1)",
        "degurba_cell_0": "unknown (cell 0)",
        "school": "School",
        "hospital": "Hospital",
        "site": "Site",
        "title": "Broadband coverage gaps",
        "profile": "Rule set",
        "as_of": "Reference date",
        "bkg": "Boundaries © GeoBasis-DE / BKG (2016), dl-de/by-2-0",
        "geonames": "Places: GeoNames, CC BY 4.0",
        "gapmap": "Analysis: gapmap",
        "synthetic": "Synthetic demo data – not real coverage",
        "priority_legend": "gapmap screening score (not the official ranking)",
        "legend": "Legend",
        "scale": "Scale",
        "north": "N",
        "overview_title": "Eligible addresses and gap areas",
    },
}

_CLASSES: dict[str, dict[str, str]] = {
    "de": {
        "gigabit": "Gigabit",
        "black": "schwarz (≥ 2 Netze)",
        "grey": "grau (1 Netz)",
        "white": "weiß (0 Netze)",
        "served": "versorgt",
        "underserved": "unterversorgt",
        "unserved": "unversorgt",
    },
    "en": {
        "gigabit": "gigabit",
        "black": "black (≥ 2 networks)",
        "grey": "grey (1 network)",
        "white": "white (0 networks)",
        "served": "served",
        "underserved": "underserved",
        "unserved": "unserved",
    },
}

_TECH: dict[str, dict[str, str]] = {
    "de": {
        "ftth": "Glasfaser (FTTH)",
        "fwa_licensed": "Funk (FWA)",
        "satellite_geo": "Satellit (GEO)",
    },
    "en": {
        "ftth": "Fibre (FTTH)",
        "fwa_licensed": "Fixed wireless (FWA)",
        "satellite_geo": "Satellite (GEO)",
    },
}
_TECH_COMMON = {
    "hfc_docsis31": "HFC DOCSIS 3.1",
    "hfc_docsis30": "HFC DOCSIS 3.0",
    "vdsl": "VDSL",
    "adsl": "ADSL",
    "fttb": "FTTB",
    "satellite_ngso": "LEO/NGSO",
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if supported, else raise ``ValueError`` naming the choices."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGS)}")
    return lang


def labels(lang: str) -> Mapping[str, str]:
    """All plain-text labels of one language."""
    return _LABELS[check_lang(lang)]


def class_label(name: str, lang: str) -> str:
    """Display name of a class (unknown classes show their key)."""
    return _CLASSES[check_lang(lang)].get(name, name)


def tech_label(name: str, lang: str) -> str:
    """Display name of a technology code (unknown codes show the code)."""
    return _TECH[check_lang(lang)].get(name) or _TECH_COMMON.get(name, name)


def fmt_int(value: float | None, lang: str) -> str:
    """Whole number with the language's thousands separator; '–' for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{round(value):,}"
    return text.replace(",", ".") if lang == "de" else text


def fmt_pct(value: float | None, lang: str, digits: int = 1) -> str:
    """A share in 0..1 as a percentage ('12,3 %' in German, '12.3%' in English)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value * 100:.{digits}f}"
    return f"{text.replace('.', ',')} %" if lang == "de" else f"{text}%"


def fmt_eur(value: float | None, lang: str) -> str:
    """Euros, whole units ('12.345 €' / '€12,345')."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{fmt_int(value, lang)} €" if lang == "de" else f"€{fmt_int(value, lang)}"


def fmt_money(value: float | None, currency: str, lang: str) -> str:
    """An amount in its currency, whole units ('12.345 €' / '€12,345' / '$12,345')."""
    if currency == "EUR":
        return fmt_eur(value, lang)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    sign = {"USD": "$", "GBP": "£"}.get(currency)
    amount = fmt_int(value, lang)
    return f"{sign}{amount}" if sign else f"{amount} {currency}"


def fmt_m(value: float | None, lang: str) -> str:
    """Metres, whole units."""
    return "–" if value is None or value != value else f"{fmt_int(value, lang)} m"


def fmt_date(value: object, lang: str) -> str:
    """A date as '30.06.2026' (de) or '2026-06-30' (en); '–' for missing."""
    if not value:
        return "–"
    text = str(value)[:10]
    year, month, day = text.split("-")
    return f"{day}.{month}.{year}" if lang == "de" else text


def stamp_line(manifest: Mapping[str, Any], lang: str) -> str:
    """'Regelwerk: <title> (<id> <version>) · Stichtag <date>' for every map and PNG."""
    lab = labels(lang)
    prof = manifest.get("profile") or {}
    title = prof.get("title", prof.get("id", ""))
    if lang == "de":
        # a profile given as a file path keeps its recorded title
        with contextlib.suppress(GapmapError, KeyError):
            title = load_profile(prof["id"]).title_de or title
    as_of = (manifest.get("parameters") or {}).get("as_of")
    return (
        f"{lab['profile']}: {title} ({prof.get('id', '')} {prof.get('version', '')}) · "
        f"{lab['as_of']} {fmt_date(as_of, lang)}"
    )
