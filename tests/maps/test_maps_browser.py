"""The map pages in a real headless Chromium: no script errors, something drawn, every layer
present, and a hostile operator name shown as text in an opened popup (no alert fires)."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from coverage.io.rundir import load_run
from maps.builders import build_run_map
from tests.maps.test_maps import HOSTILE, WARSTEIN, demo_run_dir, overlays, with_hostile_names

__all__ = ["demo_run_dir"]  # the session fixture, shared with test_maps

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Opens the popup of the first address whose operator is hostile, in either address layer
# type (plain canvas markers, or markers inside a cluster that must be zoomed to first).
OPEN_HOSTILE_POPUP = """(needle) => new Promise((resolve) => {
    // never wait longer than 15 s: the test then fails instead of hanging
    const timer = setTimeout(resolve, 15000, 'timeout');
    const done = (value) => { clearTimeout(timer); resolve(value); };
    const map = window.gapmap.map;
    const group = window.gapmap.layers.addresses;
    let target = null, cluster = null;
    group.eachLayer((inner) => {
        const members = inner.getLayers ? inner.getLayers() : [];
        for (const m of members) {
            const html = m.feature ? m.feature.properties.popup.join(' ')
                                   : (m.getPopup() && m.getPopup()._content(m));
            if (!target && html && html.indexOf(needle) >= 0) {
                target = m;
                cluster = inner.zoomToShowLayer ? inner : null;
            }
        }
    });
    if (!target) { done(null); return; }
    const open = () => { target.openPopup(); setTimeout(done, 300, true); };
    if (cluster) {
        // the popup (built by the page's own callback) is what is under test, not the
        // cluster's zoom animation: move the marker out of its cluster onto the map
        cluster.removeLayer(target);
        target.addTo(map);
        map.setView(target.getLatLng(), 17, {animate: false});
    }
    open();
})"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.skip(
            "no Chromium at /usr/bin/chromium (Debian package 'chromium'); browser test skipped"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="python package 'playwright' not installed"
    )
    with sync_api.sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            args=ARGS,
            headless=True,
            viewport={"width": 1200, "height": 850},
        )
        yield ctx
        ctx.close()


def _write(run: Any, path: Path) -> tuple[Path, int]:
    m = build_run_map(run, lang="de")
    path.write_text(m.get_root().render(), encoding="utf-8")
    return path, len(overlays(m))


@pytest.mark.parametrize("ags", [None, WARSTEIN], ids=["region", "warstein"])
def test_page_renders_without_errors_and_escapes_popups(
    browser: Any, demo_run_dir: Path, tmp_path: Path, ags: str | None
) -> None:
    from PIL import Image

    run = with_hostile_names(load_run(demo_run_dir, ags=ags))
    page_file, n_overlays = _write(run, tmp_path / "map.html")
    page = browser.new_page()
    problems: list[str] = []
    dialogs: list[str] = []
    external: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: external.append(r.url) if r.url.startswith("http") else None)
    page.goto(page_file.as_uri(), wait_until="load")
    page.wait_for_function("window.gapmapReady !== undefined", timeout=30_000)

    assert problems == []
    assert external == []  # fully offline: no CDN, no tiles with the default base layer
    shot = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("L"), dtype=float)
    assert shot.std() > 15, "screenshot is blank"

    counts = page.evaluate(
        """() => {
            const g = window.gapmap, out = {};
            for (const [k, l] of Object.entries(g.layers)) {
                let n = 0; l.eachLayer((inner) => { n += inner.getLayers ? inner.getLayers().length : 1; });
                out[k] = {onMap: g.map.hasLayer(l), members: n};
            }
            out._controls = document.querySelectorAll('.leaflet-control-layers-overlays label').length;
            return out;
        }"""
    )
    assert counts.pop("_controls") == n_overlays == len(counts)
    assert counts["eligible_share"] == {"onMap": True, "members": len(run.summary_gemeinde)}
    assert counts["addresses"]["members"] == len(run.addresses)
    assert counts["gap_areas"]["members"] == len(run.gap_areas)
    assert not counts["rural_gap_share"]["onMap"]

    assert page.evaluate(OPEN_HOSTILE_POPUP, "onerror") is True
    popup = page.locator(".leaflet-popup-content")
    assert HOSTILE in popup.inner_text()  # shown as text ...
    assert popup.locator("img").count() == 0  # ... not as an element
    page.wait_for_timeout(300)
    assert dialogs == [] and problems == []
    page.close()
