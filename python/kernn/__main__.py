"""``python -m kernn``: the same as the ``kernn`` command (see kernn.cli)."""

import sys

from kernn.cli import main

sys.exit(main())
