from . import finance_backend
from . import finance_mapping
from . import hr_expense
from . import hr_expense_sheet
from . import expense_card_transaction
from . import expense_connector
from . import expense_demo
