"""TOML -> :class:`Profile`, validated strictly; every error names the file and the key."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

from coverage.errors import ProfileError
from coverage.profiles._versions import VERSION_KEYS, version_fields
from coverage.profiles.model import (
    FCC_TECHNOLOGY_CODES,
    METHODS,
    SITE_ACTIONS,
    ClassDef,
    MethodSpec,
    Profile,
    SiteRule,
)
from coverage.schema import SiteType, Technology

# --------------------------------------------------------------------------------------------
# validation helpers


class _Ctx:
    """Names the file in every message."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, where: str, msg: str) -> ProfileError:
        return ProfileError(f"{self.name}: {where} {msg}")


def _table(
    ctx: _Ctx, data: Mapping[str, Any], key: str, *, required: bool = True
) -> dict[str, Any]:
    if key not in data:
        if required:
            raise ctx.fail(f"[{key}]", "table is missing")
        return {}
    value = data[key]
    if not isinstance(value, dict):
        raise ctx.fail(f"[{key}]", f"must be a table, got {type(value).__name__}")
    return value


def _check_keys(
    ctx: _Ctx,
    where: str,
    table: Mapping[str, Any],
    required: set[str],
    optional: set[str] | None = None,
) -> None:
    allowed = required | (optional or set())
    for key in table:
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise ctx.fail(where, f"unknown key {key!r} (known keys: {known})")
    for key in sorted(required):
        if key not in table:
            raise ctx.fail(where, f"missing key {key!r}")


def _str(ctx: _Ctx, where: str, table: Mapping[str, Any], key: str) -> str:
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        raise ctx.fail(where, f"key {key!r} must be a non-empty string, got {value!r}")
    return value.strip()


def _bool(ctx: _Ctx, where: str, table: Mapping[str, Any], key: str) -> bool:
    value = table[key]
    if not isinstance(value, bool):
        raise ctx.fail(where, f"key {key!r} must be true or false, got {value!r}")
    return value


def _number(ctx: _Ctx, where: str, value: Any, key: str, *, integer: bool = False) -> float:
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok:
        kind = "a whole number" if integer else "a number"
        raise ctx.fail(where, f"key {key!r} must be {kind}, got {value!r}")
    if value != value or value < 0:  # NaN or negative
        raise ctx.fail(where, f"key {key!r} must be >= 0, got {value!r}")
    return value if integer else float(value)


def _str_list(ctx: _Ctx, where: str, table: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = table[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ctx.fail(where, f"key {key!r} must be a list of strings, got {value!r}")
    return tuple(value)


def _technologies(ctx: _Ctx, where: str, values: tuple[str, ...], key: str) -> frozenset[str]:
    known = {t.value for t in Technology}
    for v in values:
        if v not in known:
            raise ctx.fail(
                where, f"key {key!r}: unknown technology {v!r} (known: {', '.join(sorted(known))})"
            )
    return frozenset(values)


# --------------------------------------------------------------------------------------------
# the parser


def parse_profile(raw: bytes, path: Path) -> Profile:
    ctx = _Ctx(path.name)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path.name}: not valid TOML: {exc}") from exc
    _check_keys(
        ctx,
        "top level:",
        data,
        {"profile", "thresholds", "technologies", "planning", "networks", "latency", "classes"},
        {"site_rules", "rules"},
    )

    meta = _table(ctx, data, "profile")
    w = "[profile]"
    text_keys = {"id", "version", "title", "jurisdiction", "source_url", "method", "description"}
    _check_keys(
        ctx,
        w,
        meta,
        text_keys | {"effective_date", "interpretations"},
        VERSION_KEYS | {"title_de", "description_de", "interpretations_de"},
    )
    texts = {k: _str(ctx, w, meta, k) for k in sorted(text_keys)}
    eff = meta["effective_date"]
    if not isinstance(eff, date) or hasattr(eff, "hour"):
        raise ctx.fail(w, f"key 'effective_date' must be a TOML date (YYYY-MM-DD), got {eff!r}")
    interpretations = _str_list(ctx, w, meta, "interpretations")
    description_de = _str(ctx, w, meta, "description_de") if "description_de" in meta else ""
    title_de = _str(ctx, w, meta, "title_de") if "title_de" in meta else ""
    interpretations_de = (
        _str_list(ctx, w, meta, "interpretations_de") if "interpretations_de" in meta else ()
    )
    if interpretations_de and len(interpretations_de) != len(interpretations):
        raise ctx.fail(
            w,
            f"key 'interpretations_de' has {len(interpretations_de)} entries for "
            f"{len(interpretations)} interpretations; give one German text per interpretation",
        )
    method = texts["method"]
    if method not in METHODS:
        raise ctx.fail(w, f"key 'method': unknown method {method!r} (known: {', '.join(METHODS)})")
    spec = METHODS[method]

    thr = _table(ctx, data, "thresholds")
    _check_keys(ctx, "[thresholds]", thr, set(spec.thresholds), set(spec.optional_thresholds))
    thresholds = {
        k: _number(ctx, "[thresholds]", v, k, integer=k in spec.integer_thresholds)
        for k, v in thr.items()
    }
    for group in spec.one_of:
        given = sorted(group & set(thresholds))
        if len(given) != 1:
            raise ctx.fail(
                "[thresholds]",
                f"needs exactly one of {', '.join(sorted(group))} (got {', '.join(given) or 'none'})",
            )

    tech = _table(ctx, data, "technologies")
    w = "[technologies]"
    fcc_keys = {"fcc_codes", "reliable_fcc_codes"}
    _check_keys(
        ctx,
        w,
        tech,
        {"reliable"} | (fcc_keys if spec.needs_fcc_codes else set()),
        {"gigabit", "high_latency"} | fcc_keys,
    )
    reliable = _technologies(ctx, w, _str_list(ctx, w, tech, "reliable"), "reliable")
    gigabit = (
        _technologies(ctx, w, _str_list(ctx, w, tech, "gigabit"), "gigabit")
        if "gigabit" in tech
        else frozenset()
    )
    high_latency = (
        _technologies(ctx, w, _str_list(ctx, w, tech, "high_latency"), "high_latency")
        if "high_latency" in tech
        else frozenset()
    )
    fcc_codes: dict[str, int] = {}
    if "fcc_codes" in tech:
        table = tech["fcc_codes"]
        if not isinstance(table, dict):
            raise ctx.fail(w, "key 'fcc_codes' must be a table technology = code")
        _technologies(ctx, "[technologies.fcc_codes]", tuple(table), "fcc_codes")
        for k, v in table.items():
            code = _number(ctx, "[technologies.fcc_codes]", v, k, integer=True)
            if code not in FCC_TECHNOLOGY_CODES:
                raise ctx.fail(
                    "[technologies.fcc_codes]", f"key {k!r}: unknown FCC technology code {v!r}"
                )
            fcc_codes[k] = int(code)
    reliable_fcc: frozenset[int] = frozenset()
    if "reliable_fcc_codes" in tech:
        codes = tech["reliable_fcc_codes"]
        if not isinstance(codes, list) or any(
            isinstance(c, bool) or not isinstance(c, int) or c not in FCC_TECHNOLOGY_CODES
            for c in codes
        ):
            raise ctx.fail(
                w, f"key 'reliable_fcc_codes' must list FCC technology codes, got {codes!r}"
            )
        reliable_fcc = frozenset(codes)
    if reliable_fcc:
        by_code = frozenset(t for t, c in fcc_codes.items() if c in reliable_fcc)
        if by_code != reliable:
            raise ctx.fail(
                w,
                "key 'reliable' must list exactly the technologies whose fcc_codes are in "
                f"reliable_fcc_codes ({', '.join(sorted(by_code))})",
            )

    plan = _table(ctx, data, "planning")
    w = "[planning]"
    _check_keys(ctx, w, plan, {"horizon_months", "count_planned"})
    horizon = int(_number(ctx, w, plan["horizon_months"], "horizon_months", integer=True))
    count_planned = _bool(ctx, w, plan, "count_planned")

    net = _table(ctx, data, "networks")
    w = "[networks]"
    _check_keys(ctx, w, net, {"include_planned"}, {"types"})
    net_planned = _bool(ctx, w, net, "include_planned")
    types_raw = net.get("types", {})
    if not isinstance(types_raw, dict) or not all(isinstance(v, str) for v in types_raw.values()):
        raise ctx.fail(w, "key 'types' must be a table technology = \"network type\"")
    _technologies(ctx, "[networks.types]", tuple(types_raw), "types")
    network_types = {t.value: str(types_raw.get(t.value, t.value)) for t in Technology}

    lat = _table(ctx, data, "latency")
    w = "[latency]"
    _check_keys(ctx, w, lat, {"require_low_latency", "unknown_is_low_latency"})
    require_ll = _bool(ctx, w, lat, "require_low_latency")
    unknown_ll = _bool(ctx, w, lat, "unknown_is_low_latency")

    classes = _classes(ctx, data.get("classes"), spec)
    site_rules = _site_rules(ctx, data.get("site_rules", []), {c.name for c in classes})
    version = version_fields(ctx.fail, meta, texts["id"], data.get("rules", []))

    return Profile(
        id=texts["id"],
        version=texts["version"],
        title=texts["title"],
        jurisdiction=texts["jurisdiction"],
        source_url=texts["source_url"],
        effective_date=eff,
        method=method,
        description=texts["description"],
        thresholds=MappingProxyType(thresholds),
        reliable_technologies=reliable,
        gigabit_technologies=gigabit,
        fcc_codes=MappingProxyType(fcc_codes),
        reliable_fcc_codes=reliable_fcc,
        horizon_months=horizon,
        count_planned=count_planned,
        networks_include_planned=net_planned,
        network_types=MappingProxyType(network_types),
        require_low_latency=require_ll,
        unknown_is_low_latency=unknown_ll,
        site_rules=site_rules,
        interpretations=interpretations,
        classes=classes,
        eligible_classes=tuple(c.name for c in classes if c.eligible),
        sha256=hashlib.sha256(raw).hexdigest(),
        path=path,
        high_latency_technologies=high_latency,
        **version,
        title_de=title_de,
        description_de=description_de,
        interpretations_de=tuple(interpretations_de),
    )


def _classes(ctx: _Ctx, value: Any, spec: MethodSpec) -> tuple[ClassDef, ...]:
    if not isinstance(value, list) or not value:
        raise ctx.fail("[[classes]]", "must be a non-empty array of tables")
    out = []
    for i, item in enumerate(value, start=1):
        w = f"[[classes]] #{i}"
        if not isinstance(item, dict):
            raise ctx.fail(w, "must be a table")
        _check_keys(ctx, w, item, {"name", "label", "eligible"})
        out.append(
            ClassDef(
                _str(ctx, w, item, "name"),
                _str(ctx, w, item, "label"),
                _bool(ctx, w, item, "eligible"),
            )
        )
    names = [c.name for c in out]
    if len(set(names)) != len(names) or set(names) != spec.classes:
        raise ctx.fail(
            "[[classes]]",
            f"must name each of {', '.join(sorted(spec.classes))} exactly once, got {', '.join(names)}",
        )
    return tuple(out)


def _site_rules(ctx: _Ctx, value: Any, class_names: set[str]) -> tuple[SiteRule, ...]:
    if not isinstance(value, list):
        raise ctx.fail("[[site_rules]]", "must be an array of tables")
    known_sites = {s.value for s in SiteType}
    out = []
    for i, item in enumerate(value, start=1):
        w = f"[[site_rules]] #{i}"
        if not isinstance(item, dict):
            raise ctx.fail(w, "must be a table")
        _check_keys(
            ctx,
            w,
            item,
            {"id", "label", "site_types", "action"},
            {"unless_classes", "unless_down_mbps", "unless_up_mbps", "unless_technologies"},
        )
        sites = _str_list(ctx, w, item, "site_types")
        for s in sites:
            if s not in known_sites:
                raise ctx.fail(
                    w,
                    f"key 'site_types': unknown site type {s!r} (known: {', '.join(sorted(known_sites))})",
                )
        action = _str(ctx, w, item, "action")
        if action not in SITE_ACTIONS:
            raise ctx.fail(
                w, f"key 'action' must be one of {', '.join(SITE_ACTIONS)}, got {action!r}"
            )
        unless = _str_list(ctx, w, item, "unless_classes") if "unless_classes" in item else ()
        for c in unless:
            if c not in class_names:
                raise ctx.fail(w, f"key 'unless_classes': unknown class {c!r}")
        down = (
            _number(ctx, w, item["unless_down_mbps"], "unless_down_mbps")
            if "unless_down_mbps" in item
            else None
        )
        up = (
            _number(ctx, w, item["unless_up_mbps"], "unless_up_mbps")
            if "unless_up_mbps" in item
            else None
        )
        techs = (
            tuple(
                sorted(
                    _technologies(
                        ctx,
                        w,
                        _str_list(ctx, w, item, "unless_technologies"),
                        "unless_technologies",
                    )
                )
            )
            if "unless_technologies" in item
            else ()
        )
        if action == "eligible_unless" and not (unless or techs) and down is None and up is None:
            raise ctx.fail(
                w,
                "action 'eligible_unless' needs unless_classes, unless_technologies or "
                "unless_down_mbps/unless_up_mbps",
            )
        out.append(
            SiteRule(
                _str(ctx, w, item, "id"),
                _str(ctx, w, item, "label"),
                sites,
                action,
                unless,
                down,
                up,
                techs,
            )
        )
    return tuple(out)
