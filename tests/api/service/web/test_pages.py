"""The web face over HTTP: sessions, CSRF, security headers, roles, pages and downloads."""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.service.web.session import COOKIE, Sessions
from tests.api.service.conftest import Service
from tests.api.service.web.conftest import csrf_of, de_int, html_tables, sign_in

WARSTEIN = "05974044"


def test_sign_in_sets_a_signed_httponly_samesite_cookie_and_sign_out_clears_it(
    service: Service, browser_client: Callable[[], TestClient]
) -> None:
    c = browser_client()
    assert c.get("/ui/runs", follow_redirects=False).headers["location"] == "/ui/login"
    token = csrf_of(c.get("/ui/login").text)
    r = c.post(
        "/ui/login", data={"key": service.keys["analyst"], "csrf": token}, follow_redirects=False
    )
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower() and "Max-Age=28800" in cookie
    assert service.keys["analyst"] not in cookie  # the key itself never leaves the server
    page = c.get("/ui/runs")
    assert page.status_code == 200 and "analyst" in page.text
    r = c.post("/ui/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and f'{COOKIE}=""' in r.headers["set-cookie"]
    assert c.get("/ui/runs", follow_redirects=False).status_code == 303


def test_a_wrong_key_is_refused_and_every_form_needs_its_token(
    service: Service, browser_client: Callable[[], TestClient]
) -> None:
    c = browser_client()
    token = csrf_of(c.get("/ui/login").text)
    r = c.post("/ui/login", data={"key": "gm_not-a-key", "csrf": token})
    assert r.status_code == 401 and "unbekannt" in r.text  # German by default
    r = c.post("/ui/login", data={"key": service.keys["analyst"], "csrf": "forged"})
    assert r.status_code == 403 and COOKIE not in r.headers.get("set-cookie", "")
    sign_in(c, service.keys["admin"])
    # signed in: forms without the session's token, or posted from another site, are refused
    assert c.post("/ui/logout", data={"csrf": token}).status_code == 403
    form = csrf_of(c.get("/ui/runs").text)
    r = c.post("/ui/logout", data={"csrf": form}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    r = c.post("/ui/runs", data={"addresses": "ds_000000000000", "profile": "de-gigabit-2023"})
    assert r.status_code == 403
    files = {"file": ("a.csv", b"x,y\n1,2\n")}
    assert c.post("/ui/datasets", files=files, data={"kind": "addresses"}).status_code == 403


def test_sessions_expire_are_tamper_proof_and_end_with_a_revoked_key(
    service: Service, browser_client: Callable[[], TestClient]
) -> None:
    signer = Sessions(b"secret", ttl_s=60)
    value, _ = signer.issue("gm_some-key")
    assert signer.read(value) is not None
    payload, mac = value.split(".")
    # one character inside the MAC changed (the last one carries padding bits that decoding
    # ignores, so changing it may leave the bytes as they are)
    forged = mac[:10] + ("B" if mac[10] == "A" else "A") + mac[11:]
    assert signer.read(payload + "." + forged) is None
    assert Sessions(b"other", 60).read(value) is None
    expired = Sessions(b"secret", ttl_s=-1)
    assert expired.read(expired.issue("gm_some-key")[0]) is None

    r = service.client.post(
        "/keys", json={"role": "analyst", "name": "to revoke"}, headers=service.h("admin")
    )
    key_id, key = r.json()["id"], r.json()["key"]
    c = browser_client()
    sign_in(c, key)
    assert c.get("/ui/runs").status_code == 200
    assert service.client.post(f"/keys/{key_id}/revoke", headers=service.h("admin")).is_success
    assert c.get("/ui/runs", follow_redirects=False).headers["location"] == "/ui/login"


def test_pages_carry_csp_with_nonce_and_refuse_framing(
    service: Service, demo_run: dict[str, Any], browser_client: Callable[[], TestClient]
) -> None:
    c = browser_client()
    sign_in(c, service.keys["analyst"])
    for url in ("/ui/login", "/ui/runs", f"/ui/runs/{demo_run['id']}/map"):
        r = c.get(url)
        assert r.status_code == 200, url
        csp = r.headers["content-security-policy"]
        nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        for tag in re.findall(r"<script\b[^>]*>", r.text):
            assert f'nonce="{nonce}"' in tag or "src=" in tag, (url, tag)
        assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", r.text), url  # no CDN


def test_runs_page_lists_runs_with_progress_and_starts_one(
    service: Service,
    demo_run: dict[str, Any],
    demo_ids: dict[str, str],
    browser_client: Callable[[], TestClient],
) -> None:
    c = browser_client()
    sign_in(c, service.keys["analyst"])
    page = c.get("/ui/runs")
    assert demo_run["id"] in page.text and f"/ui/runs/{demo_run['id']}/map" in page.text
    status = c.get("/ui/runs.json").json()["items"]
    mine = next(r for r in status if r["id"] == demo_run["id"])
    assert mine["state"] == "succeeded" and mine["progress"] == 100.0
    before = {r["id"] for r in status}
    r = c.post(
        "/ui/runs",
        data={
            "csrf": csrf_of(page.text),
            "addresses": demo_ids["addresses"],
            "coverage": [demo_ids["coverage"]],
            "boundaries": demo_ids["boundaries"],
            "profile": "de-gigabit-2023",
            "as_of": "2026-06-30",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/ui/runs"
    new = [r for r in c.get("/ui/runs.json").json()["items"] if r["id"] not in before]
    assert len(new) == 1 and new[0]["as_of"] == "2026-06-30"
    assert new[0]["state"] in ("queued", "running", "succeeded")
    # a bad choice is a readable error page, not a traceback
    r = c.post(
        "/ui/runs",
        data={
            "csrf": csrf_of(page.text),
            "addresses": demo_ids["coverage"],
            "coverage": [demo_ids["coverage"]],
            "profile": "de-gigabit-2023",
        },
    )
    assert r.status_code == 422 and "is of kind coverage, not addresses" in r.text
    assert "text/html" in r.headers["content-type"]


def test_upload_through_the_page_shows_the_validation_report(
    service: Service, demo_inputs: Any, browser_client: Callable[[], TestClient]
) -> None:
    analyst = browser_client()
    sign_in(analyst, service.keys["analyst"])
    page = analyst.get("/ui/datasets").text
    assert 'id="upload"' not in page  # admin only
    admin = browser_client()
    sign_in(admin, service.keys["admin"])
    token = csrf_of(admin.get("/ui/datasets").text)
    with demo_inputs.boundaries.open("rb") as fh:
        r = admin.post(
            "/ui/datasets",
            files={"file": ("grenzen.geojson", fh)},
            data={"kind": "boundaries", "csrf": token},
        )
    assert r.status_code == 200 and "/ui/datasets/ds_" in str(r.url)
    ds_id = str(r.url).rsplit("/", 1)[1]
    api = service.get(f"/datasets/{ds_id}", "admin").json()
    table = next(t for t in html_tables(r.text) if t[0] == ["Feld", "Wert"])
    assert len(table) >= 4 and "grenzen.geojson" in r.text
    assert str(api["rows"]) in r.text.replace(".", "")
    # the same checks as the API: a file the readers reject is a 422 page, nothing stored
    r = admin.post(
        "/ui/datasets",
        files={"file": ("kaputt.geojson", b"{not json")},
        data={"kind": "boundaries", "csrf": token},
    )
    assert r.status_code == 422 and "kaputt.geojson" in r.text
    # analysts may not upload
    token = csrf_of(page)
    r = analyst.post(
        "/ui/datasets",
        files={"file": ("a.geojson", b"{}")},
        data={"kind": "boundaries", "csrf": token},
    )
    assert r.status_code == 403


def _summary(service: Service, run_id: str, level: str, role: str) -> pd.DataFrame:
    body = service.get(f"/runs/{run_id}/summary?level={level}", role).json()
    return pd.DataFrame(body["items"])


def test_report_shows_the_api_figures_charts_gaps_and_downloads(
    service: Service, demo_run: dict[str, Any], browser_client: Callable[[], TestClient]
) -> None:
    c = browser_client()
    sign_in(c, service.keys["analyst"])
    run_id = demo_run["id"]
    r = c.get(f"/ui/runs/{run_id}", params={"lang": "en"})
    assert r.status_code == 200
    html = r.text
    kreise = _summary(service, run_id, "kreis", "analyst")
    shown = next(t for t in html_tables(html) if len(t) == len(kreise) + 1 and "Eligible" in t[0])
    col = {name: i for i, name in enumerate(shown[0])}
    assert [de_int(r[col["Addresses"]]) for r in shown[1:]] == kreise["addresses"].tolist()
    assert [de_int(r[col["Eligible"]]) for r in shown[1:]] == kreise["eligible"].tolist()
    gemeinden = _summary(service, run_id, "gemeinde", "analyst")
    assert html.count(f"/ui/runs/{run_id}/gemeinde/") >= len(gemeinden)
    assert html.count("<svg") == 2 and html.count("<rect") > len(gemeinden)
    gaps = service.get(f"/runs/{run_id}/gap-areas?f=json", "analyst").json()["items"]
    score = "screening_score" if "screening_score" in gaps[0] else "priority"
    # the report lists the best-scored areas first (areas without a score last, file order)
    best = min(gaps, key=lambda g: (g[score] is None, -(g[score] or 0)))
    assert best["area_id"] in html
    for name in ("summary_kreis.csv", "summary_gemeinde.xlsx", "addresses.gpkg", "evidence.zip"):
        assert f"/ui/runs/{run_id}/download/{name}" in html

    csv = c.get(f"/ui/runs/{run_id}/download/summary_gemeinde.csv")
    assert csv.content.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.BytesIO(csv.content), sep=";", decimal=",", dtype={"ags": str})
    assert frame["eligible_share"].tolist() == pytest.approx(gemeinden["eligible_share"].tolist())
    xlsx = c.get(f"/ui/runs/{run_id}/download/summary_kreis.xlsx")
    assert pd.read_excel(io.BytesIO(xlsx.content))["addresses"].sum() == kreise["addresses"].sum()
    gpkg = c.get(f"/ui/runs/{run_id}/download/addresses.gpkg")
    assert gpkg.status_code == 200 and gpkg.content[:16] == b"SQLite format 3\x00"


def test_gemeinde_page_and_its_evidence_pack(
    service: Service, demo_run: dict[str, Any], browser_client: Callable[[], TestClient]
) -> None:
    c = browser_client()
    sign_in(c, service.keys["analyst"])
    run_id = demo_run["id"]
    row = _summary(service, run_id, "gemeinde", "analyst").set_index("ags").loc[WARSTEIN]
    r = c.get(f"/ui/runs/{run_id}/gemeinde/{WARSTEIN}")
    assert r.status_code == 200 and "Warstein" in r.text
    figures = re.search(r'<dl class="figures" id="figures">(.*?)</dl>', r.text, re.S).group(1)
    assert f"{int(row['addresses']):,}".replace(",", ".") in figures
    assert f"{int(row['eligible']):,}".replace(",", ".") in figures
    assert f"/ui/runs/{run_id}/map?ags={WARSTEIN}" in r.text
    pack = c.get(f"/ui/runs/{run_id}/download/evidence.zip", params={"ags": WARSTEIN})
    assert pack.status_code == 200
    with zipfile.ZipFile(io.BytesIO(pack.content)) as zf:
        names = zf.namelist()
        assert "manifest.json" in names and "METHODOLOGY.md" in names
    assert c.get(f"/ui/runs/{run_id}/gemeinde/09999999").status_code == 404


def test_public_keys_see_perturbed_aggregates_only(
    service: Service, demo_run: dict[str, Any], browser_client: Callable[[], TestClient]
) -> None:
    c = browser_client()
    sign_in(c, service.keys["public"])
    run_id = demo_run["id"]
    r = c.get("/ui/", follow_redirects=True)
    assert r.status_code == 200 and "/ui/runs/run_" in str(r.url)
    r = c.get(f"/ui/runs/{run_id}")
    assert r.status_code == 200
    assert "addresses.gpkg" not in r.text and "evidence.zip" not in r.text
    assert 'id="gaps"' not in r.text
    public = _summary(service, run_id, "gemeinde", "public")
    csv = c.get(f"/ui/runs/{run_id}/download/summary_gemeinde.csv")
    frame = pd.read_csv(io.BytesIO(csv.content), sep=";", decimal=",", dtype={"ags": str})
    cols = ["addresses", "eligible", "n_white", "n_grey"]
    assert (frame[cols].to_numpy() == public[cols].to_numpy()).all()  # the public table
    exact = _summary(service, run_id, "gemeinde", "analyst")
    assert (frame[cols].to_numpy() != exact[cols].to_numpy()).any()  # perturbed, not exact
    assert not frame[cols].isin([1, 2]).any().any()  # the cell key method never shows 1 or 2
    for url in (
        "/ui/runs",
        "/ui/datasets",
        f"/ui/runs/{run_id}/download/addresses.gpkg",
        f"/ui/runs/{run_id}/download/evidence.zip",
        f"/ui/runs/{run_id}/lookup?q=Hauptstraße 1, Warstein",
    ):
        assert c.get(url).status_code == 403, url
    page = c.get(f"/ui/runs/{run_id}/map").text
    assert "/tiles/addresses/" not in page and "/tiles/gaps/" not in page
    assert "/tiles/gemeinden/" in page


def test_language_switch_and_german_default(
    service: Service, demo_run: dict[str, Any], browser_client: Callable[[], TestClient]
) -> None:
    c = browser_client()
    sign_in(c, service.keys["analyst"])
    url = f"/ui/runs/{demo_run['id']}"
    assert "Gemeinden" in c.get(url).text and "Stichtag" in c.get(url).text
    assert "Reference date" in c.get(url, params={"lang": "en"}).text
    assert "Reference date" in c.get(url).text  # remembered in a cookie
    assert "Stichtag" in c.get(url, params={"lang": "de"}).text


def test_slow_index_builds_do_not_break_polling(service: Service) -> None:
    """The progress endpoint answers quickly even while pages are built."""
    started = time.monotonic()
    r = service.client.get("/ui/runs.json")
    assert r.status_code == 401 and time.monotonic() - started < 5
