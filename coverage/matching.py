"""Match address-keyed offer lists (Markterkundung replies, BDC rows) to the address layer.

Operators answer a Markterkundungsverfahren with address lists, not polygons, and spell
streets their own way. Matching normalises German street names and house numbers, then
joins on a key; every row that does not match exactly one address is reported with its
reason, never silently dropped.

Keys, in order of preference for each offer row:
1. ``address_id`` when the row has one (HK-DE OI, FCC location_id, UPRN);
2. postcode + street + house number + suffix, when both sides have a postcode;
3. place + street + house number + suffix otherwise.

House numbers are compared as ranges: ``12-14`` on either side covers 12, 13 and 14, so an
offer for "13" reaches an address recorded as "12-14" and an offer for "12-14" reaches the
addresses 12, 13 and 14. A range written with a side (``1-11 ungerade``, ``2-10 (g)``,
``2-10 even``) covers only the odd or even numbers. A suffix (12a) must agree when both
sides name a single number.

When a key fits several address records (the same building delivered twice, or one
address held by several records), the offer applies to all of them; those rows are
reported in :attr:`MatchResult.several`, not dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e"})
# "str", "str.", "strasse", "straße" at a word end -> "str"; also "platz" -> "pl"
_STREET_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"stra(ss|ß)e\b|str\b\.?"), "str"),
    (re.compile(r"platz\b|pl\b\.?"), "pl"),
    (re.compile(r"\bsankt\b|\bst\b\.?"), "st"),
    (re.compile(r"[^a-z0-9]"), ""),
)
_HNR = re.compile(
    r"^\s*(\d+)\s*(?:([a-zA-Z])(?![a-zA-Z]))?\s*"
    r"(?:[-–/]\s*(\d+)\s*(?:([a-zA-Z])(?![a-zA-Z]))?\s*"
    r"(?:\(?\s*(ungerade|gerade|odd|even|u|g)\s*\)?)?)?\s*$",
    re.IGNORECASE,
)
#: parity codes: 0 any number, 1 odd numbers only, 2 even numbers only
_PARITY = {"ungerade": 1, "odd": 1, "u": 1, "gerade": 2, "even": 2, "g": 2}


def normalise_street(values: pd.Series) -> pd.Series:
    """Lower-case, transliterate umlauts and ß, unify Straße/Str./Strasse, drop spaces and punctuation.

    ``"Hauptstraße"``, ``"Haupt-Str."``, ``"HAUPTSTRASSE"`` and ``"haupt strasse"`` all become
    ``"hauptstr"``. NA stays NA.
    """
    out = values.astype("string").str.lower().str.translate(_UMLAUTS)
    for pattern, repl in _STREET_RULES:
        out = out.str.replace(pattern, repl, regex=True)
    return out.mask(out == "")


def normalise_place(values: pd.Series) -> pd.Series:
    """Place names compared like streets, ignoring parenthesised additions ("Olpe (Biggesee)")."""
    return normalise_street(values.astype("string").str.replace(r"\(.*?\)", "", regex=True))


@dataclass(frozen=True)
class HouseNumbers:
    """Parsed house numbers: first number, last number of a range, suffix ('' when none)."""

    first: np.ndarray
    last: np.ndarray
    suffix: np.ndarray
    valid: np.ndarray
    #: 0 every number of the range, 1 odd only, 2 even only
    parity: np.ndarray | None = None


def parse_house_numbers(numbers: pd.Series, suffixes: pd.Series | None = None) -> HouseNumbers:
    """Parse ``12``, ``12a``, ``12 A``, ``12-14``, ``12a-12c`` (suffix range keeps the first
    suffix) and sided ranges ``1-11 ungerade`` / ``2-10 (g)`` / ``2-10 even``.

    A separate suffix column (HK-DE ADZ) is used when the number itself carries none.
    Unparseable numbers are flagged invalid (they can only match by address_id).
    """
    text = numbers.astype("string").fillna("")
    parts = text.str.extract(_HNR)
    valid = parts[0].notna().to_numpy()
    first = pd.to_numeric(parts[0], errors="coerce").fillna(-1).astype("int64").to_numpy()
    last = pd.to_numeric(parts[2], errors="coerce").fillna(-1).astype("int64").to_numpy()
    last = np.where(last < 0, first, last)
    suffix = parts[1].fillna("").str.lower()
    if suffixes is not None:
        extra = suffixes.astype("string").fillna("").str.strip().str.lower().reset_index(drop=True)
        suffix = suffix.where(suffix != "", extra)
    parity = parts[4].str.lower().map(_PARITY).fillna(0).astype("int8").to_numpy()
    # a range like 12-14 is a range of numbers; 12a-12c only when numbers are equal keeps suffix
    return HouseNumbers(
        first, np.maximum(last, first), suffix.to_numpy(dtype=object), valid, parity
    )


#: offer fields repeated in the unmatched-rows report (after row and reason)
UNMATCHED_FIELDS = (
    "address_id", "provider", "technology", "street", "house_number", "suffix", "postcode", "place",
)  # fmt: skip


@dataclass
class MatchResult:
    """Pairs (address position, offer row position) and the rows that did not match."""

    addr_idx: np.ndarray
    offer_idx: np.ndarray
    unmatched: pd.DataFrame
    matched_rows: int
    method_counts: dict[str, int]
    #: offer rows applied to several address records: ``row`` (1-based) and ``addresses``
    several: pd.DataFrame | None = None


def _key_frame(
    street: pd.Series, place: pd.Series, postcode: pd.Series, hn: HouseNumbers
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "street": normalise_street(street).to_numpy(),
            "place": normalise_place(place).to_numpy(),
            "postcode": postcode.astype("string").str.strip().to_numpy(),
            "first": hn.first,
            "last": hn.last,
            "suffix": hn.suffix,
            "parity": hn.parity if hn.parity is not None else np.zeros(len(hn.first), "int8"),
        }
    )


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame:
        return frame[name].reset_index(drop=True).astype("string")
    return pd.Series(pd.NA, index=pd.RangeIndex(len(frame)), dtype="string")


def match_offers(addresses: pd.DataFrame, offers: pd.DataFrame) -> MatchResult:
    """Match offer rows to addresses; see the module docstring for the keys.

    Parameters
    ----------
    addresses
        Canonical address columns (address_id, street, house_number, suffix, postcode, place).
    offers
        Offer rows with ``address_id`` or street/house_number[/suffix]/postcode/place columns.

    Returns
    -------
    MatchResult; ``unmatched`` has the offer row (1-based), its address fields and a reason:
    ``no_key`` (neither id nor street and number), ``unknown_address_id``, ``street_not_found``,
    or ``number_not_found``. Rows applied to several address records are in ``several``.
    """
    n_off = len(offers)
    addr_ids = addresses["address_id"].astype("string").reset_index(drop=True)
    a_hn = parse_house_numbers(_col(addresses, "house_number"), _col(addresses, "suffix"))
    a_keys = _key_frame(
        _col(addresses, "street"), _col(addresses, "place"), _col(addresses, "postcode"), a_hn
    )
    a_keys["pos"] = np.arange(len(addresses))

    o_id = _col(offers, "address_id")
    o_hn = parse_house_numbers(_col(offers, "house_number"), _col(offers, "suffix"))
    o_keys = _key_frame(
        _col(offers, "street"), _col(offers, "place"), _col(offers, "postcode"), o_hn
    )
    o_keys["row"] = np.arange(n_off)

    reason = np.full(n_off, "", dtype=object)
    matched = np.zeros(n_off, dtype=bool)
    pairs: list[pd.DataFrame] = []
    methods = {"address_id": 0, "postcode": 0, "place": 0}
    several: list[pd.Series] = []

    # 1. by id
    has_id = o_id.notna().to_numpy() & (o_id.str.strip() != "").fillna(False).to_numpy()
    if has_id.any():
        id_pos = pd.Series(np.arange(len(addr_ids)), index=addr_ids.to_numpy())
        hit = o_id[has_id].map(id_pos)
        rows = np.flatnonzero(has_id)
        ok = hit.notna().to_numpy()
        pairs.append(pd.DataFrame({"row": rows[ok], "pos": hit[ok].astype("int64").to_numpy()}))
        reason[rows[~ok]] = "unknown_address_id"
        matched[rows[ok]] = True
        methods["address_id"] = int(ok.sum())

    # 2./3. by street + number within postcode, else within place
    todo = ~has_id
    keyable = todo & o_hn.valid & o_keys["street"].notna().to_numpy()
    reason[todo & ~keyable] = "no_key"
    for area in ("postcode", "place"):
        use = keyable & o_keys[area].notna().to_numpy() & (reason == "") & ~matched
        if area == "postcode":
            use &= a_keys["postcode"].notna().any()
        if not use.any():
            continue
        cand = o_keys[use].merge(
            a_keys.dropna(subset=[area]), on=[area, "street"], suffixes=("", "_a")
        )
        hits = cand[_numbers_meet(cand)]
        street_known = np.isin(o_keys["row"][use], cand["row"])
        rows_use = np.flatnonzero(use)
        reason[rows_use[~street_known]] = "street_not_found"
        matched_rows = hits["row"].unique()
        number_missing = np.setdiff1d(cand["row"].unique(), matched_rows)
        reason[number_missing] = "number_not_found"
        # a single number held by several records applies to all of them (reported)
        single = hits[(hits["first"] == hits["last"]) & (hits["first_a"] == hits["last_a"])]
        counts = single.groupby("row").size()
        several.append(counts[counts > 1])
        good = hits
        pairs.append(good[["row", "pos"]])
        matched[good["row"].to_numpy()] = True
        methods[area] = int(good["row"].nunique())
        if area == "postcode":
            # rows not found by postcode get a second chance by place
            retry = (
                np.isin(reason, ["street_not_found", "number_not_found"])
                & o_keys["place"].notna().to_numpy()
            )
            reason[retry] = ""

    allpairs = (
        pd.concat(pairs, ignore_index=True) if pairs else pd.DataFrame({"row": [], "pos": []})
    )
    allpairs = allpairs.drop_duplicates().sort_values(["pos", "row"], kind="stable")
    unmatched_mask = ~matched
    keep = [c for c in UNMATCHED_FIELDS if c in offers]
    unmatched = offers.reset_index(drop=True).loc[unmatched_mask, keep].copy()
    unmatched.insert(0, "reason", reason[unmatched_mask])
    unmatched.insert(0, "row", np.flatnonzero(unmatched_mask) + 1)
    shared = pd.concat(several) if several else pd.Series(dtype="int64")
    shared = shared[~shared.index.duplicated()]
    shared_frame = pd.DataFrame(
        {"row": shared.index.to_numpy(dtype="int64") + 1, "addresses": shared.to_numpy()}
    )
    return MatchResult(
        addr_idx=allpairs["pos"].to_numpy(dtype="int64"),
        offer_idx=allpairs["row"].to_numpy(dtype="int64"),
        unmatched=unmatched.reset_index(drop=True),
        matched_rows=int(allpairs["row"].nunique()),
        method_counts=methods,
        several=shared_frame,
    )


def _numbers_meet(cand: pd.DataFrame) -> pd.Series:
    """Whether the offer's and the address's house numbers share a number (see the module doc).

    ``cand`` holds offer columns first/last/suffix/parity and address columns with ``_a``.
    """
    lo = np.maximum(cand["first"], cand["first_a"])
    hi = np.minimum(cand["last"], cand["last_a"])
    po, pa_ = cand["parity"], cand["parity_a"]
    clash = (po > 0) & (pa_ > 0) & (po != pa_)
    side = np.where(po > 0, po, pa_)
    want = np.where(side == 1, 1, 0)  # the remainder mod 2 a sided range needs
    fits = (side == 0) | (lo % 2 == want) | (lo + 1 <= hi)
    overlap = (lo <= hi) & fits & ~clash
    both_single = (cand["first"] == cand["last"]) & (cand["first_a"] == cand["last_a"])
    same_suffix = ~both_single | (cand["suffix_a"] == cand["suffix"])
    return overlap & same_suffix
