"""``python -m wdlib.sweep NAME ...``: see :mod:`wdlib.cli`."""

import sys

from ..cli import main

sys.exit(main())
