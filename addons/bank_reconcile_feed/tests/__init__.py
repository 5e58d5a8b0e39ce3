from . import test_parsers
from . import test_matching
from . import test_import
from . import test_reconcile
