"""The kernel of another commit, importable beside the working tree's (for A/B timings).

    join = kernel_at("ec96ce8")          # module: that commit's coverage/kernel/join.py
    p, q = join.points_in_polygons(x, y, polygons)

The package ``coverage/kernel`` of the commit is written to a temporary folder under the
name ``kernel_<ref>`` (its imports of ``coverage.kernel`` rewritten), so both kernels run in
one process on the same data and their times are comparable on a shared machine.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def kernel_at(ref: str) -> ModuleType:
    """``coverage.kernel.join`` as it was at git ``ref`` (a commit, tag or branch)."""
    name = "kernel_" + re.sub(r"\W", "_", ref)
    if name + ".join" in sys.modules:
        return sys.modules[name + ".join"]
    listing = subprocess.run(
        ["git", "ls-tree", "--name-only", ref, "coverage/kernel/"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="gapmap-kernel-")) / name
    folder.mkdir()
    for path in listing:
        if not path.endswith(".py"):
            continue
        text = subprocess.run(
            ["git", "show", f"{ref}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
        text = text.replace("coverage.kernel.", name + ".").replace("coverage.kernel", name)
        (folder / Path(path).name).write_text(text, encoding="utf-8")
    sys.path.insert(0, str(folder.parent))
    return importlib.import_module(name + ".join")
