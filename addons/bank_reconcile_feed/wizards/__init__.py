from . import bank_statement_upload
from . import bank_reconcile_pick
