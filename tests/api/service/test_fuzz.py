"""Schemathesis against the app's own OpenAPI: no request may produce a 5xx.

Authenticated with the admin key, on an app that holds a finished demo run, with a bounded
number of examples per operation so that it finishes in well under two minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.service.app import create_app
from api.service.settings import Settings
from tests.api.service.conftest import ADMIN_KEY

MAX_EXAMPLES = 25

# hypothesis imports its regex strategies on first use; done here, at a shallow stack, not
# deep inside schemathesis's strategy building, where compiling that module can hit CPython
# 3.11's AST recursion-depth bug (python/cpython#106905) and fail the run at random
st.from_regex(r"\A[a-z]\Z").validate()


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory, demo_inputs: Any) -> Iterator[Any]:
    """The OpenAPI schema of an app with the demo datasets uploaded and one run finished."""
    from fastapi.testclient import TestClient

    from tests.api.service.conftest import start_run, upload, wait_run

    ws = tmp_path_factory.mktemp("fuzz")
    app = create_app(
        Settings(
            workspace=ws, database_url=f"sqlite:///{ws / 'cat.db'}", bootstrap_admin_key=ADMIN_KEY
        )
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # the same app (lifespan started by schemathesis) gets real data through a TestClient
    with TestClient(app) as client:
        ids = {
            k: upload(client, getattr(demo_inputs, k), k)["id"]
            for k in ("addresses", "coverage", "boundaries")
        }
        run = wait_run(client, start_run(client, ids, ADMIN_KEY)["id"], ADMIN_KEY)
        yield {"schema": schema, "run_id": run["id"], "dataset_id": ids["addresses"]}


def _content_type(response: Any) -> str:
    value = response.headers.get("content-type", "")
    return str(value[0] if isinstance(value, list) and value else value)


def _fuzz_operation(operation: Any, real: dict[str, Any], failures: list[str]) -> None:
    """Up to MAX_EXAMPLES generated requests against one operation; record 5xx answers.

    Path ids are replaced by real ones (the finished run, a dataset, a collection) so that
    the generated query parameters reach the code behind the 404s.
    """

    @given(case=operation.as_strategy(), use_real=st.booleans())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    def run(case: Any, use_real: bool) -> None:
        params = case.path_parameters or {}
        if use_real and case.method != "DELETE":
            for name, value in (
                ("run_id", real["run_id"]),
                ("other_id", real["run_id"]),
                ("dataset_id", real["dataset_id"]),
            ):
                if name in params:
                    params[name] = value
            if "collection_id" in params:
                params["collection_id"] = (
                    "addresses" if len(str(params["collection_id"])) % 2 else "municipalities"
                )
        response = case.call(headers={"X-API-Key": ADMIN_KEY})
        if response.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
            )
        elif response.status_code >= 400 and not _content_type(response).startswith(
            "application/problem+json"
        ):
            failures.append(
                f"{case.method} {case.formatted_path} -> {response.status_code} without a problem body"
            )

    run()


def test_no_server_errors(api_schema: dict[str, Any]) -> None:
    """Every operation of the OpenAPI, fuzzed by schemathesis (the pytest plugin of
    schemathesis 4 does not run under pytest 9 here, so its Python API drives hypothesis)."""
    failures: list[str] = []
    operations = [result.ok() for result in api_schema["schema"].get_all_operations()]
    assert len(operations) > 30
    for operation in operations:
        _fuzz_operation(operation, api_schema, failures)
    assert not failures, "\n".join(failures[:20])


def test_schema_documents_examples(api_schema: dict[str, Any]) -> None:
    raw = api_schema["schema"].raw_schema
    assert raw["paths"]["/runs"]["post"]["requestBody"]
    body = raw["components"]["schemas"]["RunCreate"]
    assert body.get("examples"), "POST /runs shows an example body in /docs"
