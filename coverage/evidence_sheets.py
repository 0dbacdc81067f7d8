"""The tables a person reads in an evidence pack or report, in German or English.

Pure shaping (no files): the address table with labels instead of codes, and the summary
per class, per Gemeinde and per gap area. Each table comes with a column spec
``(header, kind)``; kinds: ``text`` (kept as text, e.g. AGS with its leading zero), ``int``,
``dec1``, ``dec2``, ``dec7``, ``pct`` (share 0..1), ``eur``, ``date``, ``bool`` (shown as
Ja/Nein). :mod:`coverage.io.xlsx` turns kinds into cell formats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from coverage import texts
from coverage.profiles import Profile

#: address column -> kind (see module docstring); others are text
_ADDRESS_KINDS: Mapping[str, str] = {
    "x": "dec2", "y": "dec2", "lon": "dec7", "lat": "dec7", "households": "int",
    "best_down_mbps": "dec1", "best_up_mbps": "dec1", "best_latency_ms": "dec1",
    "planned_down_mbps": "dec1", "planned_up_mbps": "dec1", "planned_available_from": "date",
    "networks_now": "int", "networks_planned": "int", "eligible": "bool",
}  # fmt: skip

SHEETS = {
    "de": {"summary": "Übersicht", "addresses": "Adressen", "areas": "Lückengebiete",
           "method": "Methodik"},
    "en": {"summary": "Summary", "addresses": "Addresses", "areas": "Gap areas",
           "method": "Methodology"},
}  # fmt: skip

_H = {
    "de": {
        "class": "Klasse", "eligible": "förderfähig", "addresses": "Adressen",
        "households": "Haushalte", "ags": "AGS", "gemeinde": "Gemeinde",
        "eligible_n": "förderfähige Adressen", "eligible_share": "Anteil förderfähig",
        "area_id": "Gebiets-ID", "gemeinden": "Gemeinden (Hauptgemeinde zuerst)",
        "cost": "Kosten, mittlere Schätzung (EUR)", "cost_per_address": "je Anschluss (EUR)",
        "priority": "Screening-Wert (0-100)", "rank": "Rang", "share_white": "Anteil weiße Flecken",
        "trench": "Trassenlänge (m)", "above": "über Wirtschaftlichkeitsschwelle",
        "area_km2": "Fläche (km²)",
    },
    "en": {
        "class": "Class", "eligible": "eligible", "addresses": "Addresses",
        "households": "Households", "ags": "AGS", "gemeinde": "Gemeinde",
        "eligible_n": "eligible addresses", "eligible_share": "eligible share",
        "area_id": "Area ID", "gemeinden": "Gemeinden (main first)",
        "cost": "Cost, central estimate (EUR)", "cost_per_address": "per connection (EUR)",
        "priority": "Screening score (0-100)", "rank": "Rank", "share_white": "white-spot share",
        "trench": "Route length (m)", "above": "above private-investment threshold",
        "area_km2": "Area (km²)",
    },
}  # fmt: skip


@dataclass(frozen=True)
class Sheet:
    """A table with its headers and kinds (one per column, same order)."""

    name: str
    frame: pd.DataFrame
    headers: list[str]
    kinds: list[str]
    #: columns 1..printed are the print area (None: all); the rest stay for sorting
    printed: int | None = None


#: The address columns a printed page shows, in this order (first in the sheet), so that a
#: page stays legible at A4 landscape; providers, coordinates, counts, codes and the reason
#: follow them in the sheet, outside the print area (for sorting and filtering).
PRINTED = (
    "address_id", "street", "house_number", "suffix", "place", "site_type",
    "best_technology", "best_down_mbps", "planned_down_mbps", "planned_available_from",
    "class", "eligible", "gap_area_id",
)  # fmt: skip


def address_sheet(table: pd.DataFrame, headers: list[str], lang: str) -> Sheet:
    """The pack's address table (:func:`coverage.evidence.address_table`) for reading:
    classes, technologies, site types and reasons in ``lang``; booleans Ja/Nein."""
    out = table.copy()
    if "reason" in out:
        out["reason"] = texts.reasons(table, lang)
    out["class"] = texts.labelled(out["class"], texts.CLASSES[lang])
    for col in ("best_technology", "planned_technology"):
        out[col] = texts.labelled(out[col], texts.TECHNOLOGIES[lang])
    out["site_type"] = texts.labelled(out["site_type"], texts.SITES[lang])
    if "planned_available_from" in out:
        out["planned_available_from"] = pd.to_datetime(out["planned_available_from"])
    head = dict(zip(out.columns, headers, strict=True))
    order = [c for c in PRINTED if c in out.columns]
    order += [c for c in out.columns if c not in order]
    out = out[order]
    kinds = [_ADDRESS_KINDS.get(c, "text") for c in out.columns]
    return Sheet(SHEETS[lang]["addresses"], out, [head[c] for c in order], kinds, len(PRINTED))


def class_sheet(counts: pd.DataFrame, profile: Profile, lang: str) -> Sheet:
    """Addresses and households per class (:func:`coverage.evidence.class_counts`)."""
    h = _H[lang]
    frame = pd.DataFrame(
        {
            "class": [texts.class_label(c, lang) for c in counts["class"]],
            "eligible": counts["eligible"].astype(bool),
            "addresses": counts["addresses"],
            "households": counts["households"],
        }
    )
    headers = [h["class"], h["eligible"], h["addresses"], h["households"]]
    return Sheet("classes", frame, headers, ["text", "bool", "int", "int"])


def gemeinde_sheet(
    addresses: pd.DataFrame, boundaries: pd.DataFrame | None, profile: Profile, lang: str
) -> Sheet:
    """Per Gemeinde: addresses, households, eligible count and share, count per class."""
    h = _H[lang]
    names = {}
    if boundaries is not None and len(boundaries):
        names = dict(
            zip(boundaries["ags"].astype(str), boundaries["name"].astype(str), strict=True)
        )
    ags = addresses["ags"].astype("string").fillna("")
    hh = pd.to_numeric(addresses["households"], errors="coerce").fillna(0)
    frame = pd.DataFrame({"ags": ags, "hh": hh, "el": addresses["eligible"].fillna(False)})
    frame["class"] = addresses["class"].astype("string")
    g = frame.groupby("ags", sort=True)
    out = pd.DataFrame(
        {
            "ags": g.size().index.astype(str),
            "name": [names.get(k, "") for k in g.size().index],
            "addresses": g.size().to_numpy(),
            "households": g["hh"].sum().round().astype("int64").to_numpy(),
            "eligible": g["el"].sum().astype("int64").to_numpy(),
        }
    )
    out["eligible_share"] = out["eligible"] / out["addresses"]
    per_class = pd.crosstab(frame["ags"], frame["class"])
    headers = [h["ags"], h["gemeinde"], h["addresses"], h["households"], h["eligible_n"],
               h["eligible_share"]]  # fmt: skip
    kinds = ["text", "text", "int", "int", "int", "pct"]
    for c in profile.class_names:
        out[f"n_{c}"] = per_class[c].reindex(out["ags"]).fillna(0).astype("int64").to_numpy() \
            if c in per_class else 0  # fmt: skip
        headers.append(texts.class_label(c, lang))
        kinds.append("int")
    return Sheet("gemeinden", out, headers, kinds)


#: gap-area columns of the current run layout, then the older names they replaced
AREA_COLUMNS = {
    "rank": ("screening_rank", "priority_rank"), "score": ("screening_score", "priority"),
    "cost": ("cost_central", "cost_eur"),
    "per_address": ("per_connection_central", "cost_per_address"),
    "trench": ("route_m", "trench_m"),
}  # fmt: skip


def area_column(frame: pd.DataFrame, key: str) -> str | None:
    """The run's column for ``key`` of :data:`AREA_COLUMNS` (None when it has none)."""
    return next((c for c in AREA_COLUMNS[key] if c in frame.columns), None)


def area_sheet(areas: pd.DataFrame | None, lang: str) -> Sheet:
    """Per gap area, best rank first (unranked remainders last): id, Gemeinden, size, cost."""
    h = _H[lang]
    spec = [
        ("rank", h["rank"], "int"), ("area_id", h["area_id"], "text"),
        ("gemeinde_names", h["gemeinden"], "text"), ("addresses", h["addresses"], "int"),
        ("households", h["households"], "int"), ("share_white", h["share_white"], "pct"),
        ("area_km2", h["area_km2"], "dec2"), ("trench", h["trench"], "int"),
        ("cost", h["cost"], "eur"), ("per_address", h["cost_per_address"], "eur"),
        ("above_private_threshold", h["above"], "bool"), ("score", h["priority"], "dec1"),
    ]  # fmt: skip
    if areas is None or not len(areas):
        frame = pd.DataFrame({c: [] for c, _, _ in spec})
    else:
        src = pd.DataFrame(areas.drop(columns=areas.geometry.name, errors="ignore"))
        if "gemeinde_names" not in src:
            src["gemeinde_names"] = src["ags"]
        frame = pd.DataFrame(index=src.index)
        for key, _, _ in spec:
            col = area_column(src, key) if key in AREA_COLUMNS else key
            frame[key] = src.get(col, pd.NA)
        frame = frame.sort_values(["rank", "area_id"], na_position="last")
    return Sheet(
        SHEETS[lang]["areas"], frame.reset_index(drop=True), [c[1] for c in spec],
        [c[2] for c in spec],
    )  # fmt: skip


def top_areas(sheet: Sheet, n: int) -> Sheet:
    """The first ``n`` rows of a gap-area sheet (it is sorted by priority rank)."""
    return Sheet(sheet.name, sheet.frame.head(n), sheet.headers, sheet.kinds)
