"""`gapmap report` (issue 21): a few-page PDF with the overview map, key figures per class,
the top gap areas with cost and priority, rule version and Stichtag, method, sources; pages
are rendered to PNG with poppler's pdftoppm and their text read with pdftotext."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import api.cli.evidence  # noqa: F401 - registers report on the app
from api.cli import main
from coverage.io.report_pdf import report_facts
from coverage.io.rundir import load_run
from tests.conftest import TEST_SCALE

WARSTEIN = "05974044"
POPPLER = shutil.which("pdftoppm") and shutil.which("pdftotext") and shutil.which("pdfinfo")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "demo"
    assert main(["demo", "--out", str(out), "--scale", str(TEST_SCALE)]) == 0
    return out / "run"


def _text(pdf: Path, page: int) -> str:
    return subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


@pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftoppm, pdftotext) not installed")
@pytest.mark.parametrize("lang", ["de", "en"])
def test_report_pages_show_map_figures_areas_and_stichtag(
    run_dir: Path, tmp_path: Path, lang: str
) -> None:
    pdf = tmp_path / "report.pdf"
    args = ["report", str(run_dir), "--ags", WARSTEIN, "--out", str(pdf), "--lang", lang]
    assert main(args) == 0
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line for line in info.splitlines() if line.startswith("Pages:")).split()[1])
    assert 2 <= pages <= 5
    facts = report_facts(load_run(run_dir, ags=WARSTEIN))
    first, second = _text(pdf, 1), _text(pdf, 2)
    if lang == "de":
        assert "Breitband-Lückenbericht: Warstein" in first
        assert "Stichtag" in first and "30.06.2026" in first
        assert "weißer Fleck (0 Netze)" in first and "white" not in first.split("Kennzahlen")[1]
        total = f"{facts['counts']['total']:,}".replace(",", ".")
        assert "alle Adressen" in first and total in first
        assert "Lückengebiete mit der höchsten Priorität" in second
    else:
        assert "Broadband gap report: Warstein" in first and "Reference date" in first
        assert "white spot (0 networks)" in first
    assert "de-gigabit-2024" in first and "1.0.0" in first
    if facts["top_areas"]:  # at the tiny test scale a Gemeinde may have none
        assert facts["top_areas"][0] in second and "€" in second
    else:
        assert "keine Lückengebiete" in second or "no gap areas" in second
    last = _text(pdf, pages)
    assert "dl-de/by-2-0" in last and "GeoBasis-DE" in last
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == pages
    # page 1 holds the overview map (coloured choropleth); the last page is black text
    assert _coloured(pngs[0]) > 0.05 and _coloured(pngs[-1]) < 0.005


def _coloured(png: Path) -> float:
    """Share of strongly coloured pixels (channel spread above 60 of 255)."""
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(png).convert("RGB")).astype(int)
    return float(((rgb.max(axis=2) - rgb.min(axis=2)) > 60).mean())


def test_report_rejects_an_unknown_language(run_dir: Path, tmp_path: Path) -> None:
    assert main(["report", str(run_dir), "--out", str(tmp_path / "r.pdf"), "--lang", "fr"]) == 2
    assert not (tmp_path / "r.pdf").exists()
