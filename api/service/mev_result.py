"""The result of an MEV: resolved offers -> a gapmap run -> eligible list, changes, map, packs.

The result is reproducible from the stored replies and decisions: ``resolved_offers.csv`` is
an ordinary address-keyed offer list, and the run directory ``result/run`` is exactly what
``gapmap run --addresses area_addresses.parquet --offers resolved_offers.csv`` writes with
the MEV's profile and Stichtag (the command is in ``ergebnis.json``).
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from api.service.mev import AREA_FILE, BEFORE_FILE, MevWorkflow, _labels, _zip_dir, is_synthetic
from coverage.errors import InputDataError
from coverage.io.hashing import sha256_file
from coverage.io.mev_files import write_csv_de, write_text
from coverage.io.mev_report_pdf import MevReport, write_mev_report
from coverage.io.writers import write_csv
from coverage.mev import outcome, procedure, reconcile
from coverage.mev.reconcile import KIND_LABELS
from coverage.pipeline import RunOptions, RunResult, run
from coverage.run_inputs import LayerSpec, RunInputs


def rerun_command(mev_dir: Path, spec: procedure.MevSpec, boundaries: str | None) -> list[str]:
    """The ``gapmap run`` that gives the same classification as the MEV result."""
    cmd = ["gapmap", "run", "--addresses", str(mev_dir / AREA_FILE),
           "--offers", str(mev_dir / "result" / "resolved_offers.csv")]  # fmt: skip
    if boundaries:
        cmd += ["--boundaries", boundaries]
    cmd += ["--profile", spec.profile, "--as-of", spec.reference_date.isoformat(),
            "--out", str(mev_dir / "rerun")]  # fmt: skip
    return cmd


def build_result(flow: MevWorkflow, mev_id: str, actor: str) -> dict[str, Any]:
    """Classify with the resolved offers and write ``result/`` and ``result.zip``."""
    mev = flow.mevs.get(mev_id)
    new_state = procedure.next_state(mev.state, "result")
    spec = flow.spec(mev)
    rec = flow.reconcile(mev_id)
    if rec.claims.empty:
        raise InputDataError(f"MEV {mev_id} has no usable reply; there is nothing to classify")
    decisions = {
        c: d
        for c, d in zip(rec.conflicts["conflict_id"], rec.conflicts["decision"], strict=True)
        if d
    }
    claims = reconcile.resolve(rec.claims, rec.conflicts, decisions)
    base = flow.mevs.dir(mev_id)
    out = base / "result"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    resolved = reconcile.resolved_offers(claims)
    offers_path = write_csv(resolved, out / "resolved_offers.csv")
    boundaries = mev.inputs.get("boundaries")
    inputs = RunInputs(
        addresses=LayerSpec(base / AREA_FILE),
        offers=(LayerSpec(offers_path),),
        boundaries=LayerSpec(Path(boundaries)) if boundaries else None,
    )
    options = RunOptions(profile=spec.profile, region=spec.region, as_of=spec.reference_date,
                         extra_manifest={"mev": {"id": mev_id, "name": spec.name}})  # fmt: skip
    result = run(inputs, out / "run", options)
    table = result.table
    before = pd.read_parquet(base / BEFORE_FILE)
    labels = _labels(spec.profile)
    changes = outcome.changes(before, table, labels, offers=resolved)
    write_csv_de(changes, out / "aenderungen.csv")
    write_csv_de(outcome.eligible_list(table, labels), out / "foerderfaehige_adressen.csv")
    k = rec.conflicts.assign(kind=rec.conflicts["kind"].map(KIND_LABELS))
    write_csv_de(k.rename(columns={"conflict_id": "Konflikt", "address_id": "Adress-ID", "kind": "Art",
                                   "operators": "Betreiber", "detail": "Angaben", "decision": "Entscheidung",
                                   "reason": "Begründung", "decided_by": "entschieden von"}),
                 out / "konflikte_entscheidungen.csv")  # fmt: skip
    write_csv_de(pd.DataFrame({"Adress-ID": rec.silent}), out / "ohne_rueckmeldung.csv")
    write_csv_de(rec.side_by_side, out / "gegenueberstellung.csv")
    replies = [
        {"reply": r.id, "operator": r.operator, "version": r.version, "kind": r.kind,
         "filename": r.filename, "sha256": r.sha256, "current": r.superseded_at is None}
        for r in flow.mevs.replies(mev_id)
    ]  # fmt: skip
    png = _result_png(base, table, changes, spec.name, is_synthetic(mev.inputs.get("baseline_run")),
                      result.manifest)  # fmt: skip
    if png is not None:
        (out / "ergebnis_karte.png").write_bytes(png)
    _evidence_pack(out, png)
    write_mev_report(
        _report(flow, mev_id, result, rec, changes, png, boundaries), out / "ergebnisbericht.pdf"
    )
    counts = {
        "addresses": len(table),
        "eligible": int(table["eligible"].sum()),
        "by_class": {str(c): int(n) for c, n in table["class"].value_counts().sort_index().items()},
        "changes": outcome.change_counts(changes),
        "ineligible_by_operator": outcome.ineligible_by_operator(changes),
        "conflicts": len(rec.conflicts),
        "silent_addresses": len(rec.silent),
        "offers": len(claims),
    }
    summary = {
        "mev": mev_id, "name": spec.name, "profile": spec.profile, "stichtag": spec.reference_date.isoformat(),
        "horizon_months": spec.horizon_months, "counts": counts, "replies": replies,
        "decisions": {c: decisions[c] for c in sorted(decisions)},
        "resolved_offers_sha256": sha256_file(offers_path),
        "same_run": rerun_command(base, spec, boundaries),
    }  # fmt: skip
    write_text(
        json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
        out / "ergebnis.json",
    )
    _zip_dir(out, base / "result.zip", skip=("run",))
    flow.mevs.update(mev_id, actor, "result", {"counts": counts}, state=new_state, counts=counts)
    return summary


def _result_png(
    base: Path, table: pd.DataFrame, changes: pd.DataFrame, name: str, synthetic: bool,
    manifest: dict[str, Any],
) -> bytes | None:  # fmt: skip
    try:
        from maps.i18n import stamp_line
        from maps.mev_map import render_result_png
    except ImportError:
        return None
    # the rule set and the Stichtag under the title, as on every map of a run
    name = f"{name}\n" + textwrap.fill(stamp_line(manifest, "de"), 110, break_on_hyphens=False)
    area = gpd.read_parquet(base / AREA_FILE)
    outline_path = base / "package" / "projektgebiet.gpkg"
    outline = gpd.read_file(outline_path, layer="projektgebiet", engine="pyogrio")
    merged = area[["address_id"]].merge(table[["address_id", "eligible"]].astype({"address_id": "string"}),
                                        on="address_id", how="left")  # fmt: skip
    flipped = changes[changes["Änderung"].isin([outcome.CHANGE_LABELS["now_ineligible"],
                                                  outcome.CHANGE_LABELS["now_eligible"]])]  # fmt: skip
    changed = area["address_id"].isin(flipped["Adress-ID"])
    return render_result_png(outline, area, merged["eligible"], changed, name, synthetic=synthetic)


def _evidence_pack(out: Path, png: bytes | None) -> None:
    from coverage.io.evidence_pack import PackOptions, read_run, write_pack

    write_pack(
        read_run(out / "run"),
        out / "evidenzpaket.zip",
        PackOptions(fmt="de", lang="de"),
        overview_png=png,
    )


def _report(flow: MevWorkflow, mev_id: str, result: RunResult, rec: Any, changes: pd.DataFrame,
            png: bytes | None, boundaries: str | None) -> MevReport:  # fmt: skip
    """The facts of the PDF report from the catalog and the result run."""
    from coverage import methodology

    mev = flow.mevs.get(mev_id)
    spec = flow.spec(mev)
    table, profile = result.table, result.profile
    g = result.summary_gemeinde
    g = g[g["ags"].notna() & (g["ags"].astype(str) != "")] if "ags" in g else g
    gemeinden = pd.DataFrame({"ags": g["ags"].astype(str), "name": g["name"].astype(str),
                              "addresses": g["addresses"].astype("int64"),
                              "eligible": g["eligible"].astype("int64")})  # fmt: skip
    if spec.area_wkt:
        area = "Polygon (eigene Abgrenzung)"
        if len(gemeinden):
            area += ", berührt " + ", ".join(
                f"{a} ({n})" for a, n in zip(gemeinden["name"], gemeinden["ags"], strict=True)
            )
    else:
        names = dict(zip(gemeinden["ags"], gemeinden["name"], strict=True))
        area = ", ".join(f"{names.get(a, 'Gemeinde')} ({a})" for a in spec.area_ags)
    k = rec.conflicts.assign(kind=rec.conflicts["kind"].map(KIND_LABELS))
    replies = [
        {"operator": r.operator, "version": r.version, "kind": r.kind, "filename": r.filename,
         "received": r.created_at, "current": r.superseded_at is None, **r.summary}
        for r in flow.mevs.replies(mev_id)
    ]  # fmt: skip
    cmd = ["gapmap", "run", "--addresses", AREA_FILE, "--offers", "resolved_offers.csv"]
    if boundaries:
        cmd += ["--boundaries", Path(boundaries).name]
    cmd += ["--profile", spec.profile, "--as-of", spec.reference_date.isoformat()]
    return MevReport(
        name=spec.name, area=area,
        address_base=f"{Path(mev.inputs['addresses']).name}: {len(table):,} Adressen im "
                     "Projektgebiet, je Adresse eine feste Adress-ID".replace(",", "."),
        profile=f"{methodology.title(profile, 'de')} ({profile.id}, Fassung {profile.version})",
        stichtag=spec.reference_date, horizon_months=spec.horizon_months, start=spec.start,
        end=spec.end, branchendialog=spec.branchendialog, warnings=list(mev.warnings or []),
        replies=replies, conflicts=k, gemeinden=gemeinden, changes=changes,
        addresses=len(table), eligible=int(table["eligible"].sum()), silent=len(rec.silent),
        rerun=" ".join(cmd), synthetic=is_synthetic(mev.inputs.get("baseline_run")),
        map_png=png, created=mev.updated_at,
        by_class={str(c): int(v) for c, v in table["class"].value_counts().sort_index().items()},
    )  # fmt: skip
