from . import bank_statement_upload
