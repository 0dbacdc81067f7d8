"""The BEAD challenge process: challenges, rebuttals and decisions -> post-challenge classes.

NTIA's BEAD Challenge Process Policy Notice (2023) lets units of local government, nonprofits
and providers challenge a location's classification; the provider may rebut; the broadband
office decides. The codes and the row rules below are those of NTIA's data format as the open
BEAD Inspector validator (University of Chicago DSI, ``bead_inspector``) enforces them; the
layouts are in :mod:`coverage.mev.bead_files`.

How a sustained challenge changes a location (interpretations, stated because NTIA leaves the
derivation to the Eligible Entity):

* A decision counts when the challenge succeeds: disposition ``N`` (no rebuttal), ``A``
  (provider agreed) or ``S`` (sustained after rebuttal). ``I``, ``R`` and ``M`` change nothing.
* ``A S L D T B F`` (availability, speed, latency, data cap, technology, business only, fixed
  wireless): the challenged provider's service of that technology at the location no longer
  counts; the location is classified again with the offers that remain.
* ``M`` (measurement-based modification): the challenged service counts with the measured
  download, upload and latency instead of the advertised ones.
* ``V`` (DSL modification): a location whose best service is DSL (FCC code 10) counts as
  underserved (1) at best.
* ``P`` (planned or existing qualifying service) and ``E`` (enforceable commitment): the
  location counts as served (2): it is not eligible for BEAD funding.
* ``N`` (not part of an enforceable commitment) and ``X Y Z`` (entity-specific modifications):
  recorded; the location keeps the class its service gives.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from coverage.classify import classify
from coverage.errors import InputDataError
from coverage.profiles import Profile

CHALLENGE_TYPES = {
    "A": "availability", "S": "speed", "L": "latency", "D": "data cap", "T": "technology",
    "B": "business service only", "E": "enforceable commitment", "P": "planned or existing service",
    "N": "not part of an enforceable commitment", "V": "DSL modification",
    "F": "fixed wireless modification", "M": "measurement-based modification",
    "X": "entity-specific modification 1", "Y": "entity-specific modification 2",
    "Z": "entity-specific modification 3",
}  # fmt: skip
DISPOSITIONS = {"I": "incomplete", "N": "no rebuttal", "A": "provider agreed",
                "S": "sustained after rebuttal", "R": "rejected after rebuttal", "M": "moot"}  # fmt: skip
SUCCEEDS = ("N", "A", "S")
#: reason codes of availability challenges (no code 7 in NTIA's list)
REASON_CODES = ("1", "2", "3", "4", "5", "6", "8", "9")
CHALLENGER_CATEGORIES = {"L": "unit of local government", "T": "Tribal government", "N": "nonprofit",
                         "B": "broadband provider"}  # fmt: skip
TECHNOLOGY_CODES = (0, 10, 40, 50, 60, 61, 70, 71, 72)
CLASS_CODE = {"unserved": 0, "underserved": 1, "served": 2}
_ID = re.compile(r"^[A-Za-z0-9-]{1,50}$")
_PROVIDER = re.compile(r"^[1-9]\d{5}$")
_FILES = re.compile(r"^(?:[\w\-/\\]+\.zip|[\w\-/\\]+\.pdf(?: [\w\-/\\]+\.pdf)*)$")
_NEEDS_CHALLENGER = set("ASLDTBP")
_REMOVES_SERVICE = set("ASLDTBF")


def _blank(v: object) -> bool:
    return v is None or (not isinstance(v, str) and pd.isna(v)) or str(v).strip() == ""


def check_challenges(challenges: pd.DataFrame, challengers: pd.DataFrame,
                     location_ids: pd.Series, *, source: str = "challenges.csv",
                     decided: bool = True) -> pd.DataFrame:  # fmt: skip
    """Check every challenge row; InputDataError naming row, field and fix for the first rows
    that break NTIA's rules. Returns the challenges with normalised types. ``decided=False``
    checks a challenge as filed (no rebuttal, disposition or resolution yet)."""
    problems: list[str] = []
    known = set(challengers["challenger"].astype(str).str.lower()) if len(challengers) else set()
    ids = set(pd.to_numeric(location_ids, errors="coerce").dropna().astype("int64"))
    seen: set[str] = set()
    for i, r in enumerate(challenges.astype(object).itertuples(index=False), start=2):
        row = r._asdict()

        def bad(field: str, text: str, row_no: int = i) -> None:
            problems.append(f"row {row_no} field {field}: {text}")

        cid, ctype, disp = (
            str(row.get("challenge", "")),
            str(row.get("challenge_type", "")),
            str(row.get("disposition", "")),
        )
        if not _ID.match(cid):
            bad("challenge", "letters, digits and hyphens only, at most 50 characters")
        elif cid in seen:
            bad("challenge", f"{cid} appears twice; every challenge needs its own id")
        seen.add(cid)
        if ctype not in CHALLENGE_TYPES:
            bad("challenge_type", f"{ctype!r} is not an NTIA type ({', '.join(CHALLENGE_TYPES)})")
        if decided and disp not in DISPOSITIONS:
            bad("disposition", f"{disp!r} is not one of {', '.join(DISPOSITIONS)}")
        who = row.get("challenger")
        if ctype in _NEEDS_CHALLENGER and _blank(who):
            bad("challenger", f"type {ctype} needs the challenger (an id of challengers.csv)")
        if not _blank(who) and str(who).lower() not in known:
            bad("challenger", f"{who!r} is not in challengers.csv")
        loc = pd.to_numeric(pd.Series([row.get("location_id")]), errors="coerce").iloc[0]
        if pd.isna(loc) or not 1_000_000_000 <= loc < 10_000_000_000:
            bad("location_id", "a 10-digit FCC Fabric location id")
        elif int(loc) not in ids:
            bad("location_id", f"{int(loc)} is not a location of the classification")
        dates = {}
        for field in ("challenge_date", "rebuttal_date", "resolution_date"):
            v = row.get(field)
            if _blank(v):
                dates[field] = None
                continue
            try:
                dates[field] = pd.Timestamp(str(v)).date()
            except ValueError:
                bad(field, f"{v!r} is not a date (YYYY-MM-DD)")
                dates[field] = None
        if dates.get("challenge_date") is None:
            bad("challenge_date", "every challenge needs its date (YYYY-MM-DD)")
        if decided and dates.get("resolution_date") is None:
            bad("resolution_date", "give the date of the decision (YYYY-MM-DD)")
        c, rb, rs = (
            dates.get("challenge_date"),
            dates.get("rebuttal_date"),
            dates.get("resolution_date"),
        )
        if c and rb and rb < c:
            bad("rebuttal_date", "before the challenge date")
        if c and rs and (rs < c or (rb and rs < rb)):
            bad("resolution_date", "before the challenge or rebuttal date")
        if (rb is None) != _blank(row.get("response_file_id")):
            bad(
                "response_file_id",
                "a rebuttal needs both rebuttal_date and response_file_id (or neither)",
            )
        if ctype not in ("P",) and not _PROVIDER.match(str(row.get("provider_id", "")).strip()):
            bad("provider_id", "the 6-digit FCC provider id (first digit 1-9)")
        tech = pd.to_numeric(pd.Series([row.get("technology")]), errors="coerce").iloc[0]
        if ctype != "N" and (pd.isna(tech) or int(tech) not in TECHNOLOGY_CODES):
            bad("technology", f"an FCC technology code ({', '.join(map(str, TECHNOLOGY_CODES))})")
        reason = "" if _blank(row.get("reason_code")) else str(row.get("reason_code")).strip()
        if ctype == "A" and reason not in REASON_CODES:
            bad(
                "reason_code",
                f"availability challenges need a reason code ({', '.join(REASON_CODES)})",
            )
        if ctype != "A" and reason:
            bad("reason_code", "only availability challenges (A) have a reason code")
        ev = row.get("evidence_file_id")
        if ctype not in ("E", "V") and _blank(ev):
            bad("evidence_file_id", "name the evidence (one .zip or .pdf files)")
        for field in ("evidence_file_id", "response_file_id"):
            v = row.get(field)
            if not _blank(v) and not _FILES.match(str(v).strip()):
                bad(field, "one .zip, or .pdf names separated by spaces")
        if decided and (ctype == "E" or disp in ("I", "S", "R")) and _blank(row.get("resolution")):
            bad("resolution", "explain the decision (required for type E and dispositions I, S, R)")
        needed = {"advertised_download_speed": ctype != "N", "advertised_upload_speed": ctype != "N",
                  "download_speed": ctype in "SM", "upload_speed": ctype in "SM", "latency": ctype in "LM"}  # fmt: skip
        for field, required in needed.items():
            v = pd.to_numeric(pd.Series([row.get(field)]), errors="coerce").iloc[0]
            if required and (pd.isna(v) or v < 0):
                bad(field, f"type {ctype} needs it (a number >= 0)")
    if problems:
        more = f" (and {len(problems) - 8} more)" if len(problems) > 8 else ""
        raise InputDataError(f"{source}: " + "; ".join(problems[:8]) + more)
    out = challenges.copy()
    out["location_id"] = pd.to_numeric(out["location_id"]).astype("int64")
    return out


def classify_locations(locations: pd.DataFrame, offers: pd.DataFrame, profile: Profile,
                       as_of: object) -> pd.DataFrame:  # fmt: skip
    """Classify Fabric locations (``address_id`` = location id) with address-keyed BDC offers."""
    pos = pd.Series(np.arange(len(locations)), index=locations["address_id"].astype(str).to_numpy())
    hit = offers["address_id"].astype(str).map(pos)
    ok = hit.notna().to_numpy()
    return classify(locations.reset_index(drop=True), offers.reset_index(drop=True),
                    hit[ok].astype("int64").to_numpy(), np.flatnonzero(ok), profile, as_of=as_of)  # fmt: skip


def post_challenge(locations: pd.DataFrame, offers: pd.DataFrame, challenges: pd.DataFrame,
                   profile: Profile, as_of: object) -> pd.DataFrame:  # fmt: skip
    """Classes before and after the decided challenges: ``location_id``, ``pre`` and ``post``
    (0 unserved, 1 underserved, 2 served) and the challenges that changed each location."""
    offers = offers.reset_index(drop=True).copy()
    before = classify_locations(locations, offers, profile, as_of)
    won = challenges[challenges["disposition"].isin(SUCCEEDS)]
    loc_key = offers["address_id"].astype(str)
    prov = (
        offers["provider_id"].astype(str).str.strip()
        if "provider_id" in offers
        else pd.Series("", index=offers.index)
    )
    tech = pd.to_numeric(offers.get("fcc_technology"), errors="coerce")
    keep = np.ones(len(offers), dtype=bool)
    forced: dict[str, int] = {}
    capped: set[str] = set()
    for _, c in won.iterrows():
        at = (loc_key == str(c["location_id"])).to_numpy()
        same = (
            at
            & (prov == str(c["provider_id"]).strip()).to_numpy()
            & (tech == pd.to_numeric(c["technology"])).to_numpy()
        )
        t = c["challenge_type"]
        if t in _REMOVES_SERVICE:
            keep &= ~same
        elif t == "M":
            offers.loc[same, "down_mbps"] = float(c["download_speed"])
            offers.loc[same, "up_mbps"] = float(c["upload_speed"])
            offers.loc[same, "latency_ms"] = float(c["latency"])
            offers.loc[same, "low_latency"] = float(c["latency"]) <= 100
        elif t in ("P", "E"):
            forced[str(c["location_id"])] = CLASS_CODE["served"]
        elif t == "V":
            capped.add(str(c["location_id"]))
    after = classify_locations(locations, offers[keep], profile, as_of)
    ids = locations["address_id"].astype(str).reset_index(drop=True)
    pre = before["class"].astype(str).map(CLASS_CODE).to_numpy()
    post = after["class"].astype(str).map(CLASS_CODE).to_numpy().copy()
    dsl = (
        pd.to_numeric(after.get("best_technology").astype(str).map({"adsl": 10}), errors="coerce")
        .eq(10)
        .to_numpy()
    )
    cap = ids.isin(capped).to_numpy() & dsl
    post[cap] = np.minimum(post[cap], CLASS_CODE["underserved"])
    for loc, code in forced.items():
        post[(ids == loc).to_numpy()] = code
    by_loc = won.groupby(won["location_id"].astype(str))["challenge"].agg(" ".join)
    return pd.DataFrame({"location_id": ids.astype("int64"), "pre": pre.astype("int64"), "post": post.astype("int64"),
                         "challenges": ids.map(by_loc).fillna("").to_numpy()})  # fmt: skip
