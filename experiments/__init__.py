"""Experiment scripts: run with ``cimsim experiment NAME`` or ``python experiments/NAME.py``.

Each script defines ``NAME``, ``DESCRIPTION`` and ``run(ctx) -> dict`` (see
:mod:`cimsim.runs.analysis_commands`) and writes figures, tables and ``report.md``.
"""
