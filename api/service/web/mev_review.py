"""MEV pages of the analyst's review: operators' replies (upload, versions, the row check),
the conflicts with every operator's claims side by side and their decisions, and the result.

Replies are confidential: analyst and admin keys only (``mev_view.analyst``), as in the API.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.service.deps import get_services
from api.service.web.i18n import language, translator
from api.service.web.mev_texts import CHANGE_COLUMNS, fix_for
from api.service.web.mev_view import (
    MevIdPath,
    ReplyIdPath,
    actor,
    analyst,
    flow,
    header,
    paged,
    posted,
    text,
    upload,
)
from api.service.web.render import page, render
from coverage.errors import InputDataError
from coverage.mev.outcome import CHANGE_LABELS
from coverage.mev.reconcile import KINDS
from maps.i18n import class_label

router = APIRouter(prefix="/ui/mev", include_in_schema=False)
PageQ = Annotated[int, Query(ge=1, le=1_000_000)]
_CHUNK = 1 << 20


# -- replies -----------------------------------------------------------------------------------
@router.get("/{mev_id}/replies")
@page
async def replies_page(request: Request, mev_id: MevIdPath) -> Response:
    """Every reply version per operator (the newest counts; earlier ones are kept)."""
    who = await analyst(request)
    t = translator(language(request))

    def load() -> dict[str, Any]:
        f = flow(request)
        mev = f.mevs.get(mev_id)
        by_op: dict[str, list[Any]] = {}
        for r in f.mevs.replies(mev_id):
            by_op.setdefault(r.operator, []).append(r)
        groups = [(op, sorted(rs, key=lambda r: -r.version)) for op, rs in sorted(by_op.items())]
        return {**header(mev, t, date.today()), "groups": groups, "open": mev.state == "published"}

    return render(request, "mev_replies.html", await run_in_threadpool(load), who=who)


@router.post("/{mev_id}/replies")
@page
async def reply_upload(request: Request, mev_id: MevIdPath) -> Response:
    """Check and store one operator's reply; the page of its row check follows."""
    who = await analyst(request)
    form = await posted(request, who, files=1)
    operator = text(form, "operator")
    file = upload(form, "file")
    if file is None:
        raise InputDataError("file: choose the operator's reply file")
    store = get_services(request).store
    by = actor(request, who)

    def store_reply() -> str:
        name = Path(file.filename or "reply").name
        store.tmp_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=store.tmp_dir, prefix="reply-") as tmp:
            dest = Path(tmp) / ("upload" + Path(name).suffix.lower()[:12])
            with dest.open("wb") as fh:
                shutil.copyfileobj(file.file, fh, _CHUNK)
            return flow(request).add_reply(mev_id, operator, dest, name, by).row.id

    reply_id = await run_in_threadpool(store_reply)
    return RedirectResponse(f"/ui/mev/{mev_id}/replies/{reply_id}", status_code=303)


@router.get("/{mev_id}/replies/{reply_id}")
@page
async def reply_issues(
    request: Request, mev_id: MevIdPath, reply_id: ReplyIdPath, p: PageQ = 1
) -> Response:
    """The row check of one reply version: row, field, value, reason and the fix, paged."""
    who = await analyst(request)
    lang = language(request)
    t = translator(lang)

    def load() -> dict[str, Any]:
        f = flow(request)
        mev = f.mevs.get(mev_id)
        reply = f.mevs.reply(mev_id, reply_id)
        issues = f.issues(mev_id, reply_id)
        rows = [{"row": r["Zeile"], "address_id": r["Adress-ID"], "field": r["Feld"], "value": r["Wert"],
                 "severity": r["Schwere"], "reason": r["Grund"], "fix": fix_for(r["Grund"], lang)}
                for r in issues.to_dict("records")]  # fmt: skip
        return {**header(mev, t, date.today()), "reply": reply, "issues": paged(rows, p)}

    return render(request, "mev_issues.html", await run_in_threadpool(load), who=who)


# -- conflicts ---------------------------------------------------------------------------------
def _labels(area: pd.DataFrame) -> dict[str, str]:
    """Address id -> 'Straße 5a, 59581 Warstein' for the conflicts table."""

    def col(c: str) -> pd.Series:
        return area[c].astype("string").fillna("") if c in area else pd.Series("", index=area.index)

    text_ = (col("street") + " " + col("house_number") + col("suffix")).str.strip() + ", " + (
        col("postcode") + " " + col("place")).str.strip()  # fmt: skip
    return dict(zip(area["address_id"].astype("string"), text_.str.strip(", "), strict=True))


@router.get("/{mev_id}/conflicts")
@page
async def conflicts_page(
    request: Request,
    mev_id: MevIdPath,
    show: Literal["open", "resolved", "all"] = "open",
    p: PageQ = 1,
) -> Response:
    """Per address every operator's claims side by side, the conflict and its decision."""
    who = await analyst(request)
    t = translator(language(request))

    def load() -> dict[str, Any]:
        f = flow(request)
        mev = f.mevs.get(mev_id)
        rec = f.reconcile(mev_id)
        k = rec.conflicts.astype(object).where(rec.conflicts.notna(), None)
        decided = k["decision"].notna() if len(k) else pd.Series([], dtype=bool)
        sel = k[~decided] if show == "open" else k[decided] if show == "resolved" else k
        side = rec.side_by_side.set_index("Adress-ID")
        ops = [c for c in side.columns if c != "Rückmeldungen"]
        addr = _labels(f.area(mev_id))
        rows = []
        for c in sel.to_dict("records"):
            claims = side.loc[c["address_id"]] if c["address_id"] in side.index else None
            rows.append({**c, "operators_list": str(c["operators"]).split("|"),
                         "address": addr.get(c["address_id"], ""),
                         "claims": [(op, claims[op] if claims is not None else "") for op in ops]})  # fmt: skip
        kinds = {kd: int(((k["kind"] == kd) & ~decided).sum()) for kd in KINDS} if len(k) else {}
        return {**header(mev, t, date.today()), "conflicts": paged(rows, p), "show": show,
                "open_count": rec.open_conflicts(), "total": len(k), "kinds": kinds,
                "silent": len(rec.silent), "can_resolve": mev.state in ("published", "closed")}  # fmt: skip

    return render(request, "mev_conflicts.html", await run_in_threadpool(load), who=who)


@router.post("/{mev_id}/conflicts")
@page
async def resolve(request: Request, mev_id: MevIdPath) -> Response:
    """Record a decision with its reason (one conflict, or every open conflict of a kind)."""
    who = await analyst(request)
    form = await posted(request, who)
    conflict = text(form, "conflict_id", 40) or None
    kind = text(form, "kind", 40) or None
    decision, reason = text(form, "decision", 240), text(form, "reason", 5000)
    back = text(form, "back", 200)
    by = actor(request, who)
    await run_in_threadpool(
        lambda: flow(request).resolve(mev_id, conflict, decision, reason, by, kind=kind)
    )
    target = f"/ui/mev/{mev_id}/conflicts"
    if back.startswith("?") and all(ch.isalnum() or ch in "?=&" for ch in back):
        target += back
    return RedirectResponse(target, status_code=303)


# -- result ------------------------------------------------------------------------------------
def _per_gemeinde(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "summary_gemeinde.csv"
    if not path.is_file():
        return []
    frame = pd.read_csv(path, dtype={"ags": str, "name": str})
    frame = frame[frame["ags"].notna()] if "ags" in frame else frame
    frame = frame[frame["addresses"] > 0] if "addresses" in frame else frame  # the area's only
    return frame.to_dict("records")


def _changes_rows(changes: pd.DataFrame, t: Any) -> list[dict[str, Any]]:
    """Rows of aenderungen.csv for the page: the change and yes/no in the page's language
    (class labels are the profile's German ones, as in the file; the reasons are in the pack)."""
    kind = {v: t(f"mev_change_{k}") for k, v in CHANGE_LABELS.items()}
    yes_no = {"ja": t("yes"), "nein": t("no")}
    rows = changes[[c for c in CHANGE_COLUMNS if c in changes]].to_dict("records")
    for r in rows:
        r["Änderung"] = kind.get(r["Änderung"], r["Änderung"])
        for c in ("förderfähig vorher", "förderfähig nachher"):
            r[c] = yes_no.get(r.get(c, ""), r.get(c, ""))
    return rows


@router.get("/{mev_id}/result")
@page
async def result_page(
    request: Request,
    mev_id: MevIdPath,
    change: Literal["all", "now_ineligible", "now_eligible", "class_changed"] = "now_ineligible",
    p: PageQ = 1,
) -> Response:
    """Counts, per Gemeinde, the changes against the published list, the map and the pack."""
    who = await analyst(request)
    lang = language(request)
    t = translator(lang)

    def load() -> dict[str, Any]:
        f = flow(request)
        mev = f.mevs.get(mev_id)
        base = f.mevs.dir(mev_id) / "result"
        ctx: dict[str, Any] = {**header(mev, t, date.today()), "change": change, "ready": False}
        if mev.state != "result" or not (base / "aenderungen.csv").is_file():
            return ctx
        counts = mev.counts or {}
        changes = pd.read_csv(base / "aenderungen.csv", sep=";", dtype=str, encoding="utf-8-sig",
                              keep_default_na=False)  # fmt: skip
        if change != "all":
            changes = changes[changes["Änderung"] == CHANGE_LABELS[change]]
        by_class = counts.get("by_class", {})
        return {**ctx, "ready": True, "counts": counts,
                "by_class": [(class_label(c, lang), n) for c, n in by_class.items()],
                "gemeinden": _per_gemeinde(base / "run"),
                "columns": [(c, pair[0 if lang == "de" else 1]) for c, pair in CHANGE_COLUMNS.items()],
                "changes": paged(_changes_rows(changes, t), p), "change_keys": list(CHANGE_LABELS)}  # fmt: skip

    return render(request, "mev_result.html", await run_in_threadpool(load), who=who)
