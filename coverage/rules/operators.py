"""Who operates a network: the one place every profile counts networks.

Funding texts count networks per operator, not per provider x technology: the Gigabitbüro
des Bundes asks for the "Anzahl der NGA-Netzbetreiber", BDUK counts gigabit infrastructures
"from different suppliers", the EU 2013 guidelines count investors. One operator with VDSL and
cable is therefore one network.

The operator of an offer is, in this order:

1. the offer's ``operator_id`` column (any text, compared without surrounding blanks and
   case-insensitively), where the file has one and the cell is not empty; use it when one
   operator appears under several brand names (BDC ``provider_id``, an MEV operator number);
2. otherwise its ``provider`` name, normalised by :func:`operator_key`: Unicode NFKC, case
   folded, punctuation turned into blanks, runs of blanks collapsed, and legal-form suffixes
   (GmbH, GmbH & Co. KG, AG, KG, SE, eG, Inc, LLC, Ltd, plc, Corp ...) removed from the end.
   "Demo Netz GmbH", "demo netz" and "DEMO-Netz AG" are one operator; "Telekom Deutschland
   GmbH" and "Deutsche Telekom AG" stay two (give ``operator_id`` to join them).
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

#: Legal-form words removed from the end of a provider name (after case folding).
LEGAL_FORMS: tuple[str, ...] = (
    "gmbh co kg",
    "gmbh co kgaa",
    "ug haftungsbeschränkt",
    "ug haftungsbeschrankt",
    "gmbh",
    "mbh",
    "ag",
    "kg",
    "kgaa",
    "ohg",
    "se",
    "eg",
    "ug",
    "inc",
    "llc",
    "l l c",
    "ltd",
    "limited",
    "plc",
    "corp",
    "corporation",
    "co",
    "company",
    "lp",
    "llp",
)
_PUNCT = re.compile(r"[^\w]+", re.UNICODE)
_FORMS = sorted(LEGAL_FORMS, key=len, reverse=True)


def operator_key(name: object) -> str:
    """The normalised operator name (``""`` for a missing or blank name)."""
    if name is None or name is pd.NA or (isinstance(name, float) and np.isnan(name)):
        return ""
    text = _PUNCT.sub(" ", unicodedata.normalize("NFKC", str(name)).casefold())
    text = " ".join(text.split())
    changed = True
    while changed and text:
        changed = False
        for form in _FORMS:
            if text.endswith(" " + form):
                text = text[: -len(form) - 1].rstrip()
                changed = True
                break
    return text


def operator_codes(offers: pd.DataFrame) -> np.ndarray:
    """One int64 code per offer row: equal codes = same operator (-1: no operator known)."""
    m = len(offers)
    names = (
        offers["provider"].astype("string")
        if "provider" in offers
        else pd.Series(pd.NA, index=offers.index, dtype="string")
    )
    codes, uniques = pd.factorize(names)
    keys = np.array(["name:" + operator_key(u) for u in uniques] + ["name:"], dtype=object)
    per_row = keys[np.where(codes < 0, len(uniques), codes)] if m else keys[:0]
    if "operator_id" in offers:
        ids = offers["operator_id"].astype("string").str.strip().str.casefold()
        given = (ids.notna() & (ids != "")).to_numpy(dtype=bool)
        per_row = np.where(given, "id:" + ids.fillna("").to_numpy(dtype=object), per_row)
    missing = per_row == "name:"
    _, inverse = np.unique(per_row.astype(str), return_inverse=True)
    return np.where(missing, -1, inverse.reshape(-1)).astype(np.int64)
