"""The web face in a real browser (Playwright driving Debian's Chromium; never a download).

An analyst signs in, starts a run from uploaded files and watches its progress, opens the
report, sorts a table, opens the map, searches an address, zooms to address level and clicks
an address, downloads a Gemeinde's evidence pack and signs out; a public key sees aggregates
only. Operator, street, place and Gemeinde names hold ``<script>``: no dialog may fire and no
CSP violation may occur. A screenshot of each page is kept in ``test-artifacts/web/``.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.service.conftest import ADMIN_KEY, Server, start_server, upload
from tests.api.service.web.conftest import HOSTILE, HOSTILE_AGS, write_hostile_inputs
from tests.paths import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts" / "web"
WARSTEIN = "05974044"
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.skip(
            "no Chromium at /usr/bin/chromium (Debian package 'chromium'); browser tests skipped"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="python package 'playwright' not installed"
    )
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, demo_inputs: Any) -> Iterator[dict[str, Any]]:
    """A ``gapmap serve`` with the hostile demo files uploaded and analyst/public keys."""
    tmp = tmp_path_factory.mktemp("web-e2e")
    inputs = write_hostile_inputs(demo_inputs, tmp / "inputs")
    server: Server = start_server(tmp / "workspace", f"sqlite:///{tmp / 'catalog.db'}")
    try:
        with server.client() as api:
            for kind in ("addresses", "coverage", "boundaries"):
                upload(api, getattr(inputs, kind), kind)
            keys = {
                role: api.post("/keys", json={"role": role}).json()["key"]
                for role in ("analyst", "public")
            }
        yield {"url": server.url, "keys": keys, "as_of": inputs.as_of.isoformat(),
               "coverage": inputs.coverage}  # fmt: skip
    finally:
        server.stop()


class Watch:
    """Console errors, page errors, CSP violations and dialogs of one page."""

    def __init__(self, page: Any) -> None:
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.problems.append(str(e)))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: self.requests.append(r.url))
        page.on(
            "response",
            lambda r: self.problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )

    def clean(self) -> None:
        assert self.dialogs == [], self.dialogs
        assert self.problems == [], self.problems


def shot(page: Any, name: str, full: bool = False) -> Path:
    from PIL import Image, ImageStat

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full)
    assert ImageStat.Stat(Image.open(path).convert("L")).stddev[0] > 10, f"{name} looks blank"
    return path


def sign_in(page: Any, url: str, key: str) -> None:
    page.goto(url + "/")
    page.fill("#key", key)
    page.click("form[action='/ui/login'] button[type=submit]")
    page.wait_for_load_state("domcontentloaded")


def _search_target(url: str, run_id: str) -> dict[str, Any]:
    """A Warstein address to search: Hauptstraße with the lowest number when the demo has it."""
    items = httpx.get(
        f"{url}/runs/{run_id}/addresses",
        params={"ags": WARSTEIN, "limit": 1000},
        headers={"X-API-Key": ADMIN_KEY},
    ).json()["items"]
    main = [a for a in items if a["street"] == "Hauptstraße" and not a.get("suffix")]
    pick = min(main, key=lambda a: int(a["house_number"])) if main else items[0]
    return pick


def test_analyst_journey(chromium: Any, site: dict[str, Any]) -> None:
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, accept_downloads=True, locale="de-DE"
    )
    page = context.new_page()
    watch = Watch(page)
    page.goto(site["url"] + "/")
    assert page.locator("h1").inner_text() == "Anmelden"
    shot(page, "01-sign-in")
    sign_in(page, site["url"], site["keys"]["analyst"])
    assert page.url.endswith("/ui/runs")

    # start a run from the uploaded files and watch its progress
    page.fill("input[name=as_of]", site["as_of"])
    page.click("#start-run button[type=submit]")
    page.wait_for_selector("tr[data-run] progress")
    shot(page, "02-runs-progress")
    page.wait_for_selector("tr[data-run] a[href$='/map']", timeout=180_000)
    assert page.locator("tr[data-run] td.state").first.get_attribute("data-state") == "succeeded"
    shot(page, "03-runs")

    # the report: tables, charts, sorting
    page.click("tr[data-run] td.links a >> nth=0")
    page.wait_for_selector("#gemeinden")
    run_id = page.url.rsplit("/", 1)[1]
    shot(page, "04-report", full=True)
    head = page.locator("#gemeinden thead th", has_text="Adressen")
    head.click()
    head.click()
    assert head.get_attribute("aria-sort") == "descending"
    values = page.eval_on_selector_all(
        "#gemeinden tbody tr td:nth-child(3)", "tds => tds.map(td => +td.dataset.value)"
    )
    assert values == sorted(values, reverse=True) and len(values) > 50
    assert page.locator("svg.chart").count() == 2

    # the map: tiles drawn, search, address level, a click on an address
    page.click("#open-map")
    page.wait_for_selector(".gm-ready")
    page.wait_for_load_state("networkidle")
    assert any("/tiles/gemeinden/" in u for u in watch.requests)
    shot(page, "05-map")
    target = _search_target(site["url"], run_id)
    query = f"{target['street']} {target['house_number']}, Warstein"
    page.fill(".gm-search input", query)
    page.click(".gm-search button")
    page.wait_for_selector(".leaflet-popup-content .gm-popup")
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert target["street"] in popup and target["address_id"] in popup
    assert page.evaluate("window.gapmap.map.getZoom()") >= 15
    page.wait_for_load_state("networkidle")
    assert any("/tiles/addresses/18/" in u for u in watch.requests)
    shot(page, "06-search")
    page.evaluate("window.gapmap.map.closePopup()")
    box = page.locator("#" + page.evaluate("window.gapmap.map.getContainer().id")).bounding_box()
    point = page.evaluate(
        "([lat, lon]) => window.gapmap.map.latLngToContainerPoint([lat, lon])",
        [target["lat"], target["lon"]],
    )
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_selector(".leaflet-popup-content .gm-popup")
    clicked = page.locator(".leaflet-popup-content").inner_text()
    assert target["address_id"] in clicked or target["street"] in clicked
    shot(page, "07-address-popup")

    # the Gemeinde page and its evidence pack
    page.goto(f"{site['url']}/ui/runs/{run_id}/gemeinde/{WARSTEIN}")
    shot(page, "08-gemeinde", full=True)
    with page.expect_download() as info:
        page.click("#evidence-gemeinde")
    pack = Path(info.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(pack)) as zf:
        assert "manifest.json" in zf.namelist()

    # hostile names are text: the Gemeinde named <script>... and its chart bar
    page.goto(f"{site['url']}/ui/runs/{run_id}/gemeinde/{HOSTILE_AGS}")
    assert HOSTILE in page.locator("h1").inner_text()
    page.goto(f"{site['url']}/ui/runs/{run_id}/map?ags={HOSTILE_AGS}")
    page.wait_for_selector(".gm-ready")
    page.evaluate("window.gapmap.map.setZoom(16)")
    page.wait_for_load_state("networkidle")

    page.goto(f"{site['url']}/ui/runs/{run_id}")
    page.click("#sign-out")
    page.wait_for_selector("#key")
    shot(page, "09-signed-out")
    assert page.goto(f"{site['url']}/ui/runs").url.endswith("/ui/login")
    watch.clean()
    context.close()


def test_public_view_has_aggregates_only(chromium: Any, site: dict[str, Any]) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    page = context.new_page()
    watch = Watch(page)
    runs = httpx.get(f"{site['url']}/runs", headers={"X-API-Key": ADMIN_KEY}).json()["items"]
    if not any(r["state"] == "succeeded" for r in runs):
        pytest.skip("needs the run started by test_analyst_journey")
    sign_in(page, site["url"], site["keys"]["public"])
    assert "/ui/runs/run_" in page.url
    assert page.locator("#gaps").count() == 0
    assert page.locator("a[href$='addresses.gpkg'], a[href$='evidence.zip']").count() == 0
    assert "Öffentliche Ansicht" in page.locator(".note").inner_text()
    shot(page, "10-public-report", full=True)
    page.click("#open-map")
    page.wait_for_selector(".gm-ready")
    assert sorted(page.evaluate("Object.keys(window.gapmap.layers)")) == ["cells", "gemeinden"]
    page.wait_for_load_state("networkidle")
    shot(page, "11-public-map")
    page.evaluate("window.gapmap.map.setView([51.4443, 8.3518], 17)")
    page.wait_for_load_state("networkidle")
    assert not any("/tiles/addresses/" in u or "/tiles/gaps/" in u for u in watch.requests)
    assert page.locator(".gm-search").count() == 0
    watch.clean()
    context.close()


def test_an_mev_from_the_form_to_the_result(
    chromium: Any, site: dict[str, Any], tmp_path: Path
) -> None:
    """Create an MEV for Warstein, publish it, take the operator package, upload two
    operators' replies (one with errors), decide the conflicts, close it and see the result."""
    import geopandas as gpd

    from tests.mev_scenario import GLASFASER, KABEL, glasfaser_reply, kabel_reply, unpack

    runs = httpx.get(f"{site['url']}/runs", headers={"X-API-Key": ADMIN_KEY}).json()["items"]
    if not any(r["state"] == "succeeded" for r in runs):
        pytest.skip("needs the run started by test_analyst_journey")
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, accept_downloads=True, locale="de-DE"
    )
    page = context.new_page()
    watch = Watch(page)
    sign_in(page, site["url"], site["keys"]["analyst"])
    page.click("header nav a[href='/ui/mev']")
    page.fill("#new-mev input[name=name]", "MEV Warstein")
    page.select_option("#area-ags", [WARSTEIN])
    page.fill("#new-mev input[name=start]", "2026-07-01")
    page.fill("#new-mev input[name=end]", "2026-08-15")
    page.fill("#new-mev input[name=branchendialog]", "2026-03-01")
    page.click("#new-mev button[type=submit]")
    page.wait_for_selector("#mev-warnings")
    assert "acht Wochen" in page.locator("#mev-warnings").inner_text()
    page.click("#step-publish button")
    page.wait_for_selector("#mev-state[data-state=published]")
    assert page.evaluate("document.getElementById('area-png').naturalWidth") > 100
    shot(page, "20-mev-published", full=True)
    with page.expect_download() as info:
        page.click("#package")
    (tmp_path / "paket.zip").write_bytes(Path(info.value.path()).read_bytes())
    package = unpack(tmp_path / "paket.zip", tmp_path / "paket")

    replies = [(glasfaser_reply(package, tmp_path, with_errors=True), GLASFASER),
               (kabel_reply(package, gpd.read_parquet(site["coverage"]), tmp_path), KABEL)]  # fmt: skip
    for path, operator in replies:
        page.click("nav.tabs a[href$='/replies']")
        page.fill("#reply-upload input[name=operator]", operator)
        page.set_input_files("#reply-upload input[name=file]", str(path))
        page.click("#reply-upload button[type=submit]")
        page.wait_for_selector("#error-count")
        if operator == GLASFASER:  # the row check: four errors, each with its fix
            assert page.locator("#issues tr.sev-Fehler").count() == 4
            assert "TT.MM.JJJJ" in page.locator("#issues").inner_text()
            shot(page, "21-mev-reply-check", full=True)

    page.click("nav.tabs a[href$='/conflicts']")
    page.wait_for_selector("#open-count")
    assert GLASFASER in page.locator("#conflicts").inner_text()
    shot(page, "22-mev-conflicts")
    while page.locator("#bulk").count():
        page.fill("#bulk input[name=reason]", "mit dem Betreiber geklärt")
        page.click("#bulk button[type=submit]")
        page.wait_for_selector("#open-count")
    assert page.locator("#open-count").inner_text() == "0"
    page.click("nav.tabs a >> nth=0")
    page.click("#step-close button")
    page.wait_for_selector("#mev-state[data-state=closed]")
    page.click("#step-result button")
    page.wait_for_selector("#result-figures", timeout=120_000)
    assert int(page.locator("#eligible").inner_text().replace(".", "")) > 0
    assert page.evaluate("document.getElementById('result-png').naturalWidth") > 100
    shot(page, "23-mev-result", full=True)
    watch.clean()
    context.close()
