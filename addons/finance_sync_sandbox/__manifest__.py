{
    "name": "Finance Sync Sandbox",
    "summary": "Simulators of the expense, treasury, bank feed and screening platforms (a plain WSGI app) "
               "and the Odoo records matching their data, for tests and the demo",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "Finance Sync Suite",
    "website": "https://example.com/finance-sync",
    "depends": ["finance_sync_core"],
    "external_dependencies": {"python": ["werkzeug", "lxml"]},
    "data": [],
    "installable": True,
}
