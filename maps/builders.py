"""Folium maps of a run: pure assembly of layers from a :class:`~coverage.io.rundir.RunData`.

The address layer is chosen by size (house rule 10): canvas circle markers up to
``marker_limit`` points, a FastMarkerCluster with a JS callback up to ``cluster_limit``, and
INSPIRE grid cells (100 m, or 1 km when there are too many 100 m cells) beyond. Pages are
self-contained: Leaflet and plugins are inlined from ``maps/static`` (see ``maps.assets``), and
the default base layer is "no basemap", so the map works offline; OpenStreetMap tiles are an
optional base layer.
"""

from __future__ import annotations

from typing import Any

import folium
from folium.map import CustomPane
from folium.plugins import FastMarkerCluster, Fullscreen, Search
from folium.utilities import JsCode

from coverage.io.rundir import RunData, select
from maps import i18n, layers
from maps.assets import (
    Legend,
    OutlineMiniMap,
    PageHandle,
    PageInfo,
    js_literal,
    make_offline,
    set_page,
)

MARKER_LIMIT = 3_000
CLUSTER_LIMIT = 100_000
GRID_100M_LIMIT = 20_000
#: simplification tolerance (m) for boundaries / coverage per zoom level of the selection
_TOLERANCE = {"region": (100.0, 60.0), "kreis": (40.0, 25.0), "gemeinde": (15.0, 10.0)}

#: map panes of the polygon layers, bottom to top (Leaflet's overlayPane with the points is 400)
_PANES = {
    "gm_degurba": 310, "gm_coverage": 320, "gm_rural_gap_share": 330,
    "gm_eligible_share": 340, "gm_kreis": 350, "gm_gap_areas": 360,
}  # fmt: skip

_ON_EACH_FEATURE = """function (feature, layer) {
    var F = %s;
    var p = feature.properties;
    if (p.popup) {
        layer.bindPopup(function () {
            var h = '<div class="gm-popup"><b>' + p.popup[0] + '</b><table>';
            for (var i = 1; i < p.popup.length; i++) {
                h += '<tr><th>' + (F[i - 1] || '') + '</th><td>' + p.popup[i] + '</td></tr>';
            }
            return h + '</table></div>';
        }, {maxWidth: 360});
    }
    if (p.tooltip) { layer.bindTooltip(p.tooltip, {sticky: true}); }
}"""

_CLUSTER_ICON = """function (cluster) {
    var n = cluster.getChildCount();
    var s = n < 100 ? 30 : (n < 1000 ? 36 : 44);
    return L.divIcon({html: '<div><span>' + n + '</span></div>',
                      className: 'marker-cluster gm-cluster', iconSize: new L.Point(s, s)});
}"""


def _cluster_callback(lookups: dict[str, list[str]], lang: str) -> str:
    """JS callback: one canvas circle per row, popup assembled from pre-escaped pieces."""
    lab = i18n.labels(lang)
    heads = [layers.esc(lab[k]) for k in ("class", "existing_offer", "planned_offer", "reason")]
    return f"""(function () {{
        var K = {js_literal(lookups)};
        var H = {js_literal(heads)};
        function tr(h, v) {{ return '<tr><th>' + h + '</th><td>' + v + '</td></tr>'; }}
        return function (row) {{
            var m = L.circleMarker(new L.LatLng(row[0], row[1]), {{
                radius: 5, color: '#333333', weight: 0.5, fillOpacity: 0.9,
                fillColor: K.colours[row[2]] || '#777777'}});
            m.bindPopup(function () {{
                return '<div class="gm-popup"><b>' + row[3] + '</b><table>' +
                    tr(H[0], K.classes[row[2]] || '') + tr(H[1], K.existing[row[4]]) +
                    tr(H[2], K.planned[row[5]]) + tr(H[3], K.reasons[row[6]]) +
                    '</table></div>';
            }});
            return m;
        }};
    }})()"""


def _geojson(data: dict[str, Any], points: bool = False, **options: Any) -> folium.GeoJson:
    """A GeoJson child whose popups join the escaped ``popup_fields`` with each feature's items."""
    marker = folium.CircleMarker(radius=5, fill=True) if points else None
    js = JsCode(_ON_EACH_FEATURE % js_literal(data.get("popup_fields", [])))
    return folium.GeoJson(data, control=False, on_each_feature=js, marker=marker, **options)


def _level(run: RunData) -> str:
    if not run.ags:
        return "region"
    return "gemeinde" if len(run.ags) == 8 else "kreis"


def address_layer_kind(
    n: int, marker_limit: int = MARKER_LIMIT, cluster_limit: int = CLUSTER_LIMIT
) -> str:
    """'markers', 'cluster' or 'grid' for ``n`` addresses (house rule 10)."""
    if n <= marker_limit:
        return "markers"
    return "cluster" if n <= cluster_limit else "grid"


def _address_layer(
    run: RunData, classes: list[str], lang: str, kind: str, group: folium.FeatureGroup
) -> str:
    """Add the address layer of ``kind`` to ``group``; returns the grid resolution label or ''."""
    addr = run.addresses
    if kind == "markers":
        _geojson(layers.address_points(addr, classes, lang), points=True).add_to(group)
        return ""
    if kind == "cluster":
        rows, lookups = layers.cluster_rows(addr, classes, lang)
        FastMarkerCluster(
            rows,
            callback=_cluster_callback(lookups, lang),
            control=False,
            icon_create_function=_CLUSTER_ICON,
            disableClusteringAtZoom=16,
            spiderfyOnMaxZoom=False,
            showCoverageOnHover=False,
        ).add_to(group)
        return ""
    if len(run.grid_100m) <= GRID_100M_LIMIT and not run.grid_100m.empty:
        grid, res, label = run.grid_100m, 100, "100 m"
    else:
        grid, res, label = run.grid_1km, 1000, "1 km"
    _geojson(layers.grid_cells(grid, res, classes, lang)).add_to(group)
    return label


def build_run_map(
    run: RunData,
    *,
    lang: str = "de",
    ags: str | None = None,
    marker_limit: int = MARKER_LIMIT,
    cluster_limit: int = CLUSTER_LIMIT,
) -> folium.Map:
    """An interactive, offline-capable map of a run (or of one Kreis/Gemeinde of it).

    Overlays: eligible share and rural-gap share per Gemeinde (choropleths), Kreis outlines,
    gap areas, addresses by class (markers, clusters or grid cells by size), coverage
    footprints per technology (when the run's coverage inputs are available), DEGURBA cells,
    schools and hospitals. Controls: layer control, legend per layer, fullscreen, minimap,
    Gemeinde search, scale bar, attributions of every source. All text is escaped.
    """
    lang = i18n.check_lang(lang)
    if ags is not None and ags != run.ags:
        run = select(run, ags)
    lab = i18n.labels(lang)
    level = _level(run)
    tol_poly, tol_cov = _TOLERANCE[level]
    classes = [
        str(c)
        for c in run.profile.get("classes") or sorted(run.addresses["class"].dropna().unique())
    ]
    gem = run.boundaries[run.boundaries["level"] == "gemeinde"]
    bounds = layers.bounds_latlon(gem)
    centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]

    m = folium.Map(
        location=centre,
        zoom_start=10,
        tiles=None,
        prefer_canvas=True,
        control_scale=True,
        maxZoom=19,
    )
    folium.FeatureGroup(name=lab["no_basemap"], overlay=False).add_to(m)
    folium.TileLayer("OpenStreetMap", name=lab["osm"], show=False, overlay=False).add_to(m)

    groups: dict[str, folium.FeatureGroup] = {}
    # one map pane per polygon layer, in a fixed order below the points (overlayPane, 400):
    # switching a layer off and on again keeps its place in the drawing order
    for pane, z in _PANES.items():
        CustomPane(pane, z_index=z, pointer_events=True).add_to(m)

    def group(key: str, name: str, show: bool = True) -> folium.FeatureGroup:
        fg = folium.FeatureGroup(name=name, show=show)
        fg.add_to(m)
        groups[key] = fg
        return fg

    legend: list[tuple[Any, str, list[tuple[str, str, str]]]] = []
    if not run.degurba_cells.empty:
        g = group("degurba", lab["degurba"], show=False)
        _geojson(layers.degurba(run.degurba_cells, lang), pane="gm_degurba").add_to(g)
        legend.append(
            (
                g,
                lab["degurba"],
                [(c, lab[f"degurba_cell_{k}"], "box") for k, c in layers.DEGURBA_COLOURS.items()],
            )
        )
    if run.coverage is not None and not run.coverage.empty:
        for tech, data in layers.coverage_by_technology(run.coverage, lang, tol_cov).items():
            name = lab["coverage"].format(tech=i18n.tech_label(tech, lang))
            g = group(f"coverage:{tech}", name, show=False)
            _geojson(data, pane="gm_coverage").add_to(g)
            legend.append(
                (
                    g,
                    name,
                    [
                        (
                            layers.TECH_COLOURS.get(tech, "#777777"),
                            i18n.tech_label(tech, lang),
                            "box",
                        )
                    ],
                )
            )

    share_entries = [
        (c, t, "box")
        for c, t in zip(
            layers.SHARE_COLOURS, layers.bin_labels(layers.SHARE_BINS, lang), strict=True
        )
    ]
    choropleth = None
    for key, show in (("eligible_share", True), ("rural_gap_share", False)):
        g = group(key, lab[key], show=show)
        layer = _geojson(
            layers.gemeinde_choropleth(run.boundaries, run.summary_gemeinde, key, lang, tol_poly),
            pane=f"gm_{key}",
        )
        layer.add_to(g)
        choropleth = choropleth or layer
        legend.append((g, lab[key], share_entries))
    g = group("kreis_outline", lab["kreis_outline"])
    _geojson(
        layers.kreis_outline(run.boundaries, tol_poly), interactive=False, pane="gm_kreis"
    ).add_to(g)

    if not run.gap_areas.empty:
        g = group("gap_areas", lab["gap_areas"])
        names = dict(zip(gem["ags"].astype(str), gem["name"].astype(str), strict=True))
        _geojson(
            layers.gap_areas(run.gap_areas, names, lang, 25.0 if level == "region" else 10.0),
            pane="gm_gap_areas",
        ).add_to(g)
        pr = [
            (c, t, "box")
            for c, t in zip(
                layers.PRIORITY_COLOURS,
                layers.bin_labels(layers.PRIORITY_BINS, lang, pct=False),
                strict=True,
            )
        ]
        pr.append((layers.REMAINDER_COLOUR, lab["remainder"], "box"))
        legend.append((g, lab["priority_legend"], pr))

    kind = address_layer_kind(len(run.addresses), marker_limit, cluster_limit)
    # calm default: a region map opens with the eligible share and the gap areas only
    g = group("addresses", lab["addresses"], show=level != "region")
    res = _address_layer(run, classes, lang, kind, g)
    if res:
        g.layer_name = lab["grid_cells"].format(res=res)
    entries = [
        (layers.class_colour(c, i), i18n.class_label(c, lang), "dot" if not res else "box")
        for i, c in enumerate(classes)
    ]
    if res:
        entries.append((layers.NA_COLOUR, lab["suppressed_legend"], "box"))
    legend.append((g, g.layer_name, entries))

    focal = layers.focal_points(run.addresses, lang)
    if focal["features"]:
        g = group("focal_points", lab["focal_points"], show=level != "region")
        _geojson(focal, points=True).add_to(g)
        legend.append(
            (g, lab["focal_points"], [(c, lab[k], "dot") for k, c in layers.FOCAL_COLOURS.items()])
        )

    folium.LayerControl(collapsed=True, position="topright").add_to(m)  # opens on hover/tap
    Fullscreen(position="topleft").add_to(m)
    if choropleth is not None:
        Search(
            layer=choropleth,
            search_label="label",
            geom_type="Polygon",
            placeholder=lab["search"],
            collapsed=True,
            position="topleft",
            weight=3,
            color="#0000ff",
        ).add_to(m)
    OutlineMiniMap(layers.kreis_outline(run.boundaries, 500.0)).add_to(m)
    Legend(legend, lab["legend"]).add_to(m)
    profile = run.profile
    attributions = [lab["bkg"]]
    if run.synthetic_note:
        attributions += [lab["geonames"], lab["synthetic"]]
    attributions.append(
        f"{lab['gapmap']} ({profile.get('id', '?')} {profile.get('version', '')})".strip()
    )
    set_page(m.get_root(), f"{lab['title']} – {run.area_name}", lang)
    PageInfo(
        f"{lab['title']} – {run.area_name}",
        i18n.stamp_line(run.manifest, lang),
        lab["synthetic"] if run.synthetic_note else None,
        attributions,
    ).add_to(m)
    m.fit_bounds(bounds)
    PageHandle(groups).add_to(m)
    make_offline(m.get_root())
    return m
