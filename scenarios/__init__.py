"""The bundled scenarios (TOML files): the three cases of the Speak Up report and the template.

This folder travels inside the package as ``cimsim.scenarios``; ``cimsim scenarios`` lists it.
"""
