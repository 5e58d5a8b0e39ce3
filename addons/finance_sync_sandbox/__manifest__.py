{
    "name": "Finance Sync Sandbox",
    "summary": "Simulators of the expense, treasury, bank feed and screening platforms (a plain WSGI app) "
               "and demo backends wired to them",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "Finance Sync Suite",
    "website": "https://example.com/finance-sync",
    "depends": ["finance_sync_core"],
    "external_dependencies": {"python": ["werkzeug", "lxml"]},
    "data": [],
    "demo": ["demo/demo_data.xml"],
    "installable": True,
}
