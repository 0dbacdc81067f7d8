"""Map layout in a real Chromium (issue 21): at 1024x768, 1280x720, 1920x1080 and on a phone
(390x844) no control overlaps another, with the layer list closed and open; the page has a
<title> and <html lang>; the region map opens calm (eligible share and gap areas on, addresses
and schools off) and states the Stichtag and the rule set's version."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coverage.io.rundir import load_run
from maps.builders import build_run_map
from tests.maps.test_maps import WARSTEIN, demo_run_dir

__all__ = ["demo_run_dir"]

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORTS = [(1024, 768), (1280, 720), (1920, 1080), (390, 844)]
CONTROLS = [
    ".gm-title", ".leaflet-control-layers", ".gm-legend", ".leaflet-control-minimap",
    ".leaflet-control-zoom", ".leaflet-control-search", ".leaflet-control-fullscreen",
    ".leaflet-control-scale", ".leaflet-control-attribution",
]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.skip("no Chromium at /usr/bin/chromium (Debian package 'chromium')")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        yield b
        b.close()


@pytest.fixture(scope="module")
def pages(demo_run_dir: Path) -> Iterator[dict[str, Path]]:
    run = load_run(demo_run_dir)
    with tempfile.TemporaryDirectory() as tmp:
        out = {}
        for key, ags in (("region", None), ("gemeinde", WARSTEIN)):
            path = Path(tmp) / f"{key}.html"
            build_run_map(run, ags=ags, lang="de").save(str(path))
            out[key] = path
        yield out


def _overlaps(page: Any) -> list[tuple[str, str]]:
    boxes = {}
    for sel in CONTROLS:
        el = page.query_selector(sel)
        box = el.bounding_box() if el else None
        if box and box["width"] > 0 and box["height"] > 0:
            boxes[sel] = box
    keys = list(boxes)
    hits = []
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            p, q = boxes[a], boxes[b]
            if (p["x"] < q["x"] + q["width"] and q["x"] < p["x"] + p["width"]
                    and p["y"] < q["y"] + q["height"] and q["y"] < p["y"] + p["height"]):  # fmt: skip
                hits.append((a, b))
    return hits


@pytest.mark.parametrize("key", ["region", "gemeinde"])
def test_no_control_overlaps_another(browser: Any, pages: dict[str, Path], key: str) -> None:
    for width, height in VIEWPORTS:
        page = browser.new_page(viewport={"width": width, "height": height})
        try:
            page.goto(pages[key].as_uri())
            page.wait_for_function("window.gapmapReady !== undefined", timeout=60_000)
            assert _overlaps(page) == [], (key, width, height)
            # open the layer list as a click or hover does
            page.evaluate(
                "document.querySelector('.leaflet-control-layers')"
                ".classList.add('leaflet-control-layers-expanded')"
            )
            page.wait_for_timeout(150)
            assert _overlaps(page) == [], (key, width, height, "layer list open")
            assert page.query_selector(".gm-legend details") is not None  # collapsible
        finally:
            page.close()


def test_title_lang_calm_default_and_stichtag(browser: Any, pages: dict[str, Path]) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        page.goto(pages["region"].as_uri())
        page.wait_for_function("window.gapmapReady !== undefined", timeout=60_000)
        assert page.title() == "Breitband-Versorgungslücken – 5 Kreise"
        assert page.evaluate("document.documentElement.lang") == "de"
        on = page.evaluate(
            "Object.fromEntries(Object.entries(window.gapmap.layers)"
            ".map(([k, l]) => [k, window.gapmap.map.hasLayer(l)]))"
        )
        assert on["eligible_share"] and on["gap_areas"]
        assert not on["addresses"] and not on["focal_points"] and not on["rural_gap_share"]
        title = page.inner_text(".gm-title")
        assert "Stichtag" in title and "de-gigabit-2024 1.0.0" in title
        # drawing order: gap areas stay above the choropleth after toggling it off and on
        order = page.evaluate(
            """() => {
                const g = window.gapmap, m = g.map;
                m.removeLayer(g.layers.eligible_share); m.addLayer(g.layers.eligible_share);
                const z = (name) => +getComputedStyle(m.getPane(name)).zIndex;
                return [z('gm_eligible_share'), z('gm_gap_areas')];
            }"""
        )
        assert order[0] < order[1]
    finally:
        page.close()
