"""The MEV workflow shared by the CLI (``gapmap mev``) and the HTTP routes (``/mev``).

create -> publish (operator package) -> replies (checked, versioned) -> reconcile and resolve
-> close -> result (``api.service.mev_result``). Every step writes the audit log through
:class:`~api.service.mev_store.MevStore`; the maths is ``coverage.mev``; files go through
``coverage.io``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from api.service.mev_models import Mev, MevReply
from api.service.mev_store import MevStore
from api.service.store import new_id
from coverage.errors import InputDataError, NotFoundError, StateError
from coverage.io.hashing import sha256_file
from coverage.io.mev_files import (
    POLYGON_SUFFIXES,
    read_polygon_reply,
    read_reply_table,
    write_csv_de,
    write_gpkg,
    write_text,
    write_xlsx,
)
from coverage.io.writers import write_parquet
from coverage.mev import procedure, publication, reconcile, replies
from coverage.mev.procedure import MevSpec
from coverage.run_inputs import LayerSpec, assign_ags, load_addresses, load_boundaries, region_for

TABLE_SUFFIXES = (".csv", ".xlsx")
AREA_FILE = "area_addresses.parquet"
BEFORE_FILE = "published_classes.parquet"


def spec_to_json(spec: MevSpec) -> dict[str, Any]:
    out = asdict(spec)
    for k in ("start", "end", "branchendialog", "stichtag"):
        out[k] = out[k].isoformat() if out[k] else None
    out["area_ags"] = list(spec.area_ags)
    return out


def spec_from_json(data: dict[str, Any]) -> MevSpec:
    d = dict(data)
    for k in ("start", "end", "branchendialog", "stichtag"):
        d[k] = date.fromisoformat(d[k]) if d.get(k) else None
    d["area_ags"] = tuple(d.get("area_ags") or ())
    return MevSpec(**d)


@dataclass
class ReplyOutcome:
    """A stored reply version and what the check found."""

    row: MevReply
    check: replies.ReplyCheck


@dataclass
class Reconciliation:
    """The claims side by side, the conflicts with their decisions, the silent addresses."""

    claims: pd.DataFrame
    conflicts: pd.DataFrame
    side_by_side: pd.DataFrame
    silent: pd.Series

    def open_conflicts(self) -> int:
        return int(self.conflicts["decision"].isna().sum()) if len(self.conflicts) else 0


class MevWorkflow:
    """The steps of an MEV on one catalog and workspace."""

    def __init__(self, mevs: MevStore) -> None:
        self.mevs = mevs

    # -- create ----------------------------------------------------------------------------
    def create(self, spec: MevSpec, inputs: dict[str, Any], actor: str) -> Mev:
        """A new MEV in state draft; warnings (period, Branchendialog) are kept with it."""
        warnings = procedure.check_spec(spec)
        region_for(spec.region)
        from coverage.profiles import load_profile

        load_profile(spec.profile)  # an unknown profile fails now, not at the result
        for key in ("addresses", "boundaries", "baseline_run"):
            value = inputs.get(key)
            if value and not Path(value).exists():
                raise NotFoundError(f"{key}: {value} does not exist")
        if not inputs.get("addresses"):
            raise InputDataError("addresses: the MEV needs an address base")
        if spec.area_ags and not inputs.get("boundaries"):
            pass  # the address base may carry its own ags column; checked at publication
        return self.mevs.create(spec.name, spec_to_json(spec), inputs, warnings, actor)

    def spec(self, mev: Mev) -> MevSpec:
        return spec_from_json(mev.spec)

    def set_dates(self, mev_id: str, actor: str, **dates: date | None) -> Mev:
        """Change start/end/Branchendialog/Stichtag (draft or published); warnings are redone."""
        mev = self.mevs.get(mev_id)
        if mev.state not in ("draft", "published"):
            raise StateError(f"the MEV is {mev.state}; dates can change while draft or published")
        spec = procedure.with_dates(self.spec(mev), **{k: v for k, v in dates.items() if v})
        warnings = procedure.check_spec(spec)
        return self.mevs.update(
            mev_id, actor, "dates", {}, spec=spec_to_json(spec), warnings=warnings
        )

    # -- publish ---------------------------------------------------------------------------
    def _area(self, mev: Mev) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
        spec = self.spec(mev)
        region = region_for(spec.region)
        addresses, _, _ = load_addresses(LayerSpec(Path(mev.inputs["addresses"])), region)
        gemeinden = None
        if mev.inputs.get("boundaries"):
            bounds, _, _ = load_boundaries(LayerSpec(Path(mev.inputs["boundaries"])), region)
            gemeinden = bounds[bounds["level"] == "gemeinde"]
            addresses["ags"], _ = assign_ags(addresses, gemeinden)
        return publication.area_addresses(addresses, spec), gemeinden

    def publish(self, mev_id: str, actor: str, *, contact: str | None = None) -> Path:
        """Build the operator package (``package.zip``) and set the MEV published."""
        mev = self.mevs.get(mev_id)
        new_state = procedure.next_state(mev.state, "publish")
        spec = self.spec(mev)
        area, gemeinden = self._area(mev)
        baseline = None
        if mev.inputs.get("baseline_run"):
            path = Path(mev.inputs["baseline_run"]) / "addresses.parquet"
            if not path.is_file():
                raise NotFoundError(
                    f"baseline_run: {path} is missing; give a run directory of gapmap run"
                )
            baseline = pd.read_parquet(path).drop(columns="geometry", errors="ignore")
        base_dir = self.mevs.dir(mev_id)
        write_parquet(area, base_dir / AREA_FILE)
        before = pd.DataFrame({"address_id": area["address_id"]})
        if baseline is not None:
            b = baseline[["address_id", "class", "eligible"]].astype({"address_id": "string"})
            before = before.merge(b, on="address_id", how="left")
        else:
            before["class"], before["eligible"] = pd.NA, pd.NA
        write_parquet(
            before.astype({"class": "string", "eligible": "boolean"}), base_dir / BEFORE_FILE
        )
        outline, names = self._outline(spec, area, gemeinden)
        package = base_dir / "package"
        tmp = Path(tempfile.mkdtemp(dir=base_dir, prefix=".package-"))
        try:
            synthetic = is_synthetic(mev.inputs.get("baseline_run"))
            self._write_package(tmp, spec, area, baseline, outline, names, contact, synthetic)
            tmp.chmod(0o755)
            if package.exists():
                shutil.rmtree(package)
            tmp.rename(package)  # the package appears complete or not at all
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
        zip_path = base_dir / "package.zip"
        _zip_dir(package, zip_path)
        self.mevs.update(mev_id, actor, "publish", {"addresses": len(area), "sha256": sha256_file(zip_path)},
                         state=new_state, counts={"addresses": len(area)})  # fmt: skip
        return zip_path

    def _write_package(self, t: Path, spec: MevSpec, area: gpd.GeoDataFrame, baseline: pd.DataFrame | None,
                       outline: gpd.GeoDataFrame, names: list[str], contact: str | None,
                       synthetic: bool) -> None:  # fmt: skip
        published = publication.published_list(area, baseline, _labels(spec.profile))
        template = publication.reply_template(area)
        cover = publication.cover_sheet(spec, addresses=len(area), gemeinden=names, contact=contact)
        write_csv_de(published, t / "adressen.csv")
        write_csv_de(template, t / "rueckmeldung_vorlage.csv")
        hints = pd.DataFrame({"Hinweise": [line.lstrip("# ") for line in cover.splitlines()]})
        write_xlsx({publication_sheet(): template, "Hinweise": hints, "Adressen (Bestand)": published},
                   t / "rueckmeldung_vorlage.xlsx")  # fmt: skip
        write_text(cover, t / "deckblatt.md")
        points = area[[c for c in publication.ADDRESS_HEADERS if c in area] + ["geometry"]]
        write_gpkg({"projektgebiet": outline, "adressen": points.rename(columns=publication.ADDRESS_HEADERS)},
                   t / "projektgebiet.gpkg")  # fmt: skip
        png = _area_png(outline, area, baseline, spec.name, synthetic)
        if png is not None:
            (t / "projektgebiet.png").write_bytes(png)

    def _outline(self, spec: MevSpec, area: gpd.GeoDataFrame,
                 gemeinden: gpd.GeoDataFrame | None) -> tuple[gpd.GeoDataFrame, list[str]]:  # fmt: skip
        crs = area.crs
        if spec.area_wkt:
            geom = publication.area_polygon(spec)
            return gpd.GeoDataFrame({"name": [spec.name]}, geometry=[geom], crs=crs), []
        if gemeinden is not None:
            sel = gemeinden[gemeinden["ags"].isin(spec.area_ags)]
            names = [f"{n} ({a})" for a, n in zip(sel["ags"], sel["name"], strict=True)]
            frame = gpd.GeoDataFrame({"ags": sel["ags"].to_numpy(), "name": sel["name"].to_numpy()},
                                     geometry=sel.geometry.to_numpy(), crs=sel.crs)  # fmt: skip
            return frame, names
        hull = shapely.convex_hull(shapely.multipoints(area.geometry.values)).buffer(50)
        return gpd.GeoDataFrame({"name": [spec.name]}, geometry=[hull], crs=crs), list(
            spec.area_ags
        )

    # -- replies ---------------------------------------------------------------------------
    def area(self, mev_id: str) -> gpd.GeoDataFrame:
        path = self.mevs.dir(mev_id) / AREA_FILE
        if not path.is_file():
            raise StateError(f"MEV {mev_id} is not published yet; publish it first")
        return gpd.read_parquet(path)

    def add_reply(
        self, mev_id: str, operator: str, src: Path, filename: str, actor: str
    ) -> ReplyOutcome:
        """Check and store one operator's reply (a new version when the operator replied before)."""
        mev = self.mevs.get(mev_id)
        if not procedure.accepts_replies(mev.state):
            raise StateError(f"the MEV is {mev.state}; replies are accepted while it is published")
        operator = operator.strip()
        if not operator:
            raise InputDataError("operator: name the operator whose reply this is")
        suffix = Path(filename).suffix.lower()
        if suffix not in TABLE_SUFFIXES + POLYGON_SUFFIXES:
            raise InputDataError(
                f"{filename}: a reply is .csv or .xlsx (template) or polygons "
                f"({', '.join(POLYGON_SUFFIXES)}), not {suffix or 'no extension'}"
            )
        spec, area = self.spec(mev), self.area(mev_id)
        reply_id = new_id("rep")
        folder = self.mevs.reply_dir(mev_id, reply_id)
        folder.mkdir(parents=True)
        stored = folder / f"reply{suffix}"
        shutil.copyfile(src, stored)
        try:
            if suffix in TABLE_SUFFIXES:
                kind = "table"
                check = replies.check_reply(read_reply_table(stored), area, spec, operator)
            else:
                kind = "polygons"
                frame = read_polygon_reply(stored, region_for(spec.region).working_crs)
                check = replies.check_polygon_reply(frame, area, spec, operator, source=filename)
        except Exception:
            shutil.rmtree(folder)
            raise
        write_parquet(check.claims, folder / "claims.parquet")
        write_csv_de(check.issues, folder / "pruefung.csv")
        row = self.mevs.add_reply(mev_id, reply_id, operator, kind, filename, stored.name,
                                  sha256_file(stored), check.summary(), actor)  # fmt: skip
        return ReplyOutcome(row, check)

    def issues(self, mev_id: str, reply_id: str) -> pd.DataFrame:
        self.mevs.reply(mev_id, reply_id)
        path = self.mevs.reply_dir(mev_id, reply_id) / "pruefung.csv"
        return pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)

    # -- reconcile and resolve -------------------------------------------------------------
    def reconcile(self, mev_id: str) -> Reconciliation:
        """Claims of every operator's newest reply, conflicts with their newest decision."""
        area = self.area(mev_id)
        current = self.mevs.replies(mev_id, current_only=True)
        by_op = {
            r.operator: pd.read_parquet(self.mevs.reply_dir(mev_id, r.id) / "claims.parquet")
            for r in current
        }
        claims = reconcile.combine(by_op)
        baseline = None
        run = self.mevs.get(mev_id).inputs.get("baseline_run")
        if run and (Path(run) / "addresses.parquet").is_file():
            baseline = pd.read_parquet(Path(run) / "addresses.parquet").drop(
                columns="geometry", errors="ignore"
            )
        conflicts = reconcile.find_conflicts(claims, baseline)
        decided = self.mevs.resolutions(mev_id)
        conflicts["decision"] = [
            decided[c].decision if c in decided else None for c in conflicts["conflict_id"]
        ]
        conflicts["reason"] = [
            decided[c].reason if c in decided else None for c in conflicts["conflict_id"]
        ]
        conflicts["decided_by"] = [
            decided[c].decided_by if c in decided else None for c in conflicts["conflict_id"]
        ]
        return Reconciliation(claims, conflicts, reconcile.side_by_side(claims, area["address_id"]),
                              reconcile.silent_addresses(claims, area["address_id"]))  # fmt: skip

    def resolve(self, mev_id: str, conflict_id: str | None, decision: str, reason: str, actor: str,
                *, kind: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
        """Record an analyst's decision (a reason is required) on one conflict, or on every
        open conflict of one ``kind`` when ``conflict_id`` is None."""
        mev = self.mevs.get(mev_id)
        if mev.state not in ("published", "closed"):
            raise StateError(
                f"the MEV is {mev.state}; conflicts are resolved while published or closed"
            )
        if not reason or not reason.strip():
            raise InputDataError("reason: every decision needs a reason")
        k = self.reconcile(mev_id).conflicts
        if conflict_id is not None:
            hit = k[k["conflict_id"] == conflict_id]
            if hit.empty:
                raise NotFoundError(
                    f"MEV {mev_id} has no conflict {conflict_id}; list them with conflicts"
                )
        elif kind in reconcile.KINDS:
            hit = k[(k["kind"] == kind) & k["decision"].isna()]
        else:
            raise InputDataError(
                f"give a conflict id, or a kind for all open conflicts of it ({', '.join(reconcile.KINDS)})"
            )
        done = []
        for cid, ops in zip(hit["conflict_id"], hit["operators"], strict=True):
            checked = reconcile.check_decision(decision, str(ops))
            self.mevs.resolve(mev_id, cid, checked, reason.strip(), actor)
            done.append({"conflict_id": cid, "decision": checked, "reason": reason.strip()})
        return done

    def transition(self, mev_id: str, action: str, actor: str) -> Mev:
        """close / reopen (publish and result have their own methods)."""
        if action not in ("close", "reopen"):
            raise InputDataError(f"unknown action {action!r}; use close or reopen")
        mev = self.mevs.get(mev_id)
        new_state = procedure.next_state(mev.state, action)
        detail: dict[str, Any] = {}
        if action == "close":
            detail["replies"] = len(self.mevs.replies(mev_id, current_only=True))
        return self.mevs.update(mev_id, actor, action, detail, state=new_state)


def is_synthetic(run_dir: str | None) -> bool:
    """True when the earlier run says it was made from synthetic demo data (maps say so)."""
    if not run_dir or not (Path(run_dir) / "manifest.json").is_file():
        return False
    manifest = json.loads((Path(run_dir) / "manifest.json").read_text(encoding="utf-8"))
    return bool(manifest.get("synthetic_data"))


def _labels(profile: str) -> dict[str, str]:
    """German class labels of the MEV's profile (class name -> label)."""
    from coverage.profiles import load_profile

    return dict(load_profile(profile).class_labels)


def publication_sheet() -> str:
    """Name of the template sheet the reply reader looks for."""
    from coverage.io.mev_files import REPLY_SHEET

    return REPLY_SHEET


def _zip_dir(folder: Path, target: Path, skip: tuple[str, ...] = ()) -> None:
    """Zip the files of ``folder`` (sub-folders named in ``skip`` left out), atomically."""
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file() and f.relative_to(folder).parts[0] not in skip:
                zf.write(f, f.relative_to(folder).as_posix())
    tmp.replace(target)


def _area_png(outline: gpd.GeoDataFrame, area: gpd.GeoDataFrame, baseline: pd.DataFrame | None,
              title: str, synthetic: bool) -> bytes | None:  # fmt: skip
    try:
        from maps.mev_map import render_area_png
    except ImportError:  # maps needs matplotlib; the package is complete without the picture
        return None
    classes = None
    if baseline is not None:
        classes = area[["address_id"]].merge(
            baseline[["address_id", "eligible"]].astype({"address_id": "string"}),
            on="address_id",
            how="left",
        )["eligible"]
    return render_area_png(outline, area, classes, title, synthetic=synthetic)
