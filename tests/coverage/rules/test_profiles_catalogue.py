"""The bundled profile catalogue: all load, ids unique, sources stated, codes documented,
``format_profile`` readable, ``gapmap profiles`` lists all of them; new TOML keys validated."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coverage.classify import REASON_CODES, RESULT_COLUMNS, classify
from coverage.errors import ProfileError
from coverage.profiles import METHODS, format_profile, list_profiles, load_profile
from coverage.rules import ENGINES
from tests.coverage.rules.test_profiles import _mutated
from tests.paths import ROOT as _ROOT

BUNDLED = _ROOT / "coverage" / "profiles"

EXPECTED_IDS = [
    "de-gigabit-2023",
    "de-gigabit-2024",
    "de-grey-2021",
    "de-tkmv-2022",
    "de-tkmv-2024",
    "de-white-nga",
    "eu-2023",
    "eu-nga-2013",
    "uk-gigabit-omr",
    "uk-ofcom-bands",
    "us-bead-2022",
    "us-bead-2025",
    "us-fcc-706-2024",
]

PROFILES = list_profiles()


def test_all_bundled_profiles_load_with_unique_ids() -> None:
    ids = [p.id for p in PROFILES]
    assert ids == EXPECTED_IDS
    assert len(set(ids)) == len(ids)
    assert sorted(p.path.stem for p in PROFILES) == ids, "file name = profile id"


@pytest.mark.parametrize("profile", PROFILES, ids=[p.id for p in PROFILES])
def test_profile_metadata(profile) -> None:
    p = profile
    assert re.fullmatch(r"https://[a-z0-9.-]+\.[a-z]{2,}/\S*", p.source_url), p.source_url
    assert re.fullmatch(r"\d+\.\d+\.\d+", p.version)
    assert isinstance(p.effective_date, date) and p.effective_date.year >= 2013
    assert p.jurisdiction in {"DE", "EU", "US", "UK"}
    assert p.method in METHODS and p.method in ENGINES
    assert set(p.class_names) == METHODS[p.method].classes
    assert p.eligible_classes and set(p.eligible_classes) < set(p.class_names)
    assert p.interpretations and p.reliable_technologies
    assert p.description and p.title


def test_reason_codes_unique_and_documented() -> None:
    total = sum(len(e.REASON_CODES) for e in ENGINES.values())
    assert total == len(REASON_CODES), "a reason code is defined by two engines"
    for code, text in REASON_CODES.items():
        assert re.fullmatch(r"[A-Z0-9_]+", code) and text
    for method, engine in ENGINES.items():
        assert callable(engine.offer_rules) and callable(engine.decide), method


@pytest.mark.parametrize("profile", PROFILES, ids=[p.id for p in PROFILES])
def test_format_profile(profile) -> None:
    text = format_profile(profile)
    assert text.startswith(f"{profile.id} {profile.version}: {profile.title}\n")
    assert f"source:         {profile.source_url}" in text
    assert f"effective date: {profile.effective_date.isoformat()}" in text
    for key in profile.thresholds:
        assert f"  {key} " in text
    for c in profile.classes:
        assert re.search(rf"^  {re.escape(c.name)} +(eligible|not eligible) ", text, re.M)
    for rule in profile.site_rules:
        assert f"- {rule.id}: " in text
    assert text.count("\n  - ") >= len(profile.interpretations)
    assert "reliable (counted): " in text
    assert format_profile(profile) == text  # deterministic


def test_format_profile_example() -> None:
    text = format_profile(load_profile("uk-gigabit-omr"))
    assert "  black_min_networks = 2\n" in text
    assert "  gigabit:            ftth, fttb, hfc_docsis31\n" in text
    assert "  white         eligible      Gigabit White" in text
    assert "planned offers: counted when available within 36 months of the as-of date" in text


def test_gapmap_profiles_lists_ten(capsys: pytest.CaptureFixture[str]) -> None:
    from api.cli import main

    assert main(["profiles"]) == 0
    out = capsys.readouterr().out
    for pid in EXPECTED_IDS:
        assert pid in out


@pytest.mark.parametrize("profile", PROFILES, ids=[p.id for p in PROFILES])
def test_no_offers_gives_the_lowest_class(profile) -> None:
    addresses = pd.DataFrame({"address_id": ["x", "y"]})
    none = pd.DataFrame({"provider": [], "technology": [], "down_mbps": [], "up_mbps": []}).astype(
        {"provider": "string", "technology": "string", "down_mbps": float, "up_mbps": float}
    )
    empty = np.array([], dtype=np.int64)
    r = classify(addresses, none, empty, empty, profile, as_of=date(2024, 1, 1))
    lowest = "unserved" if profile.id == "us-bead-2022" else profile.class_names[-1]
    assert list(r["class"]) == [lowest] * 2
    assert r["eligible"].all() and r["reason_code"].isin(list(REASON_CODES)).all()
    r0 = classify(addresses.iloc[:0], none, empty, empty, profile, as_of=date(2024, 1, 1))
    assert len(r0) == 0 and tuple(r0.columns) == RESULT_COLUMNS


@pytest.mark.parametrize(
    ("name", "old", "new", "pattern"),
    [
        (
            "de-tkmv-2022",
            'high_latency = ["satellite_geo"]',
            'high_latency = ["geo"]',
            r"\[technologies\] key 'high_latency': unknown technology 'geo'",
        ),
        (
            "uk-gigabit-omr",
            "black_min_networks = 2",
            "black_min_networks = 1.5",
            r"'black_min_networks' must be a whole number",
        ),
        (
            "eu-2023",
            "step_change_factor = 3.0",
            "",
            r"\[thresholds\] missing key 'step_change_factor'",
        ),
        (
            "de-grey-2021",
            'unless_classes = ["gigabit"]',
            'unless_classes = ["gold"]',
            r"\[\[site_rules\]\] #1 key 'unless_classes': unknown class 'gold'",
        ),
        (
            "uk-ofcom-bands",
            'name = "decent"',
            'name = "ok"',
            r"\[\[classes\]\] must name each of",
        ),
        (
            "us-fcc-706-2024",
            "reliable_fcc_codes = [10, 40, 50, 70, 71, 72]",
            "reliable_fcc_codes = [10, 40, 50, 71, 72]",
            r"key 'reliable' must list exactly",
        ),
    ],
)
def test_new_profiles_validate(tmp_path: Path, name: str, old: str, new: str, pattern: str) -> None:
    f = _mutated(tmp_path, name, old, new)
    with pytest.raises(ProfileError, match=pattern) as exc:
        load_profile(f)
    assert str(exc.value).startswith(f"{name}.toml:")


@pytest.mark.slow
def test_scale_new_profiles_400k_addresses() -> None:

    rng = np.random.default_rng(7)
    n, m, k = 400_000, 5_000, 1_000_000
    techs = ["ftth", "fttb", "hfc_docsis31", "hfc", "vdsl", "adsl", "fwa_licensed"]
    techs += ["fwa_unlicensed", "mobile_lte", "satellite_geo", "satellite_ngso"]
    offers = pd.DataFrame(
        {
            "provider": pd.Series(rng.choice([f"P{i}" for i in range(30)], m), dtype="string"),
            "technology": pd.Series(rng.choice(techs, m), dtype="string"),
            "down_mbps": rng.choice([6, 16, 30, 100, 250, 500, 1000.0, np.nan], m),
            "up_mbps": rng.choice([0.5, 1.7, 20, 40, 150, 1000.0], m),
            "latency_ms": rng.choice([np.nan, 20.0, 150.0, 600.0], m),
            "status": pd.Series(
                rng.choice(["existing", "planned"], m, p=[0.8, 0.2]), dtype="string"
            ),
            "available_from": pd.Timestamp("2022-01-01")
            + pd.to_timedelta(rng.integers(0, 2000, m), unit="D"),
        }
    )
    sites = rng.choice(["private", "school", "business", "farm"], n)
    addresses = pd.DataFrame({"address_id": np.arange(n).astype(str), "site_type": sites})
    a, o = rng.integers(0, n, k), rng.integers(0, m, k)
    for profile in PROFILES:
        if profile.id in ("de-gigabit-2023", "us-bead-2022"):
            continue  # covered by tests/coverage/test_classify.py
        r = classify(addresses, offers, a, o, profile, as_of=date(2024, 1, 1))
        assert r["class"].isin(profile.class_names).all()
        assert r["reason_code"].isin(list(REASON_CODES)).all()
        assert (r["reason"].str.len() > 0).all()
        for c in profile.class_names:
            reasons = r["reason"][r["class"] == c]
            assert reasons.str.startswith(c.upper() + ":").all(), (profile.id, c)
