from . import test_parsers
from . import test_matching
from . import test_import
from . import test_reconcile
from . import test_exception_queue
from . import test_fx_rules
from . import test_sandbox_feed
from . import test_tours
