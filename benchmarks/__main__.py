"""``python -m benchmarks``: the measurements of :mod:`benchmarks.measure`."""

import sys

from benchmarks.measure import main

sys.exit(main())
