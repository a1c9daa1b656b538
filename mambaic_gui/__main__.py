"""`python -m mambaic_gui` runs the app (for when the entry point is not on PATH)."""

import sys

from mambaic_gui.app import main

sys.exit(main())
