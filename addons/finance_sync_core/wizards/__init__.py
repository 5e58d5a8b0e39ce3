from . import finance_sync_job_resolve
from . import finance_trace
