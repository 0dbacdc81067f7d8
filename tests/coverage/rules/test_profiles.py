"""Profiles: bundled data loads, validation names the file and the key."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from coverage.errors import NotFoundError, ProfileError
from coverage.profiles import METHODS, Profile, list_profiles, load_profile
from tests.paths import ROOT as _ROOT

BUNDLED = _ROOT / "coverage" / "profiles"


def test_bundled_profiles_load() -> None:
    ids = [p.id for p in list_profiles()]
    assert {"de-gigabit-2023", "us-bead-2022"} <= set(ids)
    assert ids == sorted(ids)
    for p in list_profiles():
        assert p.method in METHODS
        assert set(p.class_names) == METHODS[p.method].classes
        assert p.interpretations, "every profile documents its interpretations"
        assert len(p.sha256) == 64


def test_de_gigabit_values() -> None:
    p = load_profile("de-gigabit-2023")
    assert p.class_names == ("gigabit", "black", "grey", "white")
    assert p.eligible_classes == ("grey", "white")
    assert dict(p.thresholds) == {
        "gigabit_down_mbps": 500.0,
        "gigabit_symmetric_down_mbps": 200.0,
        "gigabit_symmetric_up_mbps": 200.0,
        "planned_more_than_down_mbps": 500.0,
        "nga_down_mbps": 30.0,
        "black_min_networks": 2,
    }
    assert p.gigabit_technologies == {"ftth", "fttb", "hfc_docsis31"}
    assert p.reliable_technologies == {"ftth", "fttb", "hfc_docsis31", "hfc", "vdsl", "adsl"}
    assert p.horizon_months == 36 and p.count_planned
    assert isinstance(p.effective_date, date)
    assert any("interpretation" in s for s in p.interpretations)


def test_us_bead_values() -> None:
    p = load_profile("us-bead-2022")
    assert p.class_names == ("served", "underserved", "unserved")
    assert p.eligible_classes == ("underserved", "unserved")
    assert p.reliable_fcc_codes == {10, 40, 50, 71, 72}
    assert p.fcc_codes["vdsl"] == 10 and p.fcc_codes["fwa_licensed"] == 71
    assert not p.count_planned
    assert p.require_low_latency and not p.unknown_is_low_latency


def test_profile_is_frozen() -> None:
    p = load_profile("de-gigabit-2023")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.horizon_months = 12  # type: ignore[misc]
    with pytest.raises(TypeError):
        p.thresholds["nga_down_mbps"] = 1.0  # type: ignore[index]
    assert isinstance(p, Profile)


def test_unknown_id_lists_known_ids() -> None:
    with pytest.raises(NotFoundError, match="de-gigabit-2023") as exc:
        load_profile("de-gigabit-2099")
    assert isinstance(exc.value, LookupError)


def test_missing_file() -> None:
    with pytest.raises(NotFoundError):
        load_profile(Path("/nonexistent/x.toml"))


def test_user_path_loads_and_hashes(tmp_path: Path) -> None:
    src = (BUNDLED / "de-gigabit-2023.toml").read_text(encoding="utf-8")
    f = tmp_path / "mine.toml"
    f.write_text(src.replace("horizon_months = 36", "horizon_months = 24"), encoding="utf-8")
    p = load_profile(str(f))
    assert p.horizon_months == 24 and p.path == f
    assert p.sha256 != load_profile("de-gigabit-2023").sha256


def _mutated(tmp_path: Path, name: str, old: str, new: str) -> Path:
    src = (BUNDLED / f"{name}.toml").read_text(encoding="utf-8")
    assert old in src, old
    f = tmp_path / f"{name}.toml"
    f.write_text(src.replace(old, new, 1), encoding="utf-8")
    return f


@pytest.mark.parametrize(
    ("name", "old", "new", "pattern"),
    [
        (
            "de-gigabit-2023",
            "gigabit_down_mbps = 500.0",
            "gigbit_down = 500.0",
            r"de-gigabit-2023\.toml: \[thresholds\] unknown key 'gigbit_down'",
        ),
        (
            "de-gigabit-2023",
            "nga_down_mbps = 30.0",
            "nga_down_mbps = -30.0",
            r"\[thresholds\] key 'nga_down_mbps' must be >= 0",
        ),
        (
            "de-gigabit-2023",
            "nga_down_mbps = 30.0",
            'nga_down_mbps = "30"',
            r"key 'nga_down_mbps' must be a number",
        ),
        (
            "de-gigabit-2023",
            "black_min_networks = 2",
            "black_min_networks = 2.5",
            r"'black_min_networks' must be a whole number",
        ),
        (
            "de-gigabit-2023",
            "black_min_networks = 2",
            "",
            r"\[thresholds\] missing key 'black_min_networks'",
        ),
        (
            "de-gigabit-2023",
            'gigabit = ["ftth"',
            'gigabit = ["fibre"',
            r"\[technologies\] key 'gigabit': unknown technology 'fibre'",
        ),
        (
            "de-gigabit-2023",
            "horizon_months = 36",
            "horizon_months = -1",
            r"\[planning\] key 'horizon_months' must be >= 0",
        ),
        (
            "de-gigabit-2023",
            "count_planned = true",
            "count_planned = 1",
            r"\[planning\] key 'count_planned' must be true or false",
        ),
        (
            "de-gigabit-2023",
            'method = "de_gigabit"',
            'method = "magic"',
            r"\[profile\] key 'method': unknown method 'magic'",
        ),
        (
            "de-gigabit-2023",
            "effective_date = 2023-03-31",
            'effective_date = "2023"',
            r"'effective_date' must be a TOML date",
        ),
        (
            "de-gigabit-2023",
            'name = "black"',
            'name = "dark"',
            r"\[\[classes\]\] must name each of",
        ),
        (
            "de-gigabit-2023",
            "[latency]",
            "[latency]\nspeed = 1",
            r"\[latency\] unknown key 'speed'",
        ),
        (
            "de-gigabit-2023",
            "[thresholds]",
            "[extras]\n[thresholds]",
            r"top level: unknown key 'extras'",
        ),
        ("de-gigabit-2023", "[profile]", "[profile", r"not valid TOML"),
        (
            "us-bead-2022",
            "adsl = 10",
            "adsl = 11",
            r"\[technologies.fcc_codes\] key 'adsl': unknown FCC technology code 11",
        ),
        (
            "us-bead-2022",
            "reliable_fcc_codes = [10, 40, 50, 71, 72]",
            "reliable_fcc_codes = [10, 40, 50, 72]",
            r"key 'reliable' must list exactly",
        ),
        (
            "us-bead-2022",
            '"school", "hospital"',
            '"school", "castle"',
            r"\[\[site_rules\]\] #1 key 'site_types': unknown site type 'castle'",
        ),
        (
            "us-bead-2022",
            'action = "eligible_unless"',
            'action = "maybe"',
            r"key 'action' must be one of",
        ),
        (
            "us-bead-2022",
            "served_up_mbps = 20.0",
            "served_up_mbps = true",
            r"key 'served_up_mbps' must be a number",
        ),
    ],
)
def test_validation_names_file_and_key(
    tmp_path: Path, name: str, old: str, new: str, pattern: str
) -> None:
    f = _mutated(tmp_path, name, old, new)
    with pytest.raises(ProfileError, match=pattern) as exc:
        load_profile(f)
    assert str(exc.value).startswith(f"{name}.toml:")
    assert isinstance(exc.value, ValueError)
