"""Cost parameter sets per region: TOML package data loaded into frozen dataclasses.

A cost set is data, not code: every unit cost is a low / central / high range with its source
and price year, escalated to the set's ``index_year``. ``de.toml``, ``us.toml`` and ``uk.toml``
are bundled; a planner passes her own file with ``--costs``. :mod:`coverage.rural.costs` turns
route lengths and addresses into cost ranges with it.

TOML layout (all tables required unless marked optional)::

    [set]             id, region, title, currency, price_basis, index_year
    [escalation]      rate (per year, >= 0), year, source
    [routing_factor]  low, central, high (>= 1), unit, year, source, note
    [civil.<class>]   label, share (0..1; the shares sum to 1), share_source, low, central,
                      high, unit, year, source   -- one table per civil-works class
    [connection]      label, low, central, high, unit, year, source
    [other_share]     label, low, central, high (0..1, < 1), unit, year, source
    [private_threshold] value, unit, year, source  (compared with the cost per home passed)
    [minimum_area]    min_addresses (>= 1), min_source, max_per_connection (0 = no cost rule),
                      max_source
    [link]            technologies (list), source

Every problem raises :class:`~coverage.errors.ProfileError` naming the file and the key.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from coverage.errors import NotFoundError, ProfileError

CIVIL_CLASSES = ("paved", "unpaved", "existing_duct", "aerial")


@dataclass(frozen=True)
class Span:
    """A published figure as a range, in its own price year."""

    low: float
    central: float
    high: float
    unit: str
    year: int
    source: str
    label: str = ""

    def scaled(self, factor: float) -> tuple[float, float, float]:
        return (self.low * factor, self.central * factor, self.high * factor)


@dataclass(frozen=True)
class CivilClass:
    name: str
    share: float
    share_source: str
    rate: Span


@dataclass(frozen=True)
class CostSet:
    """One region's cost parameters (see the module docstring for the file layout)."""

    id: str
    region: str
    title: str
    currency: str
    price_basis: str
    index_year: int
    escalation_rate: float
    escalation_source: str
    routing_factor: Span
    routing_note: str
    civil: tuple[CivilClass, ...]
    connection: Span
    other_share: Span
    private_threshold: float
    private_threshold_unit: str
    private_threshold_source: str
    min_addresses: int
    min_source: str
    max_per_connection: float
    max_source: str
    link_technologies: tuple[str, ...]
    link_source: str
    path: str
    sha256: str

    def factor(self, year: int) -> float:
        """Escalation from ``year`` prices to ``index_year`` prices."""
        return float((1.0 + self.escalation_rate) ** max(self.index_year - year, 0))

    def blended_rate(self) -> tuple[float, float, float]:
        """Civil works per metre of route (low, central, high), share-weighted, index-year prices."""
        out = [0.0, 0.0, 0.0]
        for c in self.civil:
            for i, v in enumerate(c.rate.scaled(self.factor(c.rate.year))):
                out[i] += c.share * v
        return (out[0], out[1], out[2])

    def connection_cost(self) -> tuple[float, float, float]:
        """House connection per address (low, central, high), index-year prices."""
        return self.connection.scaled(self.factor(self.connection.year))

    def sources(self) -> list[dict[str, Any]]:
        """Every value with its range, unit, year and source: the methodology table."""
        rows: list[dict[str, Any]] = []

        def add(item: str, s: Span, note: str = "") -> None:
            rows.append({"item": item, "low": s.low, "central": s.central, "high": s.high,
                         "unit": s.unit, "year": s.year, "source": s.source, "note": note})  # fmt: skip

        add("routing_factor", self.routing_factor, self.routing_note)
        for c in self.civil:
            add(f"civil.{c.name}", c.rate, f"share {c.share:g}: {c.share_source}")
        add("connection", self.connection)
        add("other_share", self.other_share)
        rows.append({"item": "private_threshold", "low": self.private_threshold,
                     "central": self.private_threshold, "high": self.private_threshold,
                     "unit": self.private_threshold_unit, "year": None,
                     "source": self.private_threshold_source, "note": ""})  # fmt: skip
        rows.append({"item": "escalation", "low": self.escalation_rate,
                     "central": self.escalation_rate, "high": self.escalation_rate,
                     "unit": f"per year, to {self.index_year} prices", "year": self.index_year,
                     "source": self.escalation_source, "note": ""})  # fmt: skip
        return rows

    def record(self) -> dict[str, Any]:
        """What the run manifest keeps of the set."""
        return {"id": self.id, "path": self.path, "sha256": self.sha256,
                "currency": self.currency, "index_year": self.index_year,
                "blended_rate_per_m": self.blended_rate(),
                "connection": self.connection_cost(),
                "routing_factor": (self.routing_factor.low, self.routing_factor.central,
                                   self.routing_factor.high),
                "other_share": (self.other_share.low, self.other_share.central,
                                self.other_share.high),
                "min_addresses": self.min_addresses,
                "max_per_connection": self.max_per_connection,
                "private_threshold_per_home_passed": self.private_threshold,
                "link_technologies": list(self.link_technologies)}  # fmt: skip


def _bundled() -> dict[str, Path]:
    root = resources.files(__name__)
    return {Path(e.name).stem: Path(str(e)) for e in root.iterdir() if e.name.endswith(".toml")}


def load_costs(id_or_path: str | Path) -> CostSet:
    """A bundled cost set by region id (``de``, ``us``, ``uk``) or a user TOML file."""
    text = str(id_or_path)
    if isinstance(id_or_path, Path) or text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(id_or_path)
        if not path.is_file():
            raise NotFoundError(f"cost file {path} does not exist; give de, us, uk or a TOML path")
    else:
        bundled = _bundled()
        if text not in bundled:
            raise NotFoundError(
                f"no cost set for {text!r}; bundled: {', '.join(sorted(bundled))} "
                "(or pass a TOML file with --costs)"
            )
        path = bundled[text]
    return parse_costs(path.read_bytes(), path)


def parse_costs(data: bytes, path: Path) -> CostSet:
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"{path}: not a valid UTF-8 TOML file ({exc})") from exc
    r = _Reader(doc, path)
    civil_doc = r.table("civil")
    civil = []
    for name in civil_doc:
        if name not in CIVIL_CLASSES:
            raise ProfileError(
                f"{path}: [civil.{name}] is not a civil-works class; use {', '.join(CIVIL_CLASSES)}"
            )
        key = f"civil.{name}"
        share = r.num(key, "share", 0.0, 1.0)
        civil.append(CivilClass(name, share, r.text(key, "share_source"), r.span(key)))
    total = sum(c.share for c in civil)
    if not civil or abs(total - 1.0) > 1e-6:
        raise ProfileError(f"{path}: [civil.*] shares sum to {total:g}; they must sum to 1")
    other = r.span("other_share")
    if other.high >= 1.0:
        raise ProfileError(f"{path}: [other_share] high must be < 1 (a share of the cost)")
    routing = r.span("routing_factor")
    if routing.low < 1.0:
        raise ProfileError(f"{path}: [routing_factor] low must be >= 1 (routes are not shorter)")
    return CostSet(
        id=r.text("set", "id"),
        region=r.text("set", "region"),
        title=r.text("set", "title"),
        currency=r.text("set", "currency"),
        price_basis=r.text("set", "price_basis"),
        index_year=int(r.num("set", "index_year", 1900, 2100)),
        escalation_rate=r.num("escalation", "rate", 0.0, 1.0),
        escalation_source=r.text("escalation", "source"),
        routing_factor=routing,
        routing_note=r.text("routing_factor", "note"),
        civil=tuple(civil),
        connection=r.span("connection"),
        other_share=other,
        private_threshold=r.num("private_threshold", "value", 0.0),
        private_threshold_unit=r.text("private_threshold", "unit"),
        private_threshold_source=r.text("private_threshold", "source"),
        min_addresses=int(r.num("minimum_area", "min_addresses", 1.0)),
        min_source=r.text("minimum_area", "min_source"),
        max_per_connection=r.num("minimum_area", "max_per_connection", 0.0),
        max_source=r.text("minimum_area", "max_source"),
        link_technologies=tuple(r.strings("link", "technologies")),
        link_source=r.text("link", "source"),
        path=str(path),
        sha256=hashlib.sha256(data).hexdigest(),
    )


class _Reader:
    def __init__(self, doc: dict[str, Any], path: Path) -> None:
        self.doc, self.path = doc, path

    def table(self, key: str) -> dict[str, Any]:
        node: Any = self.doc
        for part in key.split("."):
            if not isinstance(node, dict) or not isinstance(node.get(part), dict):
                raise ProfileError(f"{self.path}: missing table [{key}]")
            node = node[part]
        return node

    def value(self, key: str, name: str) -> Any:
        table = self.table(key)
        if name not in table:
            raise ProfileError(f"{self.path}: [{key}] needs {name!r}")
        return table[name]

    def text(self, key: str, name: str) -> str:
        v = self.value(key, name)
        if not isinstance(v, str) or not v.strip():
            raise ProfileError(f"{self.path}: [{key}] {name} must be a non-empty string")
        return v

    def strings(self, key: str, name: str) -> list[str]:
        v = self.value(key, name)
        if not isinstance(v, list) or not v or not all(isinstance(s, str) for s in v):
            raise ProfileError(f"{self.path}: [{key}] {name} must be a list of strings")
        return v

    def num(self, key: str, name: str, lo: float = 0.0, hi: float | None = None) -> float:
        v = self.value(key, name)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ProfileError(f"{self.path}: [{key}] {name} must be a number, got {v!r}")
        if v < lo or (hi is not None and v > hi):
            bound = f">= {lo:g}" if hi is None else f"in [{lo:g}, {hi:g}]"
            raise ProfileError(f"{self.path}: [{key}] {name} = {v!r} must be {bound}")
        return float(v)

    def span(self, key: str) -> Span:
        low, central, high = (self.num(key, n) for n in ("low", "central", "high"))
        if not low <= central <= high:
            raise ProfileError(
                f"{self.path}: [{key}] needs low <= central <= high, got {low:g}, {central:g}, {high:g}"
            )
        label = self.table(key).get("label", "")
        return Span(low, central, high, self.text(key, "unit"),
                    int(self.num(key, "year", 1900, 2100)), self.text(key, "source"),
                    str(label))  # fmt: skip
