"""Print ``docs/rules.md`` from the bundled profiles: ``python -m coverage.profiles.rules_doc``."""

from __future__ import annotations

import sys

from coverage.profiles import list_profiles
from coverage.profiles._rules_text import rules_markdown


def main() -> None:
    sys.stdout.write(rules_markdown(list_profiles()))


if __name__ == "__main__":
    main()
