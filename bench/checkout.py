"""Run a bench's own measurement with another checkout's code, for a baseline in the same run.

``result_in(checkout, statement, *args)`` starts the checkout's own Python (its ``.venv``) in
that checkout, with the checkout and this ``bench/`` folder first on ``sys.path`` (as
``sys.argv[1]`` and ``sys.argv[2]``; further arguments follow), runs ``statement``, which
must bind ``s`` to a JSON-serialisable result, and returns that result (None, with the
reason printed, when the checkout has no venv or the child fails).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent


def result_in(checkout: Path, statement: str, *args: str) -> Any:
    """``s`` after ``statement`` in a child process of ``checkout``'s venv (see above)."""
    python = checkout / ".venv" / "bin" / "python"
    if not python.exists():
        print(f"no baseline: {python} not found")
        return None
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2]); "
        f"{statement}; print('RESULT ' + json.dumps(s))"
    )
    out = subprocess.run(
        [str(python), "-c", code, str(checkout), str(BENCH), *args],
        cwd=checkout, capture_output=True, text=True, check=False,
    )  # fmt: skip
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    print("baseline failed:", out.stderr[-2000:])
    return None
