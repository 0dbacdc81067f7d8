"""Every file of the bad-input corpus gives its expected error (or repair), never a traceback."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

import coverage.errors as errors
from api.cli import main
from coverage.io.demo_files import DemoInputs
from tests.paths import DATA as _DATA

BAD = _DATA / "bad"
EXPECTED = tomllib.loads((BAD / "expected.toml").read_text(encoding="utf-8"))["files"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_input(
    name: str, demo_inputs: DemoInputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = EXPECTED[name]
    path = BAD / name
    assert path.is_file(), f"corpus file missing: run python tests/data/bad/make_bad.py ({path})"
    args = {
        "--addresses": str(demo_inputs.addresses),
        "--coverage": str(demo_inputs.coverage),
        "--boundaries": str(demo_inputs.boundaries),
        "--as-of": demo_inputs.as_of.isoformat(),
        "--out": str(tmp_path / "run"),
    }
    args[f"--{case['role']}"] = str(path)
    code = main(["run", *[x for kv in args.items() for x in kv]])
    message = capsys.readouterr().err
    assert "Traceback" not in message and "internal error" not in message, message
    if "repaired" in case:
        assert code == 0, message
        manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
        assert manifest["validation"][str(path)]["repaired_geometries"] == case["repaired"]
        return
    assert code == 2, message
    assert case["fragment"] in message, message
    assert path.name in message or path.parent.name in message, message
    assert not (tmp_path / "run").exists()
    assert issubclass(getattr(errors, case["error"]), errors.GapmapError)


@pytest.mark.parametrize("name", sorted(n for n, c in EXPECTED.items() if "error" in c))
def test_bad_input_raises_the_documented_error_class(name: str) -> None:
    """The engine-level reader path raises exactly the class the corpus documents."""
    from coverage.crs import REGIONS
    from coverage.run_inputs import LayerSpec, load_addresses, load_coverage

    case = EXPECTED[name]
    expected = getattr(errors, case["error"])
    with pytest.raises(errors.GapmapError) as info:
        if case["role"] == "addresses":
            load_addresses(LayerSpec(BAD / name), REGIONS["de"])
        else:
            load_coverage([LayerSpec(BAD / name)], REGIONS["de"])
    assert type(info.value) is expected, f"{type(info.value).__name__}: {info.value}"
