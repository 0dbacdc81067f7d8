"""Texts of the MEV pages in German and English (merged into ``i18n.TEXTS``)."""

from __future__ import annotations

MEV_TEXTS: dict[str, tuple[str, str]] = {
    "mev": ("Markterkundung", "Market survey (MEV)"),
    "mevs": ("Markterkundungsverfahren", "Market surveys (MEV)"),
    "mev_none": ("Noch keine Markterkundungsverfahren.", "No market surveys yet."),
    "mev_new": ("Neues Markterkundungsverfahren", "New market survey"),
    "mev_create": ("Anlegen (Entwurf)", "Create (draft)"),
    "mev_name_ph": ("z. B. MEV Warstein 2026", "e.g. MEV Warstein 2026"),
    "mev_area": ("Projektgebiet", "Project area"),
    "mev_area_gemeinden": ("Gemeinden (Mehrfachauswahl)", "Municipalities (select several)"),
    "mev_area_hint": (
        "Entweder Gemeinden auswählen oder eine Polygon-Datei hochladen, nicht beides.",
        "Either pick municipalities or upload a polygon file, not both.",
    ),
    "mev_area_file": ("oder Polygon-Datei", "or a polygon file"),
    "mev_area_formats": (
        (
            "GeoPackage (.gpkg, GDAL-Treiber GPKG) oder GeoJSON (.geojson, GDAL-Treiber GeoJSON), "
            "mit Koordinatensystem"
        ),
        (
            "GeoPackage (.gpkg, GDAL driver GPKG) or GeoJSON (.geojson, GDAL driver GeoJSON), "
            "with a CRS"
        ),
    ),
    "mev_address_base": ("Adressbasis", "Address base"),
    "mev_baseline": (
        "Bisherige Auswertung (heutige Versorgung)",
        "Earlier run (today's coverage)",
    ),
    "mev_profile_version": ("Förderprofil (Version)", "Rule profile (version)"),
    "mev_profile_family": (
        "die am Stichtag geltende Version",
        "the version in force on the reference date",
    ),
    "mev_horizon": ("Zeithorizont (Monate)", "Horizon (months)"),
    "mev_start": ("Veröffentlichung ab", "Published from"),
    "mev_end": ("Rückmeldefrist bis", "Replies due by"),
    "mev_branchendialog": ("Ergebnis des Branchendialogs vom", "Branchendialog result of"),
    "mev_stichtag": ("Stichtag des Ergebnisses", "Reference date of the result"),
    "mev_stichtag_hint": ("leer: Ende der Frist", "empty: the end of the period"),
    "mev_rules_hint": (
        (
            "Die Frist soll mindestens acht Wochen dauern, das Ergebnis des Branchendialogs zu "
            "Beginn höchstens sechs Monate alt sein (Nr. 5.5 Gigabit-RL 2.0). Abweichungen werden "
            "als Warnung vermerkt."
        ),
        (
            "The period should last at least eight weeks and the Branchendialog result be at most "
            "six months old at the start (Nr. 5.5 Gigabit-RL 2.0). Deviations are recorded as "
            "warnings."
        ),
    ),
    "mev_warnings": ("Warnungen", "Warnings"),
    "mev_warnings_de": (
        "Warnungen (wie im Verfahren vermerkt, auf Deutsch)",
        "Warnings (as recorded with the procedure, in German)",
    ),
    "mev_deadline": ("Frist", "Deadline"),
    "mev_days_left": ("noch {n} Tage", "{n} days left"),
    "mev_day_left": ("noch 1 Tag", "1 day left"),
    "mev_last_day": ("heute letzter Tag", "last day today"),
    "mev_overdue": ("abgelaufen seit {n} Tagen", "ended {n} days ago"),
    "mev_overdue_1": ("abgelaufen seit 1 Tag", "ended 1 day ago"),
    "mev_not_started": ("beginnt in {n} Tagen", "starts in {n} days"),
    "mev_open_conflicts": ("offene Konflikte", "open conflicts"),
    "mev_updated": ("Geändert", "Updated"),
    "mev_state_draft": ("Entwurf", "draft"),
    "mev_state_published": ("veröffentlicht", "published"),
    "mev_state_closed": ("abgeschlossen", "closed"),
    "mev_state_result": ("Ergebnis liegt vor", "result"),
    "mev_states": ("Ablauf", "Procedure"),
    "mev_actions": ("Nächster Schritt", "Next step"),
    "mev_act_publish": (
        "Veröffentlichen (Betreiberpaket erstellen)",
        "Publish (build the operator package)",
    ),
    "mev_act_close": ("Rückmeldefrist beenden", "Close the reply period"),
    "mev_act_reopen": ("Wieder öffnen (Rückmeldungen zulassen)", "Reopen (accept replies)"),
    "mev_act_result": ("Ergebnis berechnen", "Compute the result"),
    "mev_act_result_again": ("Ergebnis neu berechnen", "Compute the result again"),
    "mev_no_actions": ("In diesem Zustand ist kein Schritt möglich.", "No step in this state."),
    "mev_long_step": (
        "Veröffentlichen und Ergebnis dauern einige Sekunden bis Minuten.",
        "Publishing and the result take seconds to minutes.",
    ),
    "mev_contact": ("Ansprechpartner (Deckblatt)", "Contact (cover sheet)"),
    "mev_dates": ("Termine ändern", "Change dates"),
    "mev_dates_hint": (
        "Möglich im Entwurf und während der Veröffentlichung; leere Felder bleiben unverändert.",
        "Possible while draft or published; empty fields stay as they are.",
    ),
    "mev_save": ("Speichern", "Save"),
    "mev_package": ("Betreiberpaket (ZIP)", "Operator package (zip)"),
    "mev_package_none": (
        "Das Betreiberpaket entsteht beim Veröffentlichen.",
        "The operator package is built when the MEV is published.",
    ),
    "mev_area_map": ("Karte des Projektgebiets", "Map of the project area"),
    "mev_settings": ("Einstellungen", "Settings"),
    "mev_replies": ("Rückmeldungen", "Replies"),
    "mev_conflicts": ("Konflikte", "Conflicts"),
    "mev_result": ("Ergebnis", "Result"),
    "mev_audit": ("Protokoll", "Audit log"),
    "mev_operator": ("Betreiber", "Operator"),
    "mev_reply_upload": ("Rückmeldung eines Betreibers hochladen", "Upload an operator's reply"),
    "mev_reply_file": ("Datei", "File"),
    "mev_reply_formats": (
        (
            "Vorlage als XLSX oder CSV, oder Versorgungspolygone (GeoPackage, GeoJSON, Shapefile als "
            "ZIP, GeoParquet). Eine neue Rückmeldung desselben Betreibers ersetzt die frühere; beide "
            "bleiben gespeichert."
        ),
        (
            "The template as XLSX or CSV, or coverage polygons (GeoPackage, GeoJSON, zipped "
            "Shapefile, GeoParquet). A new reply of the same operator replaces the earlier one; "
            "both are kept."
        ),
    ),
    "mev_reply_closed": (
        "Rückmeldungen werden nur angenommen, solange das Verfahren veröffentlicht ist.",
        "Replies are accepted only while the MEV is published.",
    ),
    "mev_no_replies": ("Noch keine Rückmeldungen.", "No replies yet."),
    "mev_version": ("Version", "Version"),
    "mev_current": ("gültig", "current"),
    "mev_superseded": ("ersetzt", "superseded"),
    "mev_kind_table": ("Tabelle", "table"),
    "mev_kind_polygons": ("Polygone", "polygons"),
    "mev_rows": ("Zeilen", "Rows"),
    "mev_rows_used": ("verwendet", "used"),
    "mev_errors": ("Fehler", "Errors"),
    "mev_notes": ("Hinweise", "Notes"),
    "mev_claims": ("Angaben", "Claims"),
    "mev_check": ("Prüfung", "Check"),
    "mev_uploaded": ("Hochgeladen", "Uploaded"),
    "mev_by": ("von", "by"),
    "mev_issues_of": ("Prüfung der Rückmeldung", "Check of the reply"),
    "mev_no_issues": (
        "Keine Beanstandungen: jede ausgefüllte Zeile zählt.",
        "No issues: every filled row counts.",
    ),
    "mev_row": ("Zeile", "Row"),
    "mev_field": ("Feld", "Field"),
    "mev_value": ("Wert", "Value"),
    "mev_severity": ("Schwere", "Severity"),
    "mev_reason": ("Grund", "Reason"),
    "mev_fix": ("Korrektur", "Fix"),
    "mev_sev_Fehler": ("Fehler", "error"),
    "mev_sev_Hinweis": ("Hinweis", "note"),
    "mev_reason_de": ("Gründe stehen so in pruefung.csv.", "Reasons as in pruefung.csv (German)."),
    "mev_page": ("Seite {p} von {n}", "Page {p} of {n}"),
    "mev_prev": ("« zurück", "« previous"),
    "mev_next": ("weiter »", "next »"),
    "mev_show": ("Anzeigen", "Show"),
    "mev_show_open": ("offen", "open"),
    "mev_show_resolved": ("entschieden", "resolved"),
    "mev_show_all": ("alle", "all"),
    "mev_no_conflicts": ("Keine Konflikte in dieser Auswahl.", "No conflicts in this selection."),
    "mev_conflict": ("Konflikt", "Conflict"),
    "mev_claims_side": ("Angaben aller Betreiber an der Adresse", "All operators' claims here"),
    "mev_decision": ("Entscheidung", "Decision"),
    "mev_decided_by": ("entschieden von", "decided by"),
    "mev_resolve": ("Entscheiden", "Decide"),
    "mev_dec_accept": ("alle Angaben gelten lassen", "accept every claim"),
    "mev_dec_reject": ("Angaben verwerfen von: {op}", "reject the claims of: {op}"),
    "mev_dec_reject_all": ("alle Angaben verwerfen", "reject every claim"),
    "mev_reason_ph": ("Begründung (Pflicht)", "Reason (required)"),
    "mev_bulk": (
        "Alle offenen Konflikte einer Art entscheiden",
        "Decide every open conflict of one kind",
    ),
    "mev_resolve_state": (
        "Konflikte werden entschieden, solange das Verfahren veröffentlicht oder abgeschlossen ist.",
        "Conflicts are decided while the MEV is published or closed.",
    ),
    "mev_kind_different_facts": (
        "abweichende Angaben mehrerer Betreiber",
        "different facts from several operators",
    ),
    "mev_kind_contradicts_measurement": (
        "Widerspruch zu Messdaten/Breitbandatlas",
        "contradicts measurements/Breitbandatlas",
    ),
    "mev_kind_planned_without_date": ("geplanter Ausbau ohne Datum", "planned build without date"),
    "mev_kind_planned_beyond_horizon": (
        "geplanter Ausbau nach dem Zeithorizont",
        "planned build beyond the horizon",
    ),
    "mev_silent": ("Adressen ohne Rückmeldung", "Addresses nobody replied for"),
    "mev_no_result": (
        "Noch kein Ergebnis: Frist beenden, Konflikte entscheiden, dann Ergebnis berechnen.",
        "No result yet: close the period, decide the conflicts, then compute the result.",
    ),
    "mev_result_pack": ("Ergebnispaket (ZIP)", "Result pack (zip)"),
    "mev_result_map": ("Ergebniskarte", "Result map"),
    "mev_eligible": ("förderfähige Adressen", "Eligible addresses"),
    "mev_area_addresses": ("Adressen im Projektgebiet", "Addresses in the project area"),
    "mev_per_gemeinde": ("Je Gemeinde", "Per municipality"),
    "mev_by_class": ("Nach Versorgungsklasse", "By coverage class"),
    "mev_changes": (
        "Änderungen gegenüber der veröffentlichten Liste",
        "Changes against the published list",
    ),
    "mev_ineligible_by_op": (
        "Nicht mehr förderfähig durch Angaben von",
        "No longer eligible through the claims of",
    ),
    "mev_change": ("Änderung", "Change"),
    "mev_change_all": ("alle Änderungen", "all changes"),
    "mev_no_changes": ("Keine Änderungen in dieser Auswahl.", "No changes in this selection."),
    "mev_changes_de": (
        "Klassennamen wie in aenderungen.csv im Ergebnispaket.",
        "Class names as in aenderungen.csv of the result pack (German).",
    ),
    "mev_at": ("Zeitpunkt (UTC)", "When (UTC)"),
    "mev_actor": ("Wer", "Who"),
    "mev_action": ("Vorgang", "Action"),
    "mev_detail": ("Angaben", "Details"),
    "mev_do_create": ("angelegt", "created"),
    "mev_do_dates": ("Termine geändert", "dates changed"),
    "mev_do_publish": ("veröffentlicht", "published"),
    "mev_do_reply": ("Rückmeldung gespeichert", "reply stored"),
    "mev_do_resolve": ("Konflikt entschieden", "conflict decided"),
    "mev_do_close": ("Frist beendet", "period closed"),
    "mev_do_reopen": ("wieder geöffnet", "reopened"),
    "mev_do_result": ("Ergebnis berechnet", "result computed"),
    "mev_do_download": ("heruntergeladen", "downloaded"),
    "mev_confidential": (
        "Vertraulich: Rückmeldungen der Betreiber sehen nur Analyse- und Admin-Schlüssel.",
        "Confidential: operators' replies are for analyst and admin keys only.",
    ),
    "mev_change_now_ineligible": ("nicht mehr förderfähig", "no longer eligible"),
    "mev_change_now_eligible": ("neu förderfähig", "newly eligible"),
    "mev_change_class_changed": ("Klasse geändert", "class changed"),
    "mev_horizon_label": ("Zeithorizont", "Horizon"),
    "mev_horizon_until": ("{n} Monate, bis {d}", "{n} months, until {d}"),
    "mev_forbidden": (
        (
            "Markterkundungsverfahren sind nur für Analyse- und Admin-Schlüssel zugänglich: die "
            "Rückmeldungen der Betreiber sind vertraulich. Ihr Schlüssel hat die Rolle {role}."
        ),
        (
            "Market surveys are for analyst and admin keys only: operators' replies are "
            "confidential. Your key has role {role}."
        ),
    ),
    "err_403": ("Zugriff verweigert.", "Access refused."),
    "err_404": ("Nicht gefunden.", "Not found."),
    "err_409": (
        "Dieser Schritt ist im jetzigen Zustand nicht möglich.",
        "This step is not possible in the current state.",
    ),
    "err_422": ("Die Eingabe ist so nicht verwendbar.", "The input cannot be used as it is."),
    "yes": ("ja", "yes"),
    "no": ("nein", "no"),
}

#: headers of aenderungen.csv shown on the result page (the file's German header -> de, en)
CHANGE_COLUMNS: dict[str, tuple[str, str]] = {
    "Adress-ID": ("Adress-ID", "Address id"),
    "Änderung": ("Änderung", "Change"),
    "Klasse vorher": ("Klasse vorher", "Class before"),
    "förderfähig vorher": ("förderfähig vorher", "Eligible before"),
    "Klasse nachher": ("Klasse nachher", "Class after"),
    "förderfähig nachher": ("förderfähig nachher", "Eligible after"),
    "Betreiber heute": ("Betreiber heute", "Operator today"),
    "Betreiber geplant": ("Betreiber geplant", "Operator planned"),
    "alle gemeldeten Betreiber": ("alle gemeldeten Betreiber", "All reporting operators"),
}

#: fixes for the reasons of a reply check, by the reason's start (German text of the engine)
FIXES: tuple[tuple[str, tuple[str, str]], ...] = (
    ("unbekannte Adress-ID", ("Adress-ID unverändert aus adressen.csv des Betreiberpakets übernehmen",
                              "copy the address id unchanged from the package's adressen.csv")),
    ("weder Adress-ID", ("Adress-ID oder Straße, Hausnummer und PLZ eintragen",
                         "give the address id, or street, house number and postcode")),
    ("Straße im Projektgebiet", ("Straße wie in adressen.csv schreiben oder die Adress-ID angeben",
                                 "spell the street as in adressen.csv or give the address id")),
    ("Hausnummer in dieser", ("Hausnummer mit Zusatz wie in adressen.csv angeben",
                              "give the house number with its suffix as in adressen.csv")),
    ("Adresse nicht eindeutig", ("Adress-ID angeben", "give the address id")),
    ("anderer Betreiber", ("nur eigene Angaben melden; Betreiber wie beim Hochladen angeben",
                           "report only your own claims; name the operator as when uploading")),
    ("Geschwindigkeit ohne Technologie", ("Technologie ergänzen (z. B. FTTH, VDSL, HFC)",
                                          "add the technology (e.g. FTTH, VDSL, HFC)")),
    ("unbekannte Technologie", ("eine der genannten zulässigen Technologien eintragen",
                                "use one of the technologies listed")),
    ("keine Zahl", ("Mbit/s nur mit Ziffern angeben, z. B. 1000", "Mbit/s in digits, e.g. 1000")),
    ("negative Geschwindigkeit", ("Geschwindigkeit ohne Minuszeichen angeben", "drop the minus sign")),
    ("unmögliche Geschwindigkeit", ("Mbit/s prüfen (Tippfehler, Einheit kbit/s?)",
                                    "check the Mbit/s (typing error, kbit/s?)")),
    ("Download fehlt", ("Download in Mbit/s ergänzen", "add the download in Mbit/s")),
    ("kein Datum", ("Datum als TT.MM.JJJJ schreiben, z. B. 30.06.2028",
                    "write the date as DD.MM.YYYY, e.g. 30.06.2028")),
    ("geplanter Ausbau ohne Datum", ("Fertigstellungsdatum nachreichen oder Konflikt entscheiden",
                                     "send the completion date, or decide the conflict")),
    ("nach dem Ende des Zeithorizonts", ("Konflikt entscheiden; der Ausbau zählt nicht im Zeithorizont",
                                         "decide the conflict; the build does not count in the horizon")),
)  # fmt: skip


def fix_for(reason: str, lang: str) -> str:
    """The fix for a reason of the reply check (empty when none is known)."""
    i = 0 if lang == "de" else 1
    for start, texts in FIXES:
        if reason.startswith(start):
            return texts[i]
    return ""
