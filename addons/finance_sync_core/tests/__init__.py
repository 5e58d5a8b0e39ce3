from . import test_engine
from . import test_http_client
from . import test_job_pipeline
from . import test_concurrency
from . import test_secrets
from . import test_audit_log
from . import test_webhook
from . import test_pipeline_http
