"""The BEAD challenge step shared by ``gapmap bead-challenge`` and ``POST /bead/challenge``:
read the inputs (``coverage.io``), check and apply the challenges (``coverage.mev.bead``),
write NTIA's files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from coverage.io.mev_files import read_bead_table, write_bead_files
from coverage.mev.bead import check_challenges, post_challenge
from coverage.mev.bead_files import submission_frames
from coverage.profiles import load_profile
from coverage.run_inputs import LayerSpec, load_addresses, read_offers, region_for
from coverage.schema import validate_offers


@dataclass
class BeadInputs:
    """Fabric locations, BDC availability and the challenge tables (paths)."""

    locations: Path
    offers: Path
    challengers: Path
    challenges: Path
    cai: Path | None = None
    cai_challenges: Path | None = None
    profile: str = "us-bead-2022"


def load_locations_offers(locations: Path, offers: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fabric locations (no geometry) and the address-keyed BDC offers with provider id and
    FCC technology code, as the challenge rules need them."""
    locs, _, _ = load_addresses(LayerSpec(locations), region_for("us"))
    raw = read_offers(LayerSpec(offers))
    table, _ = validate_offers(raw.frame, source=raw.source, spatial=False)
    table["address_id"] = raw.frame["address_id"].astype("string").to_numpy()
    for extra in ("provider_id", "fcc_technology"):
        if extra in raw.frame:
            table[extra] = raw.frame[extra].to_numpy()
    return pd.DataFrame(locs.drop(columns="geometry")), table


def build_submission(
    inputs: BeadInputs, out_dir: Path, as_of: date
) -> tuple[pd.DataFrame, list[Path]]:
    """Check the challenges, classify before and after them, write the NTIA files into
    ``out_dir``; returns the per-location classes (``pre``, ``post``) and the files."""
    profile = load_profile(inputs.profile)
    locs, table = load_locations_offers(inputs.locations, inputs.offers)
    who = read_bead_table(inputs.challengers)
    checked = check_challenges(
        read_bead_table(inputs.challenges), who, locs["address_id"], source=inputs.challenges.name
    )
    classes = post_challenge(locs, table, checked, profile, as_of)
    frames = submission_frames(
        classes,
        who,
        checked,
        read_bead_table(inputs.cai) if inputs.cai else None,
        read_bead_table(inputs.cai_challenges) if inputs.cai_challenges else None,
    )
    return classes, write_bead_files(frames, out_dir)


def summary(classes: pd.DataFrame) -> dict[str, int]:
    """Counts before and after the challenges."""
    return {
        "locations": len(classes),
        "pre_unserved": int((classes["pre"] == 0).sum()),
        "pre_underserved": int((classes["pre"] == 1).sum()),
        "post_unserved": int((classes["post"] == 0).sum()),
        "post_underserved": int((classes["post"] == 1).sum()),
        "post_served": int((classes["post"] == 2).sum()),
        "changed": int((classes["pre"] != classes["post"]).sum()),
    }
