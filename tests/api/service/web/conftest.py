"""Fixtures of the web-face tests: browser-like clients (own cookie jars) on the shared app."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

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
