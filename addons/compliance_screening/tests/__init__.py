from . import (
    test_access_rpc,
    test_matcher,
    test_parsers,
    test_payment_block,
    test_provider,
    test_public_methods,
    test_rpc,
    test_screening_flow,
    test_tours,
    test_url_load,
)
