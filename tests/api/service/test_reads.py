"""The prepared read path answers exactly what the in-memory path answered.

* OGC address items from the run's prepared store equal the pages built from the whole
  table in memory (mask over lon/lat, ``page_features``): same features, same bytes, same
  order, numberMatched/numberReturned and links, for offsets, boxes and their edges;
* one feature by id, and a missing id, as before;
* invalid parameters give the same clear errors;
* a store that is missing, truncated, damaged or older than the run's file is built again;
* summaries in every format are the bytes the streamed path wrote, with an ETag that a
  revalidation answers 304 (after the key check);
* /profiles is the profiles' document.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from api.service.addresses import AddressTable, load_address_table, page_features
from api.service.reads import AddressReads, StoreInvalidError, store_dir
from api.service.responses import csv_response, dumps
from api.service.results import Results
from tests.api.service.conftest import Service, own_service, start_run, upload, wait_run

ITEMS = "/ogc/collections/addresses/items"


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A service of this module only (SQLite)."""
    with own_service(tmp_path_factory.mktemp("reads")) as service:
        yield service


@pytest.fixture(scope="module")
def run(own: Service, demo_inputs: Any) -> dict[str, Any]:
    """One succeeded demo run, served by the module's service."""
    ids = {
        kind: upload(own.client, getattr(demo_inputs, kind), kind)["id"]
        for kind in ("addresses", "coverage", "boundaries")
    }
    started = start_run(own.client, ids, own.keys["analyst"], as_of=demo_inputs.as_of.isoformat())
    done = wait_run(own.client, started["id"], own.keys["analyst"])
    assert done["state"] == "succeeded", done
    return done


def _services(own: Service) -> Any:
    app: Any = own.client.app
    return app.state.services


@pytest.fixture(scope="module")
def table(own: Service, run: dict[str, Any]) -> AddressTable:
    """The run's addresses as the in-memory path held them (the oracle)."""
    path = _services(own).store.run_dir(run["id"]) / "addresses.parquet"
    return load_address_table(run["id"], path)


def _old_page(
    table: AddressTable, bbox: tuple[float, float, float, float] | None, offset: int, limit: int
) -> tuple[list[bytes], int]:
    """The page as the in-memory path built it."""
    rows = np.flatnonzero(table.mask(bbox=bbox))
    return [dumps(f) for f in page_features(table, rows[offset : offset + limit])], len(rows)


def _check_page(
    own: Service, table: AddressTable, bbox: tuple[float, ...] | None, offset: int, limit: int
) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if bbox is not None:
        params["bbox"] = ",".join(repr(v) for v in bbox)
    r = own.get(ITEMS, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/geo+json"
    assert r.headers["cache-control"] == "no-store"
    feats, matched = _old_page(table, bbox, offset, limit)  # type: ignore[arg-type]
    body = r.json()
    assert body["numberMatched"] == matched
    assert body["numberReturned"] == len(feats)
    # the features are the same bytes in the same order
    assert r.content.split(b',"features":[', 1)[1] == b",".join(feats) + b"]}"
    rels = [link["rel"] for link in body["links"]]
    assert rels == (["self", "next"] if offset + len(feats) < matched else ["self"])
    if "next" in rels:
        assert f"offset={offset + len(feats)}" in body["links"][1]["href"]
    return body


def _box_around(table: AddressTable, i: int, half: float) -> tuple[float, float, float, float]:
    return (
        float(table.lon[i]) - half,
        float(table.lat[i]) - half,
        float(table.lon[i]) + half,
        float(table.lat[i]) + half,
    )


def test_pages_without_bbox_equal_the_in_memory_pages(own: Service, table: AddressTable) -> None:
    n = len(table.lon)
    assert n > 1000  # several blocks and grid cells
    for offset, limit in [(0, 100), (63, 2), (64, 65), (n - 3, 100), (n, 10), (n + 7, 10)]:
        _check_page(own, table, None, offset, limit)
    whole = _check_page(own, table, None, 0, 10000)
    assert whole["numberReturned"] == min(n, 10000)


def test_pages_in_boxes_equal_the_in_memory_pages(own: Service, table: AddressTable) -> None:
    rng = np.random.default_rng(7)
    n = len(table.lon)
    minx, miny = float(table.lon.min()), float(table.lat.min())
    maxx, maxy = float(table.lon.max()), float(table.lat.max())
    boxes: list[tuple[float, float, float, float]] = [
        (minx, miny, maxx, maxy),  # exactly the extent: every address
        (minx - 1, miny - 1, maxx + 1, maxy + 1),
        (maxx + 0.1, maxy + 0.1, maxx + 0.2, maxy + 0.2),  # beyond the extent: none
        (minx, miny, minx, miny),  # a point box on the extent's corner
    ]
    for i in rng.choice(n, 6, replace=False):
        boxes.append(_box_around(table, int(i), float(rng.uniform(0.002, 0.05))))
        # a degenerate box on one address: its edges are inclusive
        boxes.append(_box_around(table, int(i), 0.0))
    for box in boxes:
        for offset, limit in [(0, 100), (5, 3), (250, 100)]:
            _check_page(own, table, box, offset, limit)
    hit = _check_page(own, table, boxes[-1], 0, 100)
    assert hit["numberMatched"] >= 1


def test_one_feature_by_id(own: Service, table: AddressTable, run: dict[str, Any]) -> None:
    for i in (0, len(table.lon) // 2, len(table.lon) - 1):
        fid = str(table.frame["address_id"].iloc[i])
        r = own.get(f"{ITEMS}/{fid}")
        assert r.status_code == 200, r.text
        assert r.content == dumps(page_features(table, np.array([table.index_of(fid)]))[0])
    r = own.get(f"{ITEMS}/no-such-address")
    assert r.status_code == 404
    assert r.json()["detail"] == f"address 'no-such-address' is not in run {run['id']}"
    assert own.get(f"{ITEMS}/{'x' * 200}").status_code == 404


def test_extent_is_the_addresses_extent(own: Service, table: AddressTable) -> None:
    body = own.get("/ogc/collections/addresses").json()
    assert body["extent"]["spatial"]["bbox"] == [
        [
            float(table.lon.min()),
            float(table.lat.min()),
            float(table.lon.max()),
            float(table.lat.max()),
        ]
    ]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"bbox": "1,2,3"}, 400, "bbox_invalid"),
        ({"bbox": "8,51,a,52"}, 400, "bbox_invalid"),
        ({"bbox": "9,51,8,52"}, 400, "bbox_invalid"),
        ({"bbox": "8,51,nan,52"}, 400, "bbox_invalid"),
        ({"limit": 0}, 422, None),
        ({"limit": 10001}, 422, None),
        ({"offset": -1}, 422, None),
    ],
)
def test_invalid_parameters_are_refused_clearly(
    own: Service, run: dict[str, Any], params: dict[str, Any], status: int, code: str | None
) -> None:
    r = own.get(ITEMS, params=params)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    if code:
        assert r.json()["code"] == code
        assert "minlon,minlat,maxlon,maxlat" in r.json()["detail"] or "<=" in r.json()["detail"]
    else:
        assert params.popitem()[0] in r.text


def _fresh_reads(own: Service, run: dict[str, Any]) -> tuple[AddressReads, Path]:
    services = _services(own)
    stored = services.store.get_run(run["id"])
    reads = Results(services.store).address_reads(stored)  # a cold cache: opens from disk
    return reads, store_dir(services.store.workspace, run["id"])


def _meta(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((path / "meta.json").read_text())
    return data


def test_a_damaged_or_stale_store_is_built_again(
    own: Service, run: dict[str, Any], table: AddressTable
) -> None:
    reads, path = _fresh_reads(own, run)
    first_page = reads.page(None, 0, 50)
    assert first_page == _old_page(table, None, 0, 50)
    source = _services(own).store.run_dir(run["id"]) / "addresses.parquet"
    damages = {
        "missing": lambda: (path / "features.bin").unlink(),
        "truncated": lambda: os.truncate(path / "features.bin", 100),
        "damaged array": lambda: (path / "cell_rows.npy").write_bytes(b"\x93NUMPY garbage"),
        "meta": lambda: (path / "meta.json").write_text("{not json"),
        "whole store": lambda: [p.unlink() for p in path.iterdir()],
        "source changed": lambda: os.utime(source, ns=(1, 1_000_000_000)),
    }
    for what, damage in damages.items():
        damage()
        with pytest.raises(StoreInvalidError):
            AddressReads(path, run["id"], source)
        reads, _ = _fresh_reads(own, run)
        assert reads.page(None, 0, 50) == first_page, what
        assert reads.page(_box_around(table, 3, 0.01), 0, 20) == _old_page(
            table, _box_around(table, 3, 0.01), 0, 20
        ), what
        assert _meta(path)["files"]["features.bin"] == (path / "features.bin").stat().st_size
    assert _meta(path)["source"]["mtime_ns"] == 1_000_000_000
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no debris


def test_a_store_built_in_small_pieces_is_the_same_store(
    own: Service, run: dict[str, Any], tmp_path: Path
) -> None:
    """Pieces of the file that are not whole blocks give the same files, byte for byte."""
    from api.service.reads_build import build

    source = _services(own).store.run_dir(run["id"]) / "addresses.parquet"
    build(run["id"], source, tmp_path / "whole")
    build(run["id"], source, tmp_path / "pieces", piece_rows=1000)
    for name in sorted(p.name for p in (tmp_path / "whole").iterdir()):
        assert (tmp_path / "whole" / name).read_bytes() == (
            tmp_path / "pieces" / name
        ).read_bytes(), name


@pytest.mark.parametrize("role", ["analyst", "public"])
@pytest.mark.parametrize("level", ["gemeinde", "kreis"])
@pytest.mark.parametrize("dialect", ["plain", "excel-de"])
def test_summary_csv_is_the_streamed_bytes(
    own: Service, run: dict[str, Any], role: str, level: str, dialect: str
) -> None:
    services = _services(own)
    stored = services.store.get_run(run["id"])
    frame = Results(services.store).summary(stored, level, role == "public")
    old = csv_response(frame, "x.csv", dialect)

    async def collect() -> bytes:
        return b"".join([c async for c in old.body_iterator])  # type: ignore[misc]

    import asyncio

    expected = asyncio.run(collect())
    url = f"/runs/{run['id']}/summary"
    r = own.get(url, role, params={"level": level, "f": "csv", "dialect": dialect})
    assert r.status_code == 200
    assert r.content == expected
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == (
        f'attachment; filename="{run["id"]}_summary_{level}.csv"'
    )


def test_summary_etag_revalidates_after_the_key_check(own: Service, run: dict[str, Any]) -> None:
    url = f"/runs/{run['id']}/summary"
    tags = {}
    for role in ("analyst", "public"):
        for f in ("json", "csv"):
            r = own.get(url, role, params={"level": "gemeinde", "f": f})
            assert r.status_code == 200
            assert r.headers["cache-control"] == "private, no-cache"
            tag = r.headers["etag"]
            again = own.client.get(
                url,
                params={"level": "gemeinde", "f": f},
                headers={**own.h(role), "If-None-Match": tag},
            )
            assert again.status_code == 304
            assert again.content == b""
            assert again.headers["etag"] == tag
            tags[role, f] = tag
    assert len(set(tags.values())) == 4  # the public table is another body
    # an analyst's tag does not reveal the analyst's table to a public key: 200 with its own
    r = own.client.get(
        url,
        params={"level": "gemeinde", "f": "json"},
        headers={**own.h("public"), "If-None-Match": tags["analyst", "json"]},
    )
    assert r.status_code == 200
    # no key: 401 before anything is compared
    r = own.client.get(url, headers={"If-None-Match": tags["public", "json"]})
    assert r.status_code == 401


def test_profiles_document(own: Service) -> None:
    """The documents the uncached routes returned (FastAPI's JSON of the same dicts)."""
    from fastapi.encoders import jsonable_encoder

    from api.service.routers.meta import _profile_dict
    from coverage.profiles import list_profiles

    for _ in range(2):  # built, then cached
        r = own.get("/profiles", "public")
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/json"
        expected = jsonable_encoder([_profile_dict(p, False) for p in list_profiles()])
        assert orjson.loads(r.content) == json.loads(json.dumps(expected))
    first = list_profiles()[0]
    one = own.get(f"/profiles/{first.id}", "public")
    assert one.json() == json.loads(json.dumps(jsonable_encoder(_profile_dict(first, True))))
    missing = own.get("/profiles/nope", "public")
    assert missing.status_code == 404
    assert "unknown profile 'nope'" in missing.json()["detail"]


def test_rendering_by_column_equals_page_features_on_every_dtype() -> None:
    """The store's column-wise rendering gives page_features' bytes for the dtypes an
    addresses table holds, with missing values, and for any other dtype (per cell)."""
    import pandas as pd

    n = 7
    frame = pd.DataFrame(
        {
            "address_id": pd.array(["a", None, "c", "d", "e", "f", "ü"], dtype="string"),
            "households": np.arange(n, dtype=np.int32),
            "degurba_cell": np.array([1, 2, 3, 1, 2, 3, 1], dtype=np.int8),
            "eligible": np.array([True, False] * 3 + [True]),
            "down": np.array([1.5, np.nan, np.inf, 0.1, -0.0, 1e20, 3.0]),
            "ratio32": np.array([0.1, np.nan, 2, 3, 4, 5, 6], dtype=np.float32),
            "when": pd.to_datetime(
                ["2026-01-01", None, "2027-05-06T12:30", *["2025-01-01"] * 4], format="ISO8601"
            ),
            "nullable": pd.array([1, None, 3, 4, 5, 6, 7], dtype="Int64"),
            "flag": pd.array([True, None, False, True, True, False, None], dtype="boolean"),
            "cat": pd.Categorical(["x", None, "y", "x", "x", "y", "y"]),
            "obj": np.array(["s", None, 1.5, float("nan"), "t", 2, "=1+1"], dtype=object),
        }
    )
    lon = np.linspace(7.1, 8.9, n)
    lat = np.linspace(50.6, 51.7, n)
    table = AddressTable("run_x", frame, lon, lat, lon, lat, "OGC:CRS84")
    from api.service.reads_build import render

    expected = [dumps(f) for f in page_features(table, np.arange(n))]
    assert render(table, 0, n) == expected
    assert render(table, 2, 5) == expected[2:5]
