"""BKG VG250 boundary reader (layers VG250_GEM and VG250_KRS; GPKG, Shapefile, GeoJSON).

Only land areas are kept (``GF == 4``; ``GF == 2`` are water areas such as lakes and the
coastal sea, which would double-count a Gemeinde's area); how many were dropped is noted.
``ags`` = ``AGS`` as a zero-padded string (8 digits for Gemeinden, 5 for Kreise, also when a
Shapefile stored it as a number), ``ars`` = ``ARS``/``RS`` (12/5 digits), ``name`` = ``GEN``.
The level comes from, in order: the ``level`` argument, ``ADE`` (6 = Gemeinde, 4 = Kreis),
the layer or file name (``GEM``/``gemeinde``, ``KRS``/``kreis``), the key length.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.errors import InputDataError
from coverage.io.vector import RawLayer, read_vector
from coverage.levels import ADE_LEVELS, KEY_LEVELS, describe_set_aside, keep_mask
from coverage.schema import BoundaryLevel

VG250_MAPPING: dict[str, str] = {
    "AGS": "ags",
    "ARS/RS": "ars",
    "GEN": "name",
    "ADE/layer": "level",
    "BEZ": "bez",
}
_ADE_LEVEL = {6: BoundaryLevel.GEMEINDE.value, 4: BoundaryLevel.KREIS.value}
_WIDTH = {BoundaryLevel.GEMEINDE.value: 8, BoundaryLevel.KREIS.value: 5}
_ARS_WIDTH = {BoundaryLevel.GEMEINDE.value: 12, BoundaryLevel.KREIS.value: 5}


def read_vg250(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    crs: str | int | None = None,
    level: str | None = None,
) -> RawLayer:
    """Read a VG250 Gemeinde or Kreis layer into canonical boundary columns.

    Parameters
    ----------
    path
        GPKG (choose ``layer``, e.g. ``vg250_gem``), Shapefile (``VG250_GEM.shp``), GeoJSON
        or a zip of these.
    crs
        Stated CRS, only for files without one (VG250 ``utm32s`` = EPSG:25832).
    level
        ``gemeinde`` or ``kreis`` to override the detection.

    Returns
    -------
    RawLayer
        Polygons in the file's CRS with ``ags``, ``name``, ``level`` (+ ``ars``, ``bez``,
        ``gf`` when present). Rows with ``GF != 4`` are dropped and counted in ``notes``.

    Raises
    ------
    InputDataError
        No AGS/GEN fields, an unsupported level (LAN, RBZ, VWG), keys that are not digits.
    """
    raw = read_vector(path, crs=crs, layer=layer)
    label = raw.source
    frame = raw.frame
    cols = {str(c).upper(): c for c in frame.columns}
    missing = [c for c in ("AGS", "GEN") if c not in cols]
    if missing:
        raise InputDataError(
            f"{label}: not a VG250 layer: field(s) {', '.join(missing)} missing (columns found: "
            f"{', '.join(map(str, frame.columns[:20]))}); use read_vector with a column mapping instead"
        )
    notes = list(raw.notes)
    if "GF" in cols:
        gf = pd.to_numeric(frame[cols["GF"]], errors="coerce")
        keep = (gf == 4).to_numpy(dtype=bool)
        if not keep.all():
            notes.append(
                f"dropped {int((~keep).sum())} non-land feature(s) (GF != 4, e.g. water areas)"
            )
            frame = frame.loc[keep]
        if len(frame) == 0:
            raise InputDataError(f"{label}: no land features (GF == 4) in the layer")
    frame = frame.reset_index(drop=True)
    levels = _row_levels(frame, cols, level, raw.layer or layer, Path(label).stem, label)
    set_aside = describe_set_aside(levels)
    if set_aside:
        keep = keep_mask(levels)
        if not keep.any():
            raise InputDataError(
                f"{label}: no Gemeinde or Kreis rows ({set_aside.removeprefix('set aside ')}); "
                "read the GEM or KRS layer"
            )
        notes.append(set_aside)
        frame, levels = frame.loc[keep].reset_index(drop=True), levels[keep].reset_index(drop=True)
    ags = pd.Series(pd.NA, index=frame.index, dtype="string")
    ars = pd.Series(pd.NA, index=frame.index, dtype="string")
    ars_col = cols.get("ARS") or cols.get("RS")
    for lv in levels.unique():
        at = (levels == lv).to_numpy()
        ags[at] = _digits(frame.loc[at, cols["AGS"]], _WIDTH[lv], "AGS", label).to_numpy()
        if ars_col is not None:
            ars[at] = _digits(
                frame.loc[at, ars_col], _ARS_WIDTH[lv], ars_col, label, max_width=12
            ).to_numpy()
    out = pd.DataFrame({"ags": ags, "name": frame[cols["GEN"]].astype("string").str.strip()})
    out["level"] = levels.astype("string")
    if ars_col is not None:
        out["ars"] = ars
    if "BEZ" in cols:
        out["bez"] = frame[cols["BEZ"]].astype("string")
    if "GF" in cols:
        out["gf"] = pd.to_numeric(frame[cols["GF"]], errors="coerce").astype("Int64")
    gdf = gpd.GeoDataFrame(out, geometry=frame.geometry.to_numpy(), crs=raw.crs)
    return RawLayer(
        frame=gdf,
        crs=raw.crs,
        crs_how=raw.crs_how,
        source=label,
        format=f"vg250-{raw.format}",
        rows=len(gdf),
        sha256=raw.sha256,
        notes=(*notes, "level " + ", ".join(sorted(levels.unique()))),
        layer=raw.layer,
    )


def _row_levels(
    frame: pd.DataFrame,
    cols: dict[str, str],
    level: str | None,
    layer: str | None,
    stem: str,
    label: str,
) -> pd.Series:
    """Level per row: one level for a single-level layer, else per row by ADE or key length."""
    if level is None and "ADE" in cols:
        ade = pd.to_numeric(frame[cols["ADE"]], errors="coerce")
        if ade.dropna().nunique() > 1:
            return ade.map(ADE_LEVELS).astype("string")
    elif level is None:
        key = frame[cols["AGS"]]
        if pd.api.types.is_float_dtype(key):
            key = key.astype("Int64")
        lengths = key.astype("string").str.strip().str.len()
        if lengths.nunique() > 1:
            # a number column loses the leading zero: 4 digits are a Kreis, 7 a Gemeinde
            digits = lengths.map({1: 2, 4: 5, 7: 8, 11: 12}).fillna(lengths)
            return digits.map(KEY_LEVELS).astype("string")
    lv = _level(frame, cols, level, layer, stem, label)
    return pd.Series(lv, index=frame.index, dtype="string")


def _level(
    frame: pd.DataFrame,
    cols: dict[str, str],
    level: str | None,
    layer: str | None,
    stem: str,
    label: str,
) -> str:
    if level is not None:
        lv = level.strip().lower()
        if lv not in _WIDTH:
            raise InputDataError(
                f"{label}: level {level!r} is not supported; use gemeinde or kreis"
            )
        return lv
    if "ADE" in cols:
        ade = pd.to_numeric(frame[cols["ADE"]], errors="coerce").dropna().unique()
        if len(ade) == 1 and int(ade[0]) in _ADE_LEVEL:
            return _ADE_LEVEL[int(ade[0])]
        if len(ade) == 1:
            raise InputDataError(
                f"{label}: VG250 ADE = {int(ade[0])} (1 Staat, 2 Land, 3 Regierungsbezirk, 5 "
                "Verwaltungsgemeinschaft) is not supported; read the GEM or KRS layer"
            )
    for name in (layer, stem):
        if not name:
            continue
        if re.search(r"gem", name, re.IGNORECASE):
            return BoundaryLevel.GEMEINDE.value
        if re.search(r"krs|kreis", name, re.IGNORECASE):
            return BoundaryLevel.KREIS.value
    lengths = frame[cols["AGS"]].astype("string").str.strip().str.len()
    if lengths.max() <= 5:
        return BoundaryLevel.KREIS.value
    return BoundaryLevel.GEMEINDE.value


def _digits(
    values: pd.Series, width: int, field: str, label: str, *, max_width: int | None = None
) -> pd.Series:
    """Keys as zero-padded digit strings (numbers stored by a Shapefile lose leading zeros)."""
    if pd.api.types.is_float_dtype(values):
        values = values.astype("Int64")
    text = values.astype("string").str.strip().str.zfill(width)
    pattern = rf"\d{{{width},{max_width or width}}}"
    bad = (text.isna() | ~text.str.fullmatch(pattern).fillna(False)).to_numpy(dtype=bool)
    if bad.any():
        rows = ", ".join(str(int(i) + 1) for i in np.flatnonzero(bad)[:5])
        raise InputDataError(
            f"{label}: field {field} must be a {width}-digit key at feature(s) {rows} "
            f"(first: {text[bad].iloc[0]!r}); is this the right layer?"
        )
    return text
