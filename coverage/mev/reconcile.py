"""All operators' claims side by side, the conflicts between them, and the resolved offers.

Conflict kinds (each names the address, the operators and the facts):

``different_facts``
    Two or more operators claim the same technology with the same status at one address
    with different speeds (usually one network reported twice, e.g. wholesale and retail).
``contradicts_measurement``
    An existing claim the Kreis's earlier run contradicts: its discrepancy flags (measured
    speed tests or the Breitbandatlas disagree with the mapped coverage) are set at the
    address and the claim's download is more than twice the measured download (or the atlas
    shows no such coverage there).
``planned_without_date`` / ``planned_beyond_horizon``
    A planned build that cannot count as it stands.

A resolution per conflict (decided by an analyst, with a reason) is one of ``accept`` (keep
every claim), ``reject:<operator>`` (drop that operator's claims at the address) or
``reject_all``. A planned build without a date that is accepted keeps no date and so does not
count under any profile (classify needs a date inside the horizon); accepting one beyond the
horizon records the decision, and classify still applies the horizon of the profile.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np
import pandas as pd

from coverage.errors import InputDataError

CONFLICT_COLUMNS = ("conflict_id", "address_id", "kind", "operators", "detail")
KINDS = (
    "different_facts",
    "contradicts_measurement",
    "planned_without_date",
    "planned_beyond_horizon",
)
#: German labels of the conflict kinds (published in the analyst's tables)
KIND_LABELS = {
    "different_facts": "abweichende Angaben mehrerer Betreiber",
    "contradicts_measurement": "Widerspruch zu Messdaten/Breitbandatlas",
    "planned_without_date": "geplanter Ausbau ohne Datum",
    "planned_beyond_horizon": "geplanter Ausbau nach dem Zeithorizont",
}
#: measured download below claimed / MEASURED_FACTOR makes an existing claim doubtful
MEASURED_FACTOR = 2.0


def conflict_id(kind: str, address_id: str, operators: str) -> str:
    """Stable id of a conflict: the same claims give the same id in every reconciliation."""
    digest = hashlib.sha256(f"{kind}|{address_id}|{operators}".encode()).hexdigest()
    return f"k_{digest[:12]}"


def combine(replies: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The newest claims of every operator in one frame (``replies``: operator -> claims)."""
    frames = [f for f in replies.values() if len(f)]
    if not frames:
        return pd.DataFrame(columns=["address_id", "operator", "status", "technology", "down_mbps",
                                     "up_mbps", "available_from", "row", "flag"])  # fmt: skip
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["address_id", "operator", "status"], kind="stable").reset_index(
        drop=True
    )


def _fmt(c: pd.Series) -> str:
    up = "" if pd.isna(c["up_mbps"]) else f"/{c['up_mbps']:g}"
    when = "" if pd.isna(c["available_from"]) else f" ab {c['available_from']:%d.%m.%Y}"
    return f"{c['operator']}: {str(c['technology']).upper()} {c['down_mbps']:g}{up} Mbit/s{when}"


def side_by_side(claims: pd.DataFrame, area_ids: pd.Series) -> pd.DataFrame:
    """One row per address of the project area; one column per operator with its claims
    (German text, ``heute``/``geplant``); addresses without any claim say so."""
    base = pd.DataFrame({"Adress-ID": area_ids.astype("string").to_numpy()})
    if len(claims) == 0:
        base["Rückmeldungen"] = 0
        return base
    text = claims.assign(
        t=[
            ("heute " if s == "existing" else "geplant ") + _fmt(c).split(": ", 1)[1]
            for s, (_, c) in zip(claims["status"], claims.iterrows(), strict=True)
        ]
    )
    wide = text.groupby(["address_id", "operator"])["t"].agg("; ".join).unstack("operator")
    wide.index.name = "Adress-ID"
    out = base.merge(wide.reset_index(), on="Adress-ID", how="left")
    ops = list(wide.columns)
    out["Rückmeldungen"] = out[ops].notna().sum(axis=1).astype("int64")
    return out.fillna(dict.fromkeys(ops, ""))


def find_conflicts(claims: pd.DataFrame, baseline: pd.DataFrame | None = None) -> pd.DataFrame:
    """The conflicts of the claims (see the module docstring), sorted by address and kind.

    ``baseline``: the earlier run's per-address table; its ``discrepancy``,
    ``measured_down_mbps`` and ``atlas_share_pct`` columns are used when present.
    """
    rows: list[tuple[str, str, str, str]] = []
    if len(claims):
        key = ["address_id", "status", "technology"]
        shared = claims.groupby(key, observed=True)["operator"].transform("nunique") > 1
        for (aid, status, tech), g in claims[shared.to_numpy()].groupby(key, observed=True):
            facts = g[["down_mbps", "up_mbps"]].round(3).drop_duplicates()
            if len(facts) > 1:
                ops = "|".join(sorted(g["operator"].unique()))
                detail = "; ".join(_fmt(c) for _, c in g.iterrows())
                rows.append((str(aid), "different_facts", ops,
                             f"{'heute' if status == 'existing' else 'geplant'} {str(tech).upper()}: {detail}"))  # fmt: skip
        for flag in ("planned_without_date", "planned_beyond_horizon"):
            for _, c in claims[claims["flag"] == flag].iterrows():
                rows.append((str(c["address_id"]), flag, str(c["operator"]), "geplant " + _fmt(c)))
    if baseline is not None and len(claims) and "discrepancy" in baseline:
        rows += _measured(claims, baseline)
    out = pd.DataFrame(rows, columns=["address_id", "kind", "operators", "detail"])
    out.insert(0, "conflict_id", [conflict_id(k, a, o) for a, k, o in
                                  zip(out["address_id"], out["kind"], out["operators"], strict=True)])  # fmt: skip
    out = out.drop_duplicates("conflict_id")
    return out.sort_values(["address_id", "kind", "operators"], kind="stable").reset_index(
        drop=True
    )


def _measured(claims: pd.DataFrame, baseline: pd.DataFrame) -> list[tuple[str, str, str, str]]:
    b = pd.DataFrame(baseline).copy()
    b["address_id"] = b["address_id"].astype("string")
    b = b[b["discrepancy"].fillna(False).astype(bool)].set_index("address_id")
    now = claims[(claims["status"] == "existing") & claims["address_id"].isin(b.index)]
    rows = []
    for _, c in now.iterrows():
        ref = b.loc[c["address_id"]]
        measured = ref.get("measured_down_mbps", np.nan)
        share = ref.get("atlas_share_pct", np.nan)
        doubtful = (pd.notna(measured) and c["down_mbps"] > MEASURED_FACTOR * measured) or (
            pd.notna(share) and share == 0
        )
        if doubtful:
            what = []
            if pd.notna(measured):
                what.append(f"gemessen {measured:g} Mbit/s")
            if pd.notna(share):
                what.append(f"Breitbandatlas {share:g} %")
            rows.append((str(c["address_id"]), "contradicts_measurement", str(c["operator"]),
                         f"{_fmt(c)} gegenüber {', '.join(what)}"))  # fmt: skip
    return rows


def check_decision(decision: str, operators: str) -> str:
    """Validate a resolution against its conflict's operators; returns it normalised."""
    d = decision.strip()
    if d in ("accept", "reject_all"):
        return d
    if d.startswith("reject:"):
        op = d.split(":", 1)[1].strip()
        if op.lower() in (o.lower() for o in operators.split("|")):
            return f"reject:{op}"
        raise InputDataError(
            f"decision {decision!r}: {op!r} is not an operator of this conflict ({operators.replace('|', ', ')})"
        )
    raise InputDataError(f"decision {decision!r}: use accept, reject_all or reject:<operator>")


def resolve(
    claims: pd.DataFrame,
    conflicts: pd.DataFrame,
    decisions: Mapping[str, str],
    *,
    require_all: bool = True,
) -> pd.DataFrame:
    """Claims after the analyst's decisions (``decisions``: conflict id -> decision).

    Every conflict needs a decision when ``require_all`` (the result of an MEV does); a
    decision for a conflict that no longer exists (the reply was corrected) is ignored.
    """
    open_ = [c for c in conflicts["conflict_id"] if c not in decisions]
    if require_all and open_:
        raise InputDataError(
            f"{len(open_)} conflict(s) have no decision yet (e.g. {open_[0]}); resolve each with "
            "a decision and a reason before the result"
        )
    drop = np.zeros(len(claims), dtype=bool)
    for _, k in conflicts.iterrows():
        d = decisions.get(k["conflict_id"])
        if d is None or d == "accept":
            continue
        at = (claims["address_id"] == k["address_id"]).to_numpy()
        ops = k["operators"].split("|") if d == "reject_all" else [d.split(":", 1)[1]]
        hit = at & claims["operator"].str.lower().isin([o.lower() for o in ops]).to_numpy()
        if k["kind"].startswith("planned_"):
            hit &= (claims["status"] == "planned").to_numpy()
        drop |= hit
    return claims.loc[~drop].reset_index(drop=True)


def resolved_offers(claims: pd.DataFrame) -> pd.DataFrame:
    """Resolved claims as an address-keyed offer list (the columns ``gapmap run --offers``
    reads): one row per claim, source ``MEV <operator>``. A planned build without a date
    that was accepted cannot count under any profile (docs/mev.md), so it is no offer; it
    stays in the claims and in the decisions table."""
    undated = (claims["status"] == "planned").to_numpy(dtype=bool) & claims[
        "available_from"
    ].isna().to_numpy()
    claims = claims.loc[~undated]
    out = pd.DataFrame(
        {
            "address_id": claims["address_id"].astype("string"),
            "provider": claims["operator"].astype("string"),
            "technology": claims["technology"].astype("string"),
            "down_mbps": claims["down_mbps"].astype("float64"),
            "up_mbps": claims["up_mbps"].astype("float64"),
            "status": claims["status"].astype("string"),
            "available_from": pd.to_datetime(claims["available_from"]).dt.strftime("%Y-%m-%d"),
            "source": ("MEV " + claims["operator"].astype("string")),
        }
    )
    return out.sort_values(["address_id", "provider", "status"], kind="stable").reset_index(
        drop=True
    )


def silent_addresses(claims: pd.DataFrame, area_ids: pd.Series) -> pd.Series:
    """Address ids of the project area that no operator replied for."""
    ids = area_ids.astype("string")
    return ids[~ids.isin(claims["address_id"])].reset_index(drop=True)
