# The simulator lives in ``sandbox_server`` and imports nothing from Odoo; it is not
# imported here so that ``python -m sandbox_server`` runs without Odoo.
