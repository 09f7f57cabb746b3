"""The model's mechanisms, one module per building block and dynamic.

Each function takes the initiative's state (:class:`cimsim.initiative.Initiative`: the
stakeholders' arrays, the tie table, the calibration and this month's context), and
updates it in place, vectorised over agents and ties. Nothing here imports Mesa or the
Mesa model; the monthly order is fixed in :meth:`cimsim.initiative.Initiative.step`.
"""
