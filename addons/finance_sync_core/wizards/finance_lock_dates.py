"""A Community screen for Odoo's own company lock dates (Enterprise has Accounting > Lock Dates).

It edits the five lock-date fields of ``res.company`` as they are: Odoo's checks run (a hard
lock date cannot be moved back, the global lock refuses unreconciled bank lines...), and every
change is one entry of the suite's audit log saying which date moved from what to what.
"""
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..guard import guarded
from ..models.finance_sync_job import LOCK_DATE_FIELDS

ACCOUNT_MANAGER = "account.group_account_manager"


class FinanceLockDates(models.TransientModel):
    _name = "finance.lock.dates"
    _description = "Lock dates of a company"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company,
                                 domain=lambda self: [("id", "in", self.env.companies.ids)])
    fiscalyear_lock_date = fields.Date(
        string="Global lock date", compute="_compute_dates", store=True, readonly=False,
        help="No entry of any journal up to and including this date. Odoo refuses it while bank "
             "statement lines up to that date are not reconciled.")
    tax_lock_date = fields.Date(string="Tax return lock date", compute="_compute_dates", store=True, readonly=False,
                                help="No entry with taxes up to and including this date.")
    sale_lock_date = fields.Date(string="Sales lock date", compute="_compute_dates", store=True, readonly=False,
                                 help="No entry in sales journals up to and including this date.")
    purchase_lock_date = fields.Date(
        string="Purchase lock date", compute="_compute_dates", store=True, readonly=False,
        help="No entry in purchase journals (vendor bills, expense reports) up to and including this date.")
    hard_lock_date = fields.Date(
        string="Hard lock date", compute="_compute_dates", store=True, readonly=False,
        help="Irreversible: it can only move forward, and allows no exception.")
    unreconciled_count = fields.Integer(
        compute="_compute_unreconciled", string="Unreconciled bank lines up to the global lock date")

    @api.depends("company_id")
    def _compute_dates(self):
        for wizard in self:
            company = wizard.company_id.sudo()
            for field in LOCK_DATE_FIELDS:
                wizard[field] = company[field] if company else False

    @api.depends("company_id", "fiscalyear_lock_date", "hard_lock_date")
    def _compute_unreconciled(self):
        for wizard in self:
            last = max(filter(None, (wizard.fiscalyear_lock_date, wizard.hard_lock_date)), default=None)
            if not wizard.company_id or not last:
                wizard.unreconciled_count = 0
                continue
            wizard.unreconciled_count = self.env["account.bank.statement.line"].sudo().search_count(
                wizard.company_id._get_unreconciled_statement_lines_domain(last))

    def _changes(self):
        company = self.company_id.sudo()
        return {field: (company[field], self[field]) for field in LOCK_DATE_FIELDS if company[field] != self[field]}

    @guarded(ACCOUNT_MANAGER)
    def action_apply(self):
        """Write the changed lock dates on the company (Odoo's own checks apply) and audit them."""
        self.ensure_one()
        if self.company_id not in self.env.user.company_ids:
            raise AccessError(self.env._("You may change the lock dates of your own companies only."))
        changes = self._changes()
        if not changes:
            raise UserError(self.env._("No lock date changed."))
        # sudo: res.company is writable by Settings administrators only; accounting administrators
        # (checked above, for a company of theirs) set lock dates, as in Odoo's own lock-date wizard.
        # res.company.write() still runs Odoo's lock-date validations.
        self.company_id.sudo().write({field: new for field, (_old, new) in changes.items()})
        labels = self.fields_get(list(changes), ["string"])
        described = ", ".join("%s %s -> %s" % (labels[f]["string"], old or "none", new or "none")
                              for f, (old, new) in changes.items())
        self.env["finance.audit.log"]._append(
            "company.lock_dates", self.company_id, "Lock dates of %s changed: %s" % (self.company_id.name, described),
            data={field: [str(old or ""), str(new or "")] for field, (old, new) in changes.items()})
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": self.company_id.name, "type": "success", "sticky": False,
                           "message": self.env._("Lock dates saved: %s", described),
                           "next": {"type": "ir.actions.act_window_close"}}}
