"""Example launch plans for ``cimsim compare-plans`` (each a ``base`` and a few changes)."""
