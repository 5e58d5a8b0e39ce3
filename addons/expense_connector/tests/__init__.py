from . import (
    test_access_rpc,
    test_canonical,
    test_cards,
    test_contract_edges,
    test_pull,
    test_report_exceptions,
    test_report_posting,
    test_tours,
)
