"""The engine must import and run with the geo stack only."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

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
