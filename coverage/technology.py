"""Technology labels as operators and the Breitbandatlas write them -> canonical technology.

Operator replies to a Markterkundung write ``Glasfaser (FTTH)``, ``Kabel (DOCSIS 3.1)``,
``VDSL2-Vectoring``, ``SVDSL``, ``Koax``, ``Richtfunk``, ``Satellit`` ...; the Breitbandatlas
uses ``FTTH/B``, ``FTTB/H``, ``FTTC``, ``HFC``, ``CATV``, ``DSL``, ``LTE``, ``5G``. A label is
compared case- and punctuation-insensitively (:func:`technology_key`), first against the
exact spellings of ``schema.TECHNOLOGY_ALIASES``, then against the word rules below, in order.

Interpretations (stated, not from a standard):

* ``Glasfaser``/``fibre`` without a building/home qualifier is FTTH (as before); a label
  naming the building (``FTTB``, ``Gebäude``, ``Keller``) is FTTB.
* Cable (``Kabel``, ``Koax``, ``HFC``, ``CATV``, ``DOCSIS``) is DOCSIS 3.1 only when the label
  says DOCSIS 3.1 or 4.0; any other cable label is ``hfc``.
* ``Richtfunk`` (point-to-point radio on assigned frequencies) is licensed fixed wireless;
  ``WLAN``/``WiFi``/``unlizenziert`` is unlicensed; a bare ``Funk``/``FWA``/``fixed wireless``
  is taken as unlicensed, the reading that counts least, because the label does not say.
* ``Satellit`` is geostationary unless the label says LEO/NGSO/MEO/Starlink/OneWeb/Kuiper.
* ``SDSL``/``SHDSL`` and plain ``DSL`` are ADSL-class copper; ``G.fast`` is counted with VDSL.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from coverage.errors import InputDataError

_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})

#: exact spellings (besides the canonical values) -> canonical technology
TECHNOLOGY_SPELLINGS: dict[str, str] = {
    "fttp": "ftth", "ftth/b": "ftth", "fttb/h": "fttb", "glasfaser": "ftth",
    "docsis 3.1": "hfc_docsis31", "docsis3.1": "hfc_docsis31", "hfc docsis 3.1": "hfc_docsis31",
    "catv": "hfc", "kabel": "hfc", "cable": "hfc",
    "vdsl2": "vdsl", "supervectoring": "vdsl", "vectoring": "vdsl", "fttc": "vdsl",
    "dsl": "adsl", "adsl2+": "adsl",
    "5g": "mobile_5g", "lte": "mobile_lte", "4g": "mobile_lte",
    "satellite": "satellite_geo", "sat": "satellite_geo", "leo": "satellite_ngso",
}  # fmt: skip

#: (pattern on the key, canonical value); the first matching rule wins
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), v)
    for p, v in (
        (r"\b(sat|satellit|satellite|satelliten)\b.*\b(leo|ngso|meo|starlink|oneweb|kuiper)\b", "satellite_ngso"),
        (r"\b(leo|ngso|starlink|oneweb|kuiper)\b", "satellite_ngso"),
        (r"\b(sat|satellit|satellite|satelliten|geo|vsat)\b", "satellite_geo"),
        (r"\b5g\b|\bnr\b|\b5g ?sa\b|\b5g ?nsa\b", "mobile_5g"),
        (r"\b(lte|4g|lte ?advanced|lte ?a)\b", "mobile_lte"),
        (r"\b(unlizenziert|unlicensed|wlan|wifi|wi fi)\b", "fwa_unlicensed"),
        (r"\b(richtfunk|lizenziert|licensed|mikrowelle|microwave)\b", "fwa_licensed"),
        (r"\b(fwa|funk|fixed wireless|wireless|drahtlos)\b", "fwa_unlicensed"),
        (r"\b(docsis ?(3 ?1|4 ?0|4))\b|\bd3 ?1\b", "hfc_docsis31"),
        (r"\b(kabel|koax|koaxial|coax|cable|catv|hfc|docsis|tv ?kabel|breitbandkabel)\b", "hfc"),
        (r"\bfttc\b|\bg ?fast\b|\b(s ?vdsl|svdsl|vdsl ?2?|super ?vectoring|vectoring|vplus|v plus)\b", "vdsl"),
        (r"\bvdsl", "vdsl"),
        (r"\b(fttb|gebaeude|keller)\b", "fttb"),
        (r"\b(ftth|fttp|fttx|fiber|fibre|lwl|gpon|xgs ?pon|pon)\b|\bglasfaser", "ftth"),
        (r"\b(adsl ?2?|adsl ?2 ?plus|sdsl|shdsl|dsl|kupfer|copper)\b", "adsl"),
        (r"\b(sonstige|andere|other)\b", "other"),
    )
)  # fmt: skip


def technology_key(value: object) -> str:
    """``"Kabel (DOCSIS 3.1)"`` -> ``"kabel docsis 3 1"``: lower case, umlauts transliterated,
    every run of punctuation and spaces one space."""
    text = str(value).strip().lower().translate(_TRANSLIT)
    return re.sub(r"[^a-z0-9+]+", " ", text).replace("+", " plus").strip()


def classify_label(value: object, exact: dict[str, str]) -> str | None:
    """The canonical technology of one label, or None when no rule knows it.

    ``exact`` is {technology_key(spelling): canonical} of the plain aliases.
    """
    key = technology_key(value)
    if not key:
        return None
    if key in exact:
        return exact[key]
    compact = key.replace(" ", "")
    if compact in exact:
        return exact[compact]
    for pattern, canonical in _RULES:
        if pattern.search(key):
            return canonical
    return None


def map_technologies(
    values: pd.Series,
    exact: dict[str, str],
    *,
    source: str,
    hint: str | None = None,
    known: str = "",
) -> pd.Series:
    """Map a technology column; every unknown label is reported at once, with counts and rows.

    ``hint`` names the option that maps values for this file (e.g. ``--offers-values``);
    ``known`` lists the canonical values for the message.
    """
    text = values.astype("string").str.strip()
    uniq = text.dropna().unique()
    mapping = {v: classify_label(v, exact) for v in uniq}
    unknown = [v for v in uniq if mapping[v] is None]
    if unknown:
        parts = []
        for v in unknown[:20]:
            rows = np.flatnonzero((text == v).fillna(False).to_numpy()) + 1
            shown = ", ".join(map(str, rows[:5])) + (", ..." if len(rows) > 5 else "")
            parts.append(f"{v!r} ({len(rows)} row(s): {shown})")
        more = f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
        how = (
            f"map them with {hint} technology:LABEL=VALUE;LABEL=VALUE (or technology=FILE.csv)"
            if hint
            else "rename them"
        )
        raise InputDataError(
            f"{source}: field technology has {len(unknown)} unknown label(s): "
            f"{'; '.join(parts)}{more}; {how} to one of: {known}"
        )
    return text.map(mapping).astype("string")
