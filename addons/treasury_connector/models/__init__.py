from . import (
    account_payment,
    finance_backend,
    res_partner_bank,
    treasury_approval_rule,
    treasury_cash_position,
    treasury_cash_report,
    treasury_connector,
    treasury_demo,
    treasury_forecast_line,
    treasury_payment_batch,
    treasury_payment_batch_approval,
    treasury_readiness,
)
