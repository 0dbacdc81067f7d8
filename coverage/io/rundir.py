"""Read a finished run directory back into frames, optionally for one Kreis or Gemeinde.

The map builders and other faces take a :class:`RunData`; they never open files themselves.
Frames keep the run's CRS: EPSG:25832 for addresses, gap areas, boundaries and coverage;
grid tables carry EPSG:3035 lower-left corners (``x_ll``, ``y_ll``) as written by the run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from coverage.errors import InputDataError, NotFoundError, SourceReadError

#: files a run directory must hold for the maps (the rest are optional)
REQUIRED = (
    "manifest.json",
    "addresses.parquet",
    "summary_gemeinde.csv",
    "summary_kreis.csv",
    "boundaries.parquet",
)
OPTIONAL = (
    "gap_areas.parquet",
    "summary_grid_100m.parquet",
    "summary_grid_1km.parquet",
    "degurba_cells.parquet",
)
WORKING_CRS = "EPSG:25832"
_AGS = re.compile(r"\d{5}|\d{8}")


@dataclass(frozen=True, eq=False)
class RunData:
    """The results of one run, possibly restricted to an AGS prefix (``ags``).

    ``addresses``, ``gap_areas``, ``boundaries`` (levels ``gemeinde`` and ``kreis``) and
    ``coverage`` (None when the coverage inputs are gone) are GeoDataFrames in EPSG:25832.
    ``grid_100m``, ``grid_1km`` and ``degurba_cells`` are plain frames keyed by INSPIRE cell id
    with EPSG:3035 lower-left corners; suppressed counts are NA.
    """

    run_dir: Path
    manifest: dict[str, Any]
    addresses: gpd.GeoDataFrame
    summary_gemeinde: pd.DataFrame
    summary_kreis: pd.DataFrame
    boundaries: gpd.GeoDataFrame
    gap_areas: gpd.GeoDataFrame
    grid_100m: pd.DataFrame
    grid_1km: pd.DataFrame
    degurba_cells: pd.DataFrame
    coverage: gpd.GeoDataFrame | None = None
    ags: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def synthetic_note(self) -> str | None:
        """The manifest's synthetic-data note, or None for real data."""
        return self.manifest.get("synthetic_data") or None

    @property
    def profile(self) -> dict[str, Any]:
        """The manifest's profile block (id, version, title, classes, eligible_classes)."""
        return dict(self.manifest.get("profile") or {})

    @property
    def area_name(self) -> str:
        """Name of the selected Gemeinde/Kreis, or the names of the Kreise in the run."""
        b = self.boundaries
        if self.ags:
            hit = b.loc[b["ags"] == self.ags, "name"]
            return str(hit.iloc[0]) if len(hit) else self.ags
        kreise = b.loc[b["level"] == "kreis", "name"].astype(str).tolist()
        return ", ".join(kreise) if len(kreise) <= 3 else f"{len(kreise)} Kreise"


def _read(path: Path, what: str) -> Any:
    """Read one run file by extension, translating foreign errors."""
    try:
        if path.suffix == ".json":
            return json.loads(path.read_text(encoding="utf-8"))
        if path.suffix == ".csv":
            return pd.read_csv(path, dtype={"ags": "string", "name": "string"})
        if what == "geo":
            return gpd.read_parquet(path)
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise SourceReadError(
            f"{path}: cannot read this run file ({exc}); re-run the analysis to rebuild it"
        ) from exc


def _empty_geo() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"area_id": pd.Series(dtype="string"), "ags": pd.Series(dtype="string")},
        geometry=gpd.GeoSeries([], crs=WORKING_CRS),
    )


def _to_working(frame: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise InputDataError(f"{path}: the layer has no CRS; expected {WORKING_CRS}")
    return frame if frame.crs.to_string() == WORKING_CRS else frame.to_crs(WORKING_CRS)


def _read_coverage(paths: Sequence[Path]) -> gpd.GeoDataFrame | None:
    """Coverage footprints from GeoParquet or any format the vector reader knows."""
    frames = []
    for path in paths:
        if path.suffix == ".parquet":
            frame = _read(path, "geo")
        else:
            from coverage.io.vector import read_vector

            frame = read_vector(path).frame
        frames.append(_to_working(frame, path))
    if not frames:
        return None
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=WORKING_CRS)


def check_ags(ags: str) -> str:
    """Return ``ags`` if it is a 5-digit Kreis or 8-digit Gemeinde key, else raise."""
    if not isinstance(ags, str) or not _AGS.fullmatch(ags):
        raise InputDataError(
            f"AGS {ags!r} is not a 5-digit Kreis or 8-digit Gemeinde key (e.g. 05974 or 05974044)"
        )
    return ags


def select(run: RunData, ags: str | None) -> RunData:
    """Restrict every frame of ``run`` to the Kreis or Gemeinde ``ags`` (pure; no file access).

    Addresses, gap areas and Gemeinde summaries are kept when their AGS starts with ``ags``;
    boundaries keep the selected Gemeinden and their Kreis; grid cells are kept when a selected
    address lies in them; DEGURBA cells and coverage when they intersect the selection's
    bounding box. Raises ``NotFoundError`` when no Gemeinde of the run matches.
    """
    if ags is None:
        return run
    check_ags(ags)
    b = run.boundaries
    gem = b[(b["level"] == "gemeinde") & b["ags"].str.startswith(ags)]
    if gem.empty:
        known = ", ".join(sorted(b.loc[b["level"] == "kreis", "ags"].astype(str)))
        raise NotFoundError(
            f"AGS {ags} is not in this run (Kreise in the run: {known}); "
            "give a 5-digit Kreis or 8-digit Gemeinde key from summary_gemeinde.csv"
        )
    kreis = b[(b["level"] == "kreis") & (b["ags"] == ags[:5])]
    boundaries = pd.concat([gem, kreis])
    addresses = run.addresses[run.addresses["ags"].str.startswith(ags).fillna(False)]
    minx, miny, maxx, maxy = gem.total_bounds

    def grid(frame: pd.DataFrame, col: str) -> pd.DataFrame:
        if frame.empty or col not in addresses:
            return frame.iloc[:0]
        return frame[frame["cell_id"].isin(set(addresses[col].dropna()))]

    deg = run.degurba_cells
    if not deg.empty:
        bbox = gpd.GeoSeries.from_xy([minx, maxx], [miny, maxy], crs=WORKING_CRS).to_crs(
            "EPSG:3035"
        )
        x0, y0, x1, y1 = bbox.total_bounds
        deg = deg[
            (deg["x_ll"] + 1000 > x0)
            & (deg["x_ll"] < x1)
            & (deg["y_ll"] + 1000 > y0)
            & (deg["y_ll"] < y1)
        ]
    coverage = run.coverage
    if coverage is not None:
        coverage = coverage.iloc[coverage.sindex.query(gem.union_all(), predicate="intersects")]
    s_kreis = run.summary_kreis
    return replace(
        run,
        addresses=addresses,
        summary_gemeinde=run.summary_gemeinde[run.summary_gemeinde["ags"].str.startswith(ags)],
        summary_kreis=s_kreis[s_kreis["ags"] == ags[:5]],
        boundaries=gpd.GeoDataFrame(boundaries, crs=b.crs),
        gap_areas=run.gap_areas[run.gap_areas["ags"].str.startswith(ags).fillna(False)],
        grid_100m=grid(run.grid_100m, "cell_100m"),
        grid_1km=grid(run.grid_1km, "cell_1km"),
        degurba_cells=deg,
        coverage=coverage,
        ags=ags,
    )


def load_run(
    run_dir: str | Path, *, ags: str | None = None, coverage_paths: Sequence[Path] = ()
) -> RunData:
    """Read a run directory written by ``gapmap run``/``gapmap demo``.

    Parameters
    ----------
    run_dir
        The run directory (holding ``manifest.json``).
    ags
        Optional 5-digit Kreis or 8-digit Gemeinde key; every frame is restricted to it.
    coverage_paths
        Coverage footprint files to show; by default the manifest's coverage inputs that
        still exist. Files that are gone are listed in ``RunData.notes``.

    Raises
    ------
    NotFoundError
        The directory does not exist, or ``ags`` is not in the run.
    InputDataError
        The directory is not a complete run (a required file is missing) or ``ags`` is malformed.
    SourceReadError
        A run file cannot be read.
    """
    root = Path(run_dir)
    if ags is not None:
        check_ags(ags)
    if not root.is_dir():
        raise NotFoundError(
            f"run directory {root} does not exist; give the directory of a finished run"
        )
    missing = [name for name in REQUIRED if not (root / name).is_file()]
    if missing:
        hint = " (did you mean its run/ subdirectory?)" if (root / "run").is_dir() else ""
        if (root / "addresses").is_dir() and (root / "manifest.json").is_file():
            hint = (
                " (a gapmap cluster-run directory: its tables, gap areas and per-address "
                "parts are there, but not the one addresses.parquet maps and evidence "
                "packs read; run gapmap run per Kreis or Land for those)"
            )
        raise InputDataError(
            f"{root} is not a complete run directory{hint}: missing {', '.join(missing)}"
        )
    manifest = _read(root / "manifest.json", "json")
    addresses = _to_working(_read(root / "addresses.parquet", "geo"), root / "addresses.parquet")
    boundaries = _to_working(_read(root / "boundaries.parquet", "geo"), root / "boundaries.parquet")
    if "level" not in boundaries:
        boundaries["level"] = [
            "kreis" if len(str(a)) == 5 else "gemeinde" for a in boundaries["ags"]
        ]

    def optional(name: str, kind: str) -> Any:
        path = root / name
        if path.is_file():
            frame = _read(path, kind)
            return _to_working(frame, path) if kind == "geo" else frame
        return (
            _empty_geo() if kind == "geo" else pd.DataFrame({"cell_id": pd.Series(dtype="string")})
        )

    notes: list[str] = []
    if not coverage_paths:
        declared = [
            Path(i["path"]) for i in manifest.get("inputs", []) if i.get("kind") == "coverage"
        ]
        coverage_paths = [p for p in declared if p.is_file()]
        notes += [
            f"coverage input {p} no longer exists; footprints not shown"
            for p in declared
            if not p.is_file()
        ]
    else:
        for p in coverage_paths:
            if not Path(p).is_file():
                raise NotFoundError(f"coverage file {p} does not exist")
    run = RunData(
        run_dir=root,
        manifest=manifest,
        addresses=addresses,
        summary_gemeinde=_read(root / "summary_gemeinde.csv", "csv"),
        summary_kreis=_read(root / "summary_kreis.csv", "csv"),
        boundaries=boundaries,
        gap_areas=optional("gap_areas.parquet", "geo"),
        grid_100m=optional("summary_grid_100m.parquet", "plain"),
        grid_1km=optional("summary_grid_1km.parquet", "plain"),
        degurba_cells=optional("degurba_cells.parquet", "plain"),
        coverage=_read_coverage([Path(p) for p in coverage_paths]),
        notes=notes,
    )
    return select(run, ags)
