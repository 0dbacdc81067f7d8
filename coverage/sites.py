"""Site types from the data: which column of an address file says what an address is used
for, and how its values map to :class:`~coverage.schema.SiteType`.

One function, :func:`derive_site_types`, used by address validation and by ``gapmap
inspect``. The first rule that matches the file's columns applies to the whole file:

==============================  ==========================================================
column(s) in the file           site_type
==============================  ==========================================================
``site_type``                   as given: private, business, school, hospital, public, farm
``Schulnummer`` / ``Schulform``  school, for every row with a value (NRW school register,
                                 Schulverzeichnis NRW; other rows private)
``Institutionskennzeichen`` /    hospital, for every row with a value (Krankenhausverzeichnis
``IK`` / ``IK-Nummer`` /         of the Statistische Ämter, hospital lists; other rows
``Krankenhaus``                  private)
``building_type_code``          FCC Fabric: R (residential), X (mixed), G (group quarters)
                                 -> private; B (business) -> business; C (community anchor
                                 institution) -> public; unknown codes -> private, counted
(none of these)                 private for every row
==============================  ==========================================================
"""

from __future__ import annotations

import pandas as pd

SCHOOL_COLUMNS = ("Schulnummer", "Schulform")
HOSPITAL_COLUMNS = ("Institutionskennzeichen", "IK-Nummer", "IK", "Krankenhaus")
#: FCC Fabric building_type_code -> site type
FABRIC_BUILDING_TYPES = {
    "R": "private",
    "X": "private",
    "G": "private",
    "B": "business",
    "C": "public",
}


def _present(frame: pd.DataFrame, col: str) -> pd.Series:
    values = frame[col].astype("string").str.strip()
    return (values.notna() & (values != "")).reset_index(drop=True)


def derive_site_types(frame: pd.DataFrame) -> tuple[pd.Series | None, str]:
    """``(site types or None, how they were derived)``.

    ``None`` means the file's own ``site_type`` column is used as given (validated by the
    caller). Otherwise a string Series aligned to ``frame`` by position.
    """
    n = len(frame)
    if "site_type" in frame.columns:
        return None, "site types from column site_type"
    for cols, kind, what in (
        (SCHOOL_COLUMNS, "school", "school register"),
        (HOSPITAL_COLUMNS, "hospital", "hospital list"),
    ):
        found = [c for c in cols if c in frame.columns]
        if found:
            has = _present(frame, found[0])
            for c in found[1:]:
                has |= _present(frame, c)
            site = pd.Series("private", index=pd.RangeIndex(n), dtype="string").mask(has, kind)
            return site, (
                f"site types from the {what}: {int(has.sum())} row(s) with {' or '.join(found)} "
                f"-> {kind}, {n - int(has.sum())} without -> private"
            )
    if "building_type_code" in frame.columns:
        code = frame["building_type_code"].astype("string").str.strip().str.upper()
        site = code.map(FABRIC_BUILDING_TYPES).astype("string").reset_index(drop=True)
        unknown = int(site.isna().sum())
        counts = site.fillna("private").value_counts()
        parts = ", ".join(f"{k} {v}" for k, v in counts.sort_index().items())
        note = (
            f"site types from FCC building_type_code (R/X/G private, B business, C public): {parts}"
        )
        if unknown:
            note += f"; {unknown} empty or unknown code(s) -> private"
        return site.fillna("private"), note
    return (
        pd.Series("private", index=pd.RangeIndex(n), dtype="string"),
        (
            "no site-type column (site_type, Schulnummer/Schulform, Institutionskennzeichen, "
            "building_type_code): every address is private"
        ),
    )
