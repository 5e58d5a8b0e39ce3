{
    "name": "Bank Reconcile Feed",
    "summary": "Bank feed API, camt.053/054 and MT940 statements into statement lines (deduplicated, "
               "balance-checked), an explainable matching engine, automatic reconciliation and a review queue",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "Finance Sync Suite",
    "website": "https://example.com/finance-sync",
    "depends": ["finance_sync_core", "account"],
    "external_dependencies": {"python": ["lxml", "rapidfuzz", "re2"]},
    "data": [
        "security/ir.model.access.csv",
        "security/security.xml",
        "views/account_journal_views.xml",
        "views/account_bank_statement_line_views.xml",
        "views/finance_backend_views.xml",
        "views/finance_sync_job_views.xml",
        "views/bank_reconcile_rule_views.xml",
        "views/bank_reconcile_proposal_views.xml",
        "wizards/bank_statement_upload_views.xml",
        "wizards/bank_reconcile_pick_views.xml",
        "views/menus.xml",
        "data/job_type_data.xml",
        "data/ir_cron_data.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "bank_reconcile_feed/static/tests/tours/**/*",
        ],
    },
    "installable": True,
    "application": False,
}
