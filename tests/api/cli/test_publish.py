"""gapmap publish against a real PostGIS (GAPMAP_TEST_DATABASE_URL; skipped without one)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest

import api.cli.evidence  # noqa: F401 - registers the publish command
from api.cli import main
from coverage.errors import InputDataError
from coverage.io.postgis import check_identifier
from tests.conftest import TEST_SCALE

SCHEMA = "gapmap_test_publish"


def gapmap(*args: str | Path) -> int:
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def url() -> str:
    value = os.environ.get("GAPMAP_TEST_DATABASE_URL")
    if not value:
        pytest.skip('GAPMAP_TEST_DATABASE_URL is not set (CI: eval "$(.ci/services.sh)")')
    sa = pytest.importorskip("sqlalchemy")
    pytest.importorskip("geoalchemy2")
    try:
        engine = sa.create_engine(value)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        pytest.skip(f"PostgreSQL at GAPMAP_TEST_DATABASE_URL is unreachable: {exc}")
    return value


@pytest.fixture(scope="module")
def engine(url: str) -> Iterator[Any]:
    import sqlalchemy as sa

    eng = sa.create_engine(url)
    yield eng
    with eng.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
    eng.dispose()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("publish") / "demo"
    assert gapmap("demo", "--out", out, "--scale", TEST_SCALE) == 0
    return out / "run"


@pytest.fixture(scope="module")
def published(url: str, engine: Any, run_dir: Path) -> Path:
    assert gapmap("publish", run_dir, "--to", url, "--schema", SCHEMA) == 0
    return run_dir


def scalar(engine: Any, sql: str, **params: Any) -> Any:
    import sqlalchemy as sa

    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


def test_row_counts_match_the_run(engine: Any, published: Path) -> None:
    expected = {
        "addresses": len(gpd.read_parquet(published / "addresses.parquet")),
        "gap_areas": len(gpd.read_parquet(published / "gap_areas.parquet")),
        "boundaries": len(gpd.read_parquet(published / "boundaries.parquet")),
        "summary_gemeinde": len(pd.read_csv(published / "summary_gemeinde.csv")),
        "summary_kreis": len(pd.read_csv(published / "summary_kreis.csv")),
    }
    for table, count in expected.items():
        assert scalar(engine, f'SELECT count(*) FROM "{SCHEMA}"."{table}"') == count, table
    srid = scalar(engine, f'SELECT DISTINCT ST_SRID(geometry) FROM "{SCHEMA}".addresses')
    assert srid == 25832


def test_spatial_indexes(engine: Any, published: Path) -> None:
    n = scalar(
        engine,
        "SELECT count(*) FROM pg_indexes WHERE schemaname = :s AND indexdef ILIKE '%USING gist%'",
        s=SCHEMA,
    )
    assert n == 3  # addresses, gap_areas, boundaries


def test_addresses_within_a_gap_area(engine: Any, published: Path) -> None:
    addresses = gpd.read_parquet(published / "addresses.parquet")
    counts = addresses["gap_area_id"].value_counts()
    for area_id in counts.index[:3]:
        within = scalar(
            engine,
            f'SELECT count(*) FROM "{SCHEMA}".addresses a JOIN "{SCHEMA}".gap_areas g '
            "ON ST_Within(a.geometry, g.geometry) WHERE g.area_id = :id AND a.eligible",
            id=area_id,
        )
        assert within == counts[area_id], area_id


def test_class_views(engine: Any, published: Path) -> None:
    addresses = gpd.read_parquet(published / "addresses.parquet")
    for cls, count in addresses["class"].value_counts().items():
        assert scalar(engine, f'SELECT count(*) FROM "{SCHEMA}"."addresses_{cls}"') == count


def test_publishing_twice_replaces_cleanly(url: str, engine: Any, published: Path) -> None:
    before = scalar(engine, f'SELECT count(*) FROM "{SCHEMA}".addresses')
    assert gapmap("publish", published, "--to", url, "--schema", SCHEMA) == 0
    assert scalar(engine, f'SELECT count(*) FROM "{SCHEMA}".addresses') == before
    staging = scalar(
        engine, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'gapmap_staging_%'"
    )
    assert staging == 0


def test_bad_schema_names_are_refused(url: str, published: Path) -> None:
    assert gapmap("publish", published, "--to", url, "--schema", 'x"; DROP TABLE y; --') == 2
    for bad in ("Public", "1abc", "a-b", "a" * 64, ""):
        with pytest.raises(InputDataError):
            check_identifier(bad)
    assert check_identifier("gapmap_2026") == "gapmap_2026"


def test_every_address_in_a_gap_area_polygon_belongs_to_it(engine: Any, published: Path) -> None:
    """Issue 21: an analyst selecting by polygon counts exactly the area's addresses."""
    foreign = scalar(
        engine,
        f'SELECT count(*) FROM "{SCHEMA}".addresses a JOIN "{SCHEMA}".gap_areas g '
        "ON ST_Intersects(a.geometry, g.geometry) "
        "WHERE a.gap_area_id IS DISTINCT FROM g.area_id",
    )
    assert foreign == 0


def test_views_have_an_integer_key_comments_and_run_metadata(engine: Any, published: Path) -> None:
    import json

    manifest = json.loads((published / "manifest.json").read_text())
    cls = manifest["profile"]["classes"][0]
    unique = scalar(
        engine, f'SELECT count(DISTINCT gid) = count(*) FROM "{SCHEMA}"."addresses_{cls}"'
    )
    assert unique
    comment = scalar(
        engine,
        "SELECT obj_description(to_regclass(:v), 'pg_class')",
        v=f'"{SCHEMA}"."addresses_{cls}"',
    )
    assert "Stichtag 2026-06-30" in comment and "gid" in comment
    col = scalar(
        engine,
        "SELECT col_description(to_regclass(:t), a.attnum) FROM pg_attribute a "
        "WHERE a.attrelid = to_regclass(:t) AND a.attname = 'degurba_cell'",
        t=f'"{SCHEMA}"."addresses"',
    )
    assert "3 städtisches Zentrum" in col
    as_of = scalar(engine, f"SELECT value FROM \"{SCHEMA}\".run_metadata WHERE key = 'as_of'")
    assert as_of == manifest["parameters"]["as_of"]
    version = scalar(
        engine, f"SELECT value FROM \"{SCHEMA}\".run_metadata WHERE key = 'profile_version'"
    )
    assert version == manifest["profile"]["version"]
