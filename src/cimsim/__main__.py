"""``python -m cimsim``: the command line."""

from cimsim.cli import console

console()
