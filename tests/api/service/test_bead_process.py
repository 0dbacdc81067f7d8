"""The BEAD challenge process with state over HTTP: challenges, rebuttals and decisions kept in
the catalog (SQLite and PostgreSQL), NTIA's files from the stored state, roles, the migration."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

import api.service.bead_models  # noqa: F401  (registers the BEAD tables on Base.metadata)
from api.service.models import Base
from api.service.store import Store
from tests.api.service.conftest import Service, database_url
from tests.bead_layouts import EXPECTED_HEADERS, HEADERLESS
from tests.paths import DATA, ROOT

SCENARIO = DATA / "bead"
WINDOWS = {"challenge_start": "2024-08-01", "challenge_end": "2024-08-31",
           "rebuttal_start": "2024-09-01", "rebuttal_end": "2024-09-30"}  # fmt: skip
PDF = b"%PDF-1.4\n% evidence\n"


def _filed_challenges() -> bytes:
    """The scenario's challenges as filed: rebuttal and decision columns still empty."""
    rows = list(csv.DictReader((SCENARIO / "challenges.csv").open(encoding="utf-8")))
    for r in rows:
        for c in (
            "rebuttal_date",
            "resolution_date",
            "disposition",
            "response_file_id",
            "resolution",
        ):
            r[c] = ""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


@pytest.fixture(scope="module")
def process(service: Service) -> str:
    form = {
        "name": "Vermont challenge",
        "profile": "us-bead-2022",
        "as_of": "2024-07-01",
        **WINDOWS,
    }
    files = {"cai": ("cai.csv", (SCENARIO / "cai.csv").read_bytes()),
             "locations": ("fcc_fabric.csv", (DATA / "formats" / "fcc_fabric.csv").read_bytes()),
             "offers": ("fcc_bdc.csv", (DATA / "formats" / "fcc_bdc.csv").read_bytes())}  # fmt: skip
    r = service.client.post("/bead/processes", data={**form, "profile": "de-gigabit-2023"}, files=files,
                            headers=service.h("analyst"))  # fmt: skip
    assert r.status_code == 422 and "needs a us-bead profile" in r.json()["detail"]
    r = service.client.post("/bead/processes", data=form, files=files, headers=service.h("analyst"))
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["phase"] == "challenges" and doc["counts"] == {
        "locations": 3, "pre_unserved": 1, "pre_underserved": 0, "pre_served": 2}  # fmt: skip
    return str(doc["id"])


def test_roles_and_keys_before_bodies(service: Service, process: str) -> None:
    base = f"/bead/processes/{process}"
    for url in ("/bead/processes", base, f"{base}/audit", f"{base}/files.zip"):
        assert service.client.get(url).status_code == 401
        assert service.get(url, role="public").status_code == 403, url
    # a public key never gets its body read: 403 before the upload is parsed
    r = service.client.post(f"{base}/challenges", files={"file": ("challenges.csv", b"x" * 10_000)},
                            headers=service.h("public"))  # fmt: skip
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert service.get(base, role="admin").status_code == 200
    assert service.get("/bead/processes/bcp_000000000000").status_code == 404


def _post(service: Service, url: str, **kw: Any) -> Any:
    return service.client.post(url, headers=service.h("analyst"), **kw)


def test_challenge_process_end_to_end(service: Service, process: str, tmp_path: Path) -> None:
    base = f"/bead/processes/{process}"
    challengers = list(csv.DictReader((SCENARIO / "challengers.csv").open(encoding="utf-8")))
    r = _post(service, f"{base}/challengers", json={"challengers": challengers})
    assert r.status_code == 201 and r.json() == {"registered": 2}, r.text
    assert (
        _post(service, f"{base}/challengers", json={"challengers": challengers[:1]}).status_code
        == 409
    )

    # before final only the pre-challenge lists, from the stored classification
    pre = service.get(f"{base}/files.zip")
    with zipfile.ZipFile(io.BytesIO(pre.content)) as zf:
        assert sorted(zf.namelist()) == ["underserved.csv", "unserved.csv"]
        assert zf.read("unserved.csv") == b"1000000003\n"

    evidence = [("evidence", (n, PDF)) for n in ("mtp-0001.pdf", "hug-0003.pdf")] + [
        ("evidence", ("mtp-0002.zip", b"PK\x05\x06" + b"\0" * 18))]  # fmt: skip
    files = [("file", ("challenges.csv", _filed_challenges())), *evidence]
    r = _post(service, f"{base}/challenges", files=[files[0], *evidence[:2]])
    assert r.status_code == 422 and "mtp-0002.zip was not given" in r.json()["detail"]
    r = _post(service, f"{base}/challenges", files=files)
    assert r.status_code == 201 and r.json() == {"filed": ["MTP-0001", "MTP-0002", "HUG-0003"]}, (
        r.text
    )
    assert _post(service, f"{base}/challenges", files=files).status_code == 409  # ids are unique
    got = service.get(f"{base}/challenges/MTP-0001/files/mtp-0001.pdf")
    assert got.status_code == 200 and got.content == PDF

    rebut = f"{base}/challenges/MTP-0002/rebuttal"
    resp = {"response": ("comcast-0002.pdf", PDF)}
    r = _post(service, rebut, data={"rebuttal_date": "2024-09-05"}, files=resp)
    assert r.status_code == 409 and "only in phase rebuttal" in r.json()["detail"]
    assert _post(service, f"{base}/advance").json()["phase"] == "rebuttal"
    r = _post(service, rebut, data={"rebuttal_date": "2024-10-05"}, files=resp)
    assert (
        r.status_code == 422 and "outside the window 2024-09-01 to 2024-09-30" in r.json()["detail"]
    )
    assert (
        _post(service, rebut, data={"rebuttal_date": "2024-09-05"}, files=resp).status_code == 201
    )
    r = _post(
        service,
        f"{base}/challenges/HUG-0003/rebuttal",
        data={"kind": "agree", "rebuttal_date": "2024-09-06"},
    )
    assert r.status_code == 201 and r.json()["rebuttal"] == "agree"
    assert _post(service, f"{base}/advance").json()["phase"] == "decisions"

    decide = {"MTP-0001": ("N", "No rebuttal within the window"),
              "MTP-0002": ("R", "Provider speed tests show 1100/35 at peak"),
              "HUG-0003": ("A", "The provider agreed")}  # fmt: skip
    r = _post(
        service, f"{base}/challenges/MTP-0002/decision", json={"disposition": "N", "reason": "x"}
    )
    assert r.status_code == 422 and "was rebutted; use S, R, I, M" in r.json()["detail"]
    r = _post(service, f"{base}/advance")
    assert r.status_code == 409 and "without a decision" in r.json()["detail"]
    for cid, (disp, reason) in decide.items():
        body = {"disposition": disp, "reason": reason, "resolution_date": "2024-10-02"}
        assert _post(service, f"{base}/challenges/{cid}/decision", json=body).status_code == 201
    assert _post(service, f"{base}/advance").json()["phase"] == "final"

    r = service.get(f"{base}/files.zip")
    assert r.status_code == 200
    assert (
        r.headers["x-gapmap-bead-changed"] == "2" and r.headers["x-gapmap-bead-post-served"] == "2"
    )
    out = tmp_path / "ntia"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        zf.extractall(out)
    assert sorted(p.name for p in out.iterdir()) == sorted([*EXPECTED_HEADERS, *HEADERLESS])
    for name, header in EXPECTED_HEADERS.items():
        assert (out / name).read_text().splitlines()[0] == header, name
    assert (out / "post_challenge_locations.csv").read_text().splitlines()[1:] == [
        "1000000001,1", "1000000002,2", "1000000003,2"]  # fmt: skip
    # the stored state gives the same rows as the scenario's finished challenges.csv, except
    # the rebuttal and decision dates of this process
    rows = {r["challenge"]: r for r in csv.DictReader((out / "challenges.csv").open())}
    assert rows["MTP-0002"]["rebuttal_date"] == "2024-09-05"
    assert rows["MTP-0002"]["response_file_id"] == "comcast-0002.pdf"
    assert rows["MTP-0002"]["disposition"] == "R" and rows["HUG-0003"]["response_file_id"] == ""
    assert rows["MTP-0001"]["evidence_file_id"] == "mtp-0001.pdf"
    validator = pytest.importorskip("bead_inspector.validator")
    checked = validator.BEADChallengeDataValidator(
        data_directory=out, results_dir=tmp_path / "logs"
    )
    assert checked.issues == []

    log = service.get(f"{base}/audit").json()
    actions = [a["action"] for a in log]
    assert (
        actions[:4] == ["create", "challenger", "files", "challenge"]
        and actions.count("decide") == 3
    )
    assert actions.count("rebut") == 2 and actions.count("advance") == 3 and actions[-1] == "files"
    assert all(a["actor"].startswith("key:") for a in log)
    decided = [a for a in log if a["action"] == "decide"]
    assert decided[1]["detail"]["changed"]["disposition"] == {"from": None, "to": "R"}


def test_migration_0005_upgrades_matches_the_models_and_downgrades(tmp_path: Path) -> None:
    kinds = ["sqlite"] + (
        ["postgresql"] if __import__("os").environ.get("GAPMAP_TEST_DATABASE_URL") else []
    )
    for kind in kinds:
        gen = database_url(kind, tmp_path)
        url = next(gen)
        store = Store(tmp_path / kind, url)
        try:
            store.migrate()
            with store.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert [d for d in diff if "bead" in repr(d)] == [], kind
            cfg = Config()
            cfg.set_main_option("script_location", str(ROOT / "api" / "service" / "migrations"))
            with store.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.downgrade(cfg, "0004")
            names = set(sa.inspect(store.engine).get_table_names())
            assert "mevs" in names and not {n for n in names if n.startswith("bead_")}, kind
            store.migrate()
            assert "bead_challenges" in sa.inspect(store.engine).get_table_names()
        finally:
            store.close()
            gen.close()
