"""Pairs + offers + profile -> one result row per address.

For every address: the best existing counted offer, the best planned offer inside the horizon,
the number of distinct qualifying networks, the class under the profile, eligibility, a reason
code from :data:`REASON_CODES` and a one-line reason. The rule engine is picked by the
profile's ``method`` (``coverage.rules``). Everything is vectorised over offers and pairs.

Best offer (deterministic): among counted offers, highest rule ``rank`` (e.g. gigabit > NGA >
other; BEAD level), then highest download, then highest upload, then (existing) lowest latency
with unknown latency last / (planned) earliest ``available_from``; remaining ties go to the
smallest offer row. Missing speeds rank below every reported speed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final, NamedTuple

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from coverage.classify_groups import GROUP_SHARE, gathered, group_addresses
from coverage.errors import InputDataError, ProfileError
from coverage.kernel.groups import take_points
from coverage.kernel.runs import reduce_runs
from coverage.offer_columns import OFFER_COLUMNS, OfferColumns, _categories, _strings
from coverage.profiles import Profile
from coverage.rules import ENGINES
from coverage.rules.common import (
    AddressContext,
    OfferArrays,
    any_per_point,
    compose,
    offer_of_score,
    offer_score,
    offer_text,
)
from coverage.rules.operators import operator_codes
from coverage.schema import LOW_LATENCY_MS

__all__ = [
    "ADDRESS_COLUMNS",
    "OFFER_COLUMNS",
    "REASON_CODES",
    "RESULT_COLUMNS",
    "Classified",
    "OfferColumns",
    "classify",
    "classify_offers",
    "concat_results",
]

#: Every reason code any rule engine emits -> what it means (codes are unique across engines;
#: each engine module documents its own in ``coverage.rules.<method>.REASON_CODES``).
REASON_CODES: Final[dict[str, str]] = {
    code: text for engine in ENGINES.values() for code, text in engine.REASON_CODES.items()
}

#: The address columns :func:`classify` reads (all others are carried along by the caller)
ADDRESS_COLUMNS: Final[tuple[str, ...]] = ("site_type",)


#: Result columns, in order.
RESULT_COLUMNS: Final[tuple[str, ...]] = (
    "best_provider",
    "best_technology",
    "best_down_mbps",
    "best_up_mbps",
    "best_latency_ms",
    "best_source",
    "planned_provider",
    "planned_technology",
    "planned_down_mbps",
    "planned_up_mbps",
    "planned_available_from",
    "networks_now",
    "networks_planned",
    "class",
    "eligible",
    "reason_code",
    "reason",
    "site_rule",
    "profile_id",
    "profile_version",
)


def _pairs(
    addr_idx: np.ndarray, offer_idx: np.ndarray, n: int, m: int
) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(addr_idx)
    o = np.asarray(offer_idx)
    if a.shape != o.shape or a.ndim != 1:
        raise InputDataError(
            f"pair arrays must be 1-D and of equal length, got {a.shape} and {o.shape}"
        )
    if len(a) and not (np.issubdtype(a.dtype, np.integer) and np.issubdtype(o.dtype, np.integer)):
        raise InputDataError("pair arrays must hold integer row positions")
    # int32 pairs stay int32 (half the memory of int64 over ~10^8 pairs); others become intp
    if a.dtype != np.int32:
        a = a.astype(np.intp, copy=False)
    if o.dtype != np.int32:
        o = o.astype(np.intp, copy=False)
    if len(a) and (a.min() < 0 or a.max() >= n or o.min() < 0 or o.max() >= m):
        raise InputDataError(
            f"pair indices out of range: addresses 0..{n - 1}, offers 0..{m - 1} "
            f"(got {a.min()}..{a.max()} and {o.min()}..{o.max()})"
        )
    return a, o


def _offer_arrays(
    offers: pd.DataFrame, profile: Profile, as_of: date, include_planned: bool
) -> OfferArrays:
    missing = [c for c in ("provider", "technology", "down_mbps", "up_mbps") if c not in offers]
    if missing:
        raise InputDataError(f"offers frame is missing column(s) {', '.join(missing)}")
    m = len(offers)

    def num(col: str) -> np.ndarray:
        if col not in offers:
            return np.full(m, np.nan)
        return pd.to_numeric(offers[col], errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )

    latency = num("latency_ms")
    if "low_latency" in offers:
        ll = offers["low_latency"].astype("boolean")
    else:
        ll = pd.Series(pd.arrays.BooleanArray(latency <= LOW_LATENCY_MS, np.isnan(latency)))
    low_latency = ll.fillna(profile.unknown_is_low_latency).to_numpy(dtype=bool)

    if "status" in offers:
        status = (
            offers["status"]
            .astype("string")
            .str.strip()
            .str.lower()
            .fillna("existing")
            .to_numpy(dtype=object)
        )
    else:
        status = np.full(m, "existing", dtype=object)
    if "available_from" in offers:
        avail = pd.to_datetime(offers["available_from"]).to_numpy(dtype="datetime64[ns]")
    else:
        avail = np.full(m, np.datetime64("NaT"), dtype="datetime64[ns]")
    day = np.datetime64(as_of, "ns")
    horizon_end = (
        pd.Timestamp(as_of) + pd.DateOffset(months=profile.horizon_months)
    ).to_datetime64()
    existing_now = (status == "existing") & (np.isnat(avail) | (avail <= day))
    planned_ok = (status == "planned") & (avail <= horizon_end) & include_planned

    tech_code, tech_uniques = pd.factorize(
        offers["technology"].astype("string").str.strip().str.lower()
    )
    tech_values = tuple(str(v) for v in tech_uniques)
    fcc_lut = np.array([profile.fcc_codes.get(v, -1) for v in tech_values] + [-1], dtype=np.int64)
    fcc = fcc_lut[tech_code]
    if "fcc_technology" in offers:
        explicit = pd.to_numeric(offers["fcc_technology"], errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        fcc = np.where(np.isnan(explicit), fcc, np.nan_to_num(explicit, nan=-1)).astype(np.int64)

    provider_code = operator_codes(offers)  # one code per operator (coverage.rules.operators)

    verified = np.ones(m, dtype=bool)
    if "verified" in offers:
        flag = offers["verified"].astype("string").str.strip().str.lower()
        verified = ~flag.isin(["false", "0", "no", "n", "nein"]).to_numpy(dtype=bool)

    return OfferArrays(
        n=m,
        provider_code=provider_code,
        tech_code=tech_code,
        tech_values=tech_values,
        down=num("down_mbps"),
        up=num("up_mbps"),
        latency=latency,
        low_latency=low_latency,
        available_from=avail,
        existing_now=existing_now,
        planned_ok=planned_ok,
        fcc_code=fcc,
        verified=verified,
    )


class Classified(NamedTuple):
    """:func:`classify_offers`: the results, and the offer rows their ``best_*`` and
    ``planned_*`` columns come from (-1: none), from which :class:`OfferColumns` rebuilds
    those."""

    results: pd.DataFrame
    best: np.ndarray
    planned: np.ndarray


def classify(
    addresses: pd.DataFrame,
    offers: pd.DataFrame,
    addr_idx: np.ndarray,
    offer_idx: np.ndarray,
    profile: Profile,
    *,
    as_of: date | None = None,
    include_planned: bool = True,
) -> pd.DataFrame:
    """Classify every address under ``profile``.

    Parameters
    ----------
    addresses
        Canonical address frame (``site_type`` used by site rules; missing = private). Rows are
        taken by position; the result has a RangeIndex aligned to them.
    offers
        Canonical offer frame: speeds ``down_mbps``/``up_mbps`` in Mbit/s (NaN = not reported,
        fails every speed test), ``latency_ms`` in ms, ``low_latency`` boolean (NA = unknown,
        resolved by the profile; derived from ``latency_ms <= 100`` if the column is absent),
        ``status`` existing/planned, ``available_from``; optional ``fcc_technology`` (int BDC
        code, wins over the profile's technology mapping when not null).
    addr_idx, offer_idx
        Integer pairs: address ``addr_idx[k]`` is covered by offer ``offer_idx[k]``. Order and
        duplicates do not matter.
    profile
        A loaded :class:`~coverage.profiles.Profile`.
    as_of
        Reference date (default: today). Existing offers with ``available_from`` after it are
        ignored; planned offers count if ``available_from <= as_of + horizon_months``.
    include_planned
        False ignores planned offers entirely (not shown, not counted).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RESULT_COLUMNS`. ``best_*``: best existing counted offer (NA if none);
        ``planned_*``: best planned counted offer inside the horizon (NA if none);
        ``networks_now``/``networks_planned``: distinct qualifying networks (one per operator,
        :mod:`coverage.rules.operators`) among existing / planned offers; ``class`` and ``eligible`` (bool) per the
        profile, widened by site rules (``site_rule`` names the rule, NA otherwise).

    Raises
    ------
    InputDataError
        Missing offer columns, malformed or out-of-range pairs.
    ProfileError
        The profile names a method without a rule engine.
    """
    return classify_offers(
        addresses,
        offers,
        addr_idx,
        offer_idx,
        profile,
        as_of=as_of,
        include_planned=include_planned,
    ).results


def classify_offers(
    addresses: pd.DataFrame,
    offers: pd.DataFrame,
    addr_idx: np.ndarray,
    offer_idx: np.ndarray,
    profile: Profile,
    *,
    as_of: date | None = None,
    include_planned: bool = True,
) -> Classified:
    """:func:`classify`, also returning the best and best planned offer row of each address.

    An address's result depends on its offers (and its site type) alone: addresses with
    equal offer lists (:func:`coverage.kernel.groups.pair_groups`; on dense coverage about
    one in four is the first of its list) are classified once per list and the results
    gathered, which gives the same frame as classifying every address.
    """
    n, m = len(addresses), len(offers)
    a, o = _pairs(addr_idx, offer_idx, n, m)
    if profile.method not in ENGINES:
        raise ProfileError(f"{profile.path.name}: no rule engine for method {profile.method!r}")
    day = as_of if as_of is not None else date.today()
    if isinstance(day, datetime):
        day = day.date()
    offers = offers.reset_index(drop=True)
    a, o, group, first, bounds = group_addresses(addresses, a, o, m, profile)
    if len(first) > GROUP_SHARE * n:
        return _classify_each(addresses, offers, a, o, profile, day, include_planned, bounds)
    del a
    sub_a, sub_o, sub_bounds = take_points(bounds, first, o)
    del o, bounds
    columns = [c for c in ADDRESS_COLUMNS if c in addresses]
    found = _classify_each(
        addresses[columns].iloc[first].reset_index(drop=True),
        offers,
        sub_a,
        sub_o,
        profile,
        day,
        include_planned,
        sub_bounds,
    )
    return Classified(gathered(found.results, group), found.best[group], found.planned[group])


def _classify_each(
    addresses: pd.DataFrame,
    offers: pd.DataFrame,
    a: np.ndarray,
    o: np.ndarray,
    profile: Profile,
    day: date,
    include_planned: bool,
    bounds: np.ndarray,
) -> Classified:
    """:func:`classify_offers` of every address on pairs sorted by address (``bounds``:
    :func:`~coverage.rules.common.pair_bounds` of ``a``)."""
    n = len(addresses)
    engine = ENGINES[profile.method]
    arr = _offer_arrays(offers, profile, day, include_planned)
    rules = engine.offer_rules(arr, profile)

    avail_days = np.where(
        np.isnat(arr.available_from),
        np.nan,
        arr.available_from.astype("datetime64[D]").astype("float64"),
    )
    rank = rules.rank.astype("float64")
    score_now = offer_score(
        [rank, arr.down, arr.up, -arr.latency], rules.counted & arr.existing_now
    )
    score_plan = offer_score([rank, arr.down, arr.up, -avail_days], rules.counted & arr.planned_ok)
    # one network per operator (coverage.rules.operators), whatever its technologies
    prov_codes = arr.provider_code
    net = np.where(rules.network_ok & (prov_codes >= 0), prov_codes.astype(np.int64), -1)
    # dense codes 0..k-1 over the qualifying networks only (engines count their own subsets)
    qualifying = net >= 0
    _, dense = np.unique(net[qualifying], return_inverse=True)
    k = int(dense.max(initial=-1)) + 1
    net_dtype = np.int16 if k < 2**15 else np.int32 if k < 2**31 else np.int64
    net = np.full(len(net), -1, dtype=net_dtype)
    net[qualifying] = dense.reshape(-1)
    # every per-address reduction over the pairs in one compiled pass
    per = reduce_runs(bounds, o, score_now, score_plan, net, arr.existing_now, arr.planned_ok)
    best = offer_of_score(score_now, per.best_a)
    planned = offer_of_score(score_plan, per.best_b)
    nets_now, nets_plan, nets_any = per.counts
    safe_rank = np.append(rules.rank.astype(np.int64), -1)  # index -1 -> "none"
    best_rank, planned_rank = safe_rank[best], safe_rank[planned]

    out = OfferColumns(offers)(best, planned)
    out["networks_now"] = nets_now
    out["networks_planned"] = nets_plan

    ctx = AddressContext(
        n=n,
        addr_idx=a,
        offer_idx=o,
        best=best,
        planned=planned,
        best_rank=best_rank,
        planned_rank=planned_rank,
        networks_now=nets_now,
        networks_planned=nets_plan,
        networks_any=nets_any,
        any_existing=per.any_a,
        best_text=offer_text(offers, best),
        planned_text=offer_text(offers, planned),
        planned_date=_date_text(out["planned_available_from"]),
        include_planned=include_planned,
        network_code=net,
        as_of=day,
        bounds=bounds,
    )
    decision = engine.decide(ctx, arr, rules, profile)
    klass = _strings(decision.klass)
    eligible = klass.isin(profile.eligible_classes).to_numpy(dtype=bool, copy=True)
    reason = decision.reason

    site = (
        addresses["site_type"].astype("string").fillna("private").reset_index(drop=True)
        if "site_type" in addresses
        else pd.Series("private", index=out.index, dtype="string")
    )
    site_rule = pd.Series(pd.NA, index=out.index, dtype="string")
    for rule in profile.site_rules:
        applies = site.isin(rule.site_types).to_numpy(dtype=bool) & ~eligible
        if rule.action == "eligible_unless":
            blocked = klass.isin(rule.unless_classes).to_numpy(dtype=bool, copy=True)
            if rule.unless_down_mbps is not None or rule.unless_up_mbps is not None:
                # any one existing counted offer reaching both speeds blocks the rule (BEAD:
                # a CAI "lacks access" only if none of its reliable offers is 1000/1000)
                with np.errstate(invalid="ignore"):
                    hit = rules.counted & arr.existing_now
                    if rule.unless_down_mbps is not None:
                        hit &= arr.down >= rule.unless_down_mbps
                    if rule.unless_up_mbps is not None:
                        hit &= arr.up >= rule.unless_up_mbps
                blocked |= any_per_point(a, hit[o], n)
            if rule.unless_technologies:
                hit = rules.counted & arr.existing_now & arr.tech_in(rule.unless_technologies)
                blocked |= any_per_point(a, hit[o], n)
            applies &= ~blocked
        eligible |= applies
        site_rule = site_rule.mask(applies, rule.id)
        reason = compose(
            n, [(applies, [reason, f"; eligible by site rule {rule.id} ({rule.label})"])], reason
        )

    # text columns with few distinct values are categorical: a run of millions of addresses
    # holds each reason once, not once per address (files store them as plain strings)
    out["class"] = klass.astype("category")
    out["eligible"] = eligible
    out["reason_code"] = _categories(decision.reason_code)
    out["reason"] = _categories(reason)
    out["site_rule"] = site_rule.astype("category")
    constant = np.zeros(n, dtype=np.int8)
    for col, value in (("profile_id", profile.id), ("profile_version", profile.version)):
        out[col] = pd.Categorical.from_codes(constant, categories=pd.Index([value], dtype="string"))
    out["networks_now"] = out["networks_now"].astype("int32")
    out["networks_planned"] = out["networks_planned"].astype("int32")
    return Classified(out[list(RESULT_COLUMNS)], best, planned)


def _date_text(when: pd.Series) -> np.ndarray:
    """``"2026-05-01"`` per date, ``""`` where missing (formatted once per distinct date)."""
    codes, uniques = pd.factorize(when)  # missing: -1, the appended ""
    text = np.array([*pd.DatetimeIndex(uniques).strftime("%Y-%m-%d"), ""], dtype=object)
    return text[codes]


def concat_results(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """:func:`classify` results of consecutive address chunks as one frame (RangeIndex).

    Categorical columns stay categorical, with sorted categories (``pd.concat`` turns
    categoricals with different categories into object columns).
    """
    if len(parts) == 1:
        return parts[0]
    columns = list(parts[0].columns)
    categorical = [c for c in columns if isinstance(parts[0][c].dtype, pd.CategoricalDtype)]
    out = pd.concat([p.drop(columns=categorical) for p in parts], ignore_index=True)
    for col in categorical:
        out[col] = union_categoricals([p[col] for p in parts], sort_categories=True)
    return out[columns]
