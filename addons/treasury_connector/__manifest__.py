{
    "name": "Treasury Connector",
    "summary": "Payment batches out as ISO 20022 pain.001 with approvals and release checks, "
               "pain.002 statuses back, cash positions and forecast from a treasury platform",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "Finance Sync Suite",
    "website": "https://example.com/finance-sync",
    "depends": ["finance_sync_core", "account"],
    "external_dependencies": {"python": ["lxml", "python-stdnum"]},
    "data": [
        "security/security.xml",
        "security/ir.model.access.csv",
        "views/treasury_payment_batch_views.xml",
        "views/treasury_approval_rule_views.xml",
        "views/account_payment_views.xml",
        "views/treasury_cash_position_views.xml",
        "views/treasury_forecast_line_views.xml",
        "views/treasury_cash_report_views.xml",
        "views/treasury_readiness_views.xml",
        "views/finance_backend_views.xml",
        "views/menus.xml",
        "data/sequence_data.xml",
        "data/job_type_data.xml",
        "data/ir_cron_data.xml",
    ],
    "demo": [
        "demo/treasury_backend_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "treasury_connector/static/tests/tours/**/*",
        ],
    },
    "installable": True,
    "application": False,
}
