"""Uploads: size limit, zip safety, storage under a server-chosen name, validation report.

An upload is streamed to ``datasets/<id>/data<ext>`` (the extension is taken from the
user's filename only when it is one the readers know), checked (zip entries through
``coverage.io.archive.safe_extract`` with the service limits), read with
``coverage.io.vector.read_vector`` and validated with ``coverage.schema.validate_*``. A file
the engine rejects gives the engine's message (422) and nothing is kept.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from enum import StrEnum
from pathlib import Path, PurePath
from typing import IO, Any

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.service.models import Dataset, utcnow
from api.service.settings import Settings
from api.service.store import Store, new_id
from coverage.errors import GapmapError, InputDataError

_CHUNK = 1 << 20
_MULTIPART_SLACK = 1 << 16  # form boundaries and the other fields


class DatasetKind(StrEnum):
    """What an uploaded file holds."""

    ADDRESSES = "addresses"
    COVERAGE = "coverage"
    OFFERS = "offers"
    BOUNDARIES = "boundaries"
    GRID = "grid"
    RASTER = "raster"


# a Shapefile needs its sidecar files: upload it zipped
_VECTOR_EXT = (
    ".parquet",
    ".geoparquet",
    ".gpkg",
    ".geojson",
    ".json",
    ".fgb",
    ".zip",
    ".csv",
    ".txt",
)
_RASTER_EXT = (".tif", ".tiff")


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"upload larger than the limit of {limit:,} bytes")


def limited_receive(receive: Receive, limit: int, too_large: HTTPException) -> Receive:
    """``receive`` that raises ``too_large`` (413) once the body passes ``limit`` bytes, for
    bodies sent without (or with a false) Content-Length."""
    seen = 0

    async def limited() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large
        return message

    return limited


class UploadLimitMiddleware:
    """Refuse request bodies over the upload limit with 413 (by Content-Length or while streaming)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.limit = max_bytes + _MULTIPART_SLACK
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in {"POST", "PUT", "PATCH"}:
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            from api.service.errors import problem

            await problem(
                None,
                413,
                "payload_too_large",
                str(_too_large(self.max_bytes).detail),
                rid=scope.get("state", {}).get("request_id"),
                instance=scope.get("path"),
            )(scope, receive, send)
            return
        await self.app(
            scope, limited_receive(receive, self.limit, _too_large(self.max_bytes)), send
        )


def _extension(filename: str, kind: DatasetKind) -> str:
    suffix = PurePath(filename or "").suffix.lower()
    allowed = _RASTER_EXT if kind is DatasetKind.RASTER else _VECTOR_EXT
    if suffix not in allowed:
        raise InputDataError(
            f"{filename!r}: a {kind.value} upload must end in one of {', '.join(allowed)}"
        )
    return suffix


def _scrub(text: str, path: Path, label: str) -> str:
    """Replace the server-side path of an upload by the user's file name."""
    return text.replace(str(path), label).replace(str(path.parent), "upload")


def _copy_limited(src: IO[bytes], dest: Path, limit: int) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with dest.open("wb") as out:
        while chunk := src.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        raise InputDataError("the uploaded file is empty")
    return size, digest.hexdigest()


def _check_zip(path: Path, settings: Settings, tmp_root: Path) -> None:
    from coverage.io.archive import safe_extract

    with tempfile.TemporaryDirectory(dir=tmp_root, prefix="zipcheck-") as tmp:
        safe_extract(
            path,
            tmp,
            max_files=settings.max_zip_members,
            max_total_bytes=settings.max_unzipped_bytes,
        )


def _validate(path: Path, kind: DatasetKind, crs: str | None, label: str) -> dict[str, Any]:
    """Read and validate one stored file; returns the report (raises engine errors)."""
    if kind is DatasetKind.RASTER:
        return _raster_report(path, label)
    import geopandas as gpd

    from coverage.io.aliases import canonical_address_columns
    from coverage.io.detect import read_any
    from coverage.schema import validate_addresses, validate_boundaries, validate_offers

    if kind is DatasetKind.OFFERS:
        return _offer_list_report(path, label)
    # the reader `gapmap run` takes for this format (HK-DE, Gebäudereferenzen, FCC Fabric, ...)
    raw = read_any(path, crs=crs)
    raw_frame = raw.frame
    if kind is DatasetKind.ADDRESSES:
        # the column names `gapmap run` accepts (location_id of the FCC Fabric, HK-DE, ...)
        named, _, _ = canonical_address_columns(raw_frame, source=label)
        _, report = validate_addresses(named, source=label)
    elif kind is DatasetKind.COVERAGE:
        if not isinstance(raw_frame, gpd.GeoDataFrame):
            raise InputDataError(
                f"{label}: has no geometry, but a coverage dataset holds coverage areas "
                "(polygons); upload a table of offers per address or location (such as the "
                "FCC BDC availability file) with kind=offers"
            )
        _, report = validate_offers(raw_frame, source=label, spatial=True)
    elif kind is DatasetKind.BOUNDARIES:
        _, report = validate_boundaries(raw_frame, source=label)
    else:  # grid: read and described; its checks belong to the grid readers of the engine
        report = None
    out: dict[str, Any] = {
        "format": raw.format,
        "rows": raw.rows,
        "crs": raw.crs.to_string(),
        "crs_from": raw.crs_how,
        "notes": list(raw.notes),
        "columns": [str(c) for c in raw_frame.columns],
    }
    if report is not None:
        out["validation"] = report.to_dict()
        out["validation"]["source"] = label
    return out


def _offer_list_report(path: Path, label: str) -> dict[str, Any]:
    """An offer list read as `gapmap run --offers` reads it (CSV or XLSX, aliases such as the
    FCC BDC columns), then validated as offers without geometry."""
    from coverage.run_inputs import LayerSpec, read_offers
    from coverage.schema import validate_offers

    offers = read_offers(LayerSpec(path))
    _, report = validate_offers(offers.frame, source=label, spatial=False)
    validation = report.to_dict()
    validation["source"] = label
    return {
        "format": offers.format,
        "rows": offers.rows,
        "crs": None,
        "crs_from": None,
        "notes": list(offers.notes),
        "columns": [str(c) for c in offers.frame.columns],
        "validation": validation,
    }


def _raster_report(path: Path, label: str) -> dict[str, Any]:
    """Through the engine's raster reader: its driver list and content check apply."""
    from coverage.io.raster import raster_info

    info = raster_info(path)
    return {
        "format": "raster",
        "crs": info.crs,
        "width": info.width,
        "height": info.height,
        "bands": info.count,
        "nodata": info.nodata,
    }


def ingest(
    store: Store,
    settings: Settings,
    src: IO[bytes],
    filename: str,
    kind: DatasetKind,
    crs: str | None,
    created_by: str | None,
) -> Dataset:
    """Store, check and validate an upload; record it in the catalog. Nothing is kept on error."""
    ext = _extension(filename, kind)
    ds_id = new_id("ds")
    stored = f"data{ext}"
    label = PurePath(filename).name[:200] or stored
    staging = Path(tempfile.mkdtemp(dir=store.tmp_dir, prefix="upload-"))
    try:
        target = staging / stored
        size, sha = _copy_limited(src, target, settings.max_upload_bytes)
        try:
            if ext == ".zip":
                _check_zip(target, settings, store.tmp_dir)
            report = _validate(target, kind, crs, label)
        except GapmapError as exc:  # name the user's file, never the server's path
            raise type(exc)(_scrub(str(exc), target, label)) from exc
        report = orjson.loads(_scrub(orjson.dumps(report).decode(), target, label))
        final = store.dataset_dir(ds_id)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    ds = Dataset(
        id=ds_id,
        kind=kind.value,
        filename=label,
        stored_name=stored,
        size_bytes=size,
        sha256=sha,
        crs=crs,
        rows=report.get("rows"),
        report=report,
        created_at=utcnow(),
        created_by=created_by,
    )
    try:
        return store.add_dataset(ds)
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)
        raise


def remove_files(store: Store, dataset_id: str) -> None:
    """Delete a dataset's directory (after its catalog row is gone)."""
    shutil.rmtree(store.dataset_dir(dataset_id), ignore_errors=True)
