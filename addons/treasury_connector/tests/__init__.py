from . import test_engine
from . import test_batch
from . import test_transmission
from . import test_cash
from . import test_tours
