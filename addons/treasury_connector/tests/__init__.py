from . import test_batch, test_cash, test_engine, test_tours, test_transmission
