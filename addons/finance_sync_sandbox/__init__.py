# The simulator lives in ``sandbox_server`` and imports nothing from Odoo; it is not imported
# here (``python -m sandbox_server`` runs without Odoo). ``worlds`` builds the Odoo records that
# match the simulator's data (employees, categories, invoices), for the connectors' tests and for
# the finance_sync_demo addon; it is imported by them, not here.
