from odoo import fields, models, tools


class TreasuryCashReport(models.Model):
    """Positions per bank account and currency over time, with expected flows: platform forecast
    items and open Odoo receivables/payables (by due date)."""

    _name = "treasury.cash.report"
    _description = "Treasury cash report"
    _auto = False
    _order = "date"

    date = fields.Date(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    journal_id = fields.Many2one("account.journal", readonly=True)
    account = fields.Char(readonly=True, string="Bank account")
    kind = fields.Selection([("balance", "Balance"), ("forecast", "Treasury forecast"),
                             ("receivable", "Open receivables"), ("payable", "Open payables")], readonly=True)
    balance = fields.Float(readonly=True, aggregator="sum", string="Booked balance")
    flow = fields.Float(readonly=True, aggregator="sum", string="Expected flow")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute("""
            CREATE OR REPLACE VIEW %s AS (
                SELECT row_number() OVER () AS id, r.* FROM (
                    SELECT p.date, p.company_id, p.currency_id, p.journal_id, p.iban AS account,
                           'balance'::varchar AS kind, p.booked_balance::float AS balance, 0.0::float AS flow
                      FROM treasury_cash_position p
                    UNION ALL
                    SELECT f.date, f.company_id, f.currency_id, f.journal_id, f.iban, 'forecast', 0.0, f.amount::float
                      FROM treasury_forecast_line f WHERE f.active
                    UNION ALL
                    SELECT COALESCE(l.date_maturity, l.date), l.company_id, l.currency_id, NULL, NULL,
                           CASE WHEN a.account_type = 'asset_receivable' THEN 'receivable' ELSE 'payable' END,
                           0.0, l.amount_residual_currency::float
                      FROM account_move_line l JOIN account_account a ON a.id = l.account_id
                     WHERE l.parent_state = 'posted' AND NOT l.reconciled
                       AND a.account_type IN ('asset_receivable', 'liability_payable')
                       AND l.amount_residual_currency <> 0
                ) r
            )""" % self._table)
