"""Shared pieces of the rule engines: per-offer arrays, per-address reductions, reason text.

Everything here is vectorised over offers or (address, offer) pairs; Python loops run only
over a handful of unique values (technologies, classes, distinct speeds).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from coverage.profiles import Profile

#: Human labels of technologies for reason sentences.
TECH_LABELS: dict[str, str] = {
    "ftth": "FTTH",
    "fttb": "FTTB",
    "hfc_docsis31": "HFC DOCSIS 3.1",
    "hfc": "HFC",
    "vdsl": "VDSL",
    "adsl": "ADSL",
    "fwa_licensed": "licensed FWA",
    "fwa_unlicensed": "unlicensed FWA",
    "mobile_5g": "5G mobile",
    "mobile_lte": "LTE mobile",
    "satellite_geo": "GEO satellite",
    "satellite_ngso": "NGSO satellite",
}


@dataclass(frozen=True)
class OfferArrays:
    """Per-offer numpy views of the canonical offer frame (length ``n``).

    Speeds are Mbit/s (NaN = not reported), latency ms (NaN = unknown). ``low_latency`` is
    already resolved: NA replaced per the profile's ``unknown_is_low_latency``.
    ``existing_now``: status existing and available_from missing or <= as-of.
    ``planned_ok``: status planned, available_from <= as-of + horizon, and planned offers
    requested. ``fcc_code``: FCC BDC code (explicit ``fcc_technology`` wins, else the profile
    mapping; -1 when unknown). ``provider_code``: one code per provider name compared
    case-insensitively without surrounding blanks (-1 = missing). ``tech_code`` indexes
    ``tech_values`` (-1 = missing).
    """

    n: int
    provider_code: np.ndarray
    tech_code: np.ndarray
    tech_values: tuple[str, ...]
    down: np.ndarray
    up: np.ndarray
    latency: np.ndarray
    low_latency: np.ndarray
    available_from: np.ndarray
    existing_now: np.ndarray
    planned_ok: np.ndarray
    fcc_code: np.ndarray
    #: False where the offer's ``verified`` cell says the claim or plan is not verified
    #: (open risks or evidence gaps); True where the column is absent or the cell empty.
    verified: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.verified is None:
            object.__setattr__(self, "verified", np.ones(self.n, dtype=bool))

    def tech_in(self, members: Iterable[str]) -> np.ndarray:
        """True where the offer's technology is one of ``members``."""
        wanted = set(members)
        lut = np.array([v in wanted for v in self.tech_values] + [False], dtype=bool)
        return lut[self.tech_code]

    def tech_map(self, mapping: Mapping[str, object], default: object) -> np.ndarray:
        """Per-offer ``mapping[technology]`` (``default`` when absent), as an object array."""
        lut = np.array(
            [mapping.get(v, default) for v in self.tech_values] + [default], dtype=object
        )
        return lut[self.tech_code]


@dataclass(frozen=True)
class OfferRules:
    """What a rule engine decides per offer.

    ``counted``: the offer may be a best offer and feeds the class (e.g. reliable technology).
    ``rank``: quality tier (higher is better) used first when choosing the best offer.
    ``network_ok``: the offer makes its network a qualifying network for the counts.
    ``network_type``: network type label per offer (shown in reasons; networks are counted per operator).
    """

    counted: np.ndarray
    rank: np.ndarray
    network_ok: np.ndarray
    network_type: np.ndarray


@dataclass(frozen=True)
class AddressContext:
    """Per-address facts handed to a rule engine's ``decide``.

    ``best`` / ``planned``: offer row of the best counted existing / planned-in-horizon offer,
    -1 if none. ``best_rank`` / ``planned_rank``: their ``rank`` (-1 if none).
    ``networks_*``: distinct qualifying networks (existing, planned, either).
    ``best_text`` / ``planned_text``: e.g. ``"VDSL 100/40 (Demo Telekabel)"`` ("" if none);
    ``planned_date``: ``"2026-05-01"`` ("" if none).
    ``network_code``: per *offer*, one code per qualifying network (provider x network type),
    -1 where the offer does not qualify; lets an engine count networks over its own offer
    subsets with :func:`count_networks`. ``as_of``: the reference date of the run.
    ``bounds``: :func:`pair_bounds` of ``addr_idx`` (``None``: pairs not sorted by address).
    """

    n: int
    addr_idx: np.ndarray
    offer_idx: np.ndarray
    best: np.ndarray
    planned: np.ndarray
    best_rank: np.ndarray
    planned_rank: np.ndarray
    networks_now: np.ndarray
    networks_planned: np.ndarray
    networks_any: np.ndarray
    any_existing: np.ndarray
    best_text: np.ndarray
    planned_text: np.ndarray
    planned_date: np.ndarray
    include_planned: bool
    network_code: np.ndarray
    as_of: date
    bounds: np.ndarray | None = None


@dataclass(frozen=True)
class Decision:
    """A rule engine's verdict per address: class name, reason code, reason sentence."""

    klass: np.ndarray
    reason_code: np.ndarray
    reason: np.ndarray


# --------------------------------------------------------------------------------------------
# reductions per address (private numpy equivalents of the coverage.kernel.join helpers)


def offer_score(keys: list[np.ndarray], candidates: np.ndarray) -> np.ndarray:
    """Total order of the ``candidates`` offers as an int64 score: higher = better, -1 = not a
    candidate.

    ``keys`` are compared lexicographically (first key most significant, NaN lowest); ties go
    to the smaller offer row, so the result is deterministic whatever the pair order.
    """
    rows = np.flatnonzero(candidates)
    cleaned = [np.where(np.isnan(k[rows]), -np.inf, k[rows]).astype("float64") for k in keys]
    order = np.lexsort((-rows, *reversed(cleaned)))  # ascending; best offer last
    score = np.full(len(candidates), -1, dtype=np.int64)
    score[rows[order]] = np.arange(len(rows), dtype=np.int64)
    return score


def pair_bounds(point_idx: np.ndarray, n_points: int) -> np.ndarray | None:
    """Run boundaries of the pairs of each point when ``point_idx`` is sorted ascending.

    Returns int64 ``bounds`` of length ``n_points + 1``: the pairs of point ``p`` are
    ``bounds[p]:bounds[p + 1]`` (empty for a point without pairs). ``None`` when the pairs
    are not sorted by point (callers then fall back to an order-free method).
    """
    if len(point_idx) > 1 and bool((point_idx[1:] < point_idx[:-1]).any()):
        return None
    bounds = np.zeros(n_points + 1, dtype=np.int64)
    np.cumsum(np.bincount(point_idx, minlength=n_points)[:n_points], out=bounds[1:])
    return bounds


def _segment_reduce(
    ufunc: np.ufunc, values: np.ndarray, bounds: np.ndarray, fill: object
) -> np.ndarray:
    """``ufunc`` reduced over each run ``values[bounds[p]:bounds[p + 1]]``; ``fill`` if empty."""
    starts = bounds[:-1]
    present = starts < bounds[1:]
    out = np.full(len(starts), fill, dtype=values.dtype)
    if present.any():
        out[present] = ufunc.reduceat(values, starts[present])
    return out


def _score_dtype(score: np.ndarray) -> type[np.signedinteger]:
    return np.int32 if int(score.max(initial=-1)) < np.iinfo(np.int32).max else np.int64


def best_per_point(
    point_idx: np.ndarray,
    offer_idx: np.ndarray,
    score: np.ndarray,
    n_points: int,
    bounds: np.ndarray | None = None,
) -> np.ndarray:
    """Offer row with the highest ``score`` per point (score -1 = not a candidate); -1 if none.

    ``bounds``: :func:`pair_bounds` of ``point_idx`` when already known (pairs sorted by
    point); the runs are then reduced with one ``maximum.reduceat``. Unsorted pairs are
    reduced with ``maximum.at``.
    """
    if bounds is None:
        bounds = pair_bounds(point_idx, n_points)
    sc = score.astype(_score_dtype(score), copy=False)[offer_idx]
    if bounds is not None:
        best = _segment_reduce(np.maximum, sc, bounds, -1).astype(np.int64)
    else:
        sel = sc >= 0
        best = np.full(n_points, -1, dtype=np.int64)
        np.maximum.at(best, point_idx[sel], sc[sel])
    return offer_of_score(score, best)


def offer_of_score(score: np.ndarray, top: np.ndarray) -> np.ndarray:
    """The offer rows of the scores ``top`` (-1: none) under ``score`` (one row per score)."""
    inverse = np.full(int(score.max(initial=-1)) + 2, -1, dtype=np.int64)  # last: score -1
    cand = np.flatnonzero(score >= 0)
    inverse[score[cand]] = cand
    return inverse[top]


def any_per_point(point_idx: np.ndarray, flags: np.ndarray, n_points: int) -> np.ndarray:
    """True where at least one pair of the point has ``flags`` set."""
    return np.bincount(point_idx[flags], minlength=n_points)[:n_points] > 0


_MASK_DTYPES = ((8, np.uint8), (16, np.uint16), (32, np.uint32), (64, np.uint64))


def count_distinct_per_point(
    point_idx: np.ndarray,
    group_codes: np.ndarray,
    n_points: int,
    bounds: np.ndarray | None = None,
) -> np.ndarray:
    """Number of distinct non-negative ``group_codes`` per point (int32).

    Pairs sorted by point (``bounds`` from :func:`pair_bounds`, computed when not given) with
    fewer than 64 distinct codes: one bit per code, OR-reduced per run and counted with a
    popcount. Otherwise: sort packed int64 ``point * width + code`` keys and count the
    key changes per point.
    """
    keep = group_codes >= 0
    if not keep.any():
        return np.zeros(n_points, dtype=np.int32)
    width = int(group_codes.max()) + 1
    if width <= 64:
        if bounds is None:
            bounds = pair_bounds(point_idx, n_points)
        if bounds is not None:
            dtype = next(t for bits, t in _MASK_DTYPES if width <= bits)
            one = dtype(1)
            bits = np.where(keep, np.left_shift(one, group_codes.astype(dtype)), dtype(0))
            mask = _segment_reduce(np.bitwise_or, bits, bounds, 0)
            return np.bitwise_count(mask).astype(np.int32)
    keys = point_idx[keep].astype(np.int64) * width
    keys += group_codes[keep]
    keys.sort()
    first = np.empty(len(keys), dtype=bool)
    first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    return np.bincount(keys[first] // width, minlength=n_points)[:n_points].astype(np.int32)


# --------------------------------------------------------------------------------------------
# text helpers (vectorised: formatting runs once per distinct value)


def fmt_numbers(values: np.ndarray, missing: str = "?") -> np.ndarray:
    """Format floats compactly (100, 1.7); NaN -> ``missing``. Returns an object array."""
    codes, uniques = pd.factorize(pd.Series(values, dtype="float64"), use_na_sentinel=True)
    labels = np.array([f"{u:.10g}" for u in uniques] + [missing], dtype=object)
    return labels[np.where(codes < 0, len(uniques), codes)]


def _labels(values: pd.Series, fmt: dict[str, str] | None = None) -> np.ndarray:
    """Object array of strings; NA -> "?"; optional relabelling of distinct values."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    names = [fmt.get(str(u), str(u).upper()) if fmt is not None else str(u) for u in uniques]
    return np.array([*names, "?"], dtype=object)[np.where(codes < 0, len(uniques), codes)]


def offer_text(offers: pd.DataFrame, idx: np.ndarray) -> np.ndarray:
    """``"VDSL 100/40 (Demo Telekabel)"`` for offer rows ``idx``; ``""`` where ``idx`` is -1.

    Text is built once per distinct offer row and gathered, so cost is bounded by the number
    of distinct best offers, not by the number of addresses.
    """
    out = np.full(len(idx), "", dtype=object)
    present = idx >= 0
    if not present.any():
        return out
    taken = idx[present]
    rows = np.flatnonzero(np.bincount(taken))  # distinct offer rows, ascending (no sort)
    slot = np.zeros(int(rows[-1]) + 1, dtype=np.intp)
    slot[rows] = np.arange(len(rows))
    inverse = slot[taken]
    sub = offers.iloc[rows]
    text = (
        _labels(sub["technology"].astype("string"), TECH_LABELS)
        + " "
        + fmt_numbers(pd.to_numeric(sub["down_mbps"]).to_numpy(dtype="float64", na_value=np.nan))
        + "/"
        + fmt_numbers(pd.to_numeric(sub["up_mbps"]).to_numpy(dtype="float64", na_value=np.nan))
        + " ("
        + _labels(sub["provider"].astype("string"))
        + ")"
    )
    out[present] = text[inverse]
    return out


Part = str | np.ndarray


def compose(n: int, cases: list[tuple[np.ndarray, list[Part]]], default: Part = "") -> np.ndarray:
    """Vectorised ``if/elif`` string builder: the first case whose mask is set wins.

    Each case is ``(mask, parts)``; parts are constant strings or object arrays of length
    ``n``; they are concatenated only on the rows the case takes (numpy object ``+``).
    Returns an object array of length ``n``.
    """
    out = (
        np.full(n, default, dtype=object)
        if isinstance(default, str)
        else np.array(default, dtype=object)
    )
    taken = np.zeros(n, dtype=bool)
    for cond, parts in cases:
        rows = np.flatnonzero(cond & ~taken)
        taken |= cond
        if not len(rows):
            continue
        acc: np.ndarray = np.full(len(rows), "", dtype=object)
        for part in parts:
            acc = acc + (part if isinstance(part, str) else np.asarray(part, dtype=object)[rows])
        out[rows] = acc
    return out


# --------------------------------------------------------------------------------------------
# small helpers shared by the rule engines


def g(x: float) -> str:
    """A threshold for a reason sentence: ``100``, ``1.7``."""
    return f"{x:g}"


def months_after(day: date, months: int) -> np.datetime64:
    """``day`` + ``months`` calendar months (same rule as the planning horizon), as ns."""
    return (pd.Timestamp(day) + pd.DateOffset(months=months)).to_datetime64()


def count_networks(ctx: AddressContext, offer_mask: np.ndarray) -> np.ndarray:
    """Distinct qualifying networks per address among the offers in ``offer_mask`` (int32)."""
    codes = np.where(offer_mask, ctx.network_code, -1)
    return count_distinct_per_point(ctx.addr_idx, codes[ctx.offer_idx], ctx.n, ctx.bounds)


def level_with_plans(ctx: AddressContext, count_planned: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per-address level: the best existing offer's rank, raised by the best planned offer's
    rank when ``count_planned`` (-1 = no counted offer); and where the plan lifted it above
    the lowest tier (a planned rank-0 offer on an address without offers decides nothing)."""
    level = np.maximum(ctx.best_rank, ctx.planned_rank) if count_planned else ctx.best_rank
    return level, level > np.maximum(ctx.best_rank, 0)


def planned_note(ctx: AddressContext, count_planned: bool, horizon_months: int, what: str) -> str:
    """Why no planned offer decided the class: ``"no gigabit planned within 36 months"``."""
    if not ctx.include_planned:
        return "planned offers not considered"
    if not count_planned:
        return "planned offers not counted by this profile"
    return f"no {what} planned within {horizon_months} months"


def shown_plan_note(ctx: AddressContext) -> np.ndarray:
    """``"; planned FTTH 1000/1000 (P) from 2026-05-01 not counted"`` where a planned offer is
    shown but the profile does not count plans; ``""`` elsewhere."""
    return compose(
        ctx.n,
        [
            (
                ctx.planned >= 0,
                ["; planned ", ctx.planned_text, " from ", ctx.planned_date, " not counted"],
            )
        ],
    )


def best_or(ctx: AddressContext, prefix: str, none_text: str) -> np.ndarray:
    """``prefix + best offer text`` where the address has a best offer, else ``none_text``."""
    return compose(ctx.n, [(ctx.best >= 0, [prefix, ctx.best_text])], none_text)


def tech_list(members: Iterable[str]) -> str:
    """Human list of technologies in enum order: ``"FTTH, FTTB, HFC DOCSIS 3.1"``."""
    wanted = set(members)
    return ", ".join(label for key, label in TECH_LABELS.items() if key in wanted)


def reliable_offers(offers: OfferArrays, profile: Profile) -> tuple[np.ndarray, np.ndarray]:
    """``(counted, usable)``: offers of a ``[technologies].reliable`` technology, and those of
    them that also pass the profile's low-latency requirement (all of them when not required)."""
    counted = offers.tech_in(profile.reliable_technologies)
    usable = counted & offers.low_latency if profile.require_low_latency else counted
    return counted, usable
