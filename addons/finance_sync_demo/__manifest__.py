{
    "name": "Finance Sync Demo",
    "summary": "A demo database of the whole suite against the platform simulators: one backend per "
               "platform, first syncs run, real exceptions in the queue",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "Finance Sync Suite",
    "website": "https://example.com/finance-sync",
    # The demo glue lives here so that no connector's own code needs the sandbox.
    "depends": ["finance_sync_sandbox", "expense_connector", "treasury_connector", "compliance_screening",
                "bank_reconcile_feed"],
    "external_dependencies": {"python": ["requests", "stdnum"]},
    "data": [],
    "demo": ["demo/demo.xml"],
    "installable": True,
}
