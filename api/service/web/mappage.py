"""The map page: a Folium map whose layers read the run's vector tiles.

Leaflet and ``leaflet.vectorgrid`` are served from ``/static/maps`` (vendored in
``maps/static``, no CDN). Popups and the search result are built in the browser with
``textContent`` from the tile properties, so no data string is ever parsed as HTML; every
label the server writes into the page goes through ``maps.assets.js_literal``. Each inline
script carries the request's CSP nonce.
"""

from __future__ import annotations

import math
import re
from typing import Any

import folium
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import VectorGridProtobuf
from folium.template import Template

from api.service.models import Run
from api.service.tile_index import ADDRESS_MIN_ZOOM
from api.service.web.i18n import translator
from coverage.classify import REASON_CODES
from coverage.rules.reasons import reason_text
from coverage.schema import Technology
from maps import i18n
from maps.assets import Legend, js_literal
from maps.layers import (
    CLASS_COLOURS,
    NA_COLOUR,
    PRIORITY_BINS,
    PRIORITY_COLOURS,
    SHARE_BINS,
    SHARE_COLOURS,
    bin_labels,
    class_colour,
)

_ASSETS_JS = {
    "leaflet": "/static/maps/leaflet/leaflet.js",
    "vectorGrid": "/static/maps/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js",
}
_ASSETS_CSS = {"leaflet_css": "/static/maps/leaflet/leaflet.css"}
_SCRIPT = re.compile(r"<script(?![^>]*\bnonce=)", re.I)

#: popup rows per layer: (property, label key of web.i18n)
POPUP_FIELDS = {
    "addresses": [
        ("class_label", "class"),
        ("best_provider", "provider"),
        ("best_technology", "technology"),
        ("best_down_mbps", "down"),
        ("households", "households"),
        ("reason_label", "reason"),
        ("address_id", "address_id"),
    ],
    "gaps": [
        ("area_id", "gap_area"),
        ("addresses", "addresses"),
        ("households", "households"),
        ("route_m", "trench"),
        ("trench_m", "trench"),
        ("cost_central", "cost"),
        ("cost_eur", "cost"),
        ("screening_score", "priority"),
        ("priority", "priority"),
    ],
    "gemeinden": [
        ("ags", "ags"),
        ("addresses", "addresses"),
        ("households", "households"),
        ("eligible", "eligible"),
        ("eligible_share", "eligible_share"),
    ],
    "cells": [
        ("cell_id", "layer_cells"),
        ("addresses", "addresses"),
        ("eligible", "eligible"),
        ("share_eligible", "eligible_share"),
    ],
}

_STYLE = {
    "addresses": """function (p, z) {
        var c = CLASS[p['class']] || '#777';
        return {radius: z >= 17 ? 6 : (z >= 15 ? 4 : 3), fill: true, fillColor: c,
                fillOpacity: 0.9, color: '#333', weight: z >= 16 ? 1 : 0};
    }""",
    "gaps": """function (p) {
        var score = p.screening_score !== undefined ? p.screening_score : p.priority;
        return {fill: true, fillColor: bin(score, PRIO_BINS, PRIO_COL), fillOpacity: 0.45,
                color: '#3f007d', weight: 1};
    }""",
    "gemeinden": """function (p) {
        return {fill: true, fillColor: bin(p.eligible_share, SHARE_BINS, SHARE_COL),
                fillOpacity: 0.35, color: '#555', weight: 1};
    }""",
    "cells": """function (p) {
        return {fill: true, fillColor: bin(p.share_eligible, SHARE_BINS, SHARE_COL),
                fillOpacity: 0.55, color: '#999', weight: 0.3};
    }""",
}


class PageScript(MacroElement):
    """Shared helpers, popups on every tile layer, the search box and ``window.gapmap``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var C = {{ this.config }};
            // Leaflet 1.9 asks a clicked circle for its LatLng; VectorGrid's points only
            // know their drawn circle (Leaflet.VectorGrid#274): take its centre on screen.
            var latLngOf = L.CircleMarker.prototype.getLatLng;
            L.CircleMarker.prototype.getLatLng = function () {
                if (!this._latlng && this._path && this._path.getBoundingClientRect) {
                    var r = this._path.getBoundingClientRect();
                    var c = map.getContainer().getBoundingClientRect();
                    return map.containerPointToLatLng(
                        [r.left + r.width / 2 - c.left, r.top + r.height / 2 - c.top]);
                }
                return latLngOf.call(this);
            };
            var layers = { {% for key, name in this.layers.items() %}{{ key|tojson }}: {{ name }},{% endfor %} };
            function row(table, head, value) {
                var tr = document.createElement('tr');
                var th = document.createElement('th'); th.textContent = head;
                var td = document.createElement('td'); td.textContent = value;
                tr.appendChild(th); tr.appendChild(td); table.appendChild(tr);
            }
            function fmt(v) {
                if (typeof v === 'number') { return v.toLocaleString(C.locale, {maximumFractionDigits: 2}); }
                if (typeof v === 'boolean') { return v ? C.yes : C.no; }
                return String(v);
            }
            function popupContent(kind, p) {
                var div = document.createElement('div'); div.className = 'gm-popup';
                var b = document.createElement('b');
                b.textContent = kind === 'addresses'
                    ? [p.street, p.house_number, p.suffix].filter(Boolean).join(' ') + ', ' + (p.place || '')
                    : (p.name || p.area_id || p.cell_id || '');
                div.appendChild(b);
                var table = document.createElement('table');
                var q = Object.assign({}, p);
                if (kind === 'addresses') {
                    q.class_label = C.classes[p['class']] || p['class'];
                    q.reason_label = C.reasons[p.reason_code] || p.reason;
                    if (p.best_technology) { q.best_technology = C.tech[p.best_technology] || p.best_technology; }
                }
                C.fields[kind].forEach(function (f) {
                    if (q[f[0]] !== undefined && q[f[0]] !== null) { row(table, f[1], fmt(q[f[0]])); }
                });
                div.appendChild(table);
                return div;
            }
            Object.keys(layers).forEach(function (kind) {
                layers[kind].on('click', function (e) {
                    L.popup({maxWidth: 360}).setLatLng(e.latlng)
                        .setContent(popupContent(kind, e.layer.properties)).openOn(map);
                });
            });
            var info = L.control({position: 'topright'});
            info.onAdd = function () {
                var div = L.DomUtil.create('div', 'gm-legend gm-info');
                var title = document.createElement('b'); title.textContent = C.title;
                div.appendChild(title);
                C.lines.forEach(function (line) {
                    var p = document.createElement('div'); p.textContent = line; div.appendChild(p);
                });
                var a = document.createElement('a'); a.href = C.report; a.textContent = C.back;
                div.appendChild(a);
                if (C.search) {
                    var form = document.createElement('form'); form.className = 'gm-search';
                    var input = document.createElement('input');
                    input.type = 'search'; input.name = 'q'; input.placeholder = C.search_ph;
                    input.setAttribute('aria-label', C.search_label);
                    var button = document.createElement('button'); button.type = 'submit';
                    button.textContent = C.search_label;
                    var msg = document.createElement('div'); msg.className = 'gm-search-msg';
                    form.appendChild(input); form.appendChild(button); form.appendChild(msg);
                    form.addEventListener('submit', function (ev) {
                        ev.preventDefault();
                        msg.textContent = '';
                        fetch(C.search + '?q=' + encodeURIComponent(input.value), {credentials: 'same-origin'})
                            .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
                            .then(function (hit) {
                                map.setView([hit.lat, hit.lon], 18, {animate: false});
                                L.popup({maxWidth: 360}).setLatLng([hit.lat, hit.lon])
                                    .setContent(popupContent('addresses', hit.properties)).openOn(map);
                                window.gapmap.lastSearch = hit;
                            })
                            .catch(function () { msg.textContent = C.not_found; });
                    });
                    div.appendChild(form);
                }
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            info.addTo(map);
            map.fitBounds(C.bounds);
            window.gapmap = {map: map, layers: layers, config: C};
            L.DomUtil.addClass(map.getContainer(), 'gm-ready');
        })();
        {% endmacro %}
        """
    )

    def __init__(self, config: dict[str, Any], layers: dict[str, str]) -> None:
        super().__init__()
        self.config = js_literal(config)
        self.layers = layers


class StyleHelpers(MacroElement):
    """Colour tables and ``bin()`` used by the layer styles (written before the layers)."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <script>
        var CLASS = {{ this.classes }}, SHARE_BINS = {{ this.share_bins }},
            SHARE_COL = {{ this.share_col }}, PRIO_BINS = {{ this.prio_bins }},
            PRIO_COL = {{ this.prio_col }}, NA_COL = {{ this.na }};
        function bin(v, bins, cols) {
            if (v === undefined || v === null) { return NA_COL; }
            var i = 0;
            while (i < cols.length - 1 && v >= bins[i + 1]) { i++; }
            return cols[i];
        }
        </script>
        <style>
        .gm-popup table { border-collapse: collapse; margin-top: 4px; }
        .gm-popup th { text-align: left; font-weight: normal; color: #555; padding: 1px 8px 1px 0; }
        .gm-legend { background: rgba(255,255,255,.94); padding: 6px 8px; border-radius: 4px;
          font: 12px/1.35 sans-serif; max-height: 60vh; overflow-y: auto;
          box-shadow: 0 1px 4px rgba(0,0,0,.3); max-width: 320px; }
        .gm-legend h4 { margin: 6px 0 2px; font-size: 12px; }
        .gm-legend i { display: inline-block; width: 14px; height: 10px; margin-right: 6px; border: 1px solid #777; }
        .gm-legend i.gm-dot { border-radius: 50%; width: 10px; }
        .gm-info a { display: block; margin-top: 4px; }
        .gm-search { margin-top: 6px; display: flex; flex-wrap: wrap; gap: 4px; }
        .gm-search input { flex: 1; min-width: 180px; }
        .gm-search-msg { color: #b30000; width: 100%; }
        .leaflet-container { background: #f2efe9; }
        </style>
        {% endmacro %}
        """
    )

    def __init__(self, classes: dict[str, str]) -> None:
        super().__init__()
        self.classes = js_literal(classes)
        self.share_bins = js_literal(list(SHARE_BINS))
        self.share_col = js_literal(list(SHARE_COLOURS))
        self.prio_bins = js_literal(list(PRIORITY_BINS))
        self.prio_col = js_literal(list(PRIORITY_COLOURS))
        self.na = js_literal(NA_COLOUR)


def _layer(run: Run, kind: str, name: str, show: bool, min_zoom: int = 0) -> VectorGridProtobuf:
    options = (
        f"{{interactive: true, maxNativeZoom: 20, maxZoom: 22, minZoom: {min_zoom}, "
        f"rendererFactory: L.svg.tile, vectorTileLayerStyles: {{{js_literal(kind)}: {_STYLE[kind]}}}}}"
    )
    url = f"/runs/{run.id}/tiles/{kind}/{{z}}/{{x}}/{{y}}.mvt"
    return VectorGridProtobuf(url, name, options, show=show)


def map_html(
    *,
    run: Run,
    meta: dict[str, Any],
    bounds: list[list[float]],
    public: bool,
    lang: str,
    nonce: str,
    csrf: str,
    role: str,
) -> str:
    """The whole page (HTML) for one run."""
    t = translator(lang)
    classes = list((meta["manifest"].get("profile") or {}).get("classes") or CLASS_COLOURS)
    colours = {c: class_colour(c, i) for i, c in enumerate(classes)}
    (lat0, lon0), (lat1, lon1) = bounds
    fmap = folium.Map(
        location=[(lat0 + lat1) / 2, (lon0 + lon1) / 2],
        zoom_start=fit_zoom(bounds),
        tiles=None,
        max_zoom=22,
        prefer_canvas=True,
    )
    StyleHelpers(colours).add_to(fmap)
    kinds = ["gemeinden", "cells"] if public else ["gemeinden", "cells", "gaps", "addresses"]
    names = {
        "gemeinden": t("layer_gemeinden"),
        "cells": t("layer_cells"),
        "gaps": t("layer_gaps"),
        "addresses": t("layer_addresses"),
    }
    elements = {}
    for kind in kinds:
        layer = _layer(
            run,
            kind,
            names[kind],
            show=kind != "cells",
            min_zoom=ADDRESS_MIN_ZOOM if kind == "addresses" else 0,
        )
        layer.add_to(fmap)
        elements[kind] = layer
    folium.LayerControl(collapsed=False).add_to(fmap)
    share_entries = [
        (c, lab, "box") for c, lab in zip(SHARE_COLOURS, bin_labels(SHARE_BINS, lang), strict=True)
    ]
    sections: list[tuple[Any, str, list[tuple[str, str, str]]]] = [
        (elements["gemeinden"], t("layer_gemeinden") + " – " + t("eligible_share"), share_entries),
        (elements["cells"], t("layer_cells") + " – " + t("eligible_share"), share_entries),
    ]
    if not public:
        sections.append(
            (
                elements["gaps"],
                t("layer_gaps") + " – " + t("priority"),
                [
                    (c, lab, "box")
                    for c, lab in zip(
                        PRIORITY_COLOURS, bin_labels(PRIORITY_BINS, lang, pct=False), strict=True
                    )
                ],
            )
        )
        sections.append(
            (
                elements["addresses"],
                t("layer_addresses") + " – " + t("zoom_hint", z=ADDRESS_MIN_ZOOM),
                [(colours[c], i18n.class_label(c, lang), "dot") for c in classes],
            )
        )
    Legend(sections).add_to(fmap)
    lines = [
        f"{t('profile')}: {meta['profile_id']} {meta['profile_version']}",
        f"{t('as_of')}: {run.as_of or '–'}",
    ]
    if meta.get("synthetic"):
        lines.append(str(meta["synthetic"]))
    config = {
        "title": f"gapmap – {t('run')} {run.id}",
        "lines": lines,
        "report": f"/ui/runs/{run.id}",
        "back": t("back") + ": " + t("report"),
        "bounds": bounds,
        "fields": {k: [[p, t(lab)] for p, lab in v] for k, v in POPUP_FIELDS.items()},
        "classes": {c: i18n.class_label(c, lang) for c in classes},
        "tech": {t.value: i18n.tech_label(t.value, lang) for t in Technology},
        # the reason in the page's language (the run's own sentence is English)
        "reasons": {code: reason_text(code, lang) for code in REASON_CODES},
        "locale": "de-DE" if lang == "de" else "en-GB",
        "yes": "ja" if lang == "de" else "yes",
        "no": "nein" if lang == "de" else "no",
        "search": None if public else f"/ui/runs/{run.id}/lookup",
        "search_ph": t("search_ph"),
        "search_label": t("search"),
        "not_found": t("not_found"),
        "role": role,
    }
    PageScript(config, {k: v.get_name() for k, v in elements.items()}).add_to(fmap)
    root = fmap.get_root()
    _link_assets(root)
    html = root.render()
    html = html.replace("<html>", f'<html lang="{lang}">', 1)
    html = html.replace("<head>", '<head>\n<link rel="icon" href="data:,">', 1)
    return _SCRIPT.sub(f'<script nonce="{nonce}"', html)


def fit_zoom(bounds: list[list[float]], width: int = 1000, height: int = 700) -> int:
    """The zoom at which ``bounds`` fill a typical window (the page opens there, so no
    world-wide tiles are cut before ``fitBounds`` runs)."""
    (lat0, lon0), (lat1, lon1) = bounds
    dlon = max(abs(lon1 - lon0), 1e-6)
    stretch = 1 / max(math.cos(math.radians((lat0 + lat1) / 2)), 0.1)
    dlat = max(abs(lat1 - lat0), 1e-6) * stretch
    z = math.log2(min(width * 360 / (256 * dlon), height * 360 / (256 * dlat)))
    return int(max(0, min(18, math.floor(z))))


def _link_assets(root: Any) -> None:
    """Every Folium asset from ``/static/maps`` (Leaflet, VectorGrid); nothing from a CDN."""
    stack = [root]
    while stack:
        el = stack.pop()
        stack.extend(el._children.values())
        if not isinstance(el, JSCSSMixin):
            continue
        el.default_js = [(n, _ASSETS_JS[n]) for n, _ in el.default_js if n in _ASSETS_JS]
        el.default_css = [(n, _ASSETS_CSS[n]) for n, _ in el.default_css if n in _ASSETS_CSS]
