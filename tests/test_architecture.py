"""The engine must import and run with the geo stack only."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import coverage

FORBIDDEN = (
    "fastapi",
    "starlette",
    "folium",
    "pydantic_settings",
    "typer",
    "rich",
    "uvicorn",
    "api",
    "maps",
)


def test_engine_package_is_ours_not_coverage_py() -> None:
    # coverage.py would shadow the engine; its top-level module has `coverage.Coverage`.
    assert not hasattr(coverage, "Coverage")
    assert coverage.__file__ is not None and coverage.__file__.endswith("coverage/__init__.py")


def test_engine_imports_no_face_or_web_framework() -> None:
    modules = sorted(m.name for m in pkgutil.walk_packages(coverage.__path__, "coverage."))
    assert "coverage.pipeline" in modules and "coverage.kernel.join" in modules
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "", f"engine pulled in: {done.stdout.strip()}"


ROOT = Path(coverage.__file__).resolve().parents[1]
#: the limit of a module's length (ARCHITECTURE.md; generated migrations aside)
MAX_LINES = 500
#: calls that read or write files (methods of paths and frames, and readers)
FILE_METHODS = frozenset(
    {"read_text", "write_text", "read_bytes", "write_bytes", "mkdir", "unlink", "rmdir",
     "touch", "to_parquet", "to_csv", "to_file", "to_excel"}
)  # fmt: skip
FILE_FUNCTIONS = frozenset(
    {"open", "read_parquet", "read_csv", "read_file", "read_excel", "read_table", "write_table"}
)
#: the rule data packages read their own TOML: bundled package data and a rule file the
#: user names (--profile path.toml, --costs path.toml); no data input goes through them
RULE_DATA_READS = {
    ("coverage/profiles/__init__.py", "read_bytes"),
    ("coverage/costs/__init__.py", "read_bytes"),
    ("coverage/rules/kriterien.py", "read_bytes"),
}


def _modules(*packages: str) -> list[Path]:
    return sorted(
        p
        for pkg in packages
        for p in (ROOT / pkg).rglob("*.py")
        if "migrations" not in p.relative_to(ROOT).parts[:3]
    )


def test_no_module_is_longer_than_500_lines() -> None:
    """ARCHITECTURE.md: modules stay small (migrations aside)."""
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules("coverage", "api", "maps")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_only_coverage_io_opens_files() -> None:
    """Inside the engine only ``coverage.io`` reads or writes files; the pure rooms take
    frames and arrays (the rule data packages read their own TOML, listed above)."""
    found = set()
    for path in _modules("coverage"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("coverage/io/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            is_method = isinstance(func, ast.Attribute) and name in FILE_METHODS
            if (is_method or name in FILE_FUNCTIONS) and (rel, name) not in RULE_DATA_READS:
                found.add(f"{rel}:{node.lineno} {name}")
    assert sorted(found) == []
