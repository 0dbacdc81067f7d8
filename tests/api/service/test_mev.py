"""An MEV for Warstein over HTTP: every step, role checks, and the result equals a gapmap run."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest

from coverage.pipeline import RunOptions, run
from coverage.run_inputs import LayerSpec, RunInputs
from tests.api.service.conftest import Service
from tests.mev_scenario import GLASFASER, KABEL, glasfaser_reply, kabel_reply, unpack

WARSTEIN = "05974044"


def _post(service: Service, url: str, role: str = "analyst", **kw: Any) -> Any:
    return service.client.post(url, headers=service.h(role), **kw)


def _reply(service: Service, mev: str, path: Path, operator: str) -> dict[str, Any]:
    with path.open("rb") as fh:
        r = _post(
            service,
            f"/mev/{mev}/replies",
            files={"file": (path.name, fh)},
            data={"operator": operator},
        )
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def mev(service: Service, demo_ids: dict[str, str], demo_run: dict[str, Any]) -> str:
    body = {
        "name": "MEV Warstein", "start": "2026-07-01", "end": "2026-08-15", "ags": [WARSTEIN],
        "addresses_dataset": demo_ids["addresses"], "boundaries_dataset": demo_ids["boundaries"],
        "baseline_run": demo_run["id"], "branchendialog": "2025-11-01", "stichtag": "2026-09-01",
    }  # fmt: skip
    r = _post(service, "/mev", json=body)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["state"] == "draft"
    # 45 days < eight weeks; 1 Nov 2025 is more than six months before 1 Jul 2026
    assert any("acht Wochen" in w for w in doc["warnings"])
    assert any("sechs Monate" in w for w in doc["warnings"])
    return str(doc["id"])


def test_roles_keep_replies_confidential(service: Service, mev: str) -> None:
    for url in (f"/mev/{mev}", f"/mev/{mev}/replies", f"/mev/{mev}/conflicts", f"/mev/{mev}/audit"):
        assert service.client.get(url).status_code == 401
        r = service.get(url, role="public")
        assert r.status_code == 403, (url, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert service.get(f"/mev/{mev}", role="admin").status_code == 200
    assert _post(service, f"/mev/{mev}/close", role="public").status_code == 403


def test_mev_end_to_end(service: Service, mev: str, demo_inputs: Any, tmp_path: Path) -> None:
    # a reply before publication is a state conflict
    r = _post(service, f"/mev/{mev}/close")
    assert r.status_code == 409 and "needs it published" in r.json()["detail"]
    r = service.client.patch(
        f"/mev/{mev}/dates", json={"end": "2026-09-01"}, headers=service.h("analyst")
    )
    assert r.status_code == 200, r.text
    assert r.json()["spec"]["end"] == "2026-09-01"
    assert not any("acht Wochen" in w for w in r.json()["warnings"])  # 62 days now
    r = _post(service, f"/mev/{mev}/publish", json={"contact": "breitband@example.org"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "published"
    pkg = service.get(f"/mev/{mev}/package")
    assert pkg.status_code == 200
    zip_path = tmp_path / "paket.zip"
    zip_path.write_bytes(pkg.content)
    with zipfile.ZipFile(io.BytesIO(pkg.content)) as zf:
        assert sorted(zf.namelist()) == [
            "adressen.csv", "deckblatt.md", "projektgebiet.gpkg", "projektgebiet.png",
            "rueckmeldung_vorlage.csv", "rueckmeldung_vorlage.xlsx",
        ]  # fmt: skip
        assert "breitband@example.org" in zf.read("deckblatt.md").decode()
    package = unpack(zip_path, tmp_path / "paket")
    v1 = _reply(service, mev, glasfaser_reply(package, tmp_path, with_errors=True), GLASFASER)
    reasons = {
        i["Grund"].split(";")[0].split(":")[0] for i in v1["issues"] if i["Schwere"] == "Fehler"
    }
    assert reasons == {"unbekannte Adress-ID (nicht im Projektgebiet)", "unmögliche Geschwindigkeit",
                       "unbekannte Technologie", "kein Datum"}  # fmt: skip
    v2 = _reply(service, mev, glasfaser_reply(package, tmp_path, with_errors=False), GLASFASER)
    assert (v2["version"], v2["summary"]["errors"]) == (2, 0)
    coverage = gpd.read_parquet(demo_inputs.coverage)
    poly = _reply(service, mev, kabel_reply(package, coverage, tmp_path), KABEL)
    assert poly["kind"] == "polygons" and poly["summary"]["claims"] > 0
    reps = service.get(f"/mev/{mev}/replies").json()
    assert [(x["operator"], x["version"], x["current"]) for x in reps] == [
        (GLASFASER, 1, False), (GLASFASER, 2, True), (KABEL, 1, True)]  # fmt: skip

    k = service.get(f"/mev/{mev}/conflicts").json()
    kinds = {c["kind"] for c in k["conflicts"]}
    assert {"different_facts", "planned_without_date", "planned_beyond_horizon"} <= kinds
    assert k["open"] == len(k["conflicts"])
    # the result needs the MEV closed, and every conflict decided
    assert _post(service, f"/mev/{mev}/result").status_code == 409
    r = _post(
        service,
        f"/mev/{mev}/resolutions",
        json={"kind": "different_facts", "decision": "reject:Nobody", "reason": "x"},
    )
    assert r.status_code == 422 and "not an operator of this conflict" in r.json()["detail"]
    r = _post(
        service,
        f"/mev/{mev}/resolutions",
        json={"kind": "different_facts", "decision": "accept", "reason": " "},
    )
    assert r.status_code == 422
    for kind, decision in (("different_facts", f"reject:{KABEL}"), ("planned_without_date", "reject_all"),
                           ("planned_beyond_horizon", "reject_all")):  # fmt: skip
        r = _post(
            service,
            f"/mev/{mev}/resolutions",
            json={"kind": kind, "decision": decision, "reason": "geprüft"},
        )
        assert r.status_code == 201, r.text
    assert service.get(f"/mev/{mev}/conflicts").json()["open"] == 0
    assert _post(service, f"/mev/{mev}/close").json()["state"] == "closed"
    late = glasfaser_reply(package, tmp_path, with_errors=False)
    with late.open("rb") as fh:
        r = _post(
            service,
            f"/mev/{mev}/replies",
            files={"file": (late.name, fh)},
            data={"operator": GLASFASER},
        )
    assert r.status_code == 409

    res = _post(service, f"/mev/{mev}/result")
    assert res.status_code == 200, res.text
    summary = res.json()
    assert "same_run" not in summary
    pack = service.get(f"/mev/{mev}/result.zip")
    assert pack.status_code == 200
    with zipfile.ZipFile(io.BytesIO(pack.content)) as zf:
        names = set(zf.namelist())
        offers = tmp_path / "resolved_offers.csv"
        offers.write_bytes(zf.read("resolved_offers.csv"))
        assert json.loads(zf.read("ergebnis.json"))["counts"] == summary["counts"]
    assert {"aenderungen.csv", "foerderfaehige_adressen.csv", "evidenzpaket.zip", "ergebnis_karte.png",
            "konflikte_entscheidungen.csv", "ohne_rueckmeldung.csv", "ergebnisbericht.pdf"} <= names  # fmt: skip
    pdf = service.get(f"/mev/{mev}/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert (
        pdf.content.startswith(b"%PDF")
        and service.get(f"/mev/{mev}/report.pdf", role="public").status_code == 403
    )

    # the same classification from a plain run with the resolved offers
    area = Path(service.settings.workspace) / "mev" / mev / "area_addresses.parquet"
    plain = run(RunInputs(addresses=LayerSpec(area), offers=(LayerSpec(offers),),
                          boundaries=LayerSpec(demo_inputs.boundaries)),
                tmp_path / "plain", RunOptions(as_of=__import__("datetime").date(2026, 9, 1)))  # fmt: skip
    assert summary["counts"]["eligible"] == plain.manifest["counts"]["eligible"]
    assert summary["counts"]["by_class"] == {
        k: v for k, v in plain.manifest["counts"]["by_class"].items() if v
    }
    assert summary["counts"]["changes"]["now_ineligible"] == sum(
        summary["counts"]["ineligible_by_operator"].values()
    )

    actions = [a["action"] for a in service.get(f"/mev/{mev}/audit").json()]
    assert actions[:5] == ["create", "dates", "publish", "download", "reply"]
    assert (
        actions.count("reply") == 3
        and actions.count("resolve") >= 3
        and actions[-3:] == ["result", "download", "download"]
    )


def test_bead_challenge_over_http(service: Service) -> None:
    from tests.paths import DATA

    files = {
        "locations": DATA / "formats" / "fcc_fabric.csv", "offers": DATA / "formats" / "fcc_bdc.csv",
        "challengers": DATA / "bead" / "challengers.csv", "challenges": DATA / "bead" / "challenges.csv",
        "cai": DATA / "bead" / "cai.csv", "cai_challenges": DATA / "bead" / "cai_challenges.csv",
    }  # fmt: skip
    upload = {k: (p.name, p.read_bytes()) for k, p in files.items()}
    r = _post(service, "/bead/challenge", role="public", files=upload, data={"as_of": "2024-10-01"})
    assert r.status_code == 403
    r = _post(service, "/bead/challenge", files=upload, data={"as_of": "2024-10-01"})
    assert r.status_code == 200, r.text
    assert (
        r.headers["x-gapmap-bead-changed"] == "2" and r.headers["x-gapmap-bead-post-served"] == "2"
    )
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        assert zf.read("post_challenge_locations.csv").decode().splitlines() == [
            "location_id,classification", "1000000001,1", "1000000002,2", "1000000003,2"]  # fmt: skip
        assert len(zf.namelist()) == 8
    bad = {**upload, "challenges": ("challenges.txt", b"x")}
    r = _post(service, "/bead/challenge", files=bad)
    assert r.status_code == 422 and "challenges: expected .csv" in r.json()["detail"]
