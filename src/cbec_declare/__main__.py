"""``python -m cbec_declare``."""

import sys

from .cli import main

sys.exit(main())
