"""`python -m pipework.cli`."""

import sys

from . import main

sys.exit(main())
