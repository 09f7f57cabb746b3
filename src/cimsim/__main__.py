"""``python -m cimsim``: the command line."""

from cimsim.cli import main

raise SystemExit(main())
