"""Reason codes in both languages: :data:`REASON_CODES_DE` gives the German text of every
reason code (the English texts are each engine's ``REASON_CODES``); :func:`reason_text` picks
one for ``--lang`` of maps and evidence. Codes are the same in both languages."""

from __future__ import annotations

REASON_CODES_DE: dict[str, str] = {
    "GIGABIT_EXISTING": "ein bestehendes zuverlässiges Angebot erfüllt die Versorgungsschwelle der Fassung",
    "GIGABIT_PLANNED": "kein bestehendes Angebot erfüllt die Schwelle, aber ein solches ist im Zeitraum geplant",
    "BLACK_TWO_NGA": "Schwelle nicht erreicht; mindestens zwei Netze verschiedener Betreiber (schwarzer Fleck)",
    "GREY_ONE_NGA": "Schwelle nicht erreicht; genau ein Netz (grauer Fleck)",
    "WHITE_NO_NGA": "Schwelle nicht erreicht; kein Netz (weißer Fleck)",
    "BEAD_SERVED": "ein zuverlässiges Angebot mit niedriger Latenz erreicht 100/20 (versorgt)",
    "BEAD_SERVED_PLANNED": "versorgt nur durch ein geplantes Angebot (Regelwerke mit count_planned)",
    "BEAD_UNDERSERVED_SPEED": "bestes zuverlässiges Angebot mit niedriger Latenz erreicht 25/3, aber nicht 100/20",
    "BEAD_UNDERSERVED_PLANNED": "unterversorgt nur durch ein geplantes Angebot (Regelwerke mit count_planned)",
    "BEAD_UNSERVED_SPEED": "zuverlässige Angebote vorhanden, aber alle unter 25/3 oder ohne Geschwindigkeit",
    "BEAD_UNSERVED_LATENCY": "ein zuverlässiges Angebot erreicht 25/3, hat aber keine niedrige Latenz (oder unbekannt)",
    "BEAD_UNSERVED_NO_RELIABLE": "nur nicht zuverlässige Technologien (Satellit, unlizenzierter Richtfunk, Mobilfunk, sonstige)",
    "BEAD_UNSERVED_NO_OFFER": "kein bestehendes Angebot am Standort",
    "DE_GREY_GIGABIT_EXISTING": "ein bestehendes zuverlässiges leitungsgebundenes Angebot ist gigabitfähig (Geschwindigkeit oder Technologie)",
    "DE_GREY_GIGABIT_PLANNED": "kein bestehendes Gigabit-Angebot, aber eines ist im Zeitraum geplant",
    "DE_GREY_SERVED_EXISTING": "nicht gigabit; ein bestehendes Angebot erreicht die Aufgreifschwelle (100 Mbit/s)",
    "DE_GREY_SERVED_PLANNED": "nicht gigabit; ein Angebot mit der Aufgreifschwelle ist im Zeitraum geplant",
    "DE_GREY_BELOW_THRESHOLD": "grauer Fleck: bestes Angebot unter der Aufgreifschwelle, nichts geplant",
    "DE_GREY_NO_WIRED": "grauer Fleck: kein zuverlässiges leitungsgebundenes Angebot, nichts geplant",
    "DE_WHITE_SERVED_EXISTING": "ein bestehendes zuverlässiges leitungsgebundenes Angebot erreicht NGA (30 Mbit/s)",
    "DE_WHITE_SERVED_PLANNED": "kein bestehendes NGA-Angebot, aber eines ist im Zeitraum geplant",
    "DE_WHITE_BELOW_NGA": "weißer Fleck: Angebote vorhanden, alle unter NGA, nichts geplant",
    "DE_WHITE_NO_WIRED": "weißer Fleck: kein zuverlässiges leitungsgebundenes Angebot, nichts geplant",
    "TKMV_MEETS_MINIMUM": "ein bestehendes Angebot (jede Technologie) erreicht Mindestbandbreiten und Latenz",
    "TKMV_MEETS_MINIMUM_PLANNED": "Mindestversorgung nur durch ein geplantes Angebot (Regelwerke mit count_planned)",
    "TKMV_BELOW_SPEED": "Angebote vorhanden, keines erreicht Mindest-Download und -Upload",
    "TKMV_BELOW_LATENCY": "ein Angebot erreicht die Mindestbandbreiten, aber die Latenz liegt über der Grenze (oder wird angenommen)",
    "TKMV_NO_OFFER": "kein bestehendes Angebot einer gezählten Technologie",
    "EU_NGA_BLACK": "mindestens zwei NGA-Netze verschiedener Betreiber, jetzt oder im Zeitraum geplant",
    "EU_NGA_GREY": "genau ein NGA-Netz, jetzt oder geplant",
    "EU_NGA_WHITE": "kein NGA-Netz, weder jetzt noch im Zeitraum geplant",
    "EU23_SERVED_EXISTING": "ein bestehendes zuverlässiges Festnetzangebot erreicht 1000/150: kein Marktversagen",
    "EU23_SERVED_PLANNED": "ein Angebot mit 1000/150 ist im Zeitraum geplant: kein Marktversagen",
    "EU23_ULTRAFAST_EXISTING": "Marktversagen für 1000/150, aber ein bestehendes Angebot ist ultraschnell (100 Mbit/s)",
    "EU23_ULTRAFAST_PLANNED": "Marktversagen für 1000/150, aber ein ultraschnelles Angebot ist im Zeitraum geplant",
    "EU23_NO_ULTRAFAST": "Marktversagen: kein zuverlässiges Festnetzangebot ist ultraschnell, nichts geplant",
    "FCC706_SERVED": "ein bestehendes terrestrisches Festnetzangebot erreicht den Richtwert (100/20)",
    "FCC706_SERVED_PLANNED": "versorgt nur durch ein geplantes Angebot (Regelwerke mit count_planned)",
    "FCC706_BELOW_BENCHMARK": "terrestrische Festnetzangebote vorhanden, alle unter dem Richtwert oder ohne Geschwindigkeit",
    "FCC706_NO_FIXED_TERRESTRIAL": "nur Satellit, Mobilfunk oder sonstige Angebote",
    "FCC706_NO_OFFER": "kein bestehendes Angebot am Standort",
    "UK_OMR_BLACK": "mindestens zwei gigabitfähige Netze verschiedener Anbieter, bestehend oder glaubhaft geplant",
    "UK_OMR_GREY": "genau ein gigabitfähiges Netz, bestehend oder glaubhaft geplant",
    "UK_OMR_UNDER_REVIEW": "kein verifiziertes gigabitfähiges Netz; ein behauptetes oder geplantes ist nicht verifiziert (Risiken oder Nachweislücken)",
    "UK_OMR_WHITE": "kein gigabitfähiges Netz, weder jetzt noch im Zeitraum geplant",
    "OFCOM_GIGABIT": "bestes bestehendes Festnetzangebot erreicht 1000 Mbit/s im Download",
    "OFCOM_ULTRAFAST": "bestes bestehendes Festnetzangebot erreicht 300 Mbit/s, aber nicht Gigabit",
    "OFCOM_SUPERFAST": "bestes bestehendes Festnetzangebot erreicht 30 Mbit/s, aber nicht 300",
    "OFCOM_DECENT": "bestes bestehendes Festnetzangebot erreicht 10/1, aber nicht 30 Mbit/s",
    "OFCOM_BAND_PLANNED": "Stufe nur durch ein geplantes Angebot erreicht (Regelwerke mit count_planned)",
    "OFCOM_BELOW_DECENT": "Festnetzangebote vorhanden, alle unter 10/1 oder ohne Geschwindigkeit",
    "OFCOM_NO_FIXED": "kein Festnetzangebot (Mobilfunk und Satellit zählen nicht)",
}


def reason_text(code: str, lang: str = "en") -> str:
    """The text of a reason code in ``lang`` ("en" or "de"); the code itself if unknown."""
    from coverage.classify import REASON_CODES

    if lang == "de":
        return REASON_CODES_DE.get(code, code)
    return REASON_CODES.get(code, code)
