from . import (
    account_bank_statement_line,
    account_journal,
    bank_demo,
    bank_feed_import,
    bank_reconcile,
    bank_reconcile_proposal,
    bank_reconcile_rule,
    finance_backend,
    finance_sync_job,
)
