"""A BEAD challenge process from the command line, kept in a workspace: the NTIA files built
from the stored challenges, rebuttals and decisions equal the one-step `gapmap bead-challenge`
over the same finished tables, file for file."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from api.cli import main
from tests.bead_layouts import EXPECTED_HEADERS, HEADERLESS
from tests.paths import DATA

SCENARIO = DATA / "bead"
FABRIC, BDC = DATA / "formats" / "fcc_fabric.csv", DATA / "formats" / "fcc_bdc.csv"


def _cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())


def test_bead_process_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = ("--workspace", tmp_path / "ws")
    run = tmp_path / "run"
    code, text = _cli(capsys, "run", "--addresses", FABRIC, "--offers", BDC, "--profile", "us-bead-2022",
                      "--as-of", "2024-10-01", "--out", run)  # fmt: skip
    assert code == 0, text
    code, text = _cli(capsys, "bead", "create", "--name", "Vermont", "--run", tmp_path, "--challenge-start",
                      "2024-08-01", "--challenge-end", "2024-08-10", "--rebuttal-start", "2024-08-11",
                      "--rebuttal-end", "2024-09-09", *ws)  # fmt: skip
    assert code == 2 and "no manifest.json" in text
    code, text = _cli(capsys, "bead", "create", "--name", "Vermont", "--run", run, "--challenge-start",
                      "2024-08-01", "--challenge-end", "2024-08-10", "--rebuttal-start", "2024-08-11",
                      "--rebuttal-end", "2024-09-09", "--cai", SCENARIO / "cai.csv", "--actor", "anna", *ws)  # fmt: skip
    assert code == 0, text
    assert "the challenge window is 10 days; NTIA's model process allows 30" in text
    assert "3 locations; pre-challenge unserved 1, underserved 0, served 2" in text
    pid = next(w for w in text.split() if w.startswith("bcp_")).rstrip(":")

    code, text = _cli(
        capsys, "bead", "challenger", "import", pid, SCENARIO / "challengers.csv", *ws
    )
    assert code == 0 and "2 challenger(s) registered" in text
    # the scenario's challenges as filed, their evidence in a folder
    rows = list(csv.DictReader((SCENARIO / "challenges.csv").open(encoding="utf-8")))
    filed = tmp_path / "filed.csv"
    with filed.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=[c for c in rows[0] if c not in
                           ("rebuttal_date", "resolution_date", "disposition", "response_file_id", "resolution")],
                           extrasaction="ignore", lineterminator="\n")  # fmt: skip
        w.writeheader()
        w.writerows(rows[:2])
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name in ("mtp-0001.pdf", "mtp-0002.zip", "hug-0003.pdf", "comcast-0002.pdf"):
        (evidence / name).write_bytes(
            b"%PDF-1.4\n" if name.endswith(".pdf") else b"PK\x05\x06" + b"\0" * 18
        )
    code, text = _cli(
        capsys, "bead", "challenge", "import", pid, filed, "--evidence-dir", evidence, *ws
    )
    assert code == 0 and "2 challenge(s) filed, evidence of 2 file(s) kept" in text
    hug = rows[2]
    add = ["bead", "challenge", "add", pid, "--challenge", "HUG-0003", "--type", "P", "--challenger", "HUGHESNET",
           "--location-id", hug["location_id"], "--provider-id", hug["provider_id"], "--technology", "50",
           "--advertised-down", "1000", "--advertised-up", "1000", "--evidence", evidence / "hug-0003.pdf", *ws]  # fmt: skip
    code, text = _cli(capsys, *add, "--date", "2024-08-30")
    assert code == 2 and "2024-08-30 lies outside the window 2024-08-01 to 2024-08-10" in text
    code, text = _cli(capsys, *add, "--date", "2024-08-03", "--actor", "hughesnet-office")
    assert code == 0 and "challenge HUG-0003 filed with 1 evidence file(s)" in text

    code, text = _cli(capsys, "bead", "advance", pid, *ws)
    assert code == 0 and "phase rebuttal" in text
    code, text = _cli(capsys, "bead", "rebut", pid, "MTP-0002", "--response", evidence / "comcast-0002.pdf",
                      "--date", "2024-08-20", "--actor", "comcast", *ws)  # fmt: skip
    assert code == 0, text
    code, text = _cli(
        capsys, "bead", "rebut", pid, "HUG-0003", "--kind", "agree", "--date", "2024-08-21", *ws
    )
    assert code == 0, text
    assert _cli(capsys, "bead", "advance", pid, *ws)[0] == 0
    for r in rows:
        code, text = _cli(capsys, "bead", "decide", pid, r["challenge"], "--disposition", r["disposition"],
                          "--reason", r["resolution"] or "Decided on the evidence", "--date", r["resolution_date"],
                          "--actor", "office", *ws)  # fmt: skip
        assert code == 0, text
    assert _cli(capsys, "bead", "advance", pid, *ws)[0] == 0
    code, text = _cli(capsys, "bead", "files", pid, "--out", tmp_path / "stored", *ws)
    assert code == 0 and "post unserved 0, post underserved 1, post served 2, changed 2" in text

    # the same scenario in one step from the finished tables (the reasons as recorded above)
    for r in rows:
        r["resolution"] = r["resolution"] or "Decided on the evidence"
    finished = tmp_path / "challenges.csv"
    with finished.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    code, text = _cli(capsys, "bead-challenge", "--locations", FABRIC, "--offers", BDC, "--challengers",
                      SCENARIO / "challengers.csv", "--challenges", finished, "--cai", SCENARIO / "cai.csv",
                      "--as-of", "2024-10-01", "--out", tmp_path / "onestep")  # fmt: skip
    assert code == 0, text
    for name in [*EXPECTED_HEADERS, *HEADERLESS]:
        if name == "cai_challenges.csv":
            continue  # CAI challenges are not part of the stored process
        stored = (tmp_path / "stored" / name).read_text()
        assert stored == (tmp_path / "onestep" / name).read_text(), name
        if name in EXPECTED_HEADERS:
            assert stored.splitlines()[0] == EXPECTED_HEADERS[name]

    code, text = _cli(capsys, "bead", "audit", pid, *ws)
    assert code == 0
    for who, what in (
        ("anna", "create"),
        ("comcast", "rebut"),
        ("office", "decide"),
        ("hughesnet-office", "challenge"),
    ):
        assert f"│ {who} │ {what} │" in text, (who, what)
    code, text = _cli(
        capsys, "bead", "decide", pid, "MTP-0001", "--disposition", "S", "--reason", "x", *ws
    )
    assert code == 2 and "only in phase decisions" in text
