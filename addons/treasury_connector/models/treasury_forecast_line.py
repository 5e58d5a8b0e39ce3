from psycopg2.extras import execute_values

from odoo import api, fields, models

from odoo.addons.finance_sync_core.exceptions import BusinessError

from .treasury_cash_position import parse_amount


class TreasuryForecastLine(models.Model):
    """An expected cash flow the treasury platform knows of (payroll, tax, ...), by its id."""

    _name = "treasury.forecast.line"
    _description = "Treasury forecast line"
    _order = "date, id"
    _rec_name = "external_id"
    _check_company_auto = True

    backend_id = fields.Many2one("finance.backend", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    external_id = fields.Char(string="Platform id", required=True, readonly=True)
    iban = fields.Char(string="IBAN", readonly=True)
    journal_id = fields.Many2one("account.journal", readonly=True, check_company=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    date = fields.Date(required=True, readonly=True, index=True)
    amount = fields.Monetary(readonly=True, aggregator="sum")
    category = fields.Char(readonly=True)
    source = fields.Char(readonly=True)
    active = fields.Boolean(default=True, readonly=True, help="Cleared when the platform withdraws the item")

    _sql_constraints = [
        ("forecast_unique", "UNIQUE(backend_id, external_id)", "One line per platform forecast item."),
    ]

    @api.model
    def _sync_window(self, backend, date_from, date_to, items):
        """Upsert the full set of items of the window; items of the window missing from it were withdrawn."""
        Position = self.env["treasury.cash.position"]
        journals = Position._journals_by_iban(backend.company_id)
        currencies = Position._currency_ids({i.get("currency") for i in items})
        values, ids = [], []
        # an item id may come twice (e.g. on two pages): one row per id, the last occurrence wins
        items = list({item.get("id"): item for item in items}.values()) if all(i.get("id") for i in items) else items
        for item in items:
            if not item.get("id") or not currencies.get(item.get("currency")) or not item.get("date"):
                raise BusinessError("Forecast item without id, known currency or date", code="invalid_forecast",
                                    params={"id": item.get("id")})
            iban = (item.get("iban") or "").replace(" ", "").upper()
            ids.append(item["id"])
            values.append((backend.id, backend.company_id.id, item["id"], iban or None, journals.get(iban),
                           currencies[item["currency"]], item["date"], parse_amount(item.get("amount"), "amount"),
                           item.get("category"), item.get("source"), self.env.uid, self.env.uid))
        self.flush_model()
        if values:
            execute_values(self.env.cr, """
                INSERT INTO treasury_forecast_line (backend_id, company_id, external_id, iban, journal_id, currency_id,
                       date, amount, category, source, create_uid, write_uid, active, create_date, write_date)
                SELECT v.*, true, now() at time zone 'UTC', now() at time zone 'UTC'
                  FROM (VALUES %s) AS v(backend_id, company_id, external_id, iban, journal_id, currency_id, date,
                       amount, category, source, create_uid, write_uid)
                ON CONFLICT (backend_id, external_id) DO UPDATE
                   SET iban = EXCLUDED.iban, journal_id = EXCLUDED.journal_id, currency_id = EXCLUDED.currency_id,
                       date = EXCLUDED.date, amount = EXCLUDED.amount, category = EXCLUDED.category,
                       source = EXCLUDED.source, active = true, write_uid = EXCLUDED.write_uid,
                       write_date = EXCLUDED.write_date
            """, values, template="(%s, %s, %s, %s, %s::int, %s, %s::date, %s::numeric, %s, %s, %s, %s)")
        self.env.cr.execute("""
            UPDATE treasury_forecast_line SET active = false, write_date = now() at time zone 'UTC'
             WHERE backend_id = %s AND date BETWEEN %s AND %s AND active AND NOT (external_id = ANY(%s))
        """, (backend.id, date_from, date_to, ids))
        self.invalidate_model()
        return len(values)
