"""Evidence packs for grant applicants: pure shaping of tables, texts and the pack manifest.

Nothing here touches files; ``coverage.io.evidence_pack`` writes what these functions return.
Every table is sorted by ``ags`` then ``address_id`` and carries fixed decimals, so the same
run and options always give the same bytes. Coordinates: ``x_<epsg>``/``y_<epsg>`` in the
run's working CRS (EPSG:25832 for Germany, metres, 2 decimals) and ``lon``/``lat`` in WGS84
(EPSG:4326, degrees, 7 decimals, about 1 cm).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.errors import InputDataError, NotFoundError, ProfileError
from coverage.profiles import Profile
from coverage.rules.reasons import reason_text

FORMATS = ("de", "bead", "uk-omr")
LANGS = ("de", "en")
#: NTIA exports at most this many rows per CSV so that Excel can open every file.
BEAD_CHUNK_ROWS = 1_000_000
BEAD_LEVELS = {
    "unserved": (0, "Unserved"),
    "underserved": (1, "Underserved"),
    "served": (2, "Served"),
}
UK_CLASSES = {"white": "White", "grey": "Grey", "black": "Black", "under_review": "Under Review"}

#: (column, German label, English label, decimals or kind); x/y get the EPSG code appended.
COLUMNS: tuple[tuple[str, str, str, int | str], ...] = (
    ("address_id", "Adress-ID", "Address ID", "str"),
    ("ags", "AGS", "AGS", "str"),
    ("street", "Straße", "Street", "str"),
    ("house_number", "Hausnummer", "House number", "str"),
    ("suffix", "Zusatz", "Suffix", "str"),
    ("postcode", "PLZ", "Postcode", "str"),
    ("place", "Ort", "Place", "str"),
    ("x", "Rechtswert", "Easting", 2),
    ("y", "Hochwert", "Northing", 2),
    ("lon", "Länge (WGS84)", "Longitude (WGS84)", 7),
    ("lat", "Breite (WGS84)", "Latitude (WGS84)", 7),
    ("site_type", "Kategorie", "Site type", "str"),
    ("households", "Haushalte", "Households", 0),
    ("best_provider", "Anbieter heute", "Existing provider", "str"),
    ("best_technology", "Technologie heute", "Existing technology", "str"),
    ("best_down_mbps", "Download heute (Mbit/s)", "Existing download (Mbit/s)", 1),
    ("best_up_mbps", "Upload heute (Mbit/s)", "Existing upload (Mbit/s)", 1),
    ("best_latency_ms", "Latenz heute (ms)", "Existing latency (ms)", 1),
    ("planned_provider", "Anbieter geplant", "Planned provider", "str"),
    ("planned_technology", "Technologie geplant", "Planned technology", "str"),
    ("planned_down_mbps", "Download geplant (Mbit/s)", "Planned download (Mbit/s)", 1),
    ("planned_up_mbps", "Upload geplant (Mbit/s)", "Planned upload (Mbit/s)", 1),
    ("planned_available_from", "Verfügbar ab", "Available from", "date"),
    ("networks_now", "Netze heute", "Networks now", 0),
    ("networks_planned", "Netze geplant", "Networks planned", 0),
    ("class", "Klasse", "Class", "str"),
    ("eligible", "Förderfähig", "Eligible", "bool"),
    ("reason_code", "Begründungscode", "Reason code", "str"),
    ("reason", "Begründung", "Reason", "str"),
    ("gap_area_id", "Lückengebiet", "Gap area", "str"),
)

#: Shapefile (dBASE) field names, at most 10 characters, in the short lower-case style of the
#: GIS-Nebenbestimmungen layers; the pack documents this table in ``gis/shapefile/FIELDS.csv``.
SHAPEFILE_FIELDS: Mapping[str, Mapping[str, str]] = {
    "addresses": {
        "address_id": "adr_id", "ags": "ags", "street": "strasse", "house_number": "hausnr",
        "suffix": "hnr_zusatz", "postcode": "plz", "place": "ort", "x": "rechtswert",
        "y": "hochwert", "lon": "lon_wgs84", "lat": "lat_wgs84", "site_type": "kategorie",
        "households": "haushalte", "best_provider": "akt_anbiet", "best_technology": "akt_techn",
        "best_down_mbps": "akt_down", "best_up_mbps": "akt_up", "best_latency_ms": "akt_lat_ms",
        "planned_provider": "gep_anbiet", "planned_technology": "gep_techn",
        "planned_down_mbps": "gep_down", "planned_up_mbps": "gep_up",
        "planned_available_from": "gep_datum", "networks_now": "netze_akt",
        "networks_planned": "netze_gep", "class": "klasse", "eligible": "foerderf",
        "reason_code": "grund_code", "reason": "grund", "gap_area_id": "gebiet_id",
    },
    "gap_areas": {
        "area_id": "gebiet_id", "ags": "ags", "addresses": "adressen", "households": "haushalte",
        "n_school": "n_schule", "n_hospital": "n_krankenh", "n_business": "n_gewerbe",
        "focal_points": "schwerpkt", "area_km2": "fl_km2", "density_per_km2": "dichte_km2",
        "share_rural": "ant_laendl", "share_cluster": "ant_clust", "share_centre": "ant_zentr",
        "share_white": "ant_weiss", "distance_to_served_m": "dist_vers",
        "trench_intra_m": "trasse_int", "link_m": "anbind_m", "trench_m": "trasse_m",
        "addresses_per_route_km": "adr_pro_km", "kind": "art", "clusters": "n_cluster",
        "link_to": "anbind_an", "route_m": "route_m", "currency": "waehrung",
        "cost_low": "kost_min", "cost_central": "kost_mitte", "cost_high": "kost_max",
        "per_home_passed_central": "kost_hp", "per_connection_low": "kanschl_mi",
        "per_connection_central": "kanschl_mt", "per_connection_high": "kanschl_ma",
        "above_private_threshold": "ueb_schw", "screening_score": "screen_pkt",
        "screening_rank": "screen_rg",
    },
    "boundaries": {"ags": "ags", "name": "name", "level": "ebene"},
}  # fmt: skip
DBF_TEXT_MAX = 254  # dBASE character fields hold at most 254 bytes

#: Licence and attribution per input, keyed by (kind, format); ("demo", kind) for demo runs.
LICENCES: Mapping[tuple[str, str], Mapping[str, str]] = {
    ("demo", "addresses"): {"licence": "SYNTHETIC", "attribution": "SYNTHETIC data generated by gapmap demo; no real addresses"},
    ("demo", "coverage"): {"licence": "SYNTHETIC", "attribution": "SYNTHETIC coverage of fictional 'Demo' operators"},
    ("demo", "boundaries"): {"licence": "dl-de/by-2-0", "attribution": "© GeoBasis-DE / BKG (2016), modified", "vintage": "2016-01-01"},
    ("boundaries", "vg250"): {"licence": "dl-de/by-2-0", "attribution": "© GeoBasis-DE / BKG"},
    ("addresses", "hkde"): {"licence": "licensed (HK-DE, fee-based)", "attribution": "© GeoBasis-DE / BKG, Hauskoordinaten Deutschland"},
    ("addresses", "nrw_gebref"): {"licence": "dl-de/zero-2-0", "attribution": "Geobasis NRW, Gebäudereferenzen"},
    ("addresses", "fcc_fabric"): {"licence": "licensed (CostQuest Fabric)", "attribution": "FCC Broadband Serviceable Location Fabric, © CostQuest Associates"},
    ("offers", "fcc_bdc"): {"licence": "public (FCC)", "attribution": "FCC National Broadband Map, Broadband Data Collection"},
    ("measured", "ookla"): {"licence": "CC BY-NC-SA 4.0", "attribution": "Speedtest® by Ookla® Global Fixed and Mobile Network Performance Maps"},
    ("atlas", "breitbandatlas"): {"licence": "attribution required", "attribution": "© Bundesnetzagentur, Gigabit-Grundbuch / Breitbandatlas"},
    ("population", "inspire_grid"): {"licence": "dl-de/by-2-0", "attribution": "© Statistisches Bundesamt (Destatis), Zensus"},
}  # fmt: skip
UNKNOWN_LICENCE = {
    "licence": "not stated",
    "attribution": "not stated: add source and licence before publishing",
}


@dataclass(frozen=True)
class Selection:
    """The part of a run one pack covers; ``label`` names it in texts and the manifest."""

    addresses: gpd.GeoDataFrame
    gap_areas: gpd.GeoDataFrame | None
    boundaries: gpd.GeoDataFrame | None
    scope: dict[str, str]


def select(
    addresses: gpd.GeoDataFrame,
    gap_areas: gpd.GeoDataFrame | None,
    boundaries: gpd.GeoDataFrame | None,
    *,
    ags: str | None = None,
    gap_area: str | None = None,
) -> Selection:
    """Addresses, gap areas and boundaries of the whole run, an AGS prefix or one gap area.

    ``ags`` matches as a prefix (8 digits: one Gemeinde, 5: a Kreis). Raises
    :class:`NotFoundError` when nothing matches, :class:`InputDataError` for both options.
    """
    if ags and gap_area:
        raise InputDataError("give either --ags or --gap-area, not both")
    if gap_area:
        keep = addresses["gap_area_id"].eq(gap_area).fillna(False).to_numpy(bool)
        areas = None if gap_areas is None else gap_areas[gap_areas["area_id"] == gap_area]
        if not keep.any():
            raise NotFoundError(f"gap area {gap_area!r} not in this run (see gap_areas.parquet)")
        # the area's main Gemeinde (most addresses), named with all it spans, main first
        prefix = str(addresses.loc[keep, "ags"].value_counts().sort_index().idxmax())
        scope = {"kind": "gap_area", "id": gap_area, "ags": prefix}
        if areas is not None and len(areas) and "gemeinde_names" in areas:
            scope["ags"] = str(areas["ags"].iloc[0])
            scope["gemeinden"] = str(areas["gemeinde_ags"].iloc[0])
            scope["name"] = str(areas["gemeinde_names"].iloc[0])
    else:
        prefix = ags or ""
        keep = addresses["ags"].str.startswith(prefix).fillna(not ags).to_numpy(bool)
        if ags and not keep.any():
            raise NotFoundError(f"no address with an AGS starting {ags!r} in this run")
        areas = None
        if gap_areas is not None:
            areas = gap_areas[
                gap_areas["ags"].str.startswith(prefix).fillna(not ags).to_numpy(bool)
            ]
        scope = {"kind": "ags", "id": ags} if ags else {"kind": "run", "id": "all"}
    bounds = None
    if boundaries is not None:
        on = boundaries["ags"].str.startswith(prefix) | boundaries["ags"].map(prefix.startswith)
        bounds = boundaries[on.fillna(not prefix).to_numpy(bool)].sort_values(["level", "ags"])
        if (ags or gap_area) and "name" not in scope:
            names = bounds.loc[bounds["ags"] == prefix, "name"]
            scope["name"] = str(names.iloc[0]) if len(names) else ""
    if areas is not None:
        areas = areas.sort_values(["ags", "area_id"]).reset_index(drop=True)
    sel = addresses[keep].sort_values(["ags", "address_id"], kind="stable").reset_index(drop=True)
    return Selection(sel, areas, None if bounds is None else bounds.reset_index(drop=True), scope)


def working_epsg(frame: gpd.GeoDataFrame) -> int:
    epsg = frame.crs.to_epsg() if frame.crs is not None else None
    if epsg is None:
        raise InputDataError("addresses.parquet has no EPSG code; re-run gapmap on this input")
    return int(epsg)


def address_table(addresses: gpd.GeoDataFrame) -> pd.DataFrame:
    """The address table of a pack: :data:`COLUMNS` (missing ones empty), rounded, sorted."""
    geom = addresses.geometry
    wgs = geom.to_crs(4326)
    values: dict[str, Any] = {}
    for name, _, _, kind in COLUMNS:
        if name in ("x", "y", "lon", "lat"):
            col = {"x": geom.x, "y": geom.y, "lon": wgs.x, "lat": wgs.y}[name]
            values[name] = col.to_numpy(dtype="float64").round(int(kind))
        elif name not in addresses:
            values[name] = pd.array([pd.NA] * len(addresses), dtype="string")
        elif kind == "date":
            values[name] = pd.to_datetime(addresses[name]).dt.strftime("%Y-%m-%d").astype("string")
        elif kind == 0:
            values[name] = pd.to_numeric(addresses[name]).round().astype("Int64")
        elif isinstance(kind, int):
            values[name] = pd.to_numeric(addresses[name]).astype("Float64").round(kind)
        elif kind == "bool":
            values[name] = addresses[name].astype("boolean")
        else:
            values[name] = addresses[name].astype("string")
    table = pd.DataFrame(values)
    return table.sort_values(["ags", "address_id"], kind="stable").reset_index(drop=True)


def headers(epsg: int, lang: str, *, labels: bool) -> list[str]:
    """Column headers: machine names (``labels=False``) or German/English labels."""
    out = []
    for name, de, en, _ in COLUMNS:
        text = (de if lang == "de" else en) if labels else name
        out.append(f"{text}_{epsg}" if not labels and name in ("x", "y") else text)
        if labels and name in ("x", "y"):
            out[-1] = f"{text} (EPSG:{epsg})"
    return out


def format_table(table: pd.DataFrame, *, decimal: str = ".", lang: str = "en") -> pd.DataFrame:
    """All cells as text with fixed decimals (``decimal`` '.' or ','); NA becomes ''.

    ``lang="de"``: the reason is the German text of the reason code
    (:data:`coverage.rules.reasons.REASON_CODES_DE`), so every cell of a German table is German;
    the English reason sentence with the offer details stays in the machine-readable CSV."""
    yes, no = ("Ja", "Nein") if lang == "de" and decimal == "," else ("true", "false")
    out = {}
    for name, _, _, kind in COLUMNS:
        col = table[name]
        if isinstance(kind, int):
            text = [
                "" if pd.isna(v) else f"{float(v):.{kind}f}".replace(".", decimal)
                for v in col.to_numpy(dtype=object)
            ]
        elif kind == "bool":
            text = ["" if pd.isna(v) else (yes if v else no) for v in col.to_numpy(dtype=object)]
        elif name == "reason" and lang == "de":
            text = [
                "" if pd.isna(c) else reason_text(str(c), "de")
                for c in table["reason_code"].to_numpy(dtype=object)
            ]
        else:
            text = col.fillna("").astype(str).tolist()
        out[name] = text
    return pd.DataFrame(out, dtype=object)


def class_counts(addresses: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Addresses and households per class in profile order, plus an 'eligible' total row."""
    rows = []
    hh = pd.to_numeric(addresses.get("households", pd.Series(0, index=addresses.index)))
    for c in profile.classes:
        on = (addresses["class"] == c.name).fillna(False).to_numpy(bool)
        rows.append((c.name, c.label, c.eligible, int(on.sum()), int(hh[on].sum())))
    elig = addresses["eligible"].fillna(False).to_numpy(bool)
    rows.append(("eligible", "eligible (all classes)", True, int(elig.sum()), int(hh[elig].sum())))
    rows.append(("total", "all addresses", False, len(addresses), int(hh.sum())))
    return pd.DataFrame(rows, columns=["class", "label", "eligible", "addresses", "households"])


def shapefile_frame(layer: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rename to the short dBASE names of :data:`SHAPEFILE_FIELDS`; cut text at 254 chars."""
    mapping = SHAPEFILE_FIELDS[layer]
    cols = [c for c in mapping if c in frame.columns]
    out = frame[[*cols, "geometry"]].rename(columns=mapping)
    for col in out.columns:
        if col == "geometry":
            continue
        if pd.api.types.is_bool_dtype(out[col]):  # dBASE logicals confuse tools: 1/0 instead
            out[col] = out[col].astype("Int64")
        elif pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].str.slice(0, DBF_TEXT_MAX)
    return out


def shapefile_field_table() -> pd.DataFrame:
    """The documented mapping: layer, shapefile field, full column name."""
    rows = [(lay, short, long) for lay, m in SHAPEFILE_FIELDS.items() for long, short in m.items()]
    return pd.DataFrame(rows, columns=["layer", "field", "column"])


def input_provenance(run_manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each run input with SHA-256, vintage, licence and attribution (from :data:`LICENCES`)."""
    params = run_manifest.get("parameters", {})
    demo = "demo" in params
    out = []
    for rec in run_manifest.get("inputs", []):
        kind, fmt = str(rec.get("kind", "")), str(rec.get("format", ""))
        fmt_key = fmt.split("-")[0]  # vg250-gpkg, breitbandatlas-grid -> family
        lic = (demo and LICENCES.get(("demo", kind))) or LICENCES.get((kind, fmt_key))
        lic = dict(lic or UNKNOWN_LICENCE)
        vintage = rec.get("vintage") or lic.pop("vintage", None)
        lic.pop("vintage", None)
        if not vintage and lic["licence"] == "SYNTHETIC":
            vintage = f"synthetic, generated for {params.get('as_of', 'the run date')}"
        out.append(
            {
                "kind": kind,
                "format": fmt,
                "name": PurePath(str(rec.get("path", ""))).name,
                "sha256": rec.get("sha256"),
                "rows": rec.get("rows"),
                "crs": rec.get("crs"),
                "vintage": vintage or "not stated",
                **lic,
            }
        )
    return out


def bead_locations(addresses: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """NTIA-style location service levels: ``location_id, enum_service_level, service_level``.

    Column names and labels as in the NTIA sample notebook (0 Unserved, 1 Underserved,
    2 Served). Locations flagged ``bsl`` false (not broadband serviceable) are left out,
    like the notebook's ``bsl_flag == 'True'`` filter. Sorted by location_id (numeric).
    """
    if profile.method != "bead":
        raise ProfileError(
            f"--format bead needs a run made with a BEAD profile (us-bead-2022); this run used {profile.id}"
        )
    frame = pd.DataFrame(addresses)
    if "bsl" in frame:
        frame = frame[frame["bsl"].fillna(True).to_numpy(bool)]
    level = frame["class"].map(lambda c: BEAD_LEVELS.get(c, (-1, "Service Level Error")))
    out = pd.DataFrame(
        {
            "location_id": frame["address_id"].astype(str).to_numpy(),
            "enum_service_level": [lv[0] for lv in level],
            "service_level": [lv[1] for lv in level],
        }
    )
    key = pd.to_numeric(out["location_id"], errors="coerce")
    order = np.lexsort((out["location_id"].to_numpy(), key.fillna(np.inf).to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def bead_summary(locations: pd.DataFrame) -> pd.DataFrame:
    """Locations per service level (``service_level, location_qty``), every level listed."""
    counts = locations["service_level"].value_counts()
    labels = [lab for _, lab in BEAD_LEVELS.values()]
    labels += sorted(set(counts.index) - set(labels))
    return pd.DataFrame(
        {"service_level": labels, "location_qty": [int(counts.get(x, 0)) for x in labels]}
    )


def chunks(frame: pd.DataFrame, limit: int = BEAD_CHUNK_ROWS) -> list[pd.DataFrame]:
    """Consecutive slices of at most ``limit`` rows (one empty slice for an empty frame)."""
    if limit < 1:
        raise InputDataError(f"chunk size must be at least 1, got {limit}")
    return [frame.iloc[i : i + limit] for i in range(0, max(len(frame), 1), limit)]


def uk_omr_table(addresses: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """UPRN-keyed OMR classification with the supplier evidence behind each class."""
    if profile.method != "uk_omr":
        raise ProfileError(
            f"--format uk-omr needs a run made with an OMR profile (uk-gigabit-omr); this run used {profile.id}"
        )
    table = format_table(address_table(addresses))
    out = pd.DataFrame(
        {
            "UPRN": table["address_id"],
            "classification": table["class"].map(lambda c: UK_CLASSES.get(c, str(c))),
            "existing_supplier": table["best_provider"],
            "existing_technology": table["best_technology"],
            "existing_down_mbps": table["best_down_mbps"],
            "gigabit_networks_now": table["networks_now"],
            "planned_supplier": table["planned_provider"],
            "planned_technology": table["planned_technology"],
            "planned_date": table["planned_available_from"],
            "gigabit_networks_planned": table["networks_planned"],
            "reason_code": table["reason_code"],
            "evidence": table["reason"],
        }
    )
    return out.sort_values("UPRN", kind="stable").reset_index(drop=True)


def pack_manifest(
    profile: Profile,
    run_manifest: Mapping[str, Any],
    scope: Mapping[str, str],
    counts: pd.DataFrame,
    files: Mapping[str, str],
    *,
    fmt: str,
    lang: str,
    gapmap_version: str,
    gap_areas: int,
    created: str | None = None,
) -> dict[str, Any]:
    """The pack's manifest.json content: provenance, profile, parameters, counts, file hashes."""
    by_class = {r[0]: int(r[3]) for r in counts.itertuples(index=False)}
    return {
        "pack_manifest_version": 1,
        "created_by": "gapmap evidence",
        "producer": f"gapmap {gapmap_version}",
        "created": created,
        "gapmap_version": gapmap_version,
        "run_gapmap_version": run_manifest.get("gapmap_version"),
        "format": fmt,
        "lang": lang,
        "scope": dict(scope),
        "profile": {
            "id": profile.id,
            "version": profile.version,
            "title": profile.title,
            "sha256": profile.sha256,
            "source_url": profile.source_url,
            "effective_date": profile.effective_date.isoformat(),
            "classes": list(profile.class_names),
            "eligible_classes": list(profile.eligible_classes),
        },
        "parameters": run_manifest.get("parameters", {}),
        "working_crs": run_manifest.get("working_crs"),
        "inputs": input_provenance(run_manifest),
        "counts": {
            "addresses": by_class.pop("total"),
            "eligible": by_class.pop("eligible"),
            "by_class": by_class,
            "gap_areas": gap_areas,
        },
        "synthetic_data": run_manifest.get("synthetic_data"),
        "software": run_manifest.get("software", {}),
        "files": {name: {"sha256": files[name]} for name in sorted(files)},
    }
