"""The model's mechanisms, one module per building block and dynamic.

Each function takes the model, reads the stakeholders' arrays and the tie table, and
updates them in place, vectorised over agents and ties. The monthly order is fixed in
:meth:`cimsim.model.CollectiveImpactModel.step`.
"""
