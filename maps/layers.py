"""Pure conversions: run frames -> GeoJSON dicts, marker rows, colours and legends.

This module holds the one reprojection to WGS84 (:func:`to_wgs84`) and the one lon/lat ->
lat/lon swap (:func:`latlon_rows`, :func:`bounds_latlon`). Geometry is simplified in metres in
the working CRS *before* reprojection. Every string placed in a property that ends up as
HTML (``popup``, ``tooltip``, ``label``) is escaped here with :func:`html.escape`; the page
inserts those strings as markup, so nothing unescaped may reach them.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from maps import i18n

WGS84 = "EPSG:4326"
DECIMALS = 5  # ~1 m at 51° N: enough for display, keeps the page small
SHARE_BINS = (0.0, 0.05, 0.10, 0.20, 0.35, 0.50, 1.0)
SHARE_COLOURS = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026")
NA_COLOUR = "#bdbdbd"
#: Class colours from the Okabe-Ito set: told apart with normal vision and under simulated
#: deuteranopia and protanopia (tests/maps/test_palette.py checks the CIELAB distances).
CLASS_COLOURS = {
    "gigabit": "#0072B2",
    "served": "#0072B2",
    "black": "#3d3d3d",
    "grey": "#F0E442",
    "underserved": "#F0E442",
    "white": "#D55E00",
    "unserved": "#D55E00",
}
_FALLBACK = ("#1f78b4", "#6a3d9a", "#b15928", "#a6cee3", "#fb9a99", "#cab2d6")
PRIORITY_BINS = (0.0, 30.0, 50.0, 70.0, 1000.0)
PRIORITY_COLOURS = ("#dadaeb", "#9e9ac8", "#6a51a3", "#3f007d")
#: scattered remainders (clusters below the minimum area; not ranked)
REMAINDER_COLOUR = "#bdbdbd"
#: DEGURBA *cell* codes (coverage.rural.degurba: 3 urban centre, 2 urban cluster, 1 rural
#: grid cell) -> colour; municipality codes run the other way and are not drawn here.
DEGURBA_COLOURS = {3: "#b2182b", 2: "#ef8a62", 1: "#7fbc41"}
TECH_COLOURS = {
    "ftth": "#6a3d9a",
    "fttb": "#8e6bb5",
    "hfc_docsis31": "#1f78b4",
    "hfc_docsis30": "#6aa8d6",
    "vdsl": "#33a02c",
    "adsl": "#b2df8a",
    "fwa_licensed": "#ff7f00",
}
FOCAL_COLOURS = {"school": "#0570b0", "hospital": "#e7298a"}


def esc(value: Any) -> str:
    """Text for HTML: missing values as '–', everything else escaped (quotes too)."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "–"
    return html.escape(str(value), quote=True)


def popup(title: Any, values: Iterable[Any]) -> list[str]:
    """Popup content as ``[title, value, ...]``, every item escaped.

    The page joins them with the layer's escaped ``popup_fields`` headings into a table
    (markup is added in JS; only escaped text comes from the data).
    """
    return [esc(title), *(esc(v) for v in values)]


def headings(lang: str, keys: Iterable[str]) -> list[str]:
    """Escaped popup headings for label keys (unknown keys are used as text)."""
    lab = i18n.labels(lang)
    return [esc(lab.get(k, k)) for k in keys]


def class_colour(name: str, index: int = 0) -> str:
    """Colour of a profile class; unknown classes take a fallback colour by position."""
    return CLASS_COLOURS.get(name, _FALLBACK[index % len(_FALLBACK)])


def binned_colour(value: Any, bins: Sequence[float], colours: Sequence[str]) -> str:
    """Colour of the bin holding ``value`` (bins closed on the left; NA grey)."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return NA_COLOUR
    i = int(np.searchsorted(np.asarray(bins[1:-1]), float(value), side="right"))
    return colours[min(i, len(colours) - 1)]


def bin_labels(bins: Sequence[float], lang: str, pct: bool = True) -> list[str]:
    """Legend labels for bins: '0,0 % – 5,0 %' ..."""
    fmt = (lambda v: i18n.fmt_pct(v, lang, 0)) if pct else (lambda v: i18n.fmt_int(v, lang))
    out = [f"{fmt(lo)} – {fmt(hi)}" for lo, hi in itertools.pairwise(bins[:-1])]
    return [*out, f"≥ {fmt(bins[-2])}"]


def to_wgs84(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoSeries:
    """The one reprojection for display: any projected layer -> EPSG:4326, rounded."""
    if frame.crs is None:
        raise ValueError("layer has no CRS; cannot place it on the map")
    geoms = frame.geometry.to_crs(WGS84)
    rounded = shapely.transform(geoms.values, lambda xy: np.round(xy, DECIMALS))
    return gpd.GeoSeries(rounded, index=geoms.index, crs=WGS84)


def simplify(geoms: gpd.GeoSeries, tolerance_m: float) -> gpd.GeoSeries:
    """Simplify polygons in metres (working CRS); empty results keep the original."""
    out = geoms.simplify(tolerance_m, preserve_topology=True)
    return out.where(~out.is_empty, geoms)


def latlon_rows(points: gpd.GeoSeries) -> np.ndarray:
    """(n, 2) array of [lat, lon] rounded for Leaflet from points in any CRS."""
    p = to_wgs84(points)
    return np.column_stack([np.round(p.y.to_numpy(), DECIMALS), np.round(p.x.to_numpy(), DECIMALS)])


def bounds_latlon(frame: gpd.GeoDataFrame) -> list[list[float]]:
    """[[south, west], [north, east]] of a layer, for ``fit_bounds``."""
    w, s, e, n = frame.geometry.to_crs(WGS84).total_bounds
    return [
        [round(float(s), DECIMALS), round(float(w), DECIMALS)],
        [round(float(n), DECIMALS), round(float(e), DECIMALS)],
    ]


def collection(
    geoms: gpd.GeoSeries, props: Sequence[dict[str, Any]], fields: Sequence[str] = ()
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection from WGS84 geometries and one property dict per feature.

    ``fields`` (escaped popup headings) travel as the foreign member ``popup_fields``.
    """
    feats = [
        {"type": "Feature", "geometry": mapping(g), "properties": p}
        for g, p in zip(geoms.values, props, strict=True)
        if g is not None and not g.is_empty
    ]
    return {"type": "FeatureCollection", "features": feats, "popup_fields": list(fields)}


def gemeinde_choropleth(
    boundaries: gpd.GeoDataFrame,
    summary: pd.DataFrame,
    value: str,
    lang: str,
    tolerance_m: float,
) -> dict[str, Any]:
    """Gemeinde polygons styled by ``value`` ('eligible_share' or 'rural_gap_share').

    Shared borders are simplified together (``coverage_simplify``), so no slivers open.
    """
    gem = boundaries[boundaries["level"] == "gemeinde"]
    s = summary.set_index("ags")
    geoms = gpd.GeoSeries(shapely.coverage_simplify(gem.geometry.values, tolerance_m), crs=gem.crs)
    props = []
    for ags, name in zip(gem["ags"], gem["name"], strict=True):
        row = s.loc[ags] if ags in s.index else None
        n = None if row is None else row["addresses"]
        share = None
        if row is not None and n:
            share = (row["eligible"] if value == "eligible_share" else row["rural_gap"]) / n
        colour = binned_colour(share, SHARE_BINS, SHARE_COLOURS)
        values = [
            ags,
            i18n.fmt_int(n, lang),
            i18n.fmt_int(None if row is None else row["eligible"], lang),
            i18n.fmt_int(None if row is None else row["rural_gap"], lang),
            i18n.fmt_pct(share, lang),
        ]
        props.append(
            {
                "ags": str(ags),
                "label": esc(name),
                "share": None if share is None else round(float(share), 4),
                "style": {"fillColor": colour, "color": "#555555", "weight": 1, "fillOpacity": 0.6},
                "popup": popup(name, values),
                "tooltip": f"{esc(name)}: {esc(i18n.fmt_pct(share, lang))}",
            }
        )
    fields = headings(lang, ["ags", "n_addresses", "eligible", "rural_gap", value])
    return collection(to_wgs84(geoms), props, fields)


def kreis_outline(boundaries: gpd.GeoDataFrame, tolerance_m: float) -> dict[str, Any]:
    """Kreis boundaries as non-interactive lines."""
    k = boundaries[boundaries["level"] == "kreis"]
    props = [
        {"label": esc(n), "style": {"color": "#222222", "weight": 2, "fill": False}}
        for n in k["name"]
    ]
    return collection(to_wgs84(simplify(k.geometry, tolerance_m)), props)


def gap_areas(
    areas: gpd.GeoDataFrame, names: dict[str, str], lang: str, tolerance_m: float
) -> dict[str, Any]:
    """Gap-area polygons coloured by gapmap's screening score (not the official ranking),
    with popups; scattered remainders in grey."""
    lab = i18n.labels(lang)
    props = []
    for r in areas.drop(columns="geometry").to_dict("records"):
        rest = r.get("kind") == "remainder"
        colour = (
            REMAINDER_COLOUR
            if rest
            else binned_colour(r.get("screening_score"), PRIORITY_BINS, PRIORITY_COLOURS)
        )
        cur = str(r.get("currency") or "EUR")
        cost = " – ".join(
            i18n.fmt_money(r.get(f"per_connection_{lv}"), cur, lang) for lv in ("low", "high")
        )
        values = [
            names.get(str(r["ags"]), r["ags"]),
            i18n.fmt_int(r.get("addresses"), lang),
            i18n.fmt_int(r.get("households"), lang),
            i18n.fmt_int(r.get("focal_points"), lang),
            cost,
            i18n.fmt_m(r.get("distance_to_served_m"), lang),
            i18n.labels(lang)["remainder"]
            if rest
            else f"{r.get('screening_score', float('nan')):.1f} (#{r.get('screening_rank', '–')})",
        ]
        props.append(
            {
                "area_id": str(r["area_id"]),
                "style": {"color": colour, "fillColor": colour, "weight": 2, "fillOpacity": 0.45},
                "popup": popup(f"{lab['area']} {r['area_id']}", values),
            }
        )
    fields = headings(
        lang,
        [
            "gemeinde",
            "n_addresses",
            "households",
            "focal",
            "cost_per_connection",
            "distance_to_served",
            "priority",
        ],
    )
    return collection(to_wgs84(simplify(areas.geometry, tolerance_m)), props, fields)


def coverage_by_technology(
    coverage: gpd.GeoDataFrame, lang: str, tolerance_m: float
) -> dict[str, dict[str, Any]]:
    """Footprints dissolved per (technology, operator, status), one collection per technology."""
    lab = i18n.labels(lang)
    cov = coverage[coverage["technology"].notna()].copy()
    cov["status"] = cov["status"].fillna("existing") if "status" in cov else "existing"
    cov["provider"] = cov["provider"].fillna("–")
    cov["geometry"] = simplify(cov.geometry, tolerance_m)
    out: dict[str, dict[str, Any]] = {}
    for tech, part in cov.groupby("technology", sort=True):
        colour = TECH_COLOURS.get(str(tech), "#777777")
        geoms, props = [], []
        for (provider, status), grp in part.groupby(["provider", "status"], sort=True):
            geom = shapely.simplify(
                shapely.union_all(grp.geometry.values), tolerance_m, preserve_topology=True
            )
            down = grp["down_mbps"].max() if "down_mbps" in grp else None
            geoms.append(geom)
            style = {"color": colour, "fillColor": colour, "weight": 1, "fillOpacity": 0.25}
            if status == "planned":
                style["dashArray"] = "4 4"
            values = [
                i18n.tech_label(str(tech), lang),
                f"{i18n.fmt_int(down, lang)} Mbit/s",
                lab.get(str(status), str(status)),
            ]
            props.append(
                {"provider": esc(provider), "style": style, "popup": popup(provider, values)}
            )
        fields = headings(lang, ["technology", "down", "status"])
        out[str(tech)] = collection(to_wgs84(gpd.GeoSeries(geoms, crs=cov.crs)), props, fields)
    return out


def _cells(frame: pd.DataFrame, res: int) -> gpd.GeoSeries:
    x = frame["x_ll"].to_numpy(dtype=float)
    y = frame["y_ll"].to_numpy(dtype=float)
    return gpd.GeoSeries(shapely.box(x, y, x + res, y + res), index=frame.index, crs="EPSG:3035")


def grid_cells(grid: pd.DataFrame, res: int, classes: Sequence[str], lang: str) -> dict[str, Any]:
    """INSPIRE cells coloured by their majority class; suppressed cells grey."""
    lab = i18n.labels(lang)
    cols = [f"addresses_{c}" for c in classes]
    props = []
    for r in grid.to_dict("records"):
        counts = [r.get(c) for c in cols]
        total = r.get("addresses")
        if total is None or total is pd.NA or (isinstance(total, float) and np.isnan(total)):
            # the cell's own count is small (1..k-1): nothing about it is shown
            colour, values = NA_COLOUR, [lab["suppressed"]]
        elif r.get("suppressed") or any(v is None or v is pd.NA for v in counts):
            # the count is shown; the split by class is hidden because a class count is
            # small, or would let a hidden one be recomputed (complementary suppression)
            colour = NA_COLOUR
            values = [i18n.fmt_int(total, lang), lab["suppressed_parts"]]
        else:
            i = int(np.argmax(counts))
            colour = class_colour(classes[i], i)
            values = [i18n.fmt_int(r["addresses"], lang)]
            values += [i18n.fmt_int(v, lang) for v in counts]
            values.append(i18n.fmt_pct(r.get("share_eligible"), lang))
        props.append(
            {
                "style": {"fillColor": colour, "color": colour, "weight": 0.5, "fillOpacity": 0.7},
                "popup": popup(f"{lab['cell']} {r['cell_id']}", values),
            }
        )
    fields = [
        esc(lab["n_addresses"]),
        *(esc(i18n.class_label(c, lang)) for c in classes),
        esc(lab["eligible"]),
    ]
    return collection(to_wgs84(_cells(grid, res)), props, fields)


def degurba(cells: pd.DataFrame, lang: str) -> dict[str, Any]:
    """1 km DEGURBA cells merged per cell class (3 urban centre, 2 urban cluster, 1 rural cell)."""
    lab = i18n.labels(lang)
    geoms, props = [], []
    squares = _cells(cells, 1000)
    for k, idx in cells.groupby("degurba_cell").groups.items():
        geoms.append(shapely.coverage_union_all(squares.loc[idx].values))
        colour = DEGURBA_COLOURS.get(int(k), NA_COLOUR)
        pop = cells.loc[idx, "population"].sum()
        props.append(
            {
                "degurba": int(k),
                "style": {"fillColor": colour, "color": colour, "weight": 0, "fillOpacity": 0.35},
                "popup": popup(
                    lab.get(f"degurba_cell_{int(k)}", str(k)), [len(idx), i18n.fmt_int(pop, lang)]
                ),
            }
        )
    fields = [esc(lab["cell"]), esc(lab["population"])]
    return collection(to_wgs84(gpd.GeoSeries(geoms, crs="EPSG:3035")), props, fields)


def _address_title(frame: pd.DataFrame) -> list[str]:
    """'Street 12a, Place' per address (plain text)."""
    cols = [
        frame[c].astype("string").fillna("")
        for c in ("street", "house_number", "suffix")
        if c in frame
    ]
    if not cols:
        return [""] * len(frame)
    text = cols[0]
    for col in cols[1:]:
        text = text + " " + col
    text = text.str.replace(r"\s+", " ", regex=True).str.strip()
    if "place" in frame:
        text = (text + ", " + frame["place"].astype("string").fillna("")).str.strip(", ")
    return text.tolist()


ADDRESS_FIELDS = ("class", "existing_offer", "planned_offer", "households", "reason")


def offer_texts(frame: pd.DataFrame, lang: str, kind: str) -> list[str]:
    """'Provider Technology 250/40 Mbit/s' (``kind`` best) or the same plus 'ab 31.03.2027'
    (``kind`` planned) per address; '–' without an offer. Plain text (escape before use)."""
    lab = i18n.labels(lang)
    provider = frame[f"{kind}_provider"].astype("string") if f"{kind}_provider" in frame else None
    tech = frame[f"{kind}_technology"].astype("string") if f"{kind}_technology" in frame else None
    down = frame.get(f"{kind}_down_mbps")
    up = frame.get(f"{kind}_up_mbps")
    when = frame.get("planned_available_from") if kind == "planned" else None
    out = []
    for i in range(len(frame)):
        d = None if down is None else down.iloc[i]
        if d is None or pd.isna(d):
            out.append("–")
            continue
        parts = []
        if provider is not None and not pd.isna(provider.iloc[i]):
            parts.append(str(provider.iloc[i]))
        if tech is not None and not pd.isna(tech.iloc[i]):
            parts.append(i18n.tech_label(str(tech.iloc[i]), lang))
        speed = i18n.fmt_int(d, lang)
        if up is not None and not pd.isna(up.iloc[i]):
            speed += "/" + i18n.fmt_int(up.iloc[i], lang)
        parts.append(f"{speed} Mbit/s")
        if when is not None and not pd.isna(when.iloc[i]):
            parts.append(f"{lab['from']} {i18n.fmt_date(str(when.iloc[i])[:10], lang)}")
        out.append(" ".join(parts))
    return out


def address_popups(
    frame: pd.DataFrame, lang: str, prefix: Sequence[str] | None = None
) -> list[list[str]]:
    """Escaped popup items per address: title, class, best existing offer (with upload),
    best planned offer (with its date), households, and the reason in the map's language."""
    from coverage.texts import reasons

    out = []
    best = offer_texts(frame, lang, "best")
    planned = offer_texts(frame, lang, "planned")
    why = reasons(frame, lang).tolist() if len(frame) else []
    klass = frame["class"].astype("string").tolist()
    households = frame["households"].tolist() if "households" in frame else [None] * len(frame)
    for i, title in enumerate(_address_title(frame)):
        values = [
            i18n.class_label(str(klass[i]), lang), best[i], planned[i],
            households[i], why[i],
        ]  # fmt: skip
        out.append(popup(f"{prefix[i]}: {title}" if prefix is not None else title, values))
    return out


def address_points(frame: gpd.GeoDataFrame, classes: Sequence[str], lang: str) -> dict[str, Any]:
    """Addresses as GeoJSON points (for canvas circle markers), styled by class."""
    index = {c: i for i, c in enumerate(classes)}
    props = [
        {
            "cls": str(c),
            "style": {
                "radius": 5,
                "fillColor": class_colour(str(c), index.get(str(c), 0)),
                "color": "#333333",
                "weight": 0.5,
                "fillOpacity": 0.9,
            },
            "popup": p,
        }
        for c, p in zip(frame["class"], address_popups(frame, lang), strict=True)
    ]
    return collection(to_wgs84(frame.geometry), props, headings(lang, ADDRESS_FIELDS))


def cluster_rows(
    frame: gpd.GeoDataFrame, classes: Sequence[str], lang: str
) -> tuple[list[list[Any]], dict[str, list[str]]]:
    """Compact rows ``[lat, lon, class_idx, title, existing_idx, planned_idx, reason_idx]``.

    The existing and planned offers (see :func:`offer_texts`) and the reasons (in the map's
    language) go to lookup lists (escaped, like ``title``) so the page stays small; the JS
    callback joins them into the popup.
    """
    from coverage.texts import reasons

    index = {c: i for i, c in enumerate(classes)}
    e_codes, e_uniques = pd.factorize(pd.Series(offer_texts(frame, lang, "best"), dtype=object))
    p_codes, p_uniques = pd.factorize(pd.Series(offer_texts(frame, lang, "planned"), dtype=object))
    r_codes, r_uniques = pd.factorize(reasons(frame, lang).fillna("").astype(object))
    latlon = latlon_rows(frame.geometry).tolist()
    titles = [esc(t) for t in _address_title(frame)]
    cls = [index.get(str(c), len(classes)) for c in frame["class"]]
    rows = [
        [la, lo, c, t, int(e), int(p), int(r)]
        for (la, lo), c, t, e, p, r in zip(
            latlon, cls, titles, e_codes, p_codes, r_codes, strict=True
        )
    ]
    lookups = {
        "classes": [esc(i18n.class_label(c, lang)) for c in classes],
        "colours": [class_colour(c, i) for i, c in enumerate(classes)],
        "existing": [esc(v) for v in e_uniques],
        "planned": [esc(v) for v in p_uniques],
        "reasons": [esc(v) for v in r_uniques],
    }
    return rows, lookups


def focal_points(frame: gpd.GeoDataFrame, lang: str) -> dict[str, Any]:
    """Schools and hospitals as points with popups."""
    lab = i18n.labels(lang)
    sites = frame[frame["site_type"].isin(list(FOCAL_COLOURS)).fillna(False)]
    kinds = [str(s) for s in sites["site_type"]]
    popups = address_popups(sites, lang, prefix=[lab[k] for k in kinds])
    props = [
        {
            "site": k,
            "style": {
                "radius": 7,
                "fillColor": FOCAL_COLOURS[k],
                "color": "#ffffff",
                "weight": 2,
                "fillOpacity": 1,
            },
            "popup": p,
        }
        for k, p in zip(kinds, popups, strict=True)
    ]
    return collection(to_wgs84(sites.geometry), props, headings(lang, ADDRESS_FIELDS))
