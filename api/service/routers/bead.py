"""The BEAD challenge process over HTTP: NTIA's submission files from the uploaded tables
(analyst and admin only: challenges name people and carry evidence)."""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response

from api.service.bead import BeadInputs, build_submission, summary
from api.service.deps import AnalystKey, StoreDep
from api.service.errors import PROBLEM_SCHEMA

_PROBLEM = {"content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}}}
router = APIRouter(
    prefix="/bead", tags=["bead"], responses={401: _PROBLEM, 403: _PROBLEM, 422: _PROBLEM}
)
_CHUNK = 1 << 20
#: upload field -> (stored name, allowed suffixes); stored names are fixed, never the user's
_FILES = {
    "locations": ("fabric", (".csv", ".zip", ".parquet", ".gpkg")),
    "offers": ("bdc", (".csv", ".zip")),
    "challengers": ("challengers", (".csv",)),
    "challenges": ("challenges", (".csv",)),
    "cai": ("cai", (".csv",)),
    "cai_challenges": ("cai_challenges", (".csv",)),
}


def _store(upload: UploadFile | None, field: str, folder: Path) -> Path | None:
    from coverage.errors import InputDataError

    if upload is None:
        return None
    stem, allowed = _FILES[field]
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in allowed:
        raise InputDataError(
            f"{field}: expected {' or '.join(allowed)}, got {suffix or 'no extension'}"
        )
    path = folder / f"{stem}{suffix}"
    with path.open("wb") as fh:
        shutil.copyfileobj(upload.file, fh, _CHUNK)
    return path


@router.post(
    "/challenge",
    summary="NTIA challenge-process files from challenges, rebuttals and decisions",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def challenge(
    store: StoreDep,
    _: AnalystKey,
    locations: Annotated[UploadFile, File(description="FCC Fabric locations CSV")],
    offers: Annotated[UploadFile, File(description="FCC BDC availability CSV")],
    challengers: Annotated[UploadFile, File(description="challengers.csv (NTIA layout)")],
    challenges: Annotated[UploadFile, File(description="challenges.csv (NTIA layout)")],
    cai: Annotated[UploadFile | None, File(description="cai.csv")] = None,
    cai_challenges: Annotated[UploadFile | None, File(description="cai_challenges.csv")] = None,
    as_of: Annotated[date | None, Form(description="Reference date (default today)")] = None,
    profile: Annotated[str, Form(max_length=100)] = "us-bead-2022",
) -> Response:
    """A zip of unserved.csv, underserved.csv, post_challenge_locations.csv, challenges.csv,
    challengers.csv, cai.csv, cai_challenges.csv and post_challenge_cai.csv; the counts before
    and after the challenges are in the ``X-Gapmap-Bead-*`` headers."""
    with tempfile.TemporaryDirectory(dir=store.tmp_dir, prefix="bead-") as tmp:
        folder = Path(tmp)
        paths = {
            name: _store(upload, name, folder)
            for name, upload in (("locations", locations), ("offers", offers), ("challengers", challengers),
                                 ("challenges", challenges), ("cai", cai), ("cai_challenges", cai_challenges))
        }  # fmt: skip
        inputs = BeadInputs(profile=profile, **paths)  # type: ignore[arg-type]
        classes, written = build_submission(inputs, folder / "ntia", as_of or date.today())
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(written):
                zf.write(path, path.name)
    counts = summary(classes)
    headers = {f"X-Gapmap-Bead-{k.replace('_', '-')}": str(v) for k, v in counts.items()}
    headers["Content-Disposition"] = 'attachment; filename="bead_challenge_results.zip"'
    return Response(buf.getvalue(), media_type="application/zip", headers=headers)
