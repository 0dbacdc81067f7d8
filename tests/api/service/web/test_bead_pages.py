"""The BEAD challenge-process pages over HTTP: an analyst walks a process from the create form
through challenges, rebuttals and decisions to NTIA's files; public keys get 403 before any body
is read; every form needs its CSRF token; what the workflow refuses is shown with its message."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.service.conftest import Service
from tests.api.service.test_bead_process import PDF, SCENARIO, WINDOWS, _filed_challenges
from tests.api.service.web.conftest import csrf_of, sign_in
from tests.bead_layouts import EXPECTED_HEADERS, HEADERLESS
from tests.paths import DATA

STATUS = re.compile(r'<tr id="c-([A-Z0-9-]+)" data-status="(\w+)"')
PHASE = re.compile(r'id="bead-phase" data-phase="(\w+)"')


def _post(c: TestClient, url: str, page: str, **kw: Any) -> Any:
    data = {"csrf": csrf_of(c.get(page).text), **kw.pop("data", {})}
    return c.post(url, data=data, follow_redirects=False, **kw)


@pytest.fixture(scope="module")
def walk(service: Service) -> dict[str, Any]:
    """An analyst's challenge process over the Vermont scenario, created through the form."""
    if not service.settings.database_url.startswith("sqlite"):
        pytest.skip("the pages are the same on both catalogs; test_bead_process.py runs PostgreSQL")
    c = TestClient(service.client.app, base_url="http://testserver")
    sign_in(c, service.keys["analyst"])
    assert "New challenge process" in c.get("/ui/bead?lang=en").text
    files = {"locations": ("fcc_fabric.csv", (DATA / "formats" / "fcc_fabric.csv").read_bytes()),
             "offers": ("fcc_bdc.csv", (DATA / "formats" / "fcc_bdc.csv").read_bytes()),
             "cai": ("cai.csv", (SCENARIO / "cai.csv").read_bytes())}  # fmt: skip
    r = _post(c, "/ui/bead", "/ui/bead", files=files,
              data={"name": "Vermont <b>2024</b>", "as_of": "2024-07-01", **WINDOWS})  # fmt: skip
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    return {"c": c, "url": url, "id": url.rsplit("/", 1)[1]}


def test_the_walk_from_challenges_to_ntia_files(walk: dict[str, Any], service: Service) -> None:
    c, url = walk["c"], walk["url"]
    page = c.get(url).text
    assert PHASE.search(page).group(1) == "challenges"  # type: ignore[union-attr]
    assert "Vermont &lt;b&gt;2024&lt;/b&gt;" in page and "<b>2024</b>" not in page
    r = _post(c, f"{url}/challengers", url,
              files={"file": ("challengers.csv", (SCENARIO / "challengers.csv").read_bytes())})  # fmt: skip
    assert r.status_code == 303, r.text
    evidence = [("evidence", (n, PDF)) for n in ("mtp-0001.pdf", "hug-0003.pdf")]
    upload = [("file", ("challenges.csv", _filed_challenges())), *evidence]
    r = _post(c, f"{url}/challenges", url, files=upload)
    assert r.status_code == 422 and "mtp-0002.zip was not given" in r.text  # all or none
    upload.append(("evidence", ("mtp-0002.zip", b"PK\x05\x06" + b"\0" * 18)))
    assert _post(c, f"{url}/challenges", url, files=upload).status_code == 303
    assert STATUS.findall(c.get(url).text) == [
        ("MTP-0001", "open"), ("MTP-0002", "open"), ("HUG-0003", "open")]  # fmt: skip
    assert c.get(f"{url}/challenge/MTP-0001/file/mtp-0001.pdf").content == PDF
    row = c.get("/ui/bead").text
    assert f'data-process="{walk["id"]}"' in row and 'data-status="open">3<' in row

    assert _post(c, f"{url}/advance", url).status_code == 303
    rebut = f"{url}/challenge/MTP-0002/rebut"
    resp = {"response": ("comcast-0002.pdf", PDF)}
    r = _post(c, rebut, url, data={"rebuttal_date": "2024-10-05"}, files=resp)
    assert r.status_code == 422 and "outside the window 2024-09-01 to 2024-09-30" in r.text
    assert 'id="bead-error"' in r.text and ("MTP-0002", "open") in STATUS.findall(r.text)
    assert _post(c, rebut, url, data={"rebuttal_date": "2024-09-05"}, files=resp).status_code == 303
    agree = {"kind": "agree", "rebuttal_date": "2024-09-06"}
    assert _post(c, f"{url}/challenge/HUG-0003/rebut", url, data=agree).status_code == 303
    assert dict(STATUS.findall(c.get(url).text)) == {
        "MTP-0001": "open", "MTP-0002": "rebutted", "HUG-0003": "agreed"}  # fmt: skip

    assert _post(c, f"{url}/advance", url).status_code == 303
    decide = f"{url}/challenge/MTP-0002/decide"
    r = _post(c, decide, url, data={"disposition": "S", "reason": "  "})
    assert r.status_code == 422 and "give its reason" in r.text
    r = _post(c, decide, url, data={"disposition": "N", "reason": "x"})
    assert r.status_code == 422 and "was rebutted; use S, R, I, M" in r.text
    r = _post(c, f"{url}/advance", url)
    assert r.status_code == 409 and "without a decision" in r.text
    assert PHASE.search(r.text).group(1) == "decisions"  # type: ignore[union-attr]
    decisions = {"MTP-0001": ("N", "No rebuttal within the window"),
                 "MTP-0002": ("R", "Provider speed tests show 1100/35 at peak"),
                 "HUG-0003": ("A", "The provider agreed")}  # fmt: skip
    for cid, (disp, reason) in decisions.items():
        body = {"disposition": disp, "reason": reason, "resolution_date": "2024-10-02"}
        assert _post(c, f"{url}/challenge/{cid}/decide", url, data=body).status_code == 303
    page = c.get(url).text
    assert {s for _, s in STATUS.findall(page)} == {"decided"}
    assert "Provider speed tests show 1100/35 at peak" in page
    assert "abgelehnt nach Erwiderung" in c.get(f"{url}?lang=de").text
    assert _post(c, f"{url}/advance", url).status_code == 303
    assert PHASE.search(c.get(url).text).group(1) == "final"  # type: ignore[union-attr]

    r = c.get(f"{url}/files.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        assert sorted(zf.namelist()) == sorted([*EXPECTED_HEADERS, *HEADERLESS])
        for name, header in EXPECTED_HEADERS.items():
            assert zf.read(name).decode().splitlines()[0] == header, name
        post = zf.read("post_challenge_locations.csv").decode().splitlines()[1:]
    assert post == ["1000000001,1", "1000000002,2", "1000000003,2"]
    one = c.get(f"{url}/files/challenges.csv")
    assert one.status_code == 200 and one.text.splitlines()[0] == EXPECTED_HEADERS["challenges.csv"]
    assert c.get(f"{url}/files/nothing.csv").status_code == 404

    audit = c.get(f"{url}/audit").text
    actors = re.findall(r"<td>([^<]*\(key:[^<]*\))</td><td>decide</td>", audit)
    assert len(actors) == 3, audit  # recorded with the key's name and id
    assert audit.count("<td>advance</td>") == 3
    assert "/bead/inputs/" not in audit  # no server paths


def test_forms_without_the_csrf_token_are_refused(walk: dict[str, Any], service: Service) -> None:
    c, url = walk["c"], walk["url"]
    before = service.get(f"/bead/processes/{walk['id']}", role="admin").json()
    for path in (f"{url}/advance", f"{url}/challenge/MTP-0001/decide", "/ui/bead"):
        assert c.post(path, data={"disposition": "M", "reason": "x"}).status_code == 403
        assert c.post(path, data={"csrf": "forged", "name": "x"}).status_code == 403
    after = service.get(f"/bead/processes/{walk['id']}", role="admin").json()
    assert after["phase"] == before["phase"] and after["challenges"] == before["challenges"]


def test_public_keys_get_403_before_any_body(
    walk: dict[str, Any], service: Service, browser_client: Callable[[], TestClient]
) -> None:
    url = walk["url"]
    pub = browser_client()
    sign_in(pub, service.keys["public"])
    for path in ("/ui/bead", url, f"{url}/audit", f"{url}/files.zip", f"{url}/files/unserved.csv"):
        r = pub.get(path)
        assert r.status_code == 403 and "analyst or admin key" in pub.get(path + "?lang=en").text
    r = pub.post(f"{url}/challenges", files={"file": ("challenges.csv", b"x" * 10_000)})
    assert r.status_code == 403
    assert 'href="/ui/bead"' not in pub.get("/ui/runs", follow_redirects=True).text
    anon = browser_client()
    assert anon.get(url, follow_redirects=False).headers["location"] == "/ui/login"


def test_create_without_a_source_shows_the_message_on_the_list(walk: dict[str, Any]) -> None:
    c = walk["c"]
    before = c.get("/ui/bead").text.count("data-process=")
    r = _post(c, "/ui/bead", "/ui/bead", data={"name": "No source", **WINDOWS})
    assert r.status_code == 422 and 'id="bead-error"' in r.text and "choose a us-bead run" in r.text
    r = _post(c, "/ui/bead", "/ui/bead", data={"name": "No dates", "run_id": "run_000000000000"})
    assert r.status_code == 422 and "give the dates of both windows" in r.text
    assert c.get("/ui/bead").text.count("data-process=") == before


def test_one_challenge_from_the_form(walk: dict[str, Any]) -> None:
    c = walk["c"]
    files = {"locations": ("fcc_fabric.csv", (DATA / "formats" / "fcc_fabric.csv").read_bytes()),
             "offers": ("fcc_bdc.csv", (DATA / "formats" / "fcc_bdc.csv").read_bytes())}  # fmt: skip
    r = _post(c, "/ui/bead", "/ui/bead", files=files,
              data={"name": "One by one", "as_of": "2024-07-01", **WINDOWS})  # fmt: skip
    url = r.headers["location"]
    r = _post(c, f"{url}/challengers", url,
              files={"file": ("challengers.csv", (SCENARIO / "challengers.csv").read_bytes())})  # fmt: skip
    assert r.status_code == 303
    row = {"challenge": "MTP-0001", "challenge_type": "a", "challenger": "MONTPELIER",
           "location_id": "1000000001", "provider_id": "130077", "technology": "50", "reason_code": "5",
           "advertised_download_speed": "1000", "advertised_upload_speed": "1000",
           "challenge_date": "2024-08-01"}  # fmt: skip
    r = _post(c, f"{url}/challenge", url, data={**row, "challenge_date": "2024-09-02"},
              files=[("evidence", ("mtp-0001.pdf", PDF))])  # fmt: skip
    assert r.status_code == 422 and "outside the window" in r.text
    r = _post(c, f"{url}/challenge", url, data=row, files=[("evidence", ("mtp-0001.pdf", PDF))])
    assert r.status_code == 303, r.text
    page = c.get(url).text
    assert STATUS.findall(page) == [("MTP-0001", "open")] and "<td>A</td>" in page
    assert c.get(f"{url}/challenge/MTP-0001/file/mtp-0001.pdf").content == PDF
