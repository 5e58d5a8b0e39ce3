from . import finance_sync_job_resolve, finance_trace
