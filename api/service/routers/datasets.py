"""Datasets: upload (multipart), list, show with validation report, delete. Admin for writes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile, status

from api.service.deps import AdminKey, AnalystKey, DatasetId, SettingsDep, StoreDep
from api.service.errors import PROBLEM_SCHEMA
from api.service.ingest import DatasetKind, ingest, remove_files
from api.service.schemas import DatasetList, DatasetOut

_PROBLEM = {"content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}}}
router = APIRouter(
    prefix="/datasets",
    tags=["datasets"],
    responses={401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM, 422: _PROBLEM},
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DatasetOut,
    summary="Upload an input file",
    responses={413: _PROBLEM},
)
def upload(
    store: StoreDep,
    settings: SettingsDep,
    principal: AdminKey,
    file: Annotated[
        UploadFile,
        File(description="GeoParquet, GPKG, GeoJSON, CSV, a zip (Shapefile etc.) or GeoTIFF"),
    ],
    kind: Annotated[DatasetKind, Form(description="What the file holds")],
    crs: Annotated[
        str | None,
        Form(
            max_length=200,
            description="CRS of a file that has none, e.g. EPSG:25832",
            examples=["EPSG:25832"],
        ),
    ] = None,
) -> DatasetOut:
    """Store the file, read and validate it with the engine, and keep the validation report.

    A file the engine rejects answers 422 with the engine's message; nothing is kept.
    """
    ds = ingest(
        store, settings, file.file, file.filename or "", kind, crs or None, principal.key_id
    )
    return DatasetOut.of(ds, report=True)


@router.get("", response_model=DatasetList, summary="List datasets")
def list_datasets(
    store: StoreDep,
    _: AnalystKey,
    kind: DatasetKind | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> DatasetList:
    """Datasets, newest first (metadata only)."""
    page = store.list_datasets(kind.value if kind else None, limit, offset)
    return DatasetList(items=[DatasetOut.of(d) for d in page.items], total=page.total)


@router.get(
    "/{dataset_id}", response_model=DatasetOut, summary="Show a dataset and its validation report"
)
def show(dataset_id: DatasetId, store: StoreDep, _: AnalystKey) -> DatasetOut:
    """Metadata and the validation report stored at upload."""
    return DatasetOut.of(store.get_dataset(dataset_id), report=True)


@router.delete(
    "/{dataset_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a dataset",
    responses={409: _PROBLEM},
)
def delete(dataset_id: DatasetId, store: StoreDep, _: AdminKey) -> None:
    """Remove the dataset (409 while an active run uses it). Finished runs keep their results."""
    store.delete_dataset(dataset_id)
    remove_files(store, dataset_id)
