"""What a map page holds besides its data: vendored Leaflet assets and small controls.

Folium pages load Leaflet and plugins from CDNs and show nothing offline. :func:`make_offline`
replaces every CDN reference of a built map by inline copies of the files vendored in
``maps/static`` (fetched from the npm registry by ``maps/static/fetch_assets.py``). Only
static package data is read here, never user files.
"""

from __future__ import annotations

import base64
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.template import Template

STATIC = Path(__file__).resolve().parent / "static"

#: folium's asset names -> vendored file (package directory, file name), in load order
_JS = {
    "leaflet": ("leaflet", "leaflet.js"),
    "markerclusterjs": ("leaflet.markercluster", "leaflet.markercluster.js"),
    "Control.Fullscreen.js": ("leaflet.fullscreen", "Control.FullScreen.js"),
    "Control_MiniMap_js": ("leaflet-minimap", "Control.MiniMap.min.js"),
    "Leaflet.Search.js": ("leaflet-search", "leaflet-search.min.js"),
}
_CSS = {
    "leaflet_css": ("leaflet", "leaflet.css"),
    "markerclustercss": ("leaflet.markercluster", "MarkerCluster.css"),
    "markerclusterdefaultcss": ("leaflet.markercluster", "MarkerCluster.Default.css"),
    "Control.FullScreen.css": ("leaflet.fullscreen", "Control.FullScreen.css"),
    "Control_MiniMap_css": ("leaflet-minimap", "Control.MiniMap.min.css"),
    "Leaflet.Search.css": ("leaflet-search", "leaflet-search.min.css"),
}
#: folium defaults our pages do not use (no Bootstrap, jQuery or icon fonts: popups are
#: bound by our own JS, markers are canvas circles)
_UNUSED = {
    "jquery",
    "bootstrap",
    "awesome_markers",
    "bootstrap_css",
    "glyphicons_css",
    "awesome_markers_font_css",
    "awesome_markers_css",
    "awesome_rotate_css",
}
_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}
_URL = re.compile(r"url\((['\"]?)(?!data:|#)([^)'\"]+)\1\)")
_CDN = re.compile(
    r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*['\"]?((?:https?:)?//[^'\" >]+)", re.I
)

PAGE_CSS = """
.leaflet-container { background: #f2efe9; }
.gm-popup table { border-collapse: collapse; margin-top: 4px; }
.gm-popup th { text-align: left; font-weight: normal; color: #555; padding: 1px 8px 1px 0; }
.gm-popup td { padding: 1px 0; }
.gm-legend { background: rgba(255,255,255,.92); padding: 6px 8px; border-radius: 4px;
  font: 12px/1.35 sans-serif; max-height: 60vh; overflow-y: auto; box-shadow: 0 1px 4px rgba(0,0,0,.3); }
.gm-legend h4 { margin: 6px 0 2px; font-size: 12px; }
.gm-legend i { display: inline-block; width: 14px; height: 10px; margin-right: 6px; border: 1px solid #777; }
.gm-legend i.gm-dot { border-radius: 50%; width: 10px; }
.gm-title { position: absolute; top: 10px; left: 56px; max-width: calc(100% - 470px); z-index: 1000;
  background: rgba(255,255,255,.92); padding: 4px 12px; border-radius: 4px; font: 14px sans-serif;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); pointer-events: none; }
/* the layer list (top right) and the legend (bottom right) share the right edge: together
   they never take more than the viewport's height, each scrolls inside itself */
.leaflet-control-layers { font: 12px/1.4 sans-serif; }
.leaflet-control-layers-expanded { max-height: calc(50vh - 40px); max-width: 320px; overflow-y: auto; }
.leaflet-control-attribution { max-width: calc(100% - 200px); font-size: 10px; }
.gm-legend { max-height: calc(50vh - 70px); }
.gm-legend summary { cursor: pointer; font-weight: bold; }
@media (max-width: 640px) {
  .gm-title { left: 50px; right: 66px; max-width: none; font-size: 12px; padding: 2px 8px; }
  .gm-layers-open .gm-title { display: none; }
  .leaflet-control-layers-expanded { max-width: calc(100vw - 80px); }
  .leaflet-control-attribution { max-width: none; }
  .gm-title small { display: none; }
  .leaflet-control-minimap, .leaflet-control-scale { display: none; }
  .gm-legend { max-width: 55vw; font-size: 11px; }
}
.gm-cluster { background-color: rgba(90, 90, 130, 0.35); }
.gm-cluster div { background-color: rgba(60, 60, 110, 0.8); color: #fff; }
.gm-synthetic { color: #b30000; font-weight: bold; font-size: 12px; }
"""


def js_literal(value: Any) -> str:
    """JSON for a ``<script>`` block: ``<``, ``>`` and ``&`` escaped so no tag can close it."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@cache
def _file(pkg: str, name: str) -> str:
    return (STATIC / pkg / name).read_text(encoding="utf-8")


def _css_inline(pkg: str, name: str) -> str:
    """A vendored stylesheet with its images turned into data: URIs."""

    def data_uri(m: re.Match[str]) -> str:
        image = STATIC / pkg / Path(m.group(2)).name
        if not image.is_file():
            return m.group(0)
        payload = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:{_MIME[image.suffix]};base64,{payload})"

    return _URL.sub(data_uri, _file(pkg, name))


class _InlineAssets(Element):
    """The vendored assets a page needs, inlined in load order (Leaflet first)."""

    def __init__(self, js: set[str], css: set[str]) -> None:
        super().__init__()
        self._js = [n for n in _JS if n in js]
        self._css = [n for n in _CSS if n in css]

    def render(self, **kwargs: Any) -> str:
        parts = [f"<style>{_css_inline(*_CSS[n])}</style>" for n in self._css]
        parts.append(f"<style>{PAGE_CSS}</style>")
        parts += [f"<script>{_file(*_JS[n])}</script>" for n in self._js]
        return "\n".join(parts)


def _walk(element: Element) -> list[Element]:
    out = [element]
    for child in list(element._children.values()):
        out += _walk(child)
    return out


def make_offline(figure: Element) -> None:
    """Replace every CDN asset reference in ``figure`` by inline vendored copies.

    Raises ``ValueError`` for an asset that is not vendored, so a new plugin cannot silently
    bring a CDN link back.
    """
    if not isinstance(figure, Figure):
        raise TypeError("make_offline needs the page's root Figure (map.get_root())")
    js: set[str] = set()
    css: set[str] = set()
    for el in _walk(figure):
        if not isinstance(el, JSCSSMixin):
            continue
        for name, _url in el.default_js:
            if name not in _JS and name not in _UNUSED:
                raise ValueError(f"map asset {name!r} is not vendored in maps/static")
            js.add(name)
        for name, _url in el.default_css:
            if name not in _CSS and name not in _UNUSED:
                raise ValueError(f"map stylesheet {name!r} is not vendored in maps/static")
            css.add(name)
        el.default_js = []
        el.default_css = []
    figure.header.add_child(_InlineAssets(js, css), name="gapmap_assets", index=0)


def cdn_references(page: str) -> list[str]:
    """URLs of ``<script src>``/``<link href>`` pointing off the page (should be empty)."""
    return _CDN.findall(page)


class Legend(MacroElement):
    """One legend control with a section per layer, shown while that layer is on the map.

    ``sections``: (layer element or None for always shown, title, entries); entries are
    (colour, label, shape) with shape 'box' or 'dot'. All text is escaped here.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var layers = [{% for name in this.layer_names %}{{ name }},{% endfor %}];
            var ctl = L.control({position: 'bottomright'});
            ctl.onAdd = function () {
                var div = L.DomUtil.create('div', 'gm-legend');
                // collapsible; closed at first on small screens
                var open = window.innerWidth > 640 && window.innerHeight > 500 ? ' open' : '';
                div.innerHTML = '<details' + open + '><summary>' + {{ this.title }} +
                    '</summary>' + {{ this.html }} + '</details>';
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            ctl.addTo(map);
            function sync() {
                var els = ctl.getContainer().querySelectorAll('[data-layer]');
                for (var i = 0; i < els.length; i++) {
                    var lyr = layers[+els[i].getAttribute('data-layer')];
                    els[i].style.display = map.hasLayer(lyr) ? '' : 'none';
                }
            }
            map.on('overlayadd overlayremove', sync);
            sync();
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self, sections: list[tuple[Any, str, list[tuple[str, str, str]]]], title: str = "Legende"
    ) -> None:
        super().__init__()
        from maps.layers import esc

        self.title = js_literal(esc(title))
        self.sections = sections
        self.layer_names: list[str] = []
        parts = []
        for layer, title, entries in sections:
            attr = ""
            if layer is not None:
                attr = f' data-layer="{len(self.layer_names)}"'
                self.layer_names.append(layer.get_name())
            rows = "".join(
                f'<div><i class="{"gm-dot" if shape == "dot" else ""}" style="background:{esc(colour)}"></i>{esc(label)}</div>'
                for colour, label, shape in entries
            )
            parts.append(f"<section{attr}><h4>{esc(title)}</h4>{rows}</section>")
        self.html = js_literal("".join(parts))


class PageInfo(MacroElement):
    """Title box (with the synthetic-data warning) and data-source attributions."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="gm-title">{{ this.title_html }}</div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            // on a phone the open layer list takes the title's place (they never overlap)
            var map = {{ this._parent.get_name() }};
            var box = map.getContainer().querySelector('.leaflet-control-layers');
            if (!box || !window.MutationObserver) { return; }
            new MutationObserver(function () {
                var open = box.classList.contains('leaflet-control-layers-expanded');
                document.body.classList.toggle('gm-layers-open', open);
            }).observe(box, {attributes: true, attributeFilter: ['class']});
        })();
        {% for text in this.attributions %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ text }});
        {% endfor %}
        {% endmacro %}
        """
    )

    def __init__(
        self, title: str, subtitle: str, synthetic: str | None, attributions: list[str]
    ) -> None:
        super().__init__()
        from maps.layers import esc

        self.title_html = f"<b>{esc(title)}</b><br><small>{esc(subtitle)}</small>"
        if synthetic:
            self.title_html += f'<br><span class="gm-synthetic">{esc(synthetic)}</span>'
        self.attributions = [js_literal(esc(a)) for a in attributions]


class OutlineMiniMap(JSCSSMixin, MacroElement):
    """leaflet-minimap over Kreis outlines instead of web tiles, so it works offline."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var outline = L.geoJSON({{ this.data }}, {
                interactive: false,
                style: {color: '#333', weight: 1, fillColor: '#cfd8dc', fillOpacity: 0.6}
            });
            new L.Control.MiniMap(outline, {{ this.options }}).addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )
    default_js = [("Control_MiniMap_js", "")]  # noqa: RUF012 (folium declares it a list)
    default_css = [("Control_MiniMap_css", "")]  # noqa: RUF012

    def __init__(self, geojson: dict[str, Any]) -> None:
        super().__init__()
        self.data = js_literal(geojson)
        self.options = js_literal(
            {
                "position": "bottomleft",
                "toggleDisplay": True,
                "zoomLevelOffset": -4,
                "width": 160,
                "height": 130,
            }
        )


class PageHandle(MacroElement):
    """Exposes the map and its overlays as ``window.gapmap`` (tests, benchmarks, embedding)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        window.gapmap = {
            map: {{ this._parent.get_name() }},
            layers: { {% for key, name in this.layers %}{{ key|tojson }}: {{ name }},{% endfor %} }
        };
        window.gapmapReady = performance.now();
        {% endmacro %}
        """
    )

    def __init__(self, layers: dict[str, Any]) -> None:
        super().__init__()
        self.layers = [(k, v.get_name()) for k, v in layers.items()]


_PAGE_TEMPLATE = Template(
    "<!DOCTYPE html>\n"
    '<html lang="{{ this.lang }}">\n'
    "<head>\n"
    "<title>{{ this.title }}</title>"
    "    {{ this.header.render(**kwargs) }}\n"
    "</head>\n"
    "<body>\n"
    "    {{ this.html.render(**kwargs) }}\n"
    "</body>\n"
    "<script>\n"
    "    {{ this.script.render(**kwargs) }}\n"
    "</script>\n"
    "</html>\n"
)


def set_page(figure: Element, title: str, lang: str) -> None:
    """The page's ``<title>`` (escaped) and ``<html lang>`` (``de`` or ``en``)."""
    from maps.layers import esc

    figure.title = esc(title)
    figure.lang = "de" if lang == "de" else "en"
    figure._template = _PAGE_TEMPLATE
