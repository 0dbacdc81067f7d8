"""Where the test fixtures and the repository are, for tests at any depth."""

from pathlib import Path

#: the repository's root
ROOT = Path(__file__).resolve().parents[1]
#: tiny fixtures in real formats (tests/data)
DATA = ROOT / "tests" / "data"
