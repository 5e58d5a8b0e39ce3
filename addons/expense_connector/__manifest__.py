{
    "name": "Expense Connector",
    "summary": "Approved expense reports and corporate card spend from an expense platform, "
               "posted once and right as Odoo expense reports, with status write-back",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "Finance Sync Suite",
    "website": "https://example.com/finance-sync",
    "depends": ["finance_sync_core", "hr_expense"],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "security/ir.model.access.csv",
        "security/security.xml",
        "views/finance_backend_views.xml",
        "views/hr_expense_sheet_views.xml",
        "views/expense_card_transaction_views.xml",
        "views/menus.xml",
        "data/job_type_data.xml",
        "data/ir_cron_data.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "expense_connector/static/tests/tours/**/*",
        ],
    },
    "installable": True,
    "application": False,
}
