from . import (
    expense_card_transaction,
    expense_connector,
    expense_demo,
    finance_backend,
    finance_mapping,
    hr_expense,
    hr_expense_sheet,
)
