"""NTIA BEAD challenge-process result files: exact column orders and the frames to write.

Layouts as NTIA's data format and the BEAD Inspector validator (``bead_inspector``,
University of Chicago DSI; not an official NTIA package) enforce them: column set *and*
order are checked; ``unserved.csv``/``underserved.csv`` are bare lists of location ids
without a header; ints are written as ints (``1.0`` fails the validator's cast); dates are
``YYYY-MM-DD``; coordinates have at least six decimals. Check the column order against
NTIA's templates before a real submission (NTIA, "BEAD Challenge Process Data Submission",
March 2024).
"""

from __future__ import annotations

import pandas as pd

CHALLENGERS = ("challenger", "category", "organization", "webpage", "provider_id",
               "contact_name", "contact_email", "contact_phone")  # fmt: skip
CHALLENGES = (
    "challenge", "challenge_type", "challenger", "challenge_date", "rebuttal_date",
    "resolution_date", "disposition", "provider_id", "technology", "location_id", "unit",
    "reason_code", "evidence_file_id", "response_file_id", "resolution",
    "advertised_download_speed", "download_speed", "advertised_upload_speed", "upload_speed",
    "latency",
)  # fmt: skip
CAI = ("type", "entity_name", "entity_number", "CMS number", "frn", "location_id",
       "address_primary", "city", "state", "zip_code", "longitude", "latitude", "explanation",
       "need", "availability")  # fmt: skip
CAI_CHALLENGES = ("challenge", "challenge_type", "challenger", "category_code", "disposition",
                  "challenge_explanation", *CAI)  # fmt: skip
POST_CHALLENGE_LOCATIONS = ("location_id", "classification")
LOCATION_LIST = ("location_id",)

#: file name -> column order (``unserved``/``underserved`` are written without header)
LAYOUTS: dict[str, tuple[str, ...]] = {
    "challengers.csv": CHALLENGERS,
    "challenges.csv": CHALLENGES,
    "cai.csv": CAI,
    "cai_challenges.csv": CAI_CHALLENGES,
    "post_challenge_cai.csv": CAI,
    "post_challenge_locations.csv": POST_CHALLENGE_LOCATIONS,
    "unserved.csv": LOCATION_LIST,
    "underserved.csv": LOCATION_LIST,
}
_INT_COLUMNS = (
    "technology",
    "location_id",
    "entity_number",
    "need",
    "availability",
    "classification",
)
_SUCCEEDS_CAI = ("N", "A", "S")


def _text(v: object) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _shape(frame: pd.DataFrame | None, columns: tuple[str, ...]) -> pd.DataFrame:
    """The frame in exactly ``columns`` order as text (missing columns empty; ints as ints;
    coordinates with six decimals)."""
    if frame is None:
        return pd.DataFrame(columns=list(columns))
    out = pd.DataFrame(index=range(len(frame)))
    src = frame.reset_index(drop=True)
    for col in columns:
        values = src[col] if col in src else pd.Series([None] * len(src))
        if col in _INT_COLUMNS:
            num = pd.to_numeric(values, errors="coerce")
            out[col] = [("" if pd.isna(v) else str(int(v))) for v in num]
        elif col in ("longitude", "latitude"):
            num = pd.to_numeric(values, errors="coerce")
            out[col] = [("" if pd.isna(v) else f"{v:.6f}") for v in num]
        elif col.endswith("_date"):
            out[col] = [
                ("" if _text(v) == "" else pd.Timestamp(str(v)).strftime("%Y-%m-%d"))
                for v in values
            ]
        else:
            out[col] = [_text(v) for v in values]
    return out


def post_challenge_cai(
    cai: pd.DataFrame | None, cai_challenges: pd.DataFrame | None
) -> pd.DataFrame | None:
    """The final CAI list: sustained ``R`` challenges (not a CAI) remove the entity, sustained
    ``C`` challenges (is a CAI) add the challenged row; ``G``/``Q`` change only need/availability
    rows named in the challenge (the challenged row replaces the listed one)."""
    if cai is None and cai_challenges is None:
        return None
    base = pd.DataFrame(columns=list(CAI)) if cai is None else cai.reset_index(drop=True).copy()
    if cai_challenges is None or cai_challenges.empty:
        return base
    won = cai_challenges[cai_challenges["disposition"].astype(str).isin(_SUCCEEDS_CAI)]
    name = (
        base["entity_name"].astype(str).str.strip().str.lower()
        if len(base)
        else pd.Series(dtype=str)
    )
    for _, c in won.iterrows():
        key = str(c["entity_name"]).strip().lower()
        if c["challenge_type"] == "R":
            keep = (name != key).to_numpy()
            base, name = base[keep].reset_index(drop=True), name[keep].reset_index(drop=True)
        elif c["challenge_type"] in ("C", "G", "Q"):
            keep = (name != key).to_numpy()
            row = pd.DataFrame([{k: c.get(k) for k in CAI}])
            base = pd.concat([base[keep], row], ignore_index=True)
            name = base["entity_name"].astype(str).str.strip().str.lower()
    return base


def submission_frames(
    classes: pd.DataFrame,
    challengers: pd.DataFrame,
    challenges: pd.DataFrame,
    cai: pd.DataFrame | None = None,
    cai_challenges: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Every file of the submission, in NTIA's layouts. ``classes`` is
    :func:`coverage.mev.bead.post_challenge` (``location_id``, ``pre``, ``post``): the
    pre-challenge lists come from ``pre``, post_challenge_locations.csv from ``post``."""
    pre = classes.sort_values("location_id")
    frames = {
        "challengers.csv": _shape(challengers, CHALLENGERS),
        "challenges.csv": _shape(challenges, CHALLENGES),
        "cai.csv": _shape(cai, CAI),
        "cai_challenges.csv": _shape(cai_challenges, CAI_CHALLENGES),
        "post_challenge_cai.csv": _shape(post_challenge_cai(cai, cai_challenges), CAI),
        "post_challenge_locations.csv": _shape(
            pre.rename(columns={"post": "classification"}), POST_CHALLENGE_LOCATIONS
        ),
        "unserved.csv": _shape(pre[pre["pre"] == 0], LOCATION_LIST),
        "underserved.csv": _shape(pre[pre["pre"] == 1], LOCATION_LIST),
    }
    return frames
