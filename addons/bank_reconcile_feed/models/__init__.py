from . import account_journal
from . import finance_backend
from . import bank_reconcile_rule
from . import bank_reconcile_proposal
from . import account_bank_statement_line
from . import bank_feed_import
from . import bank_reconcile
from . import finance_sync_job
