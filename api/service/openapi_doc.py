"""The OpenAPI document says what is sent: every 4xx/5xx is ``application/problem+json``.

FastAPI documents its own 422 as ``application/json`` and knows nothing of the answers the
gate, the handlers and the routes give (401, 403, 404, 406, 413 ...). :func:`install`
post-processes the generated document once: each operation lists the error statuses it can
answer, all with the problem schema.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.service.errors import PROBLEM_JSON, PROBLEM_SCHEMA

__all__ = ["install"]

#: paths anyone may call (see api.service.gate)
_OPEN = {"/health", "/ogc", "/ogc/conformance"}


def _error_codes(path: str, method: str, op: dict[str, Any]) -> set[str]:
    params = op.get("parameters", [])
    codes = {"422"}
    if path not in _OPEN:
        codes |= {"401", "403"}
    if "{" in path:
        codes.add("404")
    if any(p.get("name") == "f" for p in params):
        codes.add("406")
    if any(p.get("in") == "query" for p in params):
        codes.add("400")  # malformed bbox, cursor, or a combination the schema cannot say
    if method in ("post", "put", "patch", "delete"):
        codes |= {"409", "413"}
    if path.startswith(("/runs/{run_id}", "/lookup", "/ogc/collections")):
        codes.add("409")  # the run (or the newest one) has not succeeded
    return codes


def install(app: FastAPI) -> None:
    """Replace ``app.openapi`` by the post-processed document (built once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        for path, ops in schema.get("paths", {}).items():
            for method, op in ops.items():
                responses = op.setdefault("responses", {})
                for code in sorted(_error_codes(path, method, op)):
                    responses.setdefault(code, {"description": HTTPStatus(int(code)).phrase})
                for code, response in responses.items():
                    if code[:1] in ("4", "5"):
                        response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
