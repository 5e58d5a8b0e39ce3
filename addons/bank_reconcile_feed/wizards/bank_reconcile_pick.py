"""Free pick of open items for one bank line: any open receivable or payable item of the line's
company, of any partner, paid in full, partly, or in full with the difference written off."""
from decimal import Decimal

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.finance_sync_core.guard import guarded

from ..models.account_bank_statement_line import RECONCILERS
from ..models.bank_reconcile_manual import MANUAL_PLAN

OPEN_ITEM_DOMAIN = [("parent_state", "=", "posted"), ("reconciled", "=", False),
                    ("account_id.account_type", "in", ("asset_receivable", "liability_payable")),
                    ("amount_residual", "!=", 0.0)]


class BankReconcilePick(models.TransientModel):
    _name = "bank.reconcile.pick"
    _description = "Pick open items for a bank line"
    _check_company_auto = True

    statement_line_id = fields.Many2one("account.bank.statement.line", string="Bank line", required=True,
                                        readonly=True, ondelete="cascade")
    company_id = fields.Many2one(related="statement_line_id.company_id")
    currency_id = fields.Many2one(related="statement_line_id.company_id.currency_id", string="Currency")
    journal_id = fields.Many2one(related="statement_line_id.journal_id")
    line_amount = fields.Monetary(related="statement_line_id.amount", string="Line amount", currency_field="currency_id")
    line_date = fields.Date(related="statement_line_id.date", string="Date")
    line_partner_name = fields.Char(related="statement_line_id.partner_name", string="Counterparty")
    line_payment_ref = fields.Char(related="statement_line_id.payment_ref", string="Label")
    move_line_ids = fields.Many2many(
        "account.move.line", string="Open items", check_company=True,
        domain="[('company_id', '=', company_id), ('parent_state', '=', 'posted'), ('reconciled', '=', False), "
               "('account_id.account_type', 'in', ('asset_receivable', 'liability_payable')), ('amount_residual', '!=', 0.0)]",
        help="Any open receivable or payable item of the company, of any partner")
    mode = fields.Selection(
        [("full", "Pay in full"), ("partial", "Partial payment"), ("writeoff", "Pay in full, write off the difference")],
        string="How", required=True, default="full",
        help="Pay in full: the items' open amounts equal the line. Partial payment: the line pays the items in the "
             "order picked, the last one partly; the rest stays open. Write off: the items are paid in full and "
             "the difference is booked on the write-off account, up to the journal's manual write-off limit.")
    open_total = fields.Monetary(string="Open amount picked", compute="_compute_totals", currency_field="currency_id")
    difference = fields.Monetary(compute="_compute_totals", currency_field="currency_id",
                                 help="Line amount minus the open amount picked")
    writeoff_limit = fields.Monetary(related="statement_line_id.journal_id.bank_manual_writeoff_limit",
                                     string="Manual write-off limit", currency_field="currency_id")
    writeoff_account_id = fields.Many2one(
        "account.account", string="Write-off account", check_company=True,
        compute="_compute_writeoff_account", store=True, readonly=False)
    writeoff_label = fields.Char(string="Write-off label", default=lambda self: self.env._("Write-off"))

    @api.depends("move_line_ids", "line_amount")
    def _compute_totals(self):
        for wizard in self:
            wizard.open_total = sum(wizard.move_line_ids.mapped("amount_residual"))
            wizard.difference = wizard.line_amount - wizard.open_total

    @api.depends("statement_line_id")
    def _compute_writeoff_account(self):
        for wizard in self:
            if not wizard.writeoff_account_id:
                wizard.writeoff_account_id = wizard.statement_line_id.journal_id.bank_writeoff_account_id

    # ------------------------------------------------------------------ action
    @guarded(*RECONCILERS)
    def action_reconcile(self):
        """Reconcile the line with the picked items (audited ``bank.manual_pick``) and close its exception."""
        self.ensure_one()
        line = self.statement_line_id._feed_sudo()   # checks the group and that the caller may read the line
        self._lock_line(line)
        if line.is_reconciled or line.feed_match_state in ("auto", "manual"):
            raise UserError(self.env._("Bank line %s is already reconciled: nothing was booked.", line.display_name))
        items = self._checked_items(line)
        plan = self._plan(line, items)
        from ..engine.matching import Proposal
        partner = items.partner_id.commercial_partner_id
        proposal = Proposal(tuple(items.ids), 1.0, "manual_pick", "Picked by hand",
                            Decimal(str(plan["writeoff"])), False, partner.id if len(partner) == 1 else 0)
        # sudo: the caller is a reconciler who may read the line and the items (checked above);
        # Community lets only a hidden group write statement lines
        self.env["bank.reconcile"].sudo().with_context(**{MANUAL_PLAN: plan})._reconcile(line, proposal, how="manual")
        documents = ", ".join(items.move_id.mapped("name"))
        mode = dict(self._fields["mode"]._description_selection(self.env))[self.mode]
        self.env["finance.audit.log"]._append(
            "bank.manual_pick", line, "Picked by hand: %s (%s)" % (documents, mode),
            data={"items": items.ids, "mode": self.mode,
                  "allocations": {str(k): v for k, v in plan["allocations"].items()},
                  "writeoff": plan["writeoff"], "writeoff_account_id": plan.get("writeoff_account_id")})
        line._feed_resolve_review("Picked by hand: %s (%s) by %s" % (documents, mode, self.env.user.name))
        return {"type": "ir.actions.act_window_close"}

    # ------------------------------------------------------------------ helpers
    def _lock_line(self, line):
        """Row lock on the statement line until the transaction ends: a second person picking the
        same line at the same moment gets a clear error instead of a second reconciliation."""
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute("SELECT id FROM account_bank_statement_line WHERE id = %s FOR UPDATE NOWAIT",
                                    (line.id,))
        except (psycopg2.errors.LockNotAvailable, psycopg2.errors.SerializationFailure):
            raise UserError(self.env._(
                "Someone else is reconciling bank line %s right now. Reload it: if it is still open, pick again.",
                line.display_name)) from None
        # what another transaction committed before the lock is what counts from here on
        line.invalidate_recordset()
        line.move_id.invalidate_recordset()
        line.move_id.line_ids.invalidate_recordset()

    def _checked_items(self, line):
        items = self.move_line_ids
        if not items:
            raise UserError(self.env._("Pick at least one open item."))
        items.check_access("read")
        items.invalidate_recordset()
        # sudo: re-read the items' state whoever the caller is; the domain is enforced here, not only in the view
        still_open = items.sudo().filtered_domain([("company_id", "=", line.company_id.id)] + OPEN_ITEM_DOMAIN)
        if still_open != items.sudo():
            raise UserError(self.env._(
                "%(items)s is not an open receivable or payable item of %(company)s (paid meanwhile, or another "
                "company): pick again.", items=", ".join((items.sudo() - still_open).mapped("display_name")),
                company=line.company_id.name))
        company_currency = line.company_id.currency_id
        if line.currency_id != company_currency or line.foreign_currency_id or items.currency_id != company_currency:
            raise UserError(self.env._(
                "Picking by hand works in the company currency (%s) only: accept a proposal for a line or item in "
                "another currency.", company_currency.name))
        return items.sudo()

    def _plan(self, line, items):
        """``{"allocations": {item id: amount}, "writeoff": amount, ...}`` for the chosen mode."""
        currency = line.company_id.currency_id
        amount = line.amount
        opens = [(item, item.amount_residual) for item in items]
        total = currency.round(sum(residual for _item, residual in opens))
        difference = currency.round(amount - total)
        plan = {"allocations": {item.id: residual for item, residual in opens}, "writeoff": 0.0}
        if self.mode == "full":
            if not currency.is_zero(difference):
                raise UserError(self.env._(
                    "The items picked have %(total)s open and the line is %(amount)s: pick a partial payment, "
                    "or write off the difference of %(difference)s.",
                    total=total, amount=amount, difference=difference))
        elif self.mode == "writeoff":
            limit = line.journal_id.bank_manual_writeoff_limit
            if currency.compare_amounts(abs(difference), limit) > 0:
                raise UserError(self.env._(
                    "Writing off %(difference)s is more than the manual write-off limit of %(limit)s of journal "
                    "%(journal)s: pick other items, a partial payment, or ask an accounting administrator to raise "
                    "the limit.", difference=difference, limit=limit, journal=line.journal_id.name))
            if not currency.is_zero(difference):
                if not self.writeoff_account_id:
                    raise UserError(self.env._("Choose the account the difference is written off to."))
                if self.writeoff_account_id.company_ids and line.company_id not in self.writeoff_account_id.company_ids:
                    raise UserError(self.env._("The write-off account must belong to %s.", line.company_id.name))
                plan.update(writeoff=difference, writeoff_account_id=self.writeoff_account_id.id,
                            writeoff_label=self.writeoff_label or self.env._("Write-off"))
        else:   # partial: the line pays the items in the order picked, the last one partly
            sign = 1 if amount > 0 else -1
            if any(residual * sign <= 0 for _item, residual in opens):
                raise UserError(self.env._("A partial payment pays items in the direction of the line: remove credit "
                                           "notes or items of the other direction."))
            if currency.compare_amounts(abs(total), abs(amount)) <= 0:
                raise UserError(self.env._(
                    "The items picked have %(total)s open, not more than the line's %(amount)s: pay them in full "
                    "or write off the difference.", total=total, amount=amount))
            left = abs(amount)
            for item, residual in opens:
                if currency.is_zero(left):
                    raise UserError(self.env._("The line is used up before %s: remove it from the items picked.",
                                               item.move_id.name))
                paid = currency.round(min(abs(residual), left))
                plan["allocations"][item.id] = sign * paid
                left = currency.round(left - paid)
        return plan
