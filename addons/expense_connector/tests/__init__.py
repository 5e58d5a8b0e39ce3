from . import test_canonical
from . import test_report_posting
from . import test_report_exceptions
from . import test_pull
from . import test_cards
from . import test_tours
from . import test_contract_edges
from . import test_access_rpc
