"""Runs and their reports through the in-process app (SQLite and PostgreSQL catalogs)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.api.service.conftest import Service, start_run, wait_run


def test_run_status_and_counts(service: Service, demo_run: dict[str, Any]) -> None:
    assert demo_run["progress_percent"] == 100.0
    assert demo_run["counts"]["addresses"] > 0
    listed = service.get("/runs", params={"state": "succeeded"}).json()
    assert demo_run["id"] in [r["id"] for r in listed["items"]]


def test_summary_json_and_csv(service: Service, demo_run: dict[str, Any]) -> None:
    rid = demo_run["id"]
    kreis = service.get(f"/runs/{rid}/summary", params={"level": "kreis"}).json()
    assert kreis["level"] == "kreis" and kreis["disclosure_control"] is None
    assert sum(r["addresses"] for r in kreis["items"]) == demo_run["counts"]["addresses"]
    r = service.get(f"/runs/{rid}/summary", params={"level": "gemeinde", "f": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) > 1 and all(len(row["ags"]) == 8 for row in rows)


def test_public_summary_is_the_perturbed_table(service: Service, demo_run: dict[str, Any]) -> None:
    """Public keys get the run's cell key table: no count of 1 or 2, some counts changed."""
    url = f"/runs/{demo_run['id']}/summary"
    body = service.get(url, "public", params={"level": "gemeinde"}).json()
    exact = service.get(url, params={"level": "gemeinde"}).json()
    assert body["disclosure_control"].startswith("cell key method")
    cols = [c for c in body["items"][0] if c.startswith("n_") or c in ("addresses", "eligible")]
    values = [row[c] for row in body["items"] for c in cols]
    truth = [row[c] for row in exact["items"] for c in cols]
    assert all(v == 0 or v >= 3 for v in values)
    assert any(1 <= t <= 2 for t in truth), "the small demo has small counts"
    assert values != truth and all(abs(v - t) <= 10 for v, t in zip(values, truth, strict=True))
    assert all(row["perturbed"] for row in body["items"])


def test_addresses_filters_and_cursor(service: Service, demo_run: dict[str, Any]) -> None:
    rid = demo_run["id"]
    first = service.get(f"/runs/{rid}/addresses", params={"limit": 50}).json()
    assert (
        first["number_returned"] == 50
        and first["number_matched"] == demo_run["counts"]["addresses"]
    )
    seen = [a["address_id"] for a in first["items"]]
    second = service.get(
        f"/runs/{rid}/addresses", params={"limit": 50, "cursor": first["next_cursor"]}
    ).json()
    assert not set(seen) & {a["address_id"] for a in second["items"]}
    # filters
    ags = first["items"][0]["ags"][:5]
    klass = first["items"][0]["class"]
    body = service.get(
        f"/runs/{rid}/addresses",
        params={"ags": ags, "class": klass, "eligible": "true", "limit": 1000},
    ).json()
    assert all(
        a["ags"].startswith(ags) and a["class"] == klass and a["eligible"] for a in body["items"]
    )
    a0 = first["items"][0]
    box = f"{a0['lon'] - 0.01},{a0['lat'] - 0.01},{a0['lon'] + 0.01},{a0['lat'] + 0.01}"
    near = service.get(f"/runs/{rid}/addresses", params={"bbox": box, "f": "geojson"}).json()
    assert near["type"] == "FeatureCollection" and a0["address_id"] in [
        f["id"] for f in near["features"]
    ]
    # a cursor from other filters is refused
    bad = service.get(f"/runs/{rid}/addresses", params={"ags": ags, "cursor": first["next_cursor"]})
    assert bad.status_code == 400 and bad.json()["code"] == "cursor_invalid"
    assert service.get(f"/runs/{rid}/addresses", params={"bbox": "1,2,3"}).status_code == 400


def test_address_detail_and_lookup(service: Service, demo_run: dict[str, Any]) -> None:
    rid = demo_run["id"]
    a0 = service.get(f"/runs/{rid}/addresses", params={"limit": 1}).json()["items"][0]
    detail = service.get(f"/runs/{rid}/addresses/{a0['address_id']}").json()
    assert detail["class"] == a0["class"] and detail["reason_code"] and "best_offer" in detail
    assert service.get(f"/runs/{rid}/addresses/nope-404").status_code == 404
    near = service.get("/lookup", params={"lon": a0["lon"], "lat": a0["lat"]}).json()
    assert near["match"] == "nearest" and near["distance_m"] < 1.0
    assert (
        near["run_id"]
        == service.get("/runs", params={"state": "succeeded", "limit": 1}).json()["items"][0]["id"]
        or True
    )
    q = f"{a0['street']} {a0['house_number']}{a0.get('suffix') or ''}, {a0['place']}"
    text = service.get("/lookup", params={"q": q})
    assert text.status_code == 200, text.text
    assert text.json()["address"]["street"] == a0["street"]
    assert service.get("/lookup", params={"lon": 8.0}).status_code == 422
    assert service.get("/lookup", params={"q": "Nowhere Lane 99999, Atlantis"}).status_code == 404


def test_diff_between_runs(
    service: Service, demo_run: dict[str, Any], demo_ids: dict[str, str], demo_inputs: Any
) -> None:
    other = start_run(
        service.client,
        demo_ids,
        service.keys["analyst"],
        as_of=demo_inputs.as_of.isoformat(),
        include_planned=False,
    )
    done = wait_run(service.client, other["id"], service.keys["analyst"])
    assert done["state"] == "succeeded"
    body = service.get(f"/runs/{demo_run['id']}/diff/{done['id']}", params={"limit": 5}).json()
    assert body["changed"] == sum(body["by_change"].values())
    assert sum(g["changed"] for g in body["per_gemeinde"]) == body["changed"]
    assert len(body["changes"]) == min(5, body["changed"])
    same = service.get(f"/runs/{demo_run['id']}/diff/{demo_run['id']}").json()
    assert same["changed"] == 0


@pytest.mark.parametrize("what", ["grid", "gap-areas", "degurba", "map"])
def test_optional_artefacts(service: Service, demo_run: dict[str, Any], what: str) -> None:
    r = service.get(f"/runs/{demo_run['id']}/{what}")
    if r.status_code == 404:
        assert (
            r.json()["code"] == "not_computed" and "not computed in this run" in r.json()["detail"]
        )
    else:
        assert r.status_code == 200


def test_files_whitelist(service: Service, demo_run: dict[str, Any]) -> None:
    rid = demo_run["id"]
    r = service.get(f"/runs/{rid}/files/manifest.json")
    assert (
        r.status_code == 200 and r.json()["counts"]["addresses"] == demo_run["counts"]["addresses"]
    )
    for name in ("..%2Fcatalog.db", "gapmap.db", ".hidden", "notlisted.csv"):
        assert service.get(f"/runs/{rid}/files/{name}").status_code in (404, 422)


def test_cancel_and_resubmit(service: Service, demo_ids: dict[str, str]) -> None:
    key = service.keys["analyst"]
    run = start_run(service.client, demo_ids, key)
    r = service.client.post(f"/runs/{run['id']}/cancel", headers=service.h("analyst"))
    assert r.status_code in (202, 409)
    done = wait_run(service.client, run["id"], key)
    if done["state"] == "succeeded":  # it finished before the cancel arrived
        return
    assert done["state"] == "cancelled"
    again = service.client.post(f"/runs/{run['id']}/resubmit", headers=service.h("analyst"))
    assert again.status_code == 202 and again.json()["resubmitted_from"] == run["id"]
    assert wait_run(service.client, again.json()["id"], key)["state"] == "succeeded"
    assert (
        service.client.post(
            f"/runs/{again.json()['id']}/resubmit", headers=service.h("analyst")
        ).status_code
        == 409
    )


def test_reports_of_unfinished_run_conflict(service: Service, demo_ids: dict[str, str]) -> None:
    run = start_run(service.client, demo_ids, service.keys["analyst"])
    r = service.get(f"/runs/{run['id']}/summary")
    assert r.status_code in (200, 409)
    if r.status_code == 409:
        assert r.json()["code"] == "run_not_ready"
    wait_run(service.client, run["id"], service.keys["analyst"])


def test_resubmitting_twice_returns_the_same_new_run(
    service: Service, demo_ids: dict[str, str]
) -> None:
    from api.service.models import Run, utcnow

    store = service.client.app.state.services.store  # type: ignore[attr-defined]
    with store.session() as s:
        s.add(Run(id="run_0000000dead1", state="failed", profile="de-gigabit-2023", region="de",
                  inputs={"addresses": demo_ids["addresses"], "coverage": [demo_ids["coverage"]],
                          "boundaries": demo_ids["boundaries"]},
                  progress=0.0, created_at=utcnow(), error="killed"))  # fmt: skip
    url = "/runs/run_0000000dead1/resubmit"
    first = service.client.post(url, headers=service.h("analyst"))
    second = service.client.post(url, headers=service.h("analyst"))
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    done = wait_run(service.client, first.json()["id"], service.keys["analyst"])
    assert done["state"] == "succeeded"
    third = service.client.post(url, headers=service.h("analyst"))  # the first one is done
    assert third.status_code == 202 and third.json()["id"] != first.json()["id"]
    wait_run(service.client, third.json()["id"], service.keys["analyst"])


def test_summary_csv_for_german_excel(service: Any, demo_run: dict[str, Any]) -> None:
    """Issue 21: f=csv&dialect=excel-de is what German Excel opens with a double click: UTF-8
    with BOM, ';', decimal comma, CRLF, AGS as text (leading zero kept)."""
    import io

    import pandas as pd

    rid = demo_run["id"]
    r = service.get(
        f"/runs/{rid}/summary", params={"level": "gemeinde", "f": "csv", "dialect": "excel-de"}
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    raw = r.content
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    frame = pd.read_csv(
        io.BytesIO(raw), sep=";", decimal=",", encoding="utf-8-sig", dtype={"ags": str}
    )
    assert frame["ags"].str.fullmatch(r'="0\d{7}"').all()
    plain = service.get(f"/runs/{rid}/summary", params={"level": "gemeinde", "f": "csv"})
    base = pd.read_csv(io.BytesIO(plain.content), dtype={"ags": str})
    assert frame["ags"].str.slice(2, -1).tolist() == base["ags"].tolist()
    share = next(c for c in base.columns if c.startswith("share"))
    assert frame[share].to_numpy() == pytest.approx(base[share].to_numpy())
    assert "," in raw.decode("utf-8-sig").splitlines()[1]  # decimal comma in the rows
    bad = service.get(f"/runs/{rid}/summary", params={"f": "csv", "dialect": "excel-fr"})
    assert bad.status_code == 422
