from . import finance_backend
