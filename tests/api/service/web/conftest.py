"""Fixtures of the web-face tests: browser-like clients (own cookie jars) on the shared app."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from tests.api.service.conftest import Service

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: TestClient, key: str) -> None:
    """Sign in through the form (the client keeps the session cookie)."""
    token = csrf_of(client.get("/ui/login").text)
    r = client.post("/ui/login", data={"key": key, "csrf": token}, follow_redirects=False)
    assert r.status_code == 303, r.text


@pytest.fixture
def browser_client(service: Service) -> Callable[[], TestClient]:
    """A factory of clients with their own cookies on the running app (no second lifespan)."""

    def make() -> TestClient:
        return TestClient(service.client.app, base_url="http://testserver")

    return make


def html_tables(html: str) -> list[list[list[str]]]:
    """Every ``<table>`` of a page as rows of cell texts (header row first); stdlib parser."""
    from html.parser import HTMLParser

    class Tables(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tables: list[list[list[str]]] = []
            self.cell: list[str] | None = None

        def handle_starttag(self, tag: str, attrs: object) -> None:
            if tag == "table":
                self.tables.append([])
            elif tag == "tr" and self.tables:
                self.tables[-1].append([])
            elif tag in ("td", "th"):
                self.cell = []

        def handle_endtag(self, tag: str) -> None:
            if tag in ("td", "th") and self.cell is not None and self.tables:
                self.tables[-1][-1].append(" ".join("".join(self.cell).split()))
                self.cell = None

        def handle_data(self, data: str) -> None:
            if self.cell is not None:
                self.cell.append(data)

    parser = Tables()
    parser.feed(html)
    return parser.tables


def de_int(text: str) -> int:
    """'12.345' (German thousands) or '12,345' -> 12345."""
    return int(text.replace(".", "").replace(",", ""))


HOSTILE = '<script>alert("gm")</script>'
#: The Gemeinde whose name is made hostile (not Warstein: its page and search stay usable).
HOSTILE_AGS = "05958004"


@dataclass(frozen=True)
class HostileInputs:
    """Demo inputs with HTML in operator, street, place and Gemeinde names."""

    addresses: Path
    coverage: Path
    boundaries: Path
    as_of: Any


def write_hostile_inputs(demo_inputs: Any, out: Path) -> HostileInputs:
    """Copies of the demo inputs with ``HOSTILE`` in the names a user could control."""
    import geopandas as gpd

    out.mkdir(parents=True, exist_ok=True)
    a = gpd.read_parquet(demo_inputs.addresses)
    pick = a.index[(a["ags"] == HOSTILE_AGS).to_numpy()][:5]
    a.loc[pick, "street"] = HOSTILE
    a.loc[pick, "place"] = HOSTILE
    a.to_parquet(out / "addresses.parquet")
    c = gpd.read_parquet(demo_inputs.coverage)
    c.loc[c.index[:200], "provider"] = HOSTILE
    c.to_parquet(out / "coverage.parquet")
    b = gpd.read_file(demo_inputs.boundaries)
    b.loc[b["ags"] == HOSTILE_AGS, "name"] = HOSTILE
    b.to_file(out / "boundaries.geojson", driver="GeoJSON")
    return HostileInputs(
        out / "addresses.parquet",
        out / "coverage.parquet",
        out / "boundaries.geojson",
        demo_inputs.as_of,
    )


@pytest.fixture(scope="session")
def hostile_run(
    service: Service, demo_inputs: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """A succeeded run on the hostile inputs."""
    from tests.api.service.conftest import start_run, upload, wait_run

    inputs = write_hostile_inputs(demo_inputs, tmp_path_factory.mktemp("hostile"))
    ids = {
        kind: upload(service.client, getattr(inputs, kind), kind)["id"]
        for kind in ("addresses", "coverage", "boundaries")
    }
    key = service.keys["analyst"]
    run = start_run(service.client, ids, key, as_of=inputs.as_of.isoformat())
    done = wait_run(service.client, run["id"], key)
    assert done["state"] == "succeeded", done
    return done
