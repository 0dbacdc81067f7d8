"""BEAD challenge process: a small Vermont scenario through `gapmap bead-challenge`.

The expected headers are NTIA's layouts (tests/bead_layouts.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from api.cli import main
from tests.bead_layouts import EXPECTED_HEADERS
from tests.paths import DATA

SCENARIO = DATA / "bead"


def _run(
    tmp: Path, capsys: pytest.CaptureFixture[str], challenges: Path = SCENARIO / "challenges.csv"
) -> tuple[int, str, Path]:
    out = tmp / "ntia"
    args = ["bead-challenge", "--locations", str(DATA / "formats" / "fcc_fabric.csv"),
            "--offers", str(DATA / "formats" / "fcc_bdc.csv"), "--challengers", str(SCENARIO / "challengers.csv"),
            "--challenges", str(challenges), "--cai", str(SCENARIO / "cai.csv"),
            "--cai-challenges", str(SCENARIO / "cai_challenges.csv"), "--as-of", "2024-10-01", "--out", str(out)]  # fmt: skip
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out + captured.err, out


def test_submission_files_match_ntia_layouts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output, out = _run(tmp_path, capsys)
    assert code == 0, output
    assert (
        "pre-challenge unserved 1, underserved 0; post-challenge unserved 0, underserved 1, served 2"
        in output
    )
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([*EXPECTED_HEADERS, "unserved.csv", "underserved.csv"])
    for name, header in EXPECTED_HEADERS.items():
        raw = (out / name).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw
        assert raw.decode().splitlines()[0] == header, name
    # no header in the pre-challenge lists: 1000000003 has only satellite and 10/1 "other"
    assert (out / "unserved.csv").read_text() == "1000000003\n"
    assert (out / "underserved.csv").read_text() == ""
    # MTP-0001 (availability, no rebuttal) removes Consolidated's fibre at ...001: DSL 25/3 and
    # Starlink remain -> underserved; MTP-0002 was rejected; HUG-0003 (planned, agreed) -> served
    assert (out / "post_challenge_locations.csv").read_text().splitlines()[1:] == [
        "1000000001,1", "1000000002,2", "1000000003,2"]  # fmt: skip
    cai = (out / "post_challenge_cai.csv").read_text().splitlines()
    assert len(cai) == 4 and cai[3].startswith("C,Montpelier Senior Activity Center,,,,1000000001,")
    assert ",-72.575387,44.260059," in cai[3]


def test_bead_inspector_finds_no_issue_and_catches_a_broken_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    validator = pytest.importorskip("bead_inspector.validator")
    code, output, out = _run(tmp_path, capsys)
    assert code == 0, output
    good = validator.BEADChallengeDataValidator(data_directory=out, results_dir=tmp_path / "logs")
    assert good.issues == []
    # the oracle is not blind: swap two columns of challenges.csv
    broken = tmp_path / "broken"
    shutil.copytree(out, broken, ignore=shutil.ignore_patterns("reports", "logs"))
    lines = (broken / "challenges.csv").read_text().splitlines()
    swap = [",".join([c.split(",")[1], c.split(",")[0], *c.split(",")[2:]]) for c in lines]
    (broken / "challenges.csv").write_text("\n".join(swap) + "\n")
    bad = validator.BEADChallengeDataValidator(
        data_directory=broken, results_dir=tmp_path / "logs2"
    )
    assert any(i.get("issue_level") == "error" for i in bad.issues)


def test_challenge_rows_are_checked_with_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = (SCENARIO / "challenges.csv").read_text().splitlines()
    rows[1] = rows[1].replace(",5,mtp-0001.pdf", ",7,mtp-0001.pdf")  # no reason code 7
    rows[3] = rows[3].replace("HUGHESNET", "NOBODY")
    bad = tmp_path / "challenges.csv"
    bad.write_text("\n".join(rows) + "\n")
    code, output, _ = _run(tmp_path, capsys, bad)
    assert code == 2
    text = " ".join(output.split())
    assert (
        "row 2 field reason_code: availability challenges need a reason code (1, 2, 3, 4, 5, 6, 8, 9)"
        in text
    )
    assert "row 4 field challenger: 'NOBODY' is not in challengers.csv" in text
