from . import (
    test_sandbox_bank,
    test_sandbox_expense,
    test_sandbox_screening,
    test_sandbox_server,
    test_sandbox_treasury,
)
