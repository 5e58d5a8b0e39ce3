from . import finance_sync_job_type
from . import finance_sync_job
from . import finance_backend
from . import finance_backend_secret
from . import finance_mapping
from . import finance_audit_log
from . import finance_sync_dashboard
from . import res_config_settings
