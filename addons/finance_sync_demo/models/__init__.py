from . import bank_demo, expense_demo, month_end_demo, screening_demo, treasury_demo
