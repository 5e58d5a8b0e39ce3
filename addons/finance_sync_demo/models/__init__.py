from . import bank_demo, expense_demo, screening_demo, treasury_demo
