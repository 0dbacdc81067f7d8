"""Reading the artefacts of succeeded runs: summaries, grid, gap areas, DEGURBA, diff, files.

Run directories are written once (atomically) and never change afterwards, so what is read
here is cached per run id. Optional artefacts (``gap_areas.parquet``,
``degurba_gemeinde.csv``, ``summary_grid_1km.parquet``, ``map.html``) answer 404
"not computed in this run" when absent. Geometry leaves the service in WGS84 (CRS84 order).
Public keys get the public versions of the tables (:data:`PUBLIC_ARTEFACTS`), perturbed by
the run with the cell key method; a run without them has nothing for public keys.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import pandas as pd

from api.service.addresses import AddressTable, load_address_table
from api.service.errors import ApiError
from api.service.models import Run
from api.service.reads import AddressReads, open_or_build
from api.service.store import Store
from coverage.diff import RunDiff, diff_runs
from coverage.errors import NotFoundError

T = TypeVar("T")
log = logging.getLogger("gapmap.results")

OPTIONAL_ARTEFACTS = {
    "gap_areas": "gap_areas.parquet",
    "degurba": "degurba_gemeinde.csv",
    "grid": "summary_grid_1km.parquet",
    "map": "map.html",
}
#: artefact -> its public version (cell key method, written by the run; README, Privacy)
PUBLIC_ARTEFACTS = {
    "summary_gemeinde.csv": "summary_gemeinde_public.csv",
    "summary_kreis.csv": "summary_kreis_public.csv",
    "degurba_gemeinde.csv": "degurba_gemeinde_public.csv",
    "summary_grid_1km.parquet": "summary_grid_1km_public.parquet",
}


def not_computed(what: str, run_id: str) -> ApiError:
    """404 for an optional artefact this run does not have."""
    return ApiError(404, "not_computed", f"{what}: not computed in this run ({run_id})")


class _LRU:
    """A small thread-safe LRU cache; ``get_or_build`` builds outside the lock."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[tuple[str, str], threading.Lock] = {}

    def peek(self, key: tuple[str, str]) -> Any:
        """The cached value or None; never builds (cheap enough for the event loop)."""
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def get_or_build(self, key: tuple[str, str], build: Callable[[], T]) -> T:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
            lock = self._building.setdefault(key, threading.Lock())
        with lock:  # one builder per key; others wait for its result
            with self._lock:
                if key in self._data:
                    return self._data[key]
            value = build()
            with self._lock:
                self._data[key] = value
                self._building.pop(key, None)
                while len(self._data) > self.size:
                    self._data.popitem(last=False)
        return value


@dataclass(frozen=True)
class Body:
    """A prepared response body and its strong ETag."""

    data: bytes
    etag: str


def to_wgs84_features(frame: gpd.GeoDataFrame, id_column: str | None) -> list[dict[str, Any]]:
    """GeoJSON features (lon/lat order) from a GeoDataFrame in any CRS."""
    from api.service.responses import records

    geo = frame.to_crs("OGC:CRS84") if frame.crs is not None else frame
    props = records(pd.DataFrame(geo.drop(columns=geo.geometry.name)))
    geoms = geo.geometry.values
    out = []
    for i, (p, g) in enumerate(zip(props, geoms, strict=True)):
        feature: dict[str, Any] = {
            "type": "Feature",
            "id": p.get(id_column, i + 1) if id_column else i + 1,
        }
        feature["geometry"] = None if g is None or g.is_empty else g.__geo_interface__
        feature["properties"] = p
        out.append(feature)
    return out


class Results:
    """Artefacts of succeeded runs, cached per run id."""

    def __init__(self, store: Store, cache_runs: int = 4) -> None:
        self.store = store
        self._small = _LRU(64)
        self._big = _LRU(cache_runs)
        self._reads = _LRU(cache_runs)
        self._preparing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gapmap-reads")

    # -- generic -----------------------------------------------------------------------------
    def path(self, run: Run, name: str) -> Path:
        """A file of the run directory (server-side names only)."""
        return self.store.run_dir(run.id) / name

    def manifest(self, run: Run) -> dict[str, Any]:
        """The run's manifest.json."""

        def build() -> dict[str, Any]:
            try:
                data: dict[str, Any] = json.loads(
                    self.path(run, "manifest.json").read_text(encoding="utf-8")
                )
            except (OSError, ValueError) as exc:
                raise NotFoundError(f"run {run.id}: manifest missing or unreadable") from exc
            return data

        return self._small.get_or_build((run.id, "manifest"), build)

    def file(self, run: Run, name: str) -> Path:
        """A file listed in the manifest's ``files`` (the whitelist); 404 for anything else."""
        listed = self.manifest(run).get("files") or []
        if name not in listed or "/" in name or "\\" in name or name.startswith("."):
            raise NotFoundError(f"run {run.id} has no file {name!r}; files: {', '.join(listed)}")
        path = self.path(run, name)
        if not path.is_file():
            raise NotFoundError(f"run {run.id}: file {name} is listed but missing")
        return path

    def optional(self, run: Run, what: str) -> Path:
        """Path of an optional artefact, or 404 not computed."""
        path = self.path(run, OPTIONAL_ARTEFACTS[what])
        if not path.is_file():
            raise not_computed(what.replace("_", " "), run.id)
        return path

    # -- tables ------------------------------------------------------------------------------
    def _table_path(self, run: Run, name: str, public: bool) -> Path:
        if not public:
            return self.path(run, name)
        path = self.path(run, PUBLIC_ARTEFACTS[name])
        if not path.is_file():
            raise not_computed(
                f"{name.split('.')[0]} for public keys (the run predates disclosure control; "
                "run it again)",
                run.id,
            )
        return path

    def summary(self, run: Run, level: str, public: bool = False) -> pd.DataFrame:
        """``summary_<level>.csv``, or its public version (ags kept as text)."""
        path = self._table_path(run, f"summary_{level}.csv", public)
        return self._small.get_or_build(
            (run.id, path.name),
            lambda: pd.read_csv(path, dtype={"ags": str, "name": str}),
        )

    def summary_json(self, run: Run, level: str, public: bool) -> bytes:
        """The summary as a JSON document (cached per run, level and audience)."""
        from api.service.responses import dumps, records

        def build() -> bytes:
            frame = self.summary(run, level, public)
            meta = {"run_id": run.id, "level": level, "disclosure_control": _method(public)}
            return dumps({**meta, "count": len(frame), "items": records(frame)})

        return self._small.get_or_build((run.id, f"summary-json:{level}:{public}"), build)

    def cached_summary_json(self, run: Run, level: str, public: bool) -> bytes | None:
        """:meth:`summary_json` when already built, else None (never reads files)."""
        value: bytes | None = self._small.peek((run.id, f"summary-json:{level}:{public}"))
        return value

    def summary_body(self, run: Run, level: str, public: bool, fmt: str) -> Body:
        """The summary in ``fmt`` (``json``, ``csv``, ``csv-excel-de``) as the bytes the
        endpoint sends, with a strong ETag; built once per run, level and audience."""

        def build() -> Body:
            if fmt == "json":
                data = self.summary_json(run, level, public)
            else:
                from api.service.responses import csv_bytes

                dialect = "excel-de" if fmt == "csv-excel-de" else "plain"
                data = csv_bytes(self.summary(run, level, public), dialect)
            return Body(data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"')

        return self._small.get_or_build((run.id, f"summary-body:{level}:{public}:{fmt}"), build)

    def cached_summary_body(self, run: Run, level: str, public: bool, fmt: str) -> Body | None:
        """:meth:`summary_body` when already built, else None (never reads files)."""
        value: Body | None = self._small.peek((run.id, f"summary-body:{level}:{public}:{fmt}"))
        return value

    def degurba(self, run: Run, public: bool = False) -> pd.DataFrame:
        """``degurba_gemeinde.csv`` (or its public version) when computed."""
        self.optional(run, "degurba")
        path = self._table_path(run, OPTIONAL_ARTEFACTS["degurba"], public)
        return self._small.get_or_build(
            (run.id, path.name), lambda: pd.read_csv(path, dtype={"ags": str})
        )

    def grid(self, run: Run, public: bool = False) -> gpd.GeoDataFrame | pd.DataFrame:
        """``summary_grid_1km.parquet`` (or its public version) when computed."""
        self.optional(run, "grid")
        path = self._table_path(run, OPTIONAL_ARTEFACTS["grid"], public)
        return self._big.get_or_build((run.id, path.name), lambda: _read_table(path))

    def grid_table(self, run: Run, public: bool) -> pd.DataFrame:
        """The grid summary without geometry."""
        frame = self.grid(run, public)
        return pd.DataFrame(frame.drop(columns="geometry")) if "geometry" in frame else frame

    def grid_features(self, run: Run, public: bool) -> list[dict[str, Any]]:
        """The grid cells as GeoJSON features (WGS84); 406 when the grid has no geometry."""
        frame = self.grid(run, public)
        if not isinstance(frame, gpd.GeoDataFrame):
            raise ApiError(
                406, "format_unavailable", "this run's grid has no geometry; use f=json or f=csv"
            )
        return to_wgs84_features(frame, "cell_id" if "cell_id" in frame.columns else None)

    def gap_areas(self, run: Run) -> gpd.GeoDataFrame:
        """``gap_areas.parquet`` in WGS84 when computed."""
        path = self.optional(run, "gap_areas")

        def build() -> gpd.GeoDataFrame:
            frame = gpd.read_parquet(path)
            return frame.to_crs("OGC:CRS84") if frame.crs is not None else frame

        return self._big.get_or_build((run.id, "gap_areas"), build)

    def addresses(self, run: Run) -> AddressTable:
        """The run's per-address table with coordinates and lookup indexes."""
        return self._big.get_or_build(
            (run.id, "addresses"),
            lambda: load_address_table(run.id, self.path(run, "addresses.parquet")),
        )

    def address_reads(self, run: Run) -> AddressReads:
        """The run's prepared address store (built on first use; see api.service.reads)."""
        return self._reads.get_or_build(
            (run.id, "reads"),
            lambda: open_or_build(
                self.store.workspace, run.id, self.path(run, "addresses.parquet")
            ),
        )

    def cached_address_reads(self, run: Run) -> AddressReads | None:
        """:meth:`address_reads` when already open, else None (never reads files)."""
        value: AddressReads | None = self._reads.peek((run.id, "reads"))
        return value

    def prepare(self, run: Run) -> None:
        """Build the run's address store in the background (a run succeeded or was
        published); a failure is logged and the first read tries again."""

        def work() -> None:
            try:
                self.address_reads(run)
            except Exception:
                log.exception("preparing the address store of run %s failed", run.id)

        if self.path(run, "addresses.parquet").is_file():
            self._preparing.submit(work)

    def close(self) -> None:
        """Stop preparing (a build under way is finished by its thread)."""
        self._preparing.shutdown(wait=False, cancel_futures=True)

    def cached_addresses(self, run: Run) -> AddressTable | None:
        """:meth:`addresses` when already loaded, else None (never reads files)."""
        value: AddressTable | None = self._big.peek((run.id, "addresses"))
        return value

    def municipalities(self, run: Run, public: bool = False) -> gpd.GeoDataFrame:
        """summary_gemeinde (or its public version) on the run's Gemeinde polygons (WGS84)."""

        def build() -> gpd.GeoDataFrame:
            summary = self.summary(run, "gemeinde", public)
            own = self.path(run, "boundaries.parquet")  # the run's own copy: survives deletes
            if own.is_file():
                bounds = gpd.read_parquet(own)
            else:  # a run from before runs kept their boundaries
                bounds = self._dataset_boundaries(run)
            if "level" in bounds.columns:
                bounds = bounds[bounds["level"].astype(str) == "gemeinde"]
            bounds = bounds[["ags", "geometry"]].astype({"ags": str}).drop_duplicates("ags")
            joined = bounds.merge(summary, on="ags", how="inner").sort_values("ags", kind="stable")
            geo = gpd.GeoDataFrame(joined, geometry="geometry", crs=bounds.crs).to_crs("OGC:CRS84")
            return geo.reset_index(drop=True)

        return self._big.get_or_build((run.id, f"municipalities:{public}"), build)

    def _dataset_boundaries(self, run: Run) -> gpd.GeoDataFrame:
        from coverage.io.vector import read_vector
        from coverage.schema import validate_boundaries

        ds_id = run.inputs.get("boundaries")
        if not ds_id:
            raise not_computed("municipality geometry (the run has no boundaries dataset)", run.id)
        ds = self.store.get_dataset(ds_id)
        raw = read_vector(self.store.dataset_path(ds), crs=ds.crs)
        bounds, _ = validate_boundaries(raw.frame, source=raw.source)
        return bounds

    def diff(self, a: Run, b: Run) -> RunDiff:
        """Addresses whose class changed from run a to run b, with per-Gemeinde counts."""

        def build() -> RunDiff:
            return diff_runs(
                self.addresses(a).frame,
                self.addresses(b).frame,
                rank_a=self._ranks(a),
                rank_b=self._ranks(b),
            )

        return self._small.get_or_build((a.id, f"diff:{b.id}"), build)

    def _ranks(self, run: Run) -> list[str]:
        """The run profile's classes (best served first) for up/downgrade labels."""
        from coverage.profiles import load_profile

        try:
            return list(load_profile(run.profile).class_names)
        except Exception:  # a profile removed since the run: changes are then just "changed"
            return []


def _method(public: bool) -> str | None:
    return "cell key method (README, Privacy)" if public else None


def _read_table(path: Path) -> pd.DataFrame:
    try:
        return gpd.read_parquet(path)
    except ValueError:  # no geometry column: a plain table keyed by cell id
        return pd.read_parquet(path)
