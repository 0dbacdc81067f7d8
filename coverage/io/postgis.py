"""Publish a run directory to PostGIS: tables, spatial indexes and one view per class.

A publication replaces the previous one of the same schema atomically: everything is written
into a private staging schema inside one transaction, which then drops the old schema and
renames the staging schema into its place before committing. Readers see the old tables until
the commit and the new ones after it; a failure leaves the old publication untouched.

Identifiers are validated (``^[a-z_][a-z0-9_]{0,62}$``) and quoted by SQLAlchemy's identifier
preparer; nothing from user input is pasted into SQL unquoted.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from coverage.errors import InputDataError, SourceReadError

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass
class PublishResult:
    """Rows per table and per class view of a finished publication."""

    schema: str
    url: str
    tables: dict[str, int] = field(default_factory=dict)
    views: dict[str, int] = field(default_factory=dict)


def check_identifier(name: str, what: str = "schema") -> str:
    """Return ``name`` if it is a plain lower-case PostgreSQL identifier, else raise."""
    if not isinstance(name, str) or not IDENTIFIER.fullmatch(name):
        raise InputDataError(
            f"{what} name {name!r} is not allowed: use lower-case letters, digits and '_', "
            "starting with a letter or '_', at most 63 characters"
        )
    return name


def database_url(url: str) -> Any:
    """A SQLAlchemy URL; plain ``postgresql://`` uses the psycopg (3) driver."""
    import sqlalchemy as sa

    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise InputDataError(
            f"not a database URL: {url!r} (use postgresql://user@host/db)"
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if not parsed.drivername.startswith("postgresql"):
        raise InputDataError(f"publish needs a PostgreSQL URL, got {parsed.drivername!r}")
    return parsed


def _frames(run_dir: Path) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    from coverage.io.evidence_pack import read_run

    run = read_run(run_dir)
    frames: dict[str, pd.DataFrame] = {"addresses": run.addresses}
    if run.gap_areas is not None:
        frames["gap_areas"] = run.gap_areas
    if run.boundaries is not None:
        frames["boundaries"] = run.boundaries
    for name in ("summary_gemeinde", "summary_kreis"):
        if (run_dir / f"{name}.csv").is_file():
            frames[name] = pd.read_csv(run_dir / f"{name}.csv", dtype={"ags": str, "name": str})
    return run.manifest, frames


def publish_run(run_dir: str | Path, url: str, *, schema: str = "gapmap") -> PublishResult:
    """Write a run's addresses, gap areas, boundaries and summaries to ``schema``.

    Geometry columns keep the run's CRS (EPSG:25832 for Germany) as their SRID and get a GIST
    index; ``addresses`` gets a primary key on ``address_id`` and b-tree indexes on ``ags`` and
    ``class`` and an integer key ``gid`` (for QGIS); ``<schema>.addresses_<class>`` is a view
    per class of the run's profile (with ``gid``). Tables, views and the main columns carry
    comments; ``run_metadata`` holds the Stichtag, profile, creation date and software.
    ``CREATE EXTENSION IF NOT EXISTS postgis`` runs first (needs the right to create it).
    """
    import sqlalchemy as sa

    check_identifier(schema)
    run_dir = Path(run_dir)
    manifest, frames = _frames(run_dir)
    classes = [check_identifier(c, "class") for c in manifest.get("profile", {}).get("classes", [])]
    parsed = database_url(url)
    shown = parsed.render_as_string(hide_password=True)
    staging = "gapmap_staging_" + hashlib.sha256(schema.encode()).hexdigest()[:16]
    result = PublishResult(schema, shown)
    engine = sa.create_engine(parsed)
    try:
        _ensure_postgis(engine, shown)
        with engine.begin() as conn:
            q = conn.dialect.identifier_preparer.quote_identifier
            # one publisher per schema at a time; the key is derived, never user SQL
            key = int.from_bytes(hashlib.sha256(schema.encode()).digest()[:8], "big", signed=True)
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {q(staging)} CASCADE"))
            conn.execute(sa.text(f"CREATE SCHEMA {q(staging)}"))
            for name, frame in frames.items():
                _write(conn, frame, name, staging)
                result.tables[name] = len(frame)
            _indexes(conn, staging, frames)
            _write(conn, run_metadata(manifest, run_dir), "run_metadata", staging)
            result.tables["run_metadata"] = len(run_metadata(manifest, run_dir))
            for cls in classes:
                _class_view(conn, staging, cls)
            _comments(conn, staging, frames, classes, manifest)
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {q(schema)} CASCADE"))
            conn.execute(sa.text(f"ALTER SCHEMA {q(staging)} RENAME TO {q(schema)}"))
            prof = manifest.get("profile", {})
            note = (
                f"gapmap run {run_dir.name}: profile {prof.get('id')} {prof.get('version')}, "
                f"Stichtag {manifest.get('parameters', {}).get('as_of')}; see table run_metadata"
            )
            conn.execute(sa.text(f"COMMENT ON SCHEMA {q(schema)} IS {_literal(conn, note)}"))
        with engine.connect() as conn:
            q = conn.dialect.identifier_preparer.quote_identifier
            for cls in classes:
                view = f"{q(schema)}.{q('addresses_' + cls)}"
                result.views[f"addresses_{cls}"] = conn.execute(
                    sa.text(f"SELECT count(*) FROM {view}")
                ).scalar_one()
    except sa.exc.OperationalError as exc:
        raise SourceReadError(
            f"cannot publish to {shown}: {str(exc.orig).strip().splitlines()[0]}"
        ) from exc
    except sa.exc.DBAPIError as exc:
        raise SourceReadError(f"publishing to {shown} failed: {exc.orig}") from exc
    finally:
        engine.dispose()
    return result


def _ensure_postgis(engine: Any, shown: str) -> None:
    """CREATE EXTENSION IF NOT EXISTS postgis, with a clear message when not allowed."""
    import sqlalchemy as sa

    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
    except sa.exc.ProgrammingError as exc:  # e.g. permission denied, extension not installed
        raise SourceReadError(
            f"{shown}: PostGIS is not available and cannot be created ({str(exc.orig).strip()}); "
            "ask the database owner to run CREATE EXTENSION postgis"
        ) from exc


def _literal(conn: Any, value: str) -> str:
    import sqlalchemy as sa

    return str(
        sa.literal(value).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    )


def _write(conn: Any, frame: pd.DataFrame, name: str, schema: str) -> None:
    if isinstance(frame, gpd.GeoDataFrame):
        # geoalchemy2 adds a GIST index on the geometry column (idx_<table>_geometry)
        frame.to_postgis(name, conn, schema=schema, index=False)
    else:
        frame.to_sql(name, conn, schema=schema, index=False)


def _indexes(conn: Any, schema: str, frames: dict[str, pd.DataFrame]) -> None:
    import sqlalchemy as sa

    q = conn.dialect.identifier_preparer.quote_identifier
    keys = {"addresses": "address_id", "gap_areas": "area_id"}
    for table, key in keys.items():
        if table in frames and key in frames[table] and frames[table][key].is_unique:
            conn.execute(sa.text(f"ALTER TABLE {q(schema)}.{q(table)} ADD PRIMARY KEY ({q(key)})"))
    # an integer key in every class view, for QGIS (which needs one to open a view)
    conn.execute(
        sa.text(
            f"ALTER TABLE {q(schema)}.{q('addresses')} "
            f"ADD COLUMN {q('gid')} bigint GENERATED ALWAYS AS IDENTITY UNIQUE"
        )
    )
    for column in ("ags", "class", "gap_area_id"):
        if column in frames["addresses"]:
            conn.execute(sa.text(f"CREATE INDEX ON {q(schema)}.{q('addresses')} ({q(column)})"))
    for table, frame in frames.items():
        if isinstance(frame, gpd.GeoDataFrame):
            conn.execute(sa.text(f"ANALYZE {q(schema)}.{q(table)}"))


#: Column comments (German, for the GIS office) of the published tables and views.
COLUMN_COMMENTS = {
    "addresses": {
        "gid": "Ganzzahliger Schlüssel je Adresse (für QGIS-Ansichten)",
        "address_id": "Adress-ID aus den Eingangsdaten (Primärschlüssel)",
        "ags": "Amtlicher Gemeindeschlüssel (8 Stellen, Text)",
        "class": "Klasse nach dem Regelwerk (Code, siehe run_metadata)",
        "eligible": "förderfähig nach dem Regelwerk",
        "reason": "Begründung der Klasse",
        "best_down_mbps": "bestes bestehendes Angebot: Download (Mbit/s)",
        "planned_down_mbps": "bestes geplantes Angebot: Download (Mbit/s)",
        "planned_available_from": "geplantes Angebot verfügbar ab",
        "gap_area_id": "Lückengebiet der Adresse (area_id)",
        "degurba_cell": "DEGURBA der 1-km-Zelle: 3 städtisches Zentrum, 2 urbaner Cluster, 1 ländlich",
        "degurba_gemeinde": "DEGURBA der Gemeinde: 1 Stadt, 2 Kleinstadt/Vorort, 3 ländlich",
    },
    "gap_areas": {
        "area_id": "stabile Gebiets-ID (Primärschlüssel)",
        "ags": "Hauptgemeinde (die meisten Adressen)",
        "gemeinde_ags": "alle Gemeinden des Gebiets, Hauptgemeinde zuerst",
        "gemeinde_names": "Namen aller Gemeinden des Gebiets, Hauptgemeinde zuerst",
        "cost_eur": "geschätzte Kosten (EUR)",
        "priority": "Priorität 0-100 (höher = dringlicher)",
    },
}
TABLE_COMMENTS = {
    "addresses": "Adressen mit Klasse, Förderfähigkeit und Begründung (gapmap)",
    "gap_areas": "Lückengebiete: Flächen enthalten nur die Adressen des Gebiets (gapmap)",
    "boundaries": "Gemeinde- und Kreisgrenzen der Auswertung",
    "summary_gemeinde": "Kennzahlen je Gemeinde (interne, ungeschwärzte Zahlen)",
    "summary_kreis": "Kennzahlen je Kreis (interne, ungeschwärzte Zahlen)",
    "run_metadata": "Stichtag, Regelwerk und Herkunft dieser Veröffentlichung",
}


def run_metadata(manifest: dict[str, Any], run_dir: Path) -> pd.DataFrame:
    """The publication's metadata as (key, value) rows: Stichtag, profile, creation, software."""
    prof = manifest.get("profile", {})
    params = manifest.get("parameters", {})
    rows = [
        ("run", run_dir.name),
        ("as_of", params.get("as_of")),
        ("profile_id", prof.get("id")),
        ("profile_version", prof.get("version")),
        ("profile_title", prof.get("title")),
        ("profile_sha256", prof.get("sha256")),
        ("classes", ",".join(prof.get("classes", []))),
        ("eligible_classes", ",".join(prof.get("eligible_classes", []))),
        ("created", manifest.get("created")),
        ("gapmap_version", manifest.get("gapmap_version")),
        ("working_crs", manifest.get("working_crs")),
        ("synthetic_data", manifest.get("synthetic_data")),
    ]
    return pd.DataFrame(
        [(k, None if v is None else str(v)) for k, v in rows], columns=["key", "value"]
    )


def _comments(
    conn: Any,
    schema: str,
    frames: dict[str, pd.DataFrame],
    classes: list[str],
    manifest: dict[str, Any],
) -> None:
    import sqlalchemy as sa

    q = conn.dialect.identifier_preparer.quote_identifier
    stamp = f" (Stichtag {manifest.get('parameters', {}).get('as_of')})"
    for table in [*frames, "run_metadata"]:
        if table in TABLE_COMMENTS:
            text = _literal(conn, TABLE_COMMENTS[table] + stamp)
            conn.execute(sa.text(f"COMMENT ON TABLE {q(schema)}.{q(table)} IS {text}"))
        columns = set(frames[table].columns) if table in frames else set()
        if table == "addresses":
            columns.add("gid")
        for column, text in COLUMN_COMMENTS.get(table, {}).items():
            if column in columns:
                conn.execute(
                    sa.text(
                        f"COMMENT ON COLUMN {q(schema)}.{q(table)}.{q(column)} IS {_literal(conn, text)}"
                    )
                )
    for cls in classes:
        view = f"addresses_{cls}"
        text = _literal(conn, f"Adressen der Klasse {cls}{stamp}; Schlüssel: gid (oder address_id)")
        conn.execute(sa.text(f"COMMENT ON VIEW {q(schema)}.{q(view)} IS {text}"))


def _class_view(conn: Any, schema: str, cls: str) -> None:
    import sqlalchemy as sa

    q = conn.dialect.identifier_preparer.quote_identifier
    view = check_identifier(f"addresses_{cls}", "view")
    conn.execute(
        sa.text(
            f"CREATE VIEW {q(schema)}.{q(view)} AS SELECT * FROM {q(schema)}.{q('addresses')} "
            f"WHERE {q('class')} = {_literal(conn, cls)}"
        )
    )
