"""The result of an MEV against what was published: eligible addresses and what changed why."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from coverage.mev.publication import ADDRESS_HEADERS

CHANGE_LABELS = {
    "now_ineligible": "nicht mehr förderfähig",
    "now_eligible": "neu förderfähig",
    "class_changed": "Klasse geändert",
}


def _yes_no(values: pd.Series) -> pd.Series:
    return (
        values.map({True: "ja", False: "nein"}).astype("object").where(values.notna(), "unbekannt")
    )


def _label(values: pd.Series, labels: Mapping[str, str] | None) -> pd.Series:
    text = values.astype("string")
    return text.map(lambda c: labels.get(c, c) if pd.notna(c) else c) if labels else text


def eligible_list(result: pd.DataFrame, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The eligible addresses of the result (German headers, class labels of the profile),
    sorted by address id."""
    cols = [c for c in ADDRESS_HEADERS if c in result]
    sel = result.loc[
        result["eligible"].fillna(False).astype(bool), [*cols, "class", "reason"]
    ].copy()
    sel["class"] = _label(sel["class"], labels)
    out = sel.rename(columns={**ADDRESS_HEADERS, "class": "Klasse", "reason": "Begründung"})
    return out.sort_values("Adress-ID", kind="stable").reset_index(drop=True)


def changes(
    before: pd.DataFrame | None,
    result: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
    offers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Addresses whose class or eligibility differs between the published list (``before``:
    address_id, class, eligible of the earlier run) and the result, with the operator whose
    offer decides the new class (``best_provider`` today, ``planned_provider`` planned) and,
    given the resolved ``offers`` (address_id, provider), every operator that reported an
    offer there: a black spot rests on two operators' networks, not on the best one alone."""
    cols = ["address_id", "class", "eligible", "best_provider", "planned_provider", "reason"]
    after = pd.DataFrame(result[cols]).copy()
    after["address_id"] = after["address_id"].astype("string")
    if before is None:
        before = pd.DataFrame(
            {"address_id": after["address_id"], "class": pd.NA, "eligible": pd.NA}
        )
    b = pd.DataFrame(before[["address_id", "class", "eligible"]]).copy()
    b["address_id"] = b["address_id"].astype("string")
    m = after.merge(b, on="address_id", how="left", suffixes=("", "_before"))
    was = m["eligible_before"].astype("boolean")
    now = m["eligible"].astype("boolean")
    kind = pd.Series(pd.NA, index=m.index, dtype="string")
    kind[(m["class"].astype("string") != m["class_before"].astype("string")).fillna(True)] = (
        "class_changed"
    )
    kind[(was & ~now).fillna(False)] = "now_ineligible"
    kind[(~was & now).fillna(False)] = "now_eligible"
    m = m[kind.notna()].copy()
    m["kind"] = kind[kind.notna()]
    by = m["best_provider"].astype("string").fillna("")
    planned = m["planned_provider"].astype("string").fillna("")
    out = pd.DataFrame(
        {
            "Adress-ID": m["address_id"],
            "Änderung": m["kind"].map(CHANGE_LABELS),
            "Klasse vorher": _label(m["class_before"], labels).fillna("unbekannt"),
            "förderfähig vorher": _yes_no(m["eligible_before"]),
            "Klasse nachher": _label(m["class"], labels),
            "förderfähig nachher": _yes_no(m["eligible"]),
            "Betreiber heute": by,
            "Betreiber geplant": planned,
            "Begründung": m["reason"].astype("string"),
        }
    )
    if offers is not None:
        out.insert(8, "alle gemeldeten Betreiber", _operators_at(out["Adress-ID"], offers))
    return out.sort_values(["Änderung", "Adress-ID"], kind="stable").reset_index(drop=True)


def _operators_at(address_ids: pd.Series, offers: pd.DataFrame) -> pd.Series:
    """The operators with a resolved offer at each address, sorted, joined by ", "."""
    pairs = pd.DataFrame(
        {
            "address_id": offers["address_id"].astype("string"),
            "p": offers["provider"].astype("string"),
        }
    ).drop_duplicates()
    joined = pairs.sort_values("p").groupby("address_id")["p"].agg(", ".join)
    return address_ids.astype("string").map(joined).fillna("").astype("string")


def change_counts(table: pd.DataFrame) -> dict[str, int]:
    """How many addresses changed in which way (keys of :data:`CHANGE_LABELS`)."""
    labels = {v: k for k, v in CHANGE_LABELS.items()}
    counts = table["Änderung"].map(labels).value_counts()
    return {k: int(counts.get(k, 0)) for k in CHANGE_LABELS}


def ineligible_by_operator(table: pd.DataFrame) -> dict[str, int]:
    """Addresses that became ineligible, per operator whose offer decides it."""
    lost = table[table["Änderung"] == CHANGE_LABELS["now_ineligible"]]
    who = lost["Betreiber heute"].where(lost["Betreiber heute"] != "", lost["Betreiber geplant"])
    return {str(k): int(v) for k, v in who.value_counts().sort_index().items()}
