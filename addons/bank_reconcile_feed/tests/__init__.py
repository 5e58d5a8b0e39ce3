from . import (
    test_access_matrix,
    test_exception_queue,
    test_feed_conformance,
    test_fx_rules,
    test_import,
    test_matching,
    test_parsers,
    test_reconcile,
    test_sandbox_feed,
    test_tours,
)
