"""``python -m syncd.cli``: the ``syncd`` command."""

import sys

from syncd.cli.entry import main

sys.exit(main())
