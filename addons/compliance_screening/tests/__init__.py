from . import test_parsers
from . import test_matcher
from . import test_screening_flow
from . import test_payment_block
from . import test_url_load
from . import test_rpc
from . import test_tours
from . import test_provider
