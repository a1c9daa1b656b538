"""``python -m mambaic`` runs the command line, exactly like the ``mambaic`` script."""

from mambaic.cli.main import main

raise SystemExit(main())
