"""``cimsim app``: serve the browser interface (see :mod:`cimsim.app.serve`)."""

from __future__ import annotations

import argparse


def cmd_app(args: argparse.Namespace) -> int:
    """Serve the Solara app until it stops; return the server's exit code."""
    from cimsim.errors import require

    require("solara", "app", "cimsim app")
    from cimsim.app.serve import cmd_app as serve

    return serve(args)
