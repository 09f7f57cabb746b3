"""Experiment scripts: run with ``cimsim experiment NAME`` or ``python experiments/NAME.py``.

Each script defines ``NAME``, ``DESCRIPTION`` and ``run(ctx) -> dict`` (see
:mod:`cimsim.experiment`) and writes figures, tables and ``report.md``.
"""
