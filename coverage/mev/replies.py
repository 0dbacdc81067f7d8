"""One operator's reply to an MEV: checked row by row and turned into per-address claims.

A reply is either the template (one row per address: today's technology and speeds, the
planned build with its date) or coverage polygons. Every row that cannot count is listed with
its reason (``Fehler``: not used); rows that count but need an analyst's look are listed as
``Hinweis`` (a planned build without a date or beyond the horizon) and become conflicts in the
reconciliation. Nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.kernel.join import points_in_polygons
from coverage.matching import match_offers
from coverage.mev.procedure import MevSpec
from coverage.mev.publication import ADDRESS_HEADERS, REPLY_HEADERS
from coverage.schema import TECHNOLOGY_ALIASES, Technology, validate_offers

#: Plausibility limits (Mbit/s, download and upload): the physical maximum of the access
#: standard. ADSL2+ (ITU-T G.992.5) 24 Mbit/s; VDSL2 profile 35b (Supervectoring) 300 Mbit/s;
#: anything else 10 000 Mbit/s (10 Gbit/s: XGS-PON / DOCSIS 3.1 full duplex, the fastest
#: mass-market access). Above these a figure is a typing error, not a product.
MAX_MBPS: dict[str, float] = {"adsl": 25.0, "vdsl": 300.0}
MAX_MBPS_ANY = 10_000.0

#: German status words in polygon replies (the cover sheet asks for "Bestand" or "geplant")
_STATUS_DE = {
    "bestand": "existing",
    "heute": "existing",
    "geplant": "planned",
    "planung": "planned",
}
CLAIM_COLUMNS = (
    "address_id", "operator", "status", "technology", "down_mbps", "up_mbps", "available_from",
    "row", "flag",
)  # fmt: skip
ISSUE_COLUMNS = ("Zeile", "Adress-ID", "Feld", "Wert", "Schwere", "Grund")

_MATCH_REASONS = {
    "unknown_address_id": "unbekannte Adress-ID (nicht im Projektgebiet)",
    "no_key": "weder Adress-ID noch Straße und Hausnummer angegeben",
    "street_not_found": "Straße im Projektgebiet nicht gefunden",
    "number_not_found": "Hausnummer in dieser Straße nicht gefunden",
    "ambiguous": "Adresse nicht eindeutig (mehrere Adressen passen)",
}
_HEADER_TO_KEY = {
    **{h.lower(): k for k, h in ADDRESS_HEADERS.items()},
    **{h.lower(): k for k, h in REPLY_HEADERS.items()},
}


@dataclass
class ReplyCheck:
    """Claims that count (``claims``), reasons for the rows that do not (``issues``)."""

    claims: pd.DataFrame
    issues: pd.DataFrame
    rows: int
    rows_used: int
    empty_rows: int

    @property
    def errors(self) -> int:
        return int((self.issues["Schwere"] == "Fehler").sum()) if len(self.issues) else 0

    def summary(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "rows_used": self.rows_used,
            "empty_rows": self.empty_rows,
            "errors": self.errors,
            "notes": len(self.issues) - self.errors,
            "claims": len(self.claims),
            "addresses": int(self.claims["address_id"].nunique()) if len(self.claims) else 0,
        }


class _Issues:
    def __init__(self) -> None:
        self.rows: list[tuple[object, ...]] = []

    def add(
        self, row: int, aid: object, field: str, value: object, reason: str, *, error: bool
    ) -> None:
        text = (
            "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
        )
        self.rows.append(
            (
                row,
                "" if pd.isna(aid) else str(aid),
                field,
                text,
                "Fehler" if error else "Hinweis",
                reason,
            )
        )

    def frame(self) -> pd.DataFrame:
        out = pd.DataFrame(self.rows, columns=list(ISSUE_COLUMNS))
        return out.sort_values(["Zeile", "Feld"], kind="stable").reset_index(drop=True)


def canonical_reply(frame: pd.DataFrame) -> pd.DataFrame:
    """Template headers (German) -> canonical keys; other columns are kept as they are."""
    rename = {
        c: _HEADER_TO_KEY[str(c).strip().lower()]
        for c in frame.columns
        if str(c).strip().lower() in _HEADER_TO_KEY
    }
    return frame.rename(columns=rename).reset_index(drop=True)


def _text(frame: pd.DataFrame, key: str) -> pd.Series:
    if key not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    out = frame[key].astype("string").str.strip()
    return out.mask(out == "")


def _parse_date(value: str) -> date | None:
    for fmt in ("%d.%m.%Y", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%d.%m.%y"):
        try:
            return pd.to_datetime(value, format=fmt).date()
        except (ValueError, TypeError):
            continue
    return None


def _speed(
    raw: object, header: str, tech: str | None, row: int, aid: object, issues: _Issues
) -> float | None:
    """Mbit/s from text (decimal comma allowed); None after recording an error."""
    if pd.isna(raw):
        return np.nan
    try:
        value = float(str(raw).replace(",", "."))
    except ValueError:
        issues.add(row, aid, header, raw, "keine Zahl; Mbit/s mit Ziffern angeben", error=True)
        return None
    limit = MAX_MBPS.get(tech or "", MAX_MBPS_ANY)
    if value < 0 or not np.isfinite(value):
        issues.add(row, aid, header, raw, "negative Geschwindigkeit", error=True)
        return None
    if value > limit:
        issues.add(
            row, aid, header, raw,
            f"unmögliche Geschwindigkeit: mehr als {limit:,.0f} Mbit/s für {str(tech).upper()}".replace(",", "."),
            error=True,
        )  # fmt: skip
        return None
    return value


def _tech(raw: object, header: str, row: int, aid: object, issues: _Issues) -> str | None:
    key = str(raw).strip().lower()
    if key in TECHNOLOGY_ALIASES:
        return TECHNOLOGY_ALIASES[key].value
    known = ", ".join(t.value.upper() for t in Technology)
    issues.add(row, aid, header, raw, f"unbekannte Technologie; zulässig: {known}", error=True)
    return None


def check_reply(
    frame: pd.DataFrame, area: pd.DataFrame, spec: MevSpec, operator: str
) -> ReplyCheck:
    """Check a template reply against the project area's addresses (``area``: canonical
    address columns) and return its claims and issues."""
    src = canonical_reply(frame)
    n = len(src)
    issues = _Issues()
    fields = (
        "technology_now",
        "down_now",
        "up_now",
        "technology_planned",
        "down_planned",
        "up_planned",
        "date_planned",
    )
    values = {k: _text(src, k) for k in fields}
    filled = np.zeros(n, dtype=bool)
    for v in values.values():
        filled |= v.notna().to_numpy()
    empty = int((~filled).sum())

    # addresses: by id, else street + number + postcode/place (coverage.matching)
    keyed = src.loc[filled].copy()
    keyed["address_id"] = _text(keyed, "address_id")
    match = match_offers(pd.DataFrame(area), keyed)
    pos = dict(zip(match.offer_idx.tolist(), match.addr_idx.tolist(), strict=True))
    rows_filled = np.flatnonzero(filled)
    for _, um in match.unmatched.iterrows():
        src_row = int(rows_filled[int(um["row"]) - 1]) + 2  # header is line 1
        issues.add(src_row, um.get("address_id"), "Adress-ID", um.get("address_id"),
                   _MATCH_REASONS.get(str(um["reason"]), str(um["reason"])), error=True)  # fmt: skip
    area_ids = area["address_id"].astype("string").to_numpy()

    named = _text(src, "operator")
    claims: list[dict[str, object]] = []
    used = 0
    for k, i in enumerate(rows_filled):
        line = int(i) + 2
        if k not in pos:
            continue
        aid = area_ids[pos[k]]
        if pd.notna(named.iloc[i]) and named.iloc[i].lower() != operator.lower():
            issues.add(line, aid, REPLY_HEADERS["operator"], named.iloc[i],
                       f"anderer Betreiber als der Absender ({operator}); Zeile nicht verwendet", error=True)  # fmt: skip
            continue
        row_claims, ok = [], True
        for status, suffix in (("existing", "now"), ("planned", "planned")):
            t_raw = values[f"technology_{suffix}"].iloc[i]
            d_raw, u_raw = values[f"down_{suffix}"].iloc[i], values[f"up_{suffix}"].iloc[i]
            if pd.isna(t_raw) and pd.isna(d_raw) and pd.isna(u_raw):
                continue
            h_t = REPLY_HEADERS[f"technology_{suffix}"]
            if pd.isna(t_raw):
                issues.add(line, aid, h_t, "", "Geschwindigkeit ohne Technologie", error=True)
                ok = False
                continue
            tech = _tech(t_raw, h_t, line, aid, issues)
            down = _speed(d_raw, REPLY_HEADERS[f"down_{suffix}"], tech, line, aid, issues)
            up = _speed(u_raw, REPLY_HEADERS[f"up_{suffix}"], tech, line, aid, issues)
            if tech is None or down is None or up is None:
                ok = False
                continue
            if np.isnan(down):
                issues.add(
                    line, aid, REPLY_HEADERS[f"down_{suffix}"], "", "Download fehlt", error=True
                )
                ok = False
                continue
            when, flag = pd.NaT, ""
            if status == "planned":
                d_text = values["date_planned"].iloc[i]
                h_d = REPLY_HEADERS["date_planned"]
                if pd.isna(d_text):
                    flag = "planned_without_date"
                    issues.add(
                        line,
                        aid,
                        h_d,
                        "",
                        "geplanter Ausbau ohne Datum: zählt nicht, bis ein Datum vorliegt",
                        error=False,
                    )
                else:
                    parsed = _parse_date(str(d_text))
                    if parsed is None:
                        issues.add(
                            line, aid, h_d, d_text, "kein Datum; Format TT.MM.JJJJ", error=True
                        )
                        ok = False
                        continue
                    when = pd.Timestamp(parsed)
                    if parsed > spec.horizon_end:
                        flag = "planned_beyond_horizon"
                        issues.add(line, aid, h_d, d_text,
                                   f"nach dem Ende des Zeithorizonts ({spec.horizon_end:%d.%m.%Y})", error=False)  # fmt: skip
            row_claims.append({"address_id": aid, "operator": operator, "status": status,
                               "technology": tech, "down_mbps": down, "up_mbps": up,
                               "available_from": when, "row": line, "flag": flag})  # fmt: skip
        if ok and row_claims:
            used += 1
            claims += row_claims
        elif not ok:
            pass  # the row's errors are listed; a half-valid row never counts
    return ReplyCheck(_claims_frame(claims), issues.frame(), n, used, empty)


def _claims_frame(rows: list[dict[str, object]] | pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))
    out["address_id"] = out["address_id"].astype("string")
    for c in ("operator", "status", "technology", "flag"):
        out[c] = out[c].astype("string")
    for c in ("down_mbps", "up_mbps"):
        out[c] = out[c].astype("float64")
    out["available_from"] = pd.to_datetime(out["available_from"])
    out["row"] = out["row"].astype("int64")
    return out


def check_polygon_reply(
    polygons: gpd.GeoDataFrame, area: gpd.GeoDataFrame, spec: MevSpec, operator: str, *, source: str
) -> ReplyCheck:
    """A reply as coverage polygons (working CRS): every area address a polygon covers gets
    that polygon's claim. Polygons are validated like coverage layers (errors name the row)."""
    src = polygons.assign(provider=operator).reset_index(drop=True)
    if "status" in src:
        status = src["status"].astype("string").str.strip().str.lower()
        src["status"] = status.replace(_STATUS_DE)
    undated = np.zeros(len(src), dtype=bool)
    if "status" in src and "available_from" in src:
        planned = src["status"].astype("string").str.strip().str.lower().eq("planned").fillna(False)
        blank = src["available_from"].isna() | src["available_from"].astype(
            "string"
        ).str.strip().eq("")
        undated = (planned & blank).to_numpy(dtype=bool)
        # validate_offers refuses planned rows without a date; here they are kept and flagged
        src.loc[undated, "available_from"] = "2999-12-31"
    table, report = validate_offers(src, source=source)
    issues = _Issues()
    for w in report.warnings:
        issues.add(0, None, "Geometrie", "", w, error=False)
    geom = area.geometry.values
    p_idx, o_idx = points_in_polygons(
        geom.x, geom.y, np.asarray(table.geometry.values, dtype=object)
    )
    horizon_end = pd.Timestamp(spec.horizon_end)
    area_ids = area["address_id"].astype("string").to_numpy()
    off = table.iloc[o_idx].reset_index(drop=True)
    planned = off["status"].astype("string").eq("planned").fillna(False).to_numpy()
    when = pd.to_datetime(off["available_from"]).mask(undated[o_idx])
    flag = np.where(planned & when.isna().to_numpy(), "planned_without_date",
                    np.where(planned & (when > horizon_end).fillna(False).to_numpy(), "planned_beyond_horizon", ""))  # fmt: skip
    rows = pd.DataFrame({"address_id": area_ids[p_idx], "operator": operator,
                         "status": np.where(planned, "planned", "existing"), "technology": off["technology"].to_numpy(),
                         "down_mbps": off["down_mbps"].to_numpy(), "up_mbps": off["up_mbps"].to_numpy(),
                         "available_from": when.to_numpy(), "row": o_idx + 1, "flag": flag})  # fmt: skip
    for o in np.setdiff1d(np.arange(len(table)), o_idx):
        issues.add(
            int(o) + 1,
            None,
            "Geometrie",
            "",
            "Polygon deckt keine Adresse des Projektgebiets ab",
            error=False,
        )
    claims = _claims_frame(rows).drop_duplicates(
        ["address_id", "status", "technology", "down_mbps", "up_mbps", "available_from"]
    )
    for _, c in claims[claims["flag"] != ""].iterrows():
        text = ("geplanter Ausbau ohne Datum" if c["flag"] == "planned_without_date"
                else f"nach dem Ende des Zeithorizonts ({spec.horizon_end:%d.%m.%Y})")  # fmt: skip
        issues.add(
            int(c["row"]), c["address_id"], "verfuegbar_ab", c["available_from"], text, error=False
        )
    used = int(np.unique(o_idx).size)
    return ReplyCheck(claims.reset_index(drop=True), issues.frame(), len(table), used, 0)
