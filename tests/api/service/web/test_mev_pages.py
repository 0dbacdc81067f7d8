"""The MEV pages over HTTP: an analyst walks an MEV for Warstein from the form to the result;
public keys see none of it (403, no reply contents); every form needs its CSRF token;
the steps offered follow the state; German and English labels."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient

from tests.api.service.conftest import Service
from tests.api.service.web.conftest import csrf_of, de_int, html_tables, sign_in
from tests.mev_scenario import GLASFASER, KABEL, glasfaser_reply, kabel_reply, unpack

WARSTEIN = "05974044"
STEP = re.compile(r'action="/ui/mev/mev_[0-9a-f]{12}/step/(\w+)"')


def _post(c: TestClient, url: str, page: str, **kw: Any) -> Any:
    data = {"csrf": csrf_of(c.get(page).text), **kw.pop("data", {})}
    return c.post(url, data=data, follow_redirects=False, **kw)


def _steps(html: str) -> list[str]:
    return STEP.findall(html)


@pytest.fixture(scope="module")
def walk(
    service: Service,
    demo_ids: dict[str, str],
    demo_run: dict[str, Any],
    demo_inputs: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """An analyst's MEV for Warstein, created through the form."""
    if not service.settings.database_url.startswith("sqlite"):
        pytest.skip("the pages are the same on both catalogs; test_mev.py runs MEVs on PostgreSQL")
    tmp = tmp_path_factory.mktemp("mev-web")
    c = TestClient(service.client.app, base_url="http://testserver")
    sign_in(c, service.keys["analyst"])
    form = c.get("/ui/mev")
    assert form.status_code == 200 and "Neues Markterkundungsverfahren" in form.text
    assert f'value="{WARSTEIN}">Warstein ({WARSTEIN})' in form.text  # Gemeinden of the boundaries
    r = _post(c, "/ui/mev", "/ui/mev", files={"area": ("", b"")}, data={
        "name": "MEV Warstein <b>2026</b>", "addresses": demo_ids["addresses"],
        "boundaries": demo_ids["boundaries"], "baseline_run": demo_run["id"], "ags": [WARSTEIN],
        "profile": "de-gigabit-2023", "horizon_months": "36", "start": "2026-07-01",
        "end": "2026-08-15", "branchendialog": "2025-11-01", "stichtag": "2026-09-01"})  # fmt: skip
    assert r.status_code == 303, r.text
    detail_url = r.headers["location"]
    mev_id = detail_url.rsplit("/", 1)[1]
    return {"c": c, "id": mev_id, "url": detail_url, "tmp": tmp, "coverage": demo_inputs.coverage}


def test_a_draft_shows_its_warnings_in_german_and_only_the_publish_step(
    walk: dict[str, Any],
) -> None:
    c, url = walk["c"], walk["url"]
    page = c.get(url).text
    assert "MEV Warstein &lt;b&gt;2026&lt;/b&gt;" in page  # escaped, never markup
    assert "kürzer als die Mindestdauer von acht Wochen" in page
    assert "älter als sechs Monate" in page
    assert _steps(page) == ["publish"] and "Entwurf" in page
    en = c.get(url + "?lang=en").text
    assert "Publish (build the operator package)" in en and "draft" in en
    c.get(url + "?lang=de")
    # a step the state does not allow is refused by the workflow, the state stays
    r = _post(c, url + "/step/close", url)
    assert r.status_code == 409 and "needs it published" in r.text
    # dates change while draft; the eight-week warning goes
    r = _post(c, url + "/dates", url, data={"end": "2026-09-01"})
    assert r.status_code == 303
    assert "acht Wochen" not in c.get(url).text


def test_forms_without_the_csrf_token_are_refused(walk: dict[str, Any], service: Service) -> None:
    c, url = walk["c"], walk["url"]
    for path, data in ((url + "/step/publish", {}), (url + "/dates", {"end": "2026-10-01"}),
                       (url + "/conflicts", {"kind": "different_facts", "decision": "accept", "reason": "x"}),
                       ("/ui/mev", {"name": "x"})):  # fmt: skip
        assert c.post(path, data=data).status_code == 403
        assert c.post(path, data={**data, "csrf": "forged"}).status_code == 403
    r = c.post(url + "/replies", data={"operator": "X"}, files={"file": ("r.csv", b"a;b\n")})
    assert r.status_code == 403
    doc = service.get(f"/mev/{walk['id']}", role="admin").json()
    assert doc["state"] == "draft" and doc["spec"]["end"] != "2026-10-01"


def test_the_walk_from_publication_to_the_result(walk: dict[str, Any], service: Service) -> None:
    c, url, tmp, mev_id = walk["c"], walk["url"], walk["tmp"], walk["id"]
    r = _post(c, url + "/step/publish", url, data={"contact": "breitband@example.org"})
    assert r.status_code == 303, r.text
    page = c.get(url).text
    assert _steps(page) == ["close"] and "veröffentlicht" in page
    assert c.get(url + "/file/area.png").headers["content-type"] == "image/png"
    pkg = c.get(url + "/file/package.zip")
    assert pkg.status_code == 200
    (tmp / "paket.zip").write_bytes(pkg.content)
    package = unpack(tmp / "paket.zip", tmp / "paket")

    # an operator's reply with errors: the row check lists each with reason and fix
    v1 = glasfaser_reply(package, tmp, with_errors=True)
    r = _post(c, url + "/replies", url + "/replies", data={"operator": GLASFASER},
              files={"file": (v1.name, v1.read_bytes())})  # fmt: skip
    assert r.status_code == 303, r.text
    issues = c.get(r.headers["location"])
    rows = [row for row in html_tables(issues.text)[0][1:] if row[4] == "Fehler"]
    reasons = {row[5].split(";")[0].split(":")[0] for row in rows}
    assert reasons == {"unbekannte Adress-ID (nicht im Projektgebiet)", "unmögliche Geschwindigkeit",
                       "unbekannte Technologie", "kein Datum"}  # fmt: skip
    fixes = {row[5].split(":")[0]: row[6] for row in rows}
    assert "TT.MM.JJJJ" in fixes["kein Datum; Format TT.MM.JJJJ"]
    assert all(row[0].isdigit() and int(row[0]) >= 2 for row in rows)  # the file's line
    en = c.get(r.headers["location"] + "?lang=en").text
    assert "write the date as DD.MM.YYYY" in en
    c.get(url + "?lang=de")
    v2 = glasfaser_reply(package, tmp, with_errors=False)
    _post(c, url + "/replies", url + "/replies", data={"operator": GLASFASER},
          files={"file": (v2.name, v2.read_bytes())})  # fmt: skip
    kabel = kabel_reply(package, gpd.read_parquet(walk["coverage"]), tmp)
    r = _post(c, url + "/replies", url + "/replies", data={"operator": KABEL},
              files={"file": (kabel.name, kabel.read_bytes())})  # fmt: skip
    assert r.status_code == 303
    replies = c.get(url + "/replies").text
    glas, kab = html_tables(replies)[:2]  # sorted by operator
    assert [row[0] for row in glas[1:]] == ["2 gültig", "1 ersetzt"]
    assert [row[0] for row in kab[1:]] == ["1 gültig"]

    # conflicts: all operators' claims side by side; decisions by kind and one by one
    k = c.get(url + "/conflicts").text
    open_before = de_int(re.search(r'id="open-count">([\d.]+)<', k).group(1))
    assert open_before > 0 and GLASFASER in k and KABEL in k
    first = re.search(r'name="conflict_id" value="(k_[0-9a-f]{12})"', k).group(1)
    r = _post(c, url + "/conflicts", url + "/conflicts",
              data={"conflict_id": first, "decision": "accept", "reason": "  "})  # fmt: skip
    assert r.status_code == 422 and "reason" in r.text
    r = _post(c, url + "/conflicts", url + "/conflicts",
              data={"conflict_id": first, "decision": "accept", "reason": "Vor Ort geprüft"})  # fmt: skip
    assert r.status_code == 303
    resolved = c.get(url + "/conflicts?show=resolved").text
    assert "Vor Ort geprüft" in resolved and "test analyst (key:" in resolved
    for kind, decision in (("different_facts", f"reject:{KABEL}"), ("planned_without_date", "reject_all"),
                           ("planned_beyond_horizon", "reject_all"), ("contradicts_measurement", "accept")):  # fmt: skip
        _post(c, url + "/conflicts", url + "/conflicts",
              data={"kind": kind, "decision": decision, "reason": "geprüft"})  # fmt: skip
    assert 'id="open-count">0<' in c.get(url + "/conflicts").text

    # close, then the result
    assert _post(c, url + "/step/close", url).status_code == 303
    page = c.get(url).text
    assert _steps(page) == ["result", "reopen"] and "abgeschlossen" in page
    assert _post(c, url + "/step/reopen", url).status_code == 303
    assert _steps(c.get(url).text) == ["close"]
    assert _post(c, url + "/step/close", url).status_code == 303
    r = _post(c, url + "/step/result", url)
    assert r.status_code == 303, re.search(r"class=\"error\">(.*?)</p>", r.text, re.S).group(1)
    assert r.headers["location"].endswith("/result")
    res = c.get(r.headers["location"]).text
    counts = service.get(f"/mev/{mev_id}", role="admin").json()["counts"]
    eligible = de_int(re.search(r'id="eligible">([\d.]+)<', res).group(1))
    assert eligible == counts["eligible"] and counts["addresses"] > 0
    by_op = {row[0]: de_int(row[1]) for row in html_tables(res)[1]}
    assert by_op == counts["ineligible_by_operator"]
    gem = html_tables(res)[2]
    assert gem[1][1] == WARSTEIN and de_int(gem[1][3]) == counts["eligible"]
    lost = c.get(url + "/result?change=now_ineligible").text
    assert lost.count("nicht mehr förderfähig</td>") == counts["changes"]["now_ineligible"] or (
        counts["changes"]["now_ineligible"] > 50
    )
    assert c.get(url + "/file/result.png").headers["content-type"] == "image/png"
    pack = c.get(url + "/file/result.zip")
    with zipfile.ZipFile(io.BytesIO(pack.content)) as zf:
        assert "foerderfaehige_adressen.csv" in zf.namelist()
    audit = c.get(url + "/audit").text
    for word in ("angelegt", "Termine geändert", "veröffentlicht", "Rückmeldung gespeichert",
                 "Konflikt entschieden", "Frist beendet", "Ergebnis berechnet", "heruntergeladen"):  # fmt: skip
        assert word in audit, word
    assert "Ergebnis liegt vor" in c.get("/ui/mev").text


def test_public_keys_get_403_and_never_see_replies(
    walk: dict[str, Any], service: Service, browser_client: Callable[[], TestClient]
) -> None:
    url = walk["url"]
    pub = browser_client()
    sign_in(pub, service.keys["public"])
    replies = service.get(f"/mev/{walk['id']}/replies", role="admin").json()
    pages = ["/ui/mev", url, url + "/replies", url + "/conflicts", url + "/result", url + "/audit",
             *(f"{url}/replies/{r['id']}" for r in replies), url + "/file/package.zip"]  # fmt: skip
    for path in pages:
        r = pub.get(path)
        assert r.status_code == 403, path
        assert GLASFASER not in r.text and KABEL not in r.text
        assert "Rückmeldungen der Betreiber sind vertraulich" in r.text
    r = pub.post(url + "/replies", data={"operator": "X"}, files={"file": ("r.csv", b"a\n")})
    assert r.status_code == 403
    assert 'href="/ui/mev"' not in pub.get("/ui/runs", follow_redirects=True).text
    anon = browser_client()
    assert anon.get(url, follow_redirects=False).headers["location"] == "/ui/login"


def test_the_area_as_an_uploaded_polygon(
    walk: dict[str, Any], demo_ids: dict[str, str], tmp_path: Path
) -> None:
    c = walk["c"]
    area = gpd.read_file(walk["tmp"] / "paket" / "projektgebiet.gpkg", layer="projektgebiet")
    path = tmp_path / "gebiet.geojson"
    area.to_crs(4326).to_file(path, driver="GeoJSON")
    r = _post(c, "/ui/mev", "/ui/mev", files={"area": (path.name, path.read_bytes())}, data={
        "name": "MEV Polygon", "addresses": demo_ids["addresses"], "start": "2026-07-01",
        "end": "2026-09-01", "branchendialog": "2026-05-01"})  # fmt: skip
    assert r.status_code == 303, r.text
    page = c.get(r.headers["location"]).text
    assert "(Polygon)" in page and "mev-warnings" not in page
    r = _post(c, "/ui/mev", "/ui/mev", files={"area": ("gebiet.vrt", b"<OGRVRTDataSource/>")},
              data={"name": "x", "addresses": demo_ids["addresses"], "start": "2026-07-01", "end": "2026-09-01"})  # fmt: skip
    assert r.status_code == 422 and "GeoPackage (.gpkg) or GeoJSON" in r.text
