"""Write and verify evidence packs: one reproducible zip per run, AGS prefix or gap area.

Byte-for-byte reproducible: members are sorted and carry a fixed date (1980-01-01) and mode;
tables are sorted by ``ags`` then ``address_id`` with fixed decimals; the XLSX carries the
run's creation date (not the build time) and is re-zipped with fixed dates; GeoPackages are written with GDAL's
``OGR_CURRENT_DATE`` pinned and the DBF header date of Shapefiles via
``DBF_DATE_LAST_UPDATE``. A pack records when its run was made, never when the pack was built.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from coverage import __version__, evidence, methodology
from coverage import evidence_sheets as sheets
from coverage.errors import InputDataError, NotFoundError, ProfileError, SourceReadError
from coverage.io import xlsx
from coverage.io.hashing import sha256_bytes
from coverage.io.writers import atomic_path, spreadsheet_safe
from coverage.profiles import Profile, load_profile

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
GDAL_DATE = "2000-01-01T00:00:00.000Z"  # fallback only; packs carry the run's date
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit minus the header row
SUMMARY_AREAS = 20  # gap areas listed on the summary sheet (all on their own sheet)


@dataclass
class RunFrames:
    """What a pack needs from a run directory."""

    run_dir: Path
    manifest: dict[str, Any]
    addresses: gpd.GeoDataFrame
    gap_areas: gpd.GeoDataFrame | None
    boundaries: gpd.GeoDataFrame | None


@dataclass(frozen=True)
class PackOptions:
    """Scope (``ags`` prefix or ``gap_area`` id), layout (``fmt``), language of texts."""

    ags: str | None = None
    gap_area: str | None = None
    fmt: str = "de"
    lang: str = "de"
    chunk_rows: int = evidence.BEAD_CHUNK_ROWS


@dataclass
class VerifyResult:
    """Outcome of :func:`verify_pack`; ``ok`` when nothing changed, went missing or was added."""

    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    checked: int = 0

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.extra)


def read_run(run_dir: str | Path) -> RunFrames:
    """Read the manifest, addresses, gap areas and boundaries of a run directory."""
    run_dir = Path(run_dir)
    if not (run_dir / "manifest.json").is_file():
        raise NotFoundError(f"{run_dir}: not a run directory (no manifest.json)")
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))

    def opt(name: str) -> gpd.GeoDataFrame | None:
        path = run_dir / name
        return gpd.read_parquet(path) if path.is_file() else None

    addresses = opt("addresses.parquet")
    if addresses is None:
        raise NotFoundError(f"{run_dir}: addresses.parquet is missing; re-run gapmap")
    return RunFrames(
        run_dir, manifest, addresses, opt("gap_areas.parquet"), opt("boundaries.parquet")
    )


def run_profile(manifest: Mapping[str, Any]) -> Profile:
    """The run's profile, checked against the SHA-256 recorded in the run manifest."""
    recorded = manifest.get("profile", {})
    profile = load_profile(recorded.get("id", ""))
    if recorded.get("sha256") and recorded["sha256"] != profile.sha256:
        raise ProfileError(
            f"profile {profile.id} changed since the run (SHA-256 {recorded['sha256'][:12]}... in "
            f"the run, {profile.sha256[:12]}... now); re-run gapmap before building a pack"
        )
    return profile


# --------------------------------------------------------------------------------------------
# members


def _csv(frame: pd.DataFrame, *, sep: str = ",", bom: bool = False, crlf: bool = False) -> bytes:
    text = spreadsheet_safe(frame).to_csv(
        index=False, sep=sep, lineterminator="\r\n" if crlf else "\n"
    )
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def rezip(data: bytes, *, rewrite: Callable[[str, bytes], bytes] | None = None) -> bytes:
    """A zip archive again with fixed entry dates and modes, entries in their original order."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            _put(dst, info.filename, rewrite(info.filename, body) if rewrite else body)
    return out.getvalue()


def _put(zf: zipfile.ZipFile, name: str, body: bytes) -> None:
    info = zipfile.ZipInfo(name, ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    info.create_system = 3
    zf.writestr(info, body)


def _fix_core(stamp: datetime) -> Callable[[str, bytes], bytes]:
    """docProps/core.xml with created and modified set to ``stamp`` (openpyxl writes 'now')."""
    text = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()

    def rewrite(name: str, body: bytes) -> bytes:
        if name != "docProps/core.xml":
            return body
        return re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + text, body)

    return rewrite


def run_created(run: RunFrames) -> datetime:
    """When the run was made: its manifest's ``created`` (UTC), else the manifest file's
    modification time (runs made before gapmap recorded it)."""
    value = run.manifest.get("created")
    if value:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).replace(tzinfo=None)
    stamp = (run.run_dir / "manifest.json").stat().st_mtime
    return datetime.fromtimestamp(int(stamp), tz=UTC).replace(tzinfo=None)


def xlsx_pack(
    sel: evidence.Selection,
    table: pd.DataFrame,
    labels: list[str],
    counts: pd.DataFrame,
    profile: Profile,
    run: RunFrames,
    meth_text: str,
    lang: str,
) -> bytes:
    """The pack's workbook (:func:`coverage.io.xlsx.workbook_bytes`), dated like the run."""
    if len(table) > XLSX_MAX_ROWS:
        raise InputDataError(
            f"{len(table):,} addresses do not fit one Excel sheet; build packs per Kreis or Gemeinde (--ags)"
        )
    created = run_created(run)
    t = _SUMMARY[lang]
    params = run.manifest.get("parameters", {})
    stamp = "%d.%m.%Y %H:%M UTC" if lang == "de" else "%Y-%m-%d %H:%M UTC"
    lines = [
        (t["title"], ""),
        (t["scope"], methodology.scope_text(sel.scope, lang)),
        (t["profile"], f"{methodology.title(profile, lang)} ({profile.id} {profile.version})"),
        (t["as_of"], _date(params.get("as_of"), lang)),
        (t["created"], created.strftime(stamp)),
    ]
    if run.manifest.get("synthetic_data"):
        lines.append((t["synthetic"], methodology.synthetic_note(run.manifest, lang)))
    names = sheets.SHEETS[lang]
    areas = sheets.area_sheet(sel.gap_areas, lang)
    blocks = [
        (t["classes"], sheets.class_sheet(counts, profile, lang)),
        (t["gemeinden"], sheets.gemeinde_sheet(sel.addresses, sel.boundaries, profile, lang)),
        (t["areas"], sheets.top_areas(areas, SUMMARY_AREAS)),
    ]
    body = xlsx.workbook_bytes(
        lang=lang, created=created, creator=f"gapmap {__version__}",
        title=f"{t['title']}: {methodology.scope_text(sel.scope, lang)}",
        summary_name=names["summary"], summary_lines=lines, summary_blocks=blocks,
        tables=[sheets.address_sheet(table, labels, lang), areas],
        text_name=names["method"], text=meth_text,
    )  # fmt: skip
    return rezip(body, rewrite=_fix_core(created))


_SUMMARY = {
    "de": {"title": "Breitband-Versorgung: Nachweis", "scope": "Gebiet", "profile": "Regelwerk",
           "as_of": "Stichtag", "created": "Erstellt", "synthetic": "ACHTUNG",
           "classes": "Adressen je Klasse", "gemeinden": "Je Gemeinde",
           "areas": "Lückengebiete: die 20 mit der höchsten Priorität (alle im Blatt Lückengebiete)"},
    "en": {"title": "Broadband coverage: evidence", "scope": "Area", "profile": "Rule set",
           "as_of": "Reference date", "created": "Created", "synthetic": "WARNING",
           "classes": "Addresses per class", "gemeinden": "Per Gemeinde",
           "areas": "Gap areas: the 20 of highest priority (all on the sheet Gap areas)"},
}  # fmt: skip


def _date(value: object, lang: str) -> str:
    if not value:
        return "?"
    day = pd.Timestamp(str(value)[:10])
    return day.strftime("%d.%m.%Y") if lang == "de" else day.strftime("%Y-%m-%d")


def _ogr_bytes(
    layers: Mapping[str, gpd.GeoDataFrame], driver: str, suffix: str, stamp: str = GDAL_DATE
) -> dict[str, bytes]:
    """Write layers with GDAL into a temp dir; return every produced file's bytes by name."""
    options = {"DBF_DATE_LAST_UPDATE": stamp[:10]} if driver == "ESRI Shapefile" else {}
    if driver == "GeoJSON":
        options = {"RFC7946": "YES", "COORDINATE_PRECISION": "7", "WRITE_NAME": "NO"}
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": stamp})
    try:
        with tempfile.TemporaryDirectory(prefix="gapmap-pack-") as tmp:
            for layer, frame in layers.items():
                path = Path(tmp) / (f"pack{suffix}" if driver == "GPKG" else f"{layer}{suffix}")
                kind = "Point" if layer == "addresses" else "MultiPolygon"
                pyogrio.write_dataframe(
                    frame, path, layer=layer, driver=driver, encoding="UTF-8",
                    geometry_type=kind, promote_to_multi=kind != "Point",
                    append=driver == "GPKG" and path.exists(), layer_options=options,
                )  # fmt: skip
            return {p.name: p.read_bytes() for p in sorted(Path(tmp).iterdir())}
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def xy_names(epsg: int) -> dict[str, str]:
    """Coordinate columns named with their CRS in machine-readable outputs."""
    return {"x": f"x_{epsg}", "y": f"y_{epsg}"}


def _gis_layers(sel: evidence.Selection, table: pd.DataFrame) -> dict[str, gpd.GeoDataFrame]:
    geo = gpd.GeoDataFrame(table, geometry=sel.addresses.geometry.values, crs=sel.addresses.crs)
    layers = {"addresses": geo}
    if sel.gap_areas is not None:
        layers["gap_areas"] = sel.gap_areas
    if sel.boundaries is not None:
        layers["boundaries"] = sel.boundaries[["ags", "name", "level", "geometry"]]
    return layers


def pack_members(
    run: RunFrames, options: PackOptions, *, overview_png: bytes | None = None
) -> dict[str, bytes]:
    """Every member of the pack (name -> bytes), manifest.json included."""
    if options.fmt not in evidence.FORMATS:
        raise InputDataError(f"unknown format {options.fmt!r}; use {', '.join(evidence.FORMATS)}")
    if options.lang not in evidence.LANGS:
        raise InputDataError(f"unknown language {options.lang!r}; use de or en")
    profile = run_profile(run.manifest)
    sel = evidence.select(
        run.addresses, run.gap_areas, run.boundaries, ags=options.ags, gap_area=options.gap_area
    )
    epsg = evidence.working_epsg(sel.addresses)
    table = evidence.address_table(sel.addresses)
    counts = evidence.class_counts(sel.addresses, profile)
    german = options.fmt == "de"
    meth = methodology.methodology_markdown(
        profile, run.manifest, sel.scope, counts, lang=options.lang, shapefile=german
    )
    labels = evidence.headers(epsg, options.lang, labels=True)
    m: dict[str, bytes] = {"METHODOLOGY.md": meth.encode("utf-8")}
    m["addresses.xlsx"] = xlsx_pack(sel, table, labels, counts, profile, run, meth, options.lang)
    plain = evidence.format_table(table).set_axis(
        evidence.headers(epsg, "en", labels=False), axis=1
    )
    m["addresses.csv"] = _csv(plain)
    m["summary.csv"] = _csv(counts)
    if german:
        shown = sheets.address_sheet(table, labels, options.lang).frame
        shown["planned_available_from"] = table["planned_available_from"].map(
            lambda v: _date(v, options.lang) if isinstance(v, str) and v else ""
        )
        excel = evidence.format_table(shown, decimal=",", lang=options.lang).set_axis(
            labels, axis=1
        )
        m["addresses_excel_de.csv"] = _csv(excel, sep=";", bom=True, crlf=True)
    layers = _gis_layers(sel, table)
    named = {**layers, "addresses": layers["addresses"].rename(columns=xy_names(epsg))}
    stamp = run_created(run).strftime("%Y-%m-%dT%H:%M:%S.000Z")  # the run's date, not now
    m["gis/gapmap.gpkg"] = _ogr_bytes(named, "GPKG", ".gpkg", stamp)["pack.gpkg"]
    wgs = {k: v.to_crs(4326) for k, v in named.items()}
    for name, body in _ogr_bytes(wgs, "GeoJSON", ".geojson", stamp).items():
        m[f"gis/geojson/{name}"] = body
    if german:
        shp = {k: evidence.shapefile_frame(k, v) for k, v in layers.items()}
        for name, body in _ogr_bytes(shp, "ESRI Shapefile", ".shp", stamp).items():
            m[f"gis/shapefile/{name}"] = body
        m["gis/shapefile/FIELDS.csv"] = _csv(evidence.shapefile_field_table())
    if overview_png is not None:
        m["map/overview.png"] = overview_png
    if options.fmt == "bead":
        locations = evidence.bead_locations(sel.addresses, profile)
        for i, part in enumerate(evidence.chunks(locations, options.chunk_rows), start=1):
            m[f"bead/bead_locations_{i:03d}.csv"] = _csv(part)
        m["bead/bead_service_level_summary.csv"] = _csv(evidence.bead_summary(locations))
    if options.fmt == "uk-omr":
        omr = evidence.uk_omr_table(sel.addresses, profile)
        m["uk/omr_premises.csv"] = _csv(omr)
    files = {name: sha256_bytes(body) for name, body in m.items()}
    manifest = evidence.pack_manifest(
        profile, run.manifest, sel.scope, counts, files, fmt=options.fmt, lang=options.lang,
        gapmap_version=__version__, gap_areas=0 if sel.gap_areas is None else len(sel.gap_areas),
        created=run_created(run).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )  # fmt: skip
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    m["manifest.json"] = (text + "\n").encode("utf-8")
    return m


def write_pack(
    run: RunFrames, out: str | Path, options: PackOptions, *, overview_png: bytes | None = None
) -> dict[str, bytes]:
    """Build the pack and write it atomically to ``out`` (a .zip); returns the members."""
    members = pack_members(run, options, overview_png=overview_png)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(members):
            _put(zf, name, members[name])
    with atomic_path(out) as tmp:
        tmp.write_bytes(buf.getvalue())
    return members


def verify_pack(path: str | Path) -> VerifyResult:
    """Recompute every member's SHA-256 against the pack's manifest.json."""
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise SourceReadError(f"{path}: not a readable zip archive ({exc})") from exc
    with zf:
        names = {i.filename for i in zf.infolist() if not i.is_dir()}
        if "manifest.json" not in names:
            raise InputDataError(
                f"{path}: no manifest.json in the pack; not a gapmap evidence pack"
            )
        try:
            expected = json.loads(zf.read("manifest.json"))["files"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InputDataError(
                f"{path}: manifest.json is unreadable or has no files list"
            ) from exc
        result = VerifyResult()
        for name in sorted(expected):
            if name not in names:
                result.missing.append(name)
                continue
            result.checked += 1
            if sha256_bytes(zf.read(name)) != expected[name].get("sha256"):
                result.changed.append(name)
        result.extra = sorted(names - set(expected) - {"manifest.json"})
    return result
