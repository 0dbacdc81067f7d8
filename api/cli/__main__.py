"""``python -m api.cli``: the gapmap command line."""

import sys

from api.cli import main

sys.exit(main())
