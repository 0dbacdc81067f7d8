"""`gapmap run` with the files a Kreis and an operator actually send: nothing silently lost."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from api.cli import main
from tests.paths import DATA

REAL = DATA / "formats" / "real"


def gapmap(*args: str | Path) -> int:
    return main([str(a) for a in args])


def _manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text(encoding="utf-8"))


def test_two_layer_geopackage_runs_through_layername(tmp_path: Path) -> None:
    gpkg = REAL / "zwei_ebenen.gpkg"
    out = tmp_path / "run"
    code = gapmap(
        "run",
        "--addresses", f"{gpkg}|layername=adressen",
        "--boundaries", f"{gpkg}|layername=gemeinden",
        "--offers", REAL / "mev_antwort.csv",
        "--accept-unmatched",
        "--out", out,
    )  # fmt: skip
    assert code == 0
    table = pd.read_parquet(out / "addresses.parquet")
    assert len(table) == 3 and set(table["ags"]) == {"05958004"}
    kreis = pd.read_csv(out / "summary_kreis.csv", dtype={"ags": str})
    # the boundary file has Gemeinden only: the Kreis name comes from the shipped Destatis table
    assert kreis.loc[kreis["ags"] == "05958", "name"].item() == "Hochsauerlandkreis"


def test_without_a_layer_the_message_shows_the_qgis_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gpkg = REAL / "zwei_ebenen.gpkg"
    code = gapmap(
        "run", "--addresses", gpkg, "--offers", REAL / "mev_antwort.csv", "--out", tmp_path / "r"
    )
    assert code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{gpkg}|layername=adressen" in err and "--layer" not in err


def test_school_register_layout_with_a_german_reply(tmp_path: Path) -> None:
    out = tmp_path / "run"
    code = gapmap(
        "run",
        "--addresses", REAL / "schulen_nrw.csv",
        "--offers", REAL / "mev_antwort_kopf.xlsx",
        "--boundaries", REAL / "vg250_gemischt.geojson",
        "--out", out,
    )  # fmt: skip
    assert code == 0
    counts = _manifest(out)["counts"]
    # 8 reply rows, every one reaches a school (Sandstr. 50-56 covers Sandstraße 54)
    assert counts["offer_list_rows"] == 8 and counts["unmatched_offer_rows"] == 0
    table = pd.read_parquet(out / "addresses.parquet")
    best = dict(zip(table["address_id"], table["best_down_mbps"], strict=True))
    assert best["190001"] == 1000 and best["190004"] == 250 and best["190006"] == 200
    # the two Siegen schools lie outside these boundaries: counted apart, reported
    assert counts["addresses_outside_boundaries"] == 2
    gem = pd.read_csv(out / "summary_gemeinde.csv", dtype={"ags": str}, keep_default_na=False)
    assert "05970040" not in set(gem["ags"])
    assert any("outside the boundaries" in w for w in _manifest(out)["warnings"])


def test_low_match_share_stops_with_reasons_unless_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", "--addresses", REAL / "adressen_gauss_krueger.csv", "--addresses-crs",
            "EPSG:31467", "--offers", REAL / "mev_antwort.csv"]  # fmt: skip
    assert gapmap(*args, "--out", tmp_path / "a") == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "only 4 of 8 offer rows (50%) match an address (at least 80% expected)" in err
    assert "4 street not found in that postcode/place (street_not_found)" in err
    assert not (tmp_path / "a").exists()
    assert gapmap(*args, "--accept-unmatched", "--out", tmp_path / "b") == 0
    unmatched = pd.read_csv(tmp_path / "b" / "unmatched_offers.csv", dtype=str)
    assert len(unmatched) == 4 and set(unmatched["reason"]) == {"street_not_found"}


def test_addresses_entirely_outside_the_boundaries_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = gapmap(
        "run",
        "--addresses", REAL / "gebref_essen.txt",
        "--boundaries", REAL / "vg250_gemischt.geojson",
        "--offers", REAL / "mev_antwort.csv",
        "--accept-unmatched",
        "--out", tmp_path / "r",
    )  # fmt: skip
    assert code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "none of the 3 addresses lies in a Gemeinde of the boundary file" in err
    assert "05113000 (3)" in err and "internal error" not in err


def test_keys_no_boundary_covers_and_summary_never_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r"
    # Essen buildings with their own Gemeinde key, no boundary file: a run, and a summary
    code = gapmap(
        "run", "--addresses", REAL / "gebref_essen.txt", "--offers", REAL / "mev_antwort.csv",
        "--accept-unmatched", "--out", out,
    )  # fmt: skip
    assert code == 0
    assert gapmap("summary", out) == 0
    text = capsys.readouterr().out
    assert "internal error" not in text and "Essen" in text  # Kreis name from the Destatis table
    assert "rurality is judged from the address file" in " ".join(text.split())


def test_per_gemeinde_atlas_is_refused_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = gapmap(
        "run", "--addresses", REAL / "schulen_nrw.csv", "--offers", REAL / "mev_antwort.csv",
        "--atlas", REAL / "breitbandatlas_gemeinden_wide.csv", "--out", tmp_path / "r",
    )  # fmt: skip
    assert code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "a Breitbandatlas table per Gemeinde or Kreis (keyed by AGS); --atlas compares" in err


def test_inspect_exits_2_on_an_unreadable_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert gapmap("inspect", REAL / "zwei_ebenen.gpkg") == 2
    text = capsys.readouterr().out
    assert "layername=gemeinden" in text
    assert gapmap("inspect", f"{REAL / 'zwei_ebenen.gpkg'}|layername=adressen") == 0


def test_school_register_as_delivered_matches_a_german_reply(
    shared_data: Path, tmp_path: Path
) -> None:
    """Acceptance: the real register (street and number in `Strasse`) and a reply keyed by
    street, number, postcode and place, spelt the operator's way: >= 95 % of rows match."""
    schools = pd.read_csv(shared_data / "points" / "schulen_nrw_suedwestfalen.csv", dtype=str)
    rng = np.random.default_rng(20)
    parts = schools["Strasse"].str.extract(r"^(?P<street>.*?\D)\s+(?P<number>\d+\s*[a-zA-Z]?)$")
    ok = parts["number"].notna()
    sample = schools[ok].sample(120, random_state=7)
    street = parts.loc[sample.index, "street"]
    # the operator writes "Straße" in full where the register abbreviates, and vice versa
    street = street.str.replace(r"str\.$", "straße", regex=True).where(
        rng.random(len(street)) < 0.5, street.str.replace("straße", "str.", regex=False)
    )
    labels = ["Glasfaser (FTTH)", "Kabel (DOCSIS 3.1)", "VDSL2-Vectoring", "SVDSL", "Koax"]
    reply = pd.DataFrame(
        {
            "Straße": street.to_numpy(),
            "Hausnummer": parts.loc[sample.index, "number"].to_numpy(),
            "PLZ": sample["PLZ"].to_numpy(),
            "Ort": sample["Ort"].to_numpy(),
            "Betreiber": "Beispiel Netz GmbH",
            "Technologie": rng.choice(labels, len(sample)),
            "Download": "1000",
            "Upload": "200",
        }
    )
    path = tmp_path / "antwort.csv"
    reply.to_csv(path, sep=";", index=False, encoding="cp1252")
    out = tmp_path / "run"
    code = gapmap(
        "run",
        "--addresses", shared_data / "points" / "schulen_nrw_suedwestfalen.csv",
        "--boundaries", shared_data / "boundaries" / "vg250_gemeinden_suedwestfalen.geojson",
        "--offers", path,
        "--out", out,
    )  # fmt: skip
    assert code == 0
    counts = _manifest(out)["counts"]
    assert counts["offer_list_rows"] == 120
    assert counts["unmatched_offer_rows"] <= 6  # >= 95 % matched
    kreis = pd.read_csv(out / "summary_kreis.csv", dtype={"ags": str})
    assert set(kreis["name"]) == {
        "Hochsauerlandkreis", "Märkischer Kreis", "Olpe", "Siegen-Wittgenstein", "Soest",
    }  # fmt: skip
    table = pd.read_parquet(out / "addresses.parquet")
    assert int((table["best_down_mbps"] == 1000).sum()) >= 114


def test_every_option_named_in_a_message_exists_on_the_command_that_prints_it() -> None:
    """Messages name options the user can type: scan the string literals of the modules each
    command's errors come from and check every ``--option`` exists on those commands."""
    import typer.main

    from api.cli.app import app

    root = typer.main.get_command(app)
    options = {
        name: {o for p in cmd.params for o in getattr(p, "opts", [])}
        for name, cmd in root.commands.items()  # type: ignore[attr-defined]
    }
    repo = Path(__file__).resolve().parents[3]
    # module (or folder) -> the commands that print its messages
    printed_by = {
        "coverage/io/offers.py": ["run", "inspect"],
        "coverage/io/aliases.py": ["run", "inspect"],
        "coverage/io/vector.py": ["run", "inspect"],
        "coverage/io/archive.py": ["run", "inspect"],
        "coverage/io/layername.py": ["run", "inspect"],
        "coverage/crs.py": ["run", "inspect", "degurba"],
        "coverage/run_inputs.py": ["run"],
        "coverage/run_checks.py": ["run"],
        "coverage/technology.py": ["run"],
        "coverage/schema.py": ["run"],
        "coverage/io/inspect.py": ["inspect"],
        "coverage/io/detect.py": ["run", "inspect"],
        "coverage/io/hkde.py": ["run", "inspect"],
        "coverage/levels.py": ["run", "inspect"],
        "coverage/io/vg250.py": ["run", "inspect"],
        "coverage/evidence.py": ["evidence"],
    }
    found = 0
    for rel, commands in printed_by.items():
        text = (repo / rel).read_text(encoding="utf-8")
        # string literals only (docstrings and comments name options for readers, not users)
        literals = re.findall(r'(?<![\w"])f?"(?!"")((?:[^"\\\n]|\\.)*)"', text)
        for literal in literals:
            for opt in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]+", literal):
                found += 1
                missing = [c for c in commands if opt not in options[c]]
                assert not missing, f"{rel}: {opt} is not an option of {', '.join(missing)}"
    assert found >= 10
