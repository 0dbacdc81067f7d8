"""An MEV for Warstein from the command line, as a Breitbandkoordinator runs it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from api.cli import main
from coverage.io.demo_files import DemoInputs
from tests.mev_scenario import GLASFASER, KABEL, glasfaser_reply, kabel_reply, unpack


def _cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())


def test_mev_from_the_command_line(
    demo_inputs: DemoInputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = ("--workspace", tmp_path / "ws")
    baseline = tmp_path / "baseline"
    code, text = _cli(capsys, "run", "--addresses", demo_inputs.addresses, "--coverage", demo_inputs.coverage,
                      "--boundaries", demo_inputs.boundaries, "--as-of", demo_inputs.as_of.isoformat(), "--out", baseline)  # fmt: skip
    assert code == 0, text
    code, text = _cli(capsys, "mev", "create", "--name", "MEV Warstein", "--addresses", demo_inputs.addresses,
                      "--boundaries", demo_inputs.boundaries, "--baseline-run", baseline, "--ags", "05974044",
                      "--start", "2026-07-01", "--end", "2026-08-01", "--branchendialog", "2026-05-01",
                      "--actor", "anna", *ws)  # fmt: skip
    assert code == 0, text
    assert (
        "Warnung: Die Frist von 4,4 Wochen ist kürzer als die Mindestdauer von acht Wochen" in text
    )
    mev = next(w for w in text.split() if w.startswith("mev_"))
    code, text = _cli(capsys, "mev", "reply", mev, demo_inputs.addresses, "--operator", "X", *ws)
    assert code == 2 and "the MEV is draft; replies are accepted while it is published" in text

    code, text = _cli(capsys, "mev", "publish", mev, "--out", tmp_path / "paket.zip", *ws)
    assert code == 0, text
    package = unpack(tmp_path / "paket.zip", tmp_path / "paket")
    template = pd.read_csv(
        package / "rueckmeldung_vorlage.csv", sep=";", dtype=str, encoding="utf-8-sig"
    )
    published = pd.read_csv(package / "adressen.csv", sep=";", dtype=str, encoding="utf-8-sig")
    assert (template["Adress-ID"] == published["Adress-ID"]).all() and template[
        "Adress-ID"
    ].is_unique
    assert (template["Gemeindeschlüssel"] == "05974044").all()
    layers = gpd.list_layers(package / "projektgebiet.gpkg")["name"].tolist()
    assert sorted(layers) == ["adressen", "projektgebiet"]
    assert "Frist: vom 01.07.2026 bis zum 01.08.2026." in (package / "deckblatt.md").read_text()

    v1 = glasfaser_reply(package, tmp_path, with_errors=True)
    code, text = _cli(capsys, "mev", "reply", mev, v1, "--operator", GLASFASER, *ws)
    assert code == 0 and "version 1" in text and "4 errors" in text
    assert (
        "unbekannte Adress-ID (nicht im Projektgebiet)" in text
        and "kein Datum; Format TT.MM.JJJJ" in text
    )
    code, text = _cli(capsys, "mev", "reply", mev, glasfaser_reply(package, tmp_path, with_errors=False),
                      "--operator", GLASFASER, *ws)  # fmt: skip
    assert code == 0 and "version 2" in text and "0 errors" in text
    kabel = kabel_reply(package, gpd.read_parquet(demo_inputs.coverage), tmp_path)
    code, text = _cli(capsys, "mev", "reply", mev, kabel, "--operator", KABEL, *ws)
    assert code == 0 and "version 1" in text, text

    code, text = _cli(capsys, "mev", "conflicts", mev, "--csv", tmp_path / "k.csv", *ws)
    assert code == 0
    conflicts = pd.read_csv(tmp_path / "k.csv", sep=";", dtype=str, encoding="utf-8-sig")
    assert {"different_facts", "planned_without_date", "planned_beyond_horizon"} <= set(
        conflicts["kind"]
    )
    code, text = _cli(capsys, "mev", "close", mev, *ws)
    assert code == 0
    code, text = _cli(capsys, "mev", "result", mev, *ws)
    assert code == 2 and "conflict(s) have no decision yet" in text
    one = conflicts[conflicts["kind"] == "different_facts"]["conflict_id"].iloc[0]
    code, text = _cli(
        capsys,
        "mev",
        "resolve",
        mev,
        one,
        "--decision",
        f"reject:{KABEL}",
        "--reason",
        "Vorleistung",
        *ws,
    )
    assert code == 0 and "1 decision(s) recorded" in text
    for kind, decision in (("different_facts", f"reject:{KABEL}"), ("planned_without_date", "reject_all"),
                           ("planned_beyond_horizon", "accept")):  # fmt: skip
        code, text = _cli(
            capsys,
            "mev",
            "resolve",
            mev,
            "--kind",
            kind,
            "--decision",
            decision,
            "--reason",
            "geprüft",
            *ws,
        )
        assert code == 0, text
    code, text = _cli(capsys, "mev", "result", mev, "--out", tmp_path / "ergebnis.zip",
                      "--report", tmp_path / "bericht.pdf", *ws)  # fmt: skip
    assert code == 0, text
    assert f"report (PDF): {tmp_path / 'bericht.pdf'}" in text

    with zipfile.ZipFile(tmp_path / "ergebnis.zip") as zf:
        summary = json.loads(zf.read("ergebnis.json"))
        changes = pd.read_csv(zf.open("aenderungen.csv"), sep=";", dtype=str, encoding="utf-8-sig")
        assert zf.read("ergebnisbericht.pdf") == (tmp_path / "bericht.pdf").read_bytes()
    _check_report(tmp_path / "bericht.pdf", summary)
    # the printed `gapmap run` gives the same classification
    rerun = summary["same_run"][1:]  # without "gapmap"
    code, text = _cli(capsys, *rerun)
    assert code == 0, text
    plain = json.loads((Path(rerun[-1]) / "manifest.json").read_text())["counts"]
    assert summary["counts"]["eligible"] == plain["eligible"]
    assert summary["counts"]["by_class"] == {k: v for k, v in plain["by_class"].items() if v}
    lost = changes[changes["Änderung"] == "nicht mehr förderfähig"]
    assert len(lost) == summary["counts"]["changes"]["now_ineligible"] > 0
    # every lost address names the operator(s) whose claims made it ineligible: one operator
    # serving 300/150, or two networks above 100 Mbit/s (black, Gigabit-RL 2.0 as of 2024)
    named = lost["Betreiber heute"].fillna("") + "|" + lost["Betreiber geplant"].fillna("")
    operators = {
        o.strip() for cell in named for o in cell.replace("|", ",").split(",") if o.strip()
    }
    assert operators <= {GLASFASER, KABEL}
    assert (named != "|").all()
    # accepted plans beyond the horizon still do not count (classify applies the horizon)
    assert "beyond" not in " ".join(changes["Begründung"].fillna(""))

    code, text = _cli(capsys, "mev", "audit", mev, *ws)
    assert code == 0 and "anna" in text
    for action in ("create", "publish", "reply", "resolve", "close", "result"):
        assert f" {action} " in text


def _check_report(pdf: Path, summary: dict[str, object]) -> None:
    """The PDF report states the procedure, the replies, the decisions and the counts."""
    import shutil
    import subprocess

    assert pdf.read_bytes().startswith(b"%PDF")
    if not shutil.which("pdftotext"):
        return
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    flat = " ".join(text.split())
    counts = summary["counts"]
    assert isinstance(counts, dict)
    for fact in ("Ergebnis der Markterkundung: MEV Warstein", "Projektgebiet Warstein (05974044)",
                 "Stichtag 01.08.2026", "Veröffentlichung 01.07.2026 bis 01.08.2026 (4,4 Wochen)",
                 "Branchendialog 01.05.2026", "kürzer als die Mindestdauer von acht Wochen",
                 "Rückmeldungen der Betreiber", "nein (ersetzt)", "Polygone", "Konflikte und Entscheidungen",
                 "verworfen", "geprüft", "Förderfähige Adressen je Gemeinde",
                 "Änderungen gegenüber der veröffentlichten Liste", "Ergebniskarte", "Methode",
                 f"davon förderfähig {counts['eligible']:,}".replace(",", ".")):  # fmt: skip
        assert fact in flat, fact
    lost = counts["changes"]["now_ineligible"]  # type: ignore[index]
    assert f"zusammen {lost:,}".replace(",", ".") in flat
