import datetime
import decimal

from psycopg2.extras import execute_values

from odoo import api, fields, models

from odoo.addons.finance_sync_core.exceptions import BusinessError


def parse_amount(value, what):
    try:
        return decimal.Decimal(str(value))
    except (decimal.InvalidOperation, ValueError):
        raise BusinessError("%s is not an amount: %r" % (what, value), code="invalid_amount") from None


def parse_instant(value):
    """An ISO 8601 date-time (``Z``, an offset, fractions, or naive = UTC) as a naive UTC datetime
    (how Odoo stores Datetime fields); None when it is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=0)


class TreasuryCashPosition(models.Model):
    """A bank account's balance as the treasury platform reported it (one row per account and as-of)."""

    _name = "treasury.cash.position"
    _description = "Treasury cash position"
    _order = "as_of desc, iban"
    _rec_name = "iban"
    _check_company_auto = True

    backend_id = fields.Many2one("finance.backend", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    iban = fields.Char(string="IBAN", required=True, readonly=True)
    journal_id = fields.Many2one("account.journal", readonly=True, check_company=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    booked_balance = fields.Monetary(readonly=True, aggregator="sum")
    available_balance = fields.Monetary(readonly=True, aggregator="sum")
    as_of = fields.Datetime(required=True, readonly=True)
    date = fields.Date(required=True, readonly=True, index=True)

    _sql_constraints = [
        ("position_unique", "UNIQUE(backend_id, iban, as_of)", "One balance per account and moment."),
    ]

    @api.model
    def _journals_by_iban(self, company):
        journals = self.env["account.journal"].sudo().search([("company_id", "=", company.id), ("type", "=", "bank"),
                                                              ("bank_account_id", "!=", False)])
        return {j.bank_account_id.sanitized_acc_number: j.id for j in journals}

    @api.model
    def _currency_ids(self, codes):
        currencies = self.env["res.currency"].with_context(active_test=False).sudo().search([("name", "in", list(codes))])
        return {c.name: c.id for c in currencies}

    @api.model
    def _upsert(self, backend, rows):
        """Insert or refresh the balances (unique index on account + as-of: a repeated pull updates)."""
        if not rows:
            return 0
        journals = self._journals_by_iban(backend.company_id)
        currencies = self._currency_ids({r.get("currency") for r in rows})
        by_key = {}
        for row in rows:
            iban = (row.get("iban") or "").replace(" ", "").upper()
            currency = currencies.get(row.get("currency"))
            # as_of is an instant: "...Z" or any UTC offset, stored in UTC
            as_of = parse_instant(row.get("as_of"))
            if not iban or not currency or not as_of:
                raise BusinessError("Balance row without IBAN, known currency or as_of", code="invalid_balance",
                                    params={"currency": row.get("currency")})
            # one row per account and moment: a row repeated at a page boundary is the same
            # balance (the last occurrence wins, as for forecast items)
            by_key[(iban, as_of)] = (backend.id, backend.company_id.id, iban, journals.get(iban), currency,
                                     parse_amount(row.get("booked_balance"), "booked_balance"),
                                     parse_amount(row.get("available_balance"), "available_balance"),
                                     as_of, as_of.date(), self.env.uid, self.env.uid)
        values = list(by_key.values())
        self.flush_model()
        execute_values(self.env.cr, """
            INSERT INTO treasury_cash_position (backend_id, company_id, iban, journal_id, currency_id, booked_balance,
                   available_balance, as_of, date, create_uid, write_uid, create_date, write_date)
            SELECT v.*, now() at time zone 'UTC', now() at time zone 'UTC'
              FROM (VALUES %s) AS v(backend_id, company_id, iban, journal_id, currency_id, booked_balance,
                   available_balance, as_of, date, create_uid, write_uid)
            ON CONFLICT (backend_id, iban, as_of) DO UPDATE
               SET booked_balance = EXCLUDED.booked_balance, available_balance = EXCLUDED.available_balance,
                   journal_id = EXCLUDED.journal_id, write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date
        """, values, template="(%s, %s, %s, %s::int, %s, %s::numeric, %s::numeric, %s::timestamp, %s::date, %s, %s)")
        self.invalidate_model()
        return len(values)
