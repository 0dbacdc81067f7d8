"""The BEAD challenge process with state, shared by ``gapmap bead ...`` and ``/bead/processes``.

create (over a ``us-bead`` run) -> challengers and challenges (evidence kept) -> advance to
rebuttal -> rebuttals by the providers -> advance to decisions -> decisions by the broadband
office -> advance to final -> NTIA's submission files, always built from the stored state.
Rules: :mod:`coverage.mev.bead_process` and :mod:`coverage.mev.bead`; catalog and audit:
:class:`~api.service.bead_store.BeadStore`; files: ``coverage.io``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from api.service.bead import load_locations_offers
from api.service.bead_models import BeadChallenge, BeadProcess
from api.service.bead_store import CHALLENGE_PREFIX, BeadStore
from api.service.models import utcnow
from api.service.store import new_id
from coverage.errors import InputDataError, NotFoundError, StateError
from coverage.io.hashing import sha256_file
from coverage.io.mev_files import read_bead_table, write_bead_files
from coverage.io.writers import write_parquet
from coverage.mev import bead_process as rules
from coverage.mev.bead import CLASS_CODE, check_challenges, classify_locations, post_challenge
from coverage.mev.bead_files import CAI, CHALLENGERS, CHALLENGES, submission_frames
from coverage.profiles import load_profile

PRE_FILE, CAI_FILE = "pre_classes.parquet", "cai.csv"
#: the challenge's own columns (rebuttal and decision columns come from the stored state)
FILED = tuple(c for c in CHALLENGES if c not in ("rebuttal_date", "resolution_date",
                                                 "disposition", "response_file_id", "resolution"))  # fmt: skip


@dataclass
class Upload:
    """An evidence or response file: where it is now and the name the challenger gave it."""

    path: Path
    name: str


def _run_inputs(run_dir: Path) -> dict[str, Any]:
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.is_file():
        raise NotFoundError(f"{run_dir}: no manifest.json; give a run directory of gapmap run")
    m = json.loads(manifest_path.read_text(encoding="utf-8"))
    prof = m.get("profile") or {}
    if prof.get("family") != "us-bead":
        raise InputDataError(f"{run_dir}: the run used profile {prof.get('id')!r}; a BEAD challenge "
                             "process challenges a classification under a us-bead profile")  # fmt: skip
    found = {k: next((i for i in m.get("inputs", []) if i.get("kind") == k), None)
             for k in ("addresses", "offers")}  # fmt: skip
    for kind, rec in found.items():
        if rec is None:
            raise InputDataError(f"{run_dir}: the run has no {kind} input; run it with Fabric "
                                 "locations (--addresses) and BDC availability (--offers)")  # fmt: skip
    return {"run": str(run_dir), "profile": prof["id"], "as_of": m["parameters"]["as_of"],
            "locations": found["addresses"]["path"], "locations_sha256": found["addresses"]["sha256"],
            "offers": found["offers"]["path"], "offers_sha256": found["offers"]["sha256"]}  # fmt: skip


def _same_file(path: str, sha: str, what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise NotFoundError(f"{what}: {p} is gone; the classification cannot be rebuilt")
    if sha256_file(p) != sha:
        raise StateError(f"{what}: {p} changed since the process was created (SHA-256 differs)")
    return p


class BeadWorkflow:
    """The steps of challenge processes on one catalog and workspace."""

    def __init__(self, beads: BeadStore) -> None:
        self.beads = beads

    # -- create -----------------------------------------------------------------------------
    def create(self, name: str, windows: rules.Windows, actor: str, *, run_dir: Path | None = None,
               source: dict[str, Any] | None = None, cai: Path | None = None) -> BeadProcess:  # fmt: skip
        """A process in phase ``challenges`` over the classification of ``run_dir`` (a us-bead
        run with Fabric locations and BDC offers), or of ``source`` (``locations``, ``offers``,
        ``profile``, ``as_of``) classified here the same way."""
        if not name.strip():
            raise InputDataError("name: give the process a name")
        windows.check()
        if run_dir is not None:
            inputs = _run_inputs(run_dir)
        elif source is not None:
            if load_profile(source["profile"]).family != "us-bead":
                raise InputDataError(
                    f"profile {source['profile']!r}: a BEAD challenge process needs a us-bead profile"
                )
            inputs = {"run": None, "profile": load_profile(source["profile"]).id,
                      "as_of": source["as_of"].isoformat(), **{k: v for k, v in source.items() if k.endswith("_id")}}  # fmt: skip
            for k in ("locations", "offers"):
                inputs[k], inputs[f"{k}_sha256"] = str(source[k]), sha256_file(source[k])
        else:
            raise InputDataError(
                "name the classification: a run directory, or locations and offers"
            )
        locs, offers = load_locations_offers(
            _same_file(inputs["locations"], inputs["locations_sha256"], "locations"),
            _same_file(inputs["offers"], inputs["offers_sha256"], "offers"),
        )
        as_of = date.fromisoformat(inputs["as_of"])
        classes = classify_locations(locs, offers, load_profile(inputs["profile"]), as_of)
        pre = pd.DataFrame({"location_id": pd.to_numeric(locs["address_id"]).astype("int64"),
                            "pre": classes["class"].astype(str).map(CLASS_CODE).astype("int64")})  # fmt: skip
        if run_dir is not None:
            self._same_classes(run_dir, pre)
        spec = {k: v.isoformat() for k, v in vars(windows).items()}
        spec.update(profile=inputs["profile"], as_of=inputs["as_of"])
        counts = {"locations": len(pre), **{f"pre_{k}": int((pre["pre"] == v).sum())
                                            for k, v in CLASS_CODE.items()}}  # fmt: skip
        cai_frame = None
        if cai is not None:
            cai_frame = read_bead_table(cai)
            if tuple(cai_frame.columns) != CAI:
                raise InputDataError(
                    f"{cai.name}: columns must be {', '.join(CAI)} (NTIA's CAI layout)"
                )
            inputs["cai_sha256"] = sha256_file(cai)
        row = self.beads.create(name.strip(), spec, inputs, windows.notes(), counts, actor)
        write_parquet(pre, self.beads.dir(row.id) / PRE_FILE)
        if cai is not None:
            shutil.copyfile(cai, self.beads.dir(row.id) / CAI_FILE)
        return row

    @staticmethod
    def _same_classes(run_dir: Path, pre: pd.DataFrame) -> None:
        ran = pd.read_parquet(run_dir / "addresses.parquet", columns=["address_id", "class"])
        ran_code = ran["class"].astype(str).map(CLASS_CODE)
        ran_code.index = pd.to_numeric(ran["address_id"]).astype("int64")
        if not ran_code.reindex(pre["location_id"]).eq(pre["pre"].to_numpy()).all():
            raise StateError(f"{run_dir}: its classes differ from the classes of its own inputs; "
                             "run it again with this version of gapmap")  # fmt: skip

    def windows(self, p: BeadProcess) -> rules.Windows:
        return rules.Windows(**{k: date.fromisoformat(p.spec[k]) for k in
                                ("challenge_start", "challenge_end", "rebuttal_start", "rebuttal_end")})  # fmt: skip

    def pre(self, process_id: str) -> pd.DataFrame:
        return pd.read_parquet(self.beads.dir(process_id) / PRE_FILE)

    # -- challengers and challenges ---------------------------------------------------------
    def add_challengers(self, process_id: str, frame: pd.DataFrame, actor: str,
                        source: str = "challengers") -> int:  # fmt: skip
        rules.require_phase(self.beads.get(process_id).state, "challenges", "challengers register")
        checked = rules.check_challengers(frame, source=source)
        return self.beads.add_challengers(process_id, checked.to_dict(orient="records"), actor)

    def challengers_frame(self, process_id: str) -> pd.DataFrame:
        rows = [c.fields for c in self.beads.challengers(process_id)]
        return pd.DataFrame(rows, columns=list(CHALLENGERS))

    def add_challenges(self, process_id: str, frame: pd.DataFrame, evidence: dict[str, Upload],
                       actor: str, *, source: str = "challenges") -> list[str]:  # fmt: skip
        """File challenges (NTIA's columns; rebuttal and decision columns must be empty).
        ``evidence`` maps every file name in ``evidence_file_id`` to its upload; the files
        are kept under server-generated names."""
        proc = self.beads.get(process_id)
        rules.require_phase(proc.state, "challenges", "challenges are filed")
        win = self.windows(proc)
        if frame.empty:
            raise InputDataError(f"{source}: no challenge rows")
        frame = frame.astype(object).where(frame.notna(), "")
        extra = [c for c in frame.columns if c not in CHALLENGES]
        if extra:
            raise InputDataError(
                f"{source}: unknown columns {', '.join(extra)}; NTIA's are {', '.join(CHALLENGES)}"
            )
        late = [c for c in ("rebuttal_date", "resolution_date", "disposition", "response_file_id", "resolution")
                if c in frame and frame[c].astype(str).str.strip().ne("").any()]  # fmt: skip
        if late:
            raise InputDataError(f"{source}: {', '.join(late)} are set; rebuttals and decisions are "
                                 "recorded later (gapmap bead rebut / decide)")  # fmt: skip
        if "challenge_date" not in frame:
            frame["challenge_date"] = date.today().isoformat()
        frame["challenge_date"] = frame["challenge_date"].replace("", date.today().isoformat())
        checked = check_challenges(frame, self.challengers_frame(process_id),
                                   self.pre(process_id)["location_id"], source=source, decided=False)  # fmt: skip
        rows = []
        for i, r in enumerate(checked.to_dict(orient="records"), start=2):
            day = pd.Timestamp(str(r["challenge_date"])).date()
            rules.in_window(
                day, win.challenge_start, win.challenge_end, f"{source} row {i} challenge_date"
            )
            rid = new_id(CHALLENGE_PREFIX)
            names = str(r.get("evidence_file_id", "")).split()
            missing = [n for n in names if n not in evidence]
            if evidence and missing:
                raise InputDataError(f"{source} row {i} evidence_file_id: {missing[0]} was not given "
                                     "with the evidence files")  # fmt: skip
            fields = {c: ("" if pd.isna(r.get(c)) else str(r.get(c, "")).strip()) for c in FILED}
            fields["challenge_date"] = day.isoformat()
            if fields["provider_id"] and not rules.PROVIDER_ID.match(fields["provider_id"]):
                raise InputDataError(
                    f"{source} row {i} provider_id: the 6-digit FCC provider id (or empty)"
                )
            rows.append(BeadChallenge(
                id=rid, process_id=process_id, challenge=fields["challenge"], challenge_type=fields["challenge_type"],
                challenger=fields["challenger"] or None, location_id=int(r["location_id"]),
                provider_id=fields["provider_id"] or None, challenge_date=day, fields=fields,
                evidence=[{"name": n} for n in names], created_by=actor, created_at=utcnow()))  # fmt: skip
        seen = [r.challenge.lower() for r in rows]
        if len(set(seen)) != len(seen):
            raise InputDataError(f"{source}: a challenge id appears twice")
        try:  # the files first; a failure leaves neither files nor challenges behind
            for row in rows:
                if evidence:
                    row.evidence = self._keep(
                        process_id, row.id, [evidence[e["name"]] for e in row.evidence]
                    )
            self.beads.add_challenges(process_id, rows, actor)
        except Exception:
            for row in rows:
                shutil.rmtree(self.beads.files_dir(process_id, row.id), ignore_errors=True)
            raise
        return [r.challenge for r in rows]

    def _keep(
        self, process_id: str, row_id: str, uploads: list[Upload], kind: str = "evidence"
    ) -> list[dict[str, str]]:
        kept = []
        folder = self.beads.files_dir(process_id, row_id)
        for k, up in enumerate(uploads, start=1):
            name = rules.check_evidence_name(up.name, kind)
            folder.mkdir(parents=True, exist_ok=True)
            stored = folder / f"{kind}-{k}{Path(name).suffix.lower()}"
            shutil.copyfile(up.path, stored)
            kept.append({"name": name, "stored": stored.name, "sha256": sha256_file(stored)})
        return kept

    def evidence_path(self, process_id: str, challenge: str, name: str) -> Path:
        """A stored evidence or response file of a challenge, by the name it was filed under."""
        row = self.beads.challenge(process_id, challenge)
        for rec in [*row.evidence, *(row.response or [])]:
            if rec["name"] == name and rec.get("stored"):
                return self.beads.files_dir(process_id, row.id) / rec["stored"]
        raise NotFoundError(f"challenge {challenge} has no stored file {name}")

    # -- rebuttals and decisions ------------------------------------------------------------
    def rebut(self, process_id: str, challenge: str, kind: str, actor: str, *,
              response: list[Upload] | None = None, note: str | None = None,
              day: date | None = None) -> BeadChallenge:  # fmt: skip
        """The challenged provider rebuts (with its response file) or agrees."""
        proc = self.beads.get(process_id)
        rules.require_phase(proc.state, "rebuttal", "providers rebut")
        rules.check_rebuttal(kind, response[0].name if response else None)
        row = self.beads.challenge(process_id, challenge)
        if row.rebuttal_kind:
            raise StateError(
                f"challenge {row.challenge} has its rebuttal already ({row.rebuttal_kind})"
            )
        win, day = self.windows(proc), day or date.today()
        rules.in_window(day, win.rebuttal_start, win.rebuttal_end, "rebuttal_date")
        if day < row.challenge_date:
            raise InputDataError("rebuttal_date: before the challenge date")
        kept = self._keep(process_id, row.id, response or [], "response") if response else None
        return self.beads.update_challenge(process_id, row.id, actor, "rebut", rebuttal_kind=kind,
                                           rebuttal_date=day, response=kept,
                                           rebuttal_note=note, rebutted_by=actor)  # fmt: skip

    def decide(self, process_id: str, challenge: str, disposition: str, reason: str, actor: str,
               day: date | None = None) -> BeadChallenge:  # fmt: skip
        """The broadband office's decision (with its reason); a later decision replaces it,
        both stay in the audit log."""
        rules.require_phase(self.beads.get(process_id).state, "decisions", "challenges are decided")
        row = self.beads.challenge(process_id, challenge)
        d = rules.check_decision(disposition, row.rebuttal_kind, reason)
        day = day or date.today()
        if day < row.challenge_date or (row.rebuttal_date and day < row.rebuttal_date):
            raise InputDataError("resolution_date: before the challenge or rebuttal date")
        return self.beads.update_challenge(process_id, row.id, actor, "decide", disposition=d,
                                           resolution=reason.strip(), resolution_date=day,
                                           decided_by=actor)  # fmt: skip

    def advance(
        self, process_id: str, actor: str, today: date | None = None
    ) -> tuple[BeadProcess, list[str]]:
        """The next phase; final needs every challenge decided. Returns notes (a window still open)."""
        proc = self.beads.get(process_id)
        target = rules.next_phase(proc.state)
        win, today = self.windows(proc), today or date.today()
        notes = []
        if proc.state == "challenges" and today <= win.challenge_end:
            notes.append(f"the challenge window runs until {win.challenge_end.isoformat()}")
        if proc.state == "rebuttal" and today <= win.rebuttal_end:
            notes.append(f"the rebuttal window runs until {win.rebuttal_end.isoformat()}")
        if target == "final":
            open_ = [c.challenge for c in self.beads.challenges(process_id) if not c.disposition]
            if open_:
                raise StateError(f"{len(open_)} challenge(s) without a decision ({', '.join(open_[:5])}); "
                                 "decide them first")  # fmt: skip
        return self.beads.set_state(process_id, target, actor, {"notes": notes}), notes

    # -- the files --------------------------------------------------------------------------
    def challenges_frame(self, process_id: str) -> pd.DataFrame:
        """The stored challenges in NTIA's columns, rebuttals and decisions included."""
        recs = []
        for c in self.beads.challenges(process_id):
            rec = dict(c.fields)
            rec["evidence_file_id"] = " ".join(e["name"] for e in c.evidence)
            # NTIA: rebuttal_date and response_file_id together or neither (an agreement
            # without a response file is recorded in the catalog and the audit log only)
            rec.update(rebuttal_date=c.rebuttal_date.isoformat() if c.rebuttal_date and c.response else "",
                       response_file_id=" ".join(e["name"] for e in (c.response or [])),
                       resolution_date=c.resolution_date.isoformat() if c.resolution_date else "",
                       disposition=c.disposition or "", resolution=c.resolution or "")  # fmt: skip
            recs.append(rec)
        return pd.DataFrame(recs, columns=list(CHALLENGES))

    def files(
        self, process_id: str, out_dir: Path, actor: str
    ) -> tuple[dict[str, int], list[Path]]:
        """NTIA's files from the stored state: before final the pre-challenge lists
        (unserved.csv, underserved.csv) only; at final every file of the submission."""
        proc = self.beads.get(process_id)
        pre = self.pre(process_id)
        cai_path = self.beads.dir(process_id) / CAI_FILE
        cai = read_bead_table(cai_path) if cai_path.is_file() else None
        if proc.state != "final":
            classes = pre.assign(post=pre["pre"], challenges="")
            frames = submission_frames(
                classes, self.challengers_frame(process_id), self.challenges_frame(process_id)
            )
            frames = {k: frames[k] for k in ("unserved.csv", "underserved.csv")}
        else:
            inp = proc.inputs
            locs, offers = load_locations_offers(
                _same_file(inp["locations"], inp["locations_sha256"], "locations"),
                _same_file(inp["offers"], inp["offers_sha256"], "offers"))  # fmt: skip
            who = self.challengers_frame(process_id)
            checked = check_challenges(self.challenges_frame(process_id), who, pre["location_id"],
                                       source=f"stored challenges of {process_id}")  # fmt: skip
            classes = post_challenge(locs, offers, checked, load_profile(proc.spec["profile"]),
                                     date.fromisoformat(proc.spec["as_of"]))  # fmt: skip
            if not classes["pre"].to_numpy().tolist() == pre["pre"].to_numpy().tolist():
                raise StateError(
                    "the classification of the inputs changed since the process was created"
                )
            frames = submission_frames(classes, who, checked, cai, None)
        written = write_bead_files(frames, out_dir)
        counts = {"locations": len(classes), "pre_unserved": int((classes["pre"] == 0).sum()),
                  "pre_underserved": int((classes["pre"] == 1).sum())}  # fmt: skip
        if proc.state == "final":
            counts.update(post_unserved=int((classes["post"] == 0).sum()),
                          post_underserved=int((classes["post"] == 1).sum()),
                          post_served=int((classes["post"] == 2).sum()),
                          changed=int((classes["pre"] != classes["post"]).sum()))  # fmt: skip
        self.beads.note(process_id, actor, "files", {"state": proc.state, "counts": counts,
                        "files": {p.name: sha256_file(p) for p in written}})  # fmt: skip
        return counts, written
