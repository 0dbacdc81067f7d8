"""Reader-facing words of evidence packs and reports, in German and English.

The engine keeps machine codes (``class``, ``technology``, ``reason_code``); documents a
person reads show these labels instead. Reasons: the run stores one English sentence per
address; :func:`reasons` rebuilds it in German from the address's own columns (class,
reason code, best existing and planned offer, networks counted), so a German reader sees
the same facts in German. Numbers use the reader's formats (``1.234,5`` / ``1,234.5``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

LANGS = ("de", "en")

CLASSES: Mapping[str, Mapping[str, str]] = {
    "de": {
        "gigabit": "versorgt (Gigabit)", "black": "schwarzer Fleck (≥ 2 Netze)",
        "grey": "grauer Fleck (1 Netz)", "white": "weißer Fleck (0 Netze)",
        "served": "versorgt", "underserved": "unterversorgt", "unserved": "unversorgt",
        "under_review": "in Prüfung", "eligible": "förderfähig (alle Klassen)",
        "total": "alle Adressen",
    },
    "en": {
        "gigabit": "served (gigabit)", "black": "black spot (≥ 2 networks)",
        "grey": "grey spot (1 network)", "white": "white spot (0 networks)",
        "served": "served", "underserved": "underserved", "unserved": "unserved",
        "under_review": "under review", "eligible": "eligible (all classes)",
        "total": "all addresses",
    },
}  # fmt: skip

TECHNOLOGIES: Mapping[str, Mapping[str, str]] = {
    "de": {
        "ftth": "Glasfaser bis in die Wohnung (FTTH)", "fttb": "Glasfaser bis ins Gebäude (FTTB)",
        "hfc_docsis31": "Kabelnetz DOCSIS 3.1", "hfc": "Kabelnetz (HFC)", "vdsl": "VDSL",
        "adsl": "ADSL", "fwa_licensed": "Funk, lizenziert (FWA)",
        "fwa_unlicensed": "Funk, lizenzfrei (FWA)", "mobile_5g": "Mobilfunk 5G",
        "mobile_lte": "Mobilfunk LTE", "satellite_geo": "Satellit (geostationär)",
        "satellite_ngso": "Satellit (niedrige Umlaufbahn)", "other": "sonstige",
    },
    "en": {
        "ftth": "Fibre to the home (FTTH)", "fttb": "Fibre to the building (FTTB)",
        "hfc_docsis31": "Cable DOCSIS 3.1", "hfc": "Cable (HFC)", "vdsl": "VDSL",
        "adsl": "ADSL", "fwa_licensed": "Fixed wireless, licensed",
        "fwa_unlicensed": "Fixed wireless, unlicensed", "mobile_5g": "5G mobile",
        "mobile_lte": "LTE mobile", "satellite_geo": "Satellite (GEO)",
        "satellite_ngso": "Satellite (low orbit)", "other": "other",
    },
}  # fmt: skip

SITES: Mapping[str, Mapping[str, str]] = {
    "de": {"private": "Wohnen", "business": "Gewerbe", "school": "Schule",
           "hospital": "Krankenhaus", "public": "öffentliche Einrichtung", "farm": "Landwirtschaft"},
    "en": {"private": "residential", "business": "business", "school": "school",
           "hospital": "hospital", "public": "public building", "farm": "farm"},
}  # fmt: skip

YES_NO = {"de": ("Ja", "Nein"), "en": ("Yes", "No")}

#: German sentence per reason code (the English one is stored in the run).
_REASON_DE: Mapping[str, str] = {
    "GIGABIT_EXISTING": "Versorgt: ein bestehendes Angebot erfüllt die Versorgungsschwelle der Fassung",
    "GIGABIT_PLANNED": "Versorgt: ein Ausbau, der die Versorgungsschwelle erfüllt, ist im Planungszeitraum geplant",
    "BLACK_TWO_NGA": "Schwarzer Fleck: mindestens zwei Netze verschiedener Betreiber über der Netzschwelle der Fassung, Versorgungsschwelle nicht erreicht",
    "GREY_ONE_NGA": "Grauer Fleck: genau ein Netz über der Netzschwelle der Fassung, Versorgungsschwelle nicht erreicht",
    "WHITE_NO_NGA": "Weißer Fleck: kein Netz über der Netzschwelle der Fassung",
    "DE_GREY_GIGABIT_EXISTING": "Gigabit-Netz vorhanden",
    "DE_GREY_GIGABIT_PLANNED": "Gigabit-Netz geplant",
    "DE_GREY_SERVED_EXISTING": "ausreichend versorgt",
    "DE_GREY_SERVED_PLANNED": "Versorgung geplant",
    "DE_GREY_BELOW_THRESHOLD": "unter der Aufgreifschwelle",
    "DE_GREY_NO_WIRED": "kein leitungsgebundenes Angebot",
    "DE_WHITE_SERVED_EXISTING": "NGA-versorgt",
    "DE_WHITE_SERVED_PLANNED": "NGA-Versorgung geplant",
    "DE_WHITE_BELOW_NGA": "unter der NGA-Schwelle (weißer Fleck)",
    "DE_WHITE_NO_WIRED": "kein leitungsgebundenes Angebot (weißer Fleck)",
    "TKMV_MEETS_MINIMUM": "Mindestversorgung nach TKMV erfüllt",
    "TKMV_MEETS_MINIMUM_PLANNED": "Mindestversorgung nach TKMV geplant",
    "TKMV_BELOW_SPEED": "Mindestbandbreite nach TKMV unterschritten",
    "TKMV_BELOW_LATENCY": "Latenzgrenze nach TKMV überschritten",
    "TKMV_NO_OFFER": "kein Angebot",
    "EU_NGA_WHITE": "weißer NGA-Fleck", "EU_NGA_GREY": "grauer NGA-Fleck",
    "EU_NGA_BLACK": "schwarzer NGA-Fleck",
    "EU23_ULTRAFAST_EXISTING": "sehr schnelles Netz vorhanden",
    "EU23_ULTRAFAST_PLANNED": "sehr schnelles Netz geplant",
    "EU23_SERVED_EXISTING": "versorgt", "EU23_SERVED_PLANNED": "Versorgung geplant",
    "EU23_NO_ULTRAFAST": "kein sehr schnelles Netz",
}  # fmt: skip


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; use de or en")
    return lang


def class_label(code: object, lang: str) -> str:
    return CLASSES[check_lang(lang)].get(str(code), str(code))


def tech_label(code: object, lang: str) -> str:
    if code is None or code is pd.NA or (isinstance(code, float) and math.isnan(code)):
        return ""
    return TECHNOLOGIES[check_lang(lang)].get(str(code), str(code))


def site_label(code: object, lang: str) -> str:
    if code is None or code is pd.NA:
        return ""
    return SITES[check_lang(lang)].get(str(code), str(code))


def number(value: float | None, lang: str, digits: int = 0) -> str:
    """``1.234,5`` (de) or ``1,234.5`` (en); '' for missing."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = f"{float(value):,.{digits}f}"
    if lang == "de":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def percent(value: float | None, lang: str, digits: int = 1) -> str:
    """A share 0..1 as '12,3 %' (de) or '12.3%' (en)."""
    text = number(None if value is None else float(value) * 100, lang, digits)
    if not text:
        return ""
    return f"{text} %" if lang == "de" else f"{text}%"


def _offer(provider: object, tech: object, down: object, up: object, lang: str) -> str:
    if pd.isna(down) and (provider is None or pd.isna(provider)):
        return ""
    parts = [str(provider) if not pd.isna(provider) else "", tech_label(tech, lang)]
    speed = number(down, lang, 0) if not pd.isna(down) else "?"
    if not pd.isna(up):
        speed += "/" + number(up, lang, 0)
    return " ".join(p for p in parts if p) + f" {speed} Mbit/s"


def reasons(frame: pd.DataFrame, lang: str) -> pd.Series:
    """The per-address reason in ``lang``: English as stored; German rebuilt from the
    address's class, reason code, best existing and planned offer and network count."""
    check_lang(lang)
    stored = frame.get("reason", pd.Series("", index=frame.index)).astype("string").fillna("")
    if lang == "en":
        return stored
    col = lambda c: frame[c] if c in frame else pd.Series(pd.NA, index=frame.index)  # noqa: E731
    cols = [col(c) for c in (
        "reason_code", "class", "best_provider", "best_technology", "best_down_mbps",
        "best_up_mbps", "planned_provider", "planned_technology", "planned_down_mbps",
        "planned_up_mbps", "planned_available_from", "networks_now", "site_rule",
    )]  # fmt: skip
    out = []
    cache: dict[tuple, str] = {}
    for row in zip(*(c.to_numpy(dtype=object) for c in cols), strict=True):
        key = tuple(None if v is None or v is pd.NA or v != v else v for v in row)
        if key not in cache:
            cache[key] = _reason_de(*key)
        out.append(cache[key])
    return pd.Series(pd.array(out, dtype="string"), index=frame.index)


def _reason_de(code, klass, bp, bt, bd, bu, pp, pt, pd_, pu, pdate, nets, site_rule) -> str:
    head = _REASON_DE.get(str(code), class_label(klass, "de") if klass else "ohne Klasse")
    best = _offer(bp, bt, bd, bu, "de")
    parts = [head, f"bestes bestehendes Angebot: {best}" if best else "kein bestehendes Angebot"]
    planned = _offer(pp, pt, pd_, pu, "de")
    if planned:
        when = f" ab {_date_de(pdate)}" if pdate is not None else ""
        parts.append(f"geplant: {planned}{when}")
    if nets is not None:
        parts.append(f"zählende Netze heute: {int(nets)}")
    if site_rule:
        parts.append(f"förderfähig nach Standortregel {site_rule}")
    return "; ".join(parts)


def _date_de(value: object) -> str:
    stamp = pd.Timestamp(value) if not isinstance(value, str) else pd.Timestamp(value[:10])
    return stamp.strftime("%d.%m.%Y")


def labelled(values: pd.Series, table: Mapping[str, str]) -> pd.Series:
    """Codes replaced by labels (unknown codes kept, missing stays missing)."""
    text = values.astype("string")
    return text.map(lambda v: table.get(v, v) if v is not pd.NA else pd.NA).astype("string")


def yes_no(values: pd.Series, lang: str) -> pd.Series:
    yes, no = YES_NO[check_lang(lang)]
    arr = values.astype("boolean")
    return pd.Series(
        np.where(arr.isna(), None, np.where(arr.fillna(False), yes, no)), index=values.index
    ).astype("string")
