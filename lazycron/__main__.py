"""``python -m lazycron``: the same as the ``lazycron`` command."""

import sys

from .cli import main

sys.exit(main())
