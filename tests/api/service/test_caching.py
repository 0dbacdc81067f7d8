"""The hot-path caches of the service answer exactly what the uncached code would.

* a cached summary is the same bytes as one built from the run directory afresh;
* a lookup answered on the event loop (table and index in memory) equals the first one,
  answered in the thread pool while the table loaded;
* a key revoked through the API is refused at once although keys are cached;
* a run that has just succeeded is the newest for lookup at once;
* concurrent cache misses share one catalog query (``single_flight``).

Each test module gets its own app and SQLite catalog (runs are added here, and "newest run"
must not change under the other modules' feet).
"""

from __future__ import annotations

import asyncio
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")

from api.service.addresses import AddressTable
from api.service.responses import clean_value
from api.service.results import Results
from api.service.security import KeyCache, Principal, Role, single_flight
from tests.api.service.conftest import (
    ADMIN_KEY,
    Service,
    own_service,
    start_run,
    upload,
    wait_run,
)


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A service of this module only (SQLite)."""
    tmp = tmp_path_factory.mktemp("caching")
    with own_service(tmp) as service:
        yield service


@pytest.fixture(scope="module")
def ids(own: Service, demo_inputs: Any) -> dict[str, str]:
    """The demo inputs uploaded to the module's service."""
    return {
        kind: upload(own.client, getattr(demo_inputs, kind), kind)["id"]
        for kind in ("addresses", "coverage", "boundaries")
    }


def _run(own: Service, ids: dict[str, str], demo_inputs: Any) -> dict[str, Any]:
    run = start_run(own.client, ids, own.keys["analyst"], as_of=demo_inputs.as_of.isoformat())
    done = wait_run(own.client, run["id"], own.keys["analyst"])
    assert done["state"] == "succeeded", done
    return done


@pytest.fixture(scope="module")
def first_run(own: Service, ids: dict[str, str], demo_inputs: Any) -> dict[str, Any]:
    """One succeeded run."""
    return _run(own, ids, demo_inputs)


def _services(own: Service) -> Any:
    app: Any = own.client.app
    return app.state.services


@pytest.mark.parametrize("role", ["analyst", "public"])
@pytest.mark.parametrize("level", ["gemeinde", "kreis"])
def test_cached_summary_is_the_uncached_bytes(
    own: Service, first_run: dict[str, Any], role: str, level: str
) -> None:
    url = f"/runs/{first_run['id']}/summary"
    first = own.get(url, role=role, params={"level": level})
    again = own.get(url, role=role, params={"level": level})
    assert first.status_code == again.status_code == 200
    assert first.headers["content-type"] == "application/json"
    services = _services(own)
    run = services.store.get_run(first_run["id"])
    fresh = Results(services.store).summary_json(run, level, role == "public")  # a cold cache
    assert first.content == again.content == fresh
    csv1 = own.get(url, role=role, params={"level": level, "f": "csv"})
    csv2 = own.get(url, role=role, params={"level": level, "f": "csv"})
    assert csv1.status_code == 200 and csv1.content == csv2.content


def test_lookup_on_the_event_loop_equals_the_thread_pool_answer(
    own: Service, first_run: dict[str, Any]
) -> None:
    items = own.get(f"/runs/{first_run['id']}/addresses", params={"limit": 50}).json()["items"]
    a = next(i for i in items if i.get("street") and i.get("house_number"))
    q = f"{a['street']} {a['house_number']}{a.get('suffix') or ''}, {a['place']}"
    for params in ({"lon": a["lon"], "lat": a["lat"]}, {"q": q}):
        answers = [own.get("/lookup", params=params) for _ in range(3)]
        assert {r.status_code for r in answers} == {200}
        assert answers[0].content == answers[1].content == answers[2].content
        assert answers[0].json()["address_id"] == a["address_id"]
    far = own.get("/lookup", params={"lon": a["lon"] + 0.5, "lat": a["lat"], "max_distance_m": 1})
    assert far.status_code == 404
    assert far.headers["content-type"] == "application/problem+json"
    assert own.get("/lookup", params={"q": "Nowhere Lane 99999, Atlantis"}).status_code == 404


def test_revoked_key_is_refused_at_once(own: Service) -> None:
    admin = {"X-API-Key": ADMIN_KEY}
    created = own.client.post("/keys", json={"role": "analyst"}, headers=admin).json()
    h = {"X-API-Key": created["key"]}
    for _ in range(3):  # now cached
        assert own.client.get("/runs", headers=h).status_code == 200
    r = own.client.post(f"/keys/{created['id']}/revoke", headers=admin)
    assert r.status_code == 200 and r.json()["revoked_at"]
    refused = own.client.get("/runs", headers=h)
    assert refused.status_code == 401
    assert refused.json()["code"] == "credentials_invalid"
    bearer = own.client.get("/runs", headers={"Authorization": f"Bearer {created['key']}"})
    assert bearer.status_code == 401
    assert own.client.get("/runs", headers=admin).status_code == 200  # others still work


def test_key_cache_drops_answers_read_before_a_revocation() -> None:
    cache = KeyCache(ttl_s=60)
    p = Principal("key_0123456789ab", Role.ANALYST)
    generation = cache.generation  # a lookup reads the catalog ...
    cache.clear()  # ... while a revocation commits and clears the cache
    cache.put("h", p, generation)
    assert cache.get("h") is None
    cache.put("h", p, cache.generation)
    assert cache.get("h") == p
    assert KeyCache(ttl_s=0.0).get("h") is None


def test_new_run_is_the_newest_for_lookup_at_once(
    own: Service, ids: dict[str, str], demo_inputs: Any, first_run: dict[str, Any]
) -> None:
    items = own.get(f"/runs/{first_run['id']}/addresses", params={"limit": 1}).json()["items"]
    params = {"lon": items[0]["lon"], "lat": items[0]["lat"]}
    before = own.get("/lookup", params=params).json()["run_id"]
    assert before == own.get("/lookup", params=params).json()["run_id"]  # cached now
    second = _run(own, ids, demo_inputs)
    assert second["id"] != before
    assert own.get("/lookup", params=params).json()["run_id"] == second["id"]


def test_single_flight_shares_one_call_and_its_error() -> None:
    calls = 0
    gate = threading.Event()

    def slow(value: int) -> int:
        nonlocal calls
        calls += 1
        gate.wait(5)
        return value * 2

    def boom() -> int:
        raise ValueError("no")

    async def main() -> None:
        tasks = [asyncio.create_task(single_flight("k", slow, 21)) for _ in range(20)]
        await asyncio.sleep(0.05)
        gate.set()
        assert await asyncio.gather(*tasks) == [42] * 20
        assert calls == 1
        assert await single_flight("k", slow, 1) == 2  # a new flight once the last landed
        assert calls == 2
        errors = await asyncio.gather(
            *(single_flight("e", boom) for _ in range(5)), return_exceptions=True
        )
        assert all(isinstance(e, ValueError) for e in errors)

    asyncio.run(main())


def _iloc_row(table: AddressTable, i: int) -> dict[str, Any]:
    return {c: clean_value(v) for c, v in table.frame.iloc[i].items()}


def test_fast_row_equals_the_cleaned_iloc_row(own: Service, first_run: dict[str, Any]) -> None:
    services = _services(own)
    table = services.results.addresses(services.store.get_run(first_run["id"]))
    for i in range(len(table.frame)):
        fast, slow = table.row(i), _iloc_row(table, i)
        assert fast == slow and list(map(type, fast.values())) == list(map(type, slow.values()))


def test_fast_row_with_unusual_column_types() -> None:
    frame = pd.DataFrame(
        {
            "address_id": pd.array(["a", None, "c"], dtype="string"),
            "py_str": pd.array(["x", pd.NA, "z"], dtype="string[python]"),
            "mixed": pd.Series([1, "two", None], dtype=object),
            "nullable": pd.array([1, None, 3], dtype="Int64"),
            "cat": pd.Categorical(["p", "q", None]),
            "when": pd.to_datetime(
                ["2025-01-02 03:04:05.123", None, "2026-12-31"], format="ISO8601"
            ),
            "when_tz": pd.to_datetime(["2025-01-02", None, "2026-12-31"]).tz_localize("UTC"),
            "f": [1.5, float("nan"), 3.0],
            "i8": np.array([1, 2, 3], dtype="int8"),
            "b": [True, False, True],
            "nb": pd.array([True, None, False], dtype="boolean"),
        }
    )
    n = len(frame)
    z = np.zeros(n)
    table = AddressTable("run_000000000000", frame, z, z, z, z, "EPSG:25832")
    for i in range(n):
        fast, slow = table.row(i), _iloc_row(table, i)
        assert fast == slow and list(map(type, fast.values())) == list(map(type, slow.values()))
