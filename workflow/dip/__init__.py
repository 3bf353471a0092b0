"""dip: a faithful, fast Deep Image Prior engine (Ulyanov, Vedaldi, Lempitsky, CVPR 2018)."""

import time

__version__ = "0.1.0"

#: When this process started its work (the package's import, before any subcommand's): what
#: `dip estimate` counts as a fit's start-up.
STARTED = time.monotonic()
