{
    "name": "Compliance Screening",
    "summary": "Sanctions lists (OFAC, EU, UN, UK, custom), a fast explainable name matcher, an optional "
               "external screening provider, screening cases with four-eyes clearing and memory, "
               "and no payment to a sanctioned party",
    "version": "18.0.1.1.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "Finance Sync Suite",
    "website": "https://example.com/finance-sync",
    "depends": ["finance_sync_core", "account"],
    "external_dependencies": {"python": ["rapidfuzz", "lxml", "numpy"]},
    "data": [
        "security/security.xml",
        "security/ir.model.access.csv",
        "views/screening_list_views.xml",
        "views/screening_list_version_views.xml",
        "views/screening_list_entry_views.xml",
        "views/screening_case_views.xml",
        "views/res_partner_views.xml",
        "views/res_config_settings_views.xml",
        "views/finance_backend_views.xml",
        "wizards/screening_list_upload_views.xml",
        "wizards/screening_case_clear_views.xml",
        "views/menus.xml",
        "data/sequence_data.xml",
        "data/job_type_data.xml",
        "data/backend_data.xml",
        "data/ir_cron_data.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "compliance_screening/static/tests/tours/**/*",
        ],
    },
    "installable": True,
    "application": False,
}
