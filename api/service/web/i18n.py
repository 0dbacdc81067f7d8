"""Texts of the pages in German and English.

The language is ``?lang=de|en`` (remembered in a cookie), else the cookie, else the first of
de/en in ``Accept-Language``, else German. Class names come from ``maps.i18n``.
"""

from __future__ import annotations

from fastapi import Request

from api.service.web.bead_texts import BEAD_TEXTS
from api.service.web.mev_texts import MEV_TEXTS

LANGS = ("de", "en")
LANG_COOKIE = "gm_lang"

TEXTS: dict[str, tuple[str, str]] = {
    "app": ("gapmap – Breitband-Versorgungslücken", "gapmap – broadband coverage gaps"),
    "sign_in": ("Anmelden", "Sign in"),
    "sign_out": ("Abmelden", "Sign out"),
    "api_key": ("API-Schlüssel", "API key"),
    "key_hint": (
        "Den Schlüssel erhalten Sie von der Verwaltung (gapmap keys create).",
        "Your administrator gives you a key (gapmap keys create).",
    ),
    "bad_key": (
        "Dieser Schlüssel ist unbekannt oder gesperrt.",
        "This key is unknown or revoked.",
    ),
    "signed_in_as": ("Angemeldet mit Rolle", "Signed in with role"),
    "runs": ("Auswertungen", "Runs"),
    "datasets": ("Datensätze", "Datasets"),
    "run": ("Auswertung", "Run"),
    "state": ("Status", "State"),
    "progress": ("Fortschritt", "Progress"),
    "stage": ("Schritt", "Stage"),
    "profile": ("Förderprofil", "Rule profile"),
    "as_of": ("Stichtag", "Reference date"),
    "created": ("Angelegt", "Created"),
    "addresses": ("Adressen", "Addresses"),
    "coverage": ("Versorgung", "Coverage"),
    "boundaries": ("Gebietsgrenzen", "Boundaries"),
    "start_run": ("Auswertung starten", "Start a run"),
    "start": ("Starten", "Start"),
    "upload": ("Hochladen", "Upload"),
    "upload_dataset": ("Datensatz hochladen", "Upload a dataset"),
    "file": ("Datei", "File"),
    "kind": ("Art", "Kind"),
    "crs": ("Koordinatensystem (falls die Datei keins nennt)", "CRS (if the file has none)"),
    "rows": ("Zeilen", "Rows"),
    "size": ("Größe", "Size"),
    "validation": ("Prüfbericht", "Validation report"),
    "field": ("Feld", "Field"),
    "value": ("Wert", "Value"),
    "no_runs": ("Noch keine Auswertungen.", "No runs yet."),
    "no_datasets": ("Noch keine Datensätze.", "No datasets yet."),
    "report": ("Bericht", "Report"),
    "map": ("Karte", "Map"),
    "open": ("öffnen", "open"),
    "kreise": ("Kreise", "Kreise (districts)"),
    "gemeinden": ("Gemeinden", "Gemeinden (municipalities)"),
    "gemeinde": ("Gemeinde", "Municipality"),
    "name": ("Name", "Name"),
    "ags": ("AGS", "AGS"),
    "households": ("Haushalte", "Households"),
    "eligible": ("Förderfähig", "Eligible"),
    "eligible_share": ("Anteil förderfähig", "Eligible share"),
    "class_shares": ("Versorgungsklassen je Gemeinde", "Coverage classes per municipality"),
    "by_rurality": (
        "Förderfähige Adressen nach Verstädterungsgrad (DEGURBA)",
        "Eligible addresses by degree of urbanisation (DEGURBA)",
    ),
    "degurba_1": ("Städte", "Cities"),
    "degurba_2": ("Kleinere Städte und Vororte", "Towns and suburbs"),
    "degurba_3": ("Ländliche Gebiete", "Rural areas"),
    "top_gaps": ("Größte Lückengebiete", "Top gap areas"),
    "gap_area": ("Lückengebiet", "Gap area"),
    "priority": (
        "Vorprüfungswert (gapmap, nicht die amtliche Rangfolge)",
        "Screening score (gapmap, not the official ranking)",
    ),
    "cost": ("Kosten (EUR)", "Cost (EUR)"),
    "trench": ("Trasse (m)", "Route (m)"),
    "downloads": ("Downloads", "Downloads"),
    "csv_excel": ("CSV (Excel, deutsch)", "CSV (German Excel)"),
    "xlsx": ("Excel (XLSX)", "Excel (XLSX)"),
    "gpkg": ("GeoPackage (Adressen)", "GeoPackage (addresses)"),
    "parquet": ("GeoParquet (Adressen)", "GeoParquet (addresses)"),
    "evidence": ("Nachweispaket (ZIP)", "Evidence pack (zip)"),
    "evidence_gemeinde": (
        "Nachweise für diese Gemeinde herunterladen",
        "Download evidence for this municipality",
    ),
    "key_figures": ("Kennzahlen", "Key figures"),
    "public_note": (
        (
            "Öffentliche Ansicht: nur zusammengefasste Zahlen, jede mit einer kleinen zufälligen "
            "Abweichung (Cell-Key-Verfahren wie im Zensus 2022); Summen passen daher nicht genau "
            "zusammen, die Werte 1 und 2 kommen nicht vor."
        ),
        (
            "Public view: aggregates only, each with a small random deviation (cell key method, as "
            "in the German census 2022); totals therefore do not add up exactly, and the values 1 "
            "and 2 never occur."
        ),
    ),
    "public_chart_note": (
        "Summe der veröffentlichten (leicht veränderten) Werte.",
        "Sum of the published (slightly perturbed) values.",
    ),
    "search": ("Adresse suchen", "Search an address"),
    "search_ph": ("z. B. Hauptstraße 5, Warstein", "e.g. Hauptstraße 5, Warstein"),
    "not_found": ("Nicht gefunden", "Not found"),
    "legend": ("Legende", "Legend"),
    "error": ("Fehler", "Error"),
    "back": ("Zurück", "Back"),
    "none": ("–", "–"),
    "sort_hint": ("Zum Sortieren auf eine Spaltenüberschrift klicken.", "Click a heading to sort."),
    "include_planned": ("Geplanten Ausbau mitzählen", "Count planned roll-out"),
    "admin_only": ("Nur für Administratoren.", "Administrators only."),
    "analyst_only": ("Nur für Analyse-Schlüssel.", "Analyst keys only."),
    "not_ready": ("Die Auswertung ist noch nicht fertig.", "The run has not finished yet."),
    "language": ("English", "Deutsch"),
    "state_queued": ("wartet", "queued"),
    "state_running": ("läuft", "running"),
    "state_succeeded": ("fertig", "succeeded"),
    "state_failed": ("fehlgeschlagen", "failed"),
    "state_cancelled": ("abgebrochen", "cancelled"),
    "kind_addresses": ("Adressen", "addresses"),
    "kind_coverage": ("Versorgung", "coverage"),
    "kind_offers": ("Angebotslisten", "offer lists"),
    "kind_boundaries": ("Gebietsgrenzen", "boundaries"),
    "kind_grid": ("Raster", "grid"),
    "kind_raster": ("Rasterdaten", "raster"),
    "share": ("Anteil", "Share"),
    "count": ("Anzahl", "Count"),
    "layers": ("Ebenen", "Layers"),
    "layer_addresses": ("Adressen nach Klasse", "Addresses by class"),
    "layer_gaps": ("Lückengebiete", "Gap areas"),
    "layer_gemeinden": ("Gemeinden", "Municipalities"),
    "layer_cells": ("1-km-Zellen", "1 km cells"),
    "zoom_hint": (
        "Einzelne Adressen ab Zoomstufe {z}.",
        "Individual addresses from zoom level {z}.",
    ),
    "provider": ("Anbieter", "Operator"),
    "technology": ("Technik", "Technology"),
    "down": ("Mbit/s", "Mbit/s"),
    "reason": ("Begründung", "Reason"),
    "class": ("Klasse", "Class"),
    "street": ("Straße", "Street"),
    "address_id": ("Adress-ID", "Address id"),
    "place": ("Ort", "Place"),
}
TEXTS.update(MEV_TEXTS)
TEXTS.update(BEAD_TEXTS)


def language(request: Request) -> str:
    """The page language of a request."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGS:
        return cookie
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGS:
            return code
    return "de"


def translator(lang: str):
    """``t(key, **fmt)`` for one language; unknown keys show as the key (never silently empty)."""
    i = LANGS.index(lang)

    def t(key: str, **fmt: object) -> str:
        pair = TEXTS.get(key)
        text = pair[i] if pair else key
        return text.format(**fmt) if fmt else text

    return t


def number(value: object, lang: str, digits: int = 0) -> str:
    """A number in the page language (1.234,5 / 1,234.5); empty for missing values."""
    if value is None or value != value:  # None or NaN
        return "–"
    try:
        text = f"{float(value):,.{digits}f}"
    except (TypeError, ValueError):
        return str(value)
    if lang == "de":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text
