"""What an MEV publishes: the project area's addresses, their current class and the reply template.

Every table a Breitbandkoordinator hands to operators has German column names; the engine
builds frames, ``coverage.io.mev_files`` writes them.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.errors import InputDataError
from coverage.kernel.join import points_in_polygons
from coverage.mev.procedure import MevSpec

#: address columns of the published list and the template: canonical -> German header
ADDRESS_HEADERS: dict[str, str] = {
    "address_id": "Adress-ID",
    "ags": "Gemeindeschlüssel",
    "street": "Straße",
    "house_number": "Hausnummer",
    "suffix": "Zusatz",
    "postcode": "PLZ",
    "place": "Ort",
}
#: fields an operator fills in per address: canonical reply field -> German header
REPLY_HEADERS: dict[str, str] = {
    "operator": "Betreiber",
    "technology_now": "Technologie heute",
    "down_now": "Download heute (Mbit/s)",
    "up_now": "Upload heute (Mbit/s)",
    "technology_planned": "Technologie geplant",
    "down_planned": "Download geplant (Mbit/s)",
    "up_planned": "Upload geplant (Mbit/s)",
    "date_planned": "Fertigstellung geplant (Datum)",
    "remark": "Bemerkung",
}
#: published classification columns: run column -> German header
CLASS_HEADERS: dict[str, str] = {
    "class": "Klasse (Bestand)",
    "eligible": "förderfähig (Bestand)",
    "best_provider": "bester Anbieter (Bestand)",
    "best_technology": "Technologie (Bestand)",
    "best_down_mbps": "Download (Bestand, Mbit/s)",
    "best_up_mbps": "Upload (Bestand, Mbit/s)",
}


def area_polygon(spec: MevSpec) -> shapely.Geometry | None:
    """The polygon of a polygon-defined project area (working CRS), or None."""
    if spec.area_wkt is None:
        return None
    try:
        geom = shapely.from_wkt(spec.area_wkt)
    except shapely.errors.GEOSException as exc:
        raise InputDataError(f"project area: not a valid WKT polygon ({exc})") from exc
    if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
        raise InputDataError(f"project area: expected a polygon, got {geom.geom_type}")
    return shapely.make_valid(geom)


def area_addresses(addresses: gpd.GeoDataFrame, spec: MevSpec) -> gpd.GeoDataFrame:
    """The addresses of the project area, sorted by address id (the stable order of every list).

    By Gemeinde keys: addresses whose ``ags`` is one of ``spec.area_ags``. By polygon: the
    addresses covered by it (edges count, as in every gapmap join).
    """
    if spec.area_ags:
        if "ags" not in addresses or addresses["ags"].isna().all():
            raise InputDataError(
                "project area by Gemeinde keys needs addresses with an ags column; "
                "give Gemeinde boundaries so the keys can be assigned"
            )
        keep = addresses["ags"].astype("string").isin(spec.area_ags).to_numpy(dtype=bool)
        missing = sorted(set(spec.area_ags) - set(addresses["ags"].dropna().astype(str)))
        if missing:
            raise InputDataError(
                f"project area: no address has the Gemeinde key(s) {', '.join(missing)}; "
                "check the keys against the address base"
            )
    else:
        poly = area_polygon(spec)
        geom = addresses.geometry.values
        p_idx, _ = points_in_polygons(geom.x, geom.y, np.asarray([poly], dtype=object))
        keep = np.zeros(len(addresses), dtype=bool)
        keep[p_idx] = True
        if not keep.any():
            raise InputDataError(
                "project area: the polygon covers no address; check its CRS (working CRS "
                "EPSG:25832 in Germany) and extent"
            )
    out = addresses.loc[keep].copy()
    out["address_id"] = out["address_id"].astype("string")
    return out.sort_values("address_id", kind="stable").reset_index(drop=True)


def published_list(
    area: pd.DataFrame, baseline: pd.DataFrame | None, labels: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """The published address list: address fields and, where an earlier run holds the address,
    its class today (German headers; class names through the profile's ``labels``;
    ``ja``/``nein`` for eligibility)."""
    cols = [c for c in ADDRESS_HEADERS if c in area]
    out = pd.DataFrame(area[cols]).reset_index(drop=True)
    if baseline is not None:
        have = [c for c in CLASS_HEADERS if c in baseline]
        base = pd.DataFrame(baseline[["address_id", *have]]).copy()
        base["address_id"] = base["address_id"].astype("string")
        out = out.merge(base, on="address_id", how="left", validate="one_to_one")
        if "class" in out and labels:
            out["class"] = (
                out["class"].astype("string").map(lambda c: labels.get(c, c) if pd.notna(c) else c)
            )
        if "eligible" in out:
            out["eligible"] = (
                out["eligible"]
                .map({True: "ja", False: "nein"})
                .astype("object")
                .where(out["eligible"].notna(), "unbekannt")
            )
    return out.rename(columns={**ADDRESS_HEADERS, **CLASS_HEADERS})


def reply_template(area: pd.DataFrame, operator: str | None = None) -> pd.DataFrame:
    """One row per address of the project area with empty fields for the operator's answer."""
    cols = [c for c in ADDRESS_HEADERS if c in area]
    out = pd.DataFrame(area[cols]).reset_index(drop=True).rename(columns=ADDRESS_HEADERS)
    for key, header in REPLY_HEADERS.items():
        out[header] = operator if key == "operator" and operator else ""
    return out


_INSTRUCTIONS = """
## Worum wir Sie bitten

Bitte teilen Sie uns für jede Adresse des Projektgebiets mit, welche Versorgung Sie heute \
anbieten und welchen eigenwirtschaftlichen Ausbau Sie innerhalb des Zeithorizonts \
verbindlich planen.

## So antworten Sie

1. Verwenden Sie die Vorlage rueckmeldung_vorlage.xlsx (Blatt „Rückmeldung“) oder \
rueckmeldung_vorlage.csv (Semikolon, UTF-8). Ändern Sie weder die Spalte „Adress-ID“ noch \
die Spaltenüberschriften.
2. Tragen Sie in „Betreiber“ den Namen Ihres Unternehmens ein.
3. Heutige Versorgung: „Technologie heute“ (z. B. FTTH, FTTB, HFC, VDSL, 5G) sowie Download \
und Upload in Mbit/s.
4. Geplanter Ausbau: „Technologie geplant“, Download und Upload in Mbit/s und die \
„Fertigstellung geplant (Datum)“ im Format TT.MM.JJJJ. Ein Ausbau ohne Datum oder nach dem \
Ende des Zeithorizonts kann nicht berücksichtigt werden.
5. Zeilen für Adressen, die Sie nicht versorgen und nicht ausbauen, lassen Sie leer oder \
löschen sie.
6. Statt einer Adressliste können Sie Versorgungsgebiete als Polygone liefern (GeoPackage \
oder GeoJSON mit Koordinatenbezugssystem, Felder technologie, download, upload, status \
(Bestand oder geplant) und verfuegbar_ab (Datum)).

Die Liste adressen.csv zeigt die Einstufung nach den uns heute vorliegenden Daten. Ihre \
Angaben werden vertraulich behandelt und nur für dieses Verfahren verwendet."""


def cover_sheet(spec: MevSpec, *, addresses: int, gemeinden: list[str], contact: str | None) -> str:
    """The cover sheet (German Markdown): what is asked, until when and how to answer."""
    area = (
        "Gemeinden " + ", ".join(gemeinden)
        if gemeinden
        else "das in projektgebiet.gpkg abgegrenzte Gebiet"
    )
    lines = [
        f"# Markterkundungsverfahren: {spec.name}",
        "",
        f"Projektgebiet: {area} ({addresses} Adressen).",
        f"Frist: vom {spec.start:%d.%m.%Y} bis zum {spec.end:%d.%m.%Y}.",
        (
            f"Zeithorizont für eigenwirtschaftlichen Ausbau: {spec.horizon_months} Monate ab "
            f"dem Stichtag {spec.reference_date:%d.%m.%Y}, also bis zum {spec.horizon_end:%d.%m.%Y}."
        ),
    ]
    if spec.branchendialog:
        lines.append(f"Branchendialog: {spec.branchendialog:%d.%m.%Y}.")
    lines += _INSTRUCTIONS.splitlines()
    if contact:
        lines += ["", f"Rückfragen und Rücksendung: {contact}"]
    return "\n".join(lines) + "\n"
