"""``python -m cbec_declare.cli``."""

import sys

from . import main

sys.exit(main())
