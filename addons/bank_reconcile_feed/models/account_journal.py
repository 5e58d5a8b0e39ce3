from odoo import fields, models

from ..engine.records import compact_account


class AccountJournal(models.Model):
    _inherit = "account.journal"

    bank_feed_backend_id = fields.Many2one(
        "finance.backend", string="Bank feed backend", domain=[("kind", "=", "bank")], check_company=True,
        help="Pull this account's booked transactions from this bank feed backend")
    bank_auto_threshold = fields.Float(
        string="Auto-reconcile from score", default=0.9,
        help="Lines whose best proposal scores at least this (and is not ambiguous) are reconciled "
             "automatically; the others wait in the review queue. 1.01 turns automation off.")
    bank_writeoff_tolerance = fields.Monetary(
        string="Write-off tolerance", currency_field="currency_id", default=0.0,
        help="A difference up to this amount between a line and the items it pays is written off")
    bank_fx_tolerance = fields.Float(
        string="Exchange tolerance (%)", default=1.0,
        help="A line without the bank's foreign amount pays a foreign-currency item in full when it is within "
             "this percentage of the item's open amount converted at the company rate of the line's date; "
             "the difference is booked as an exchange difference")
    bank_manual_writeoff_limit = fields.Monetary(
        string="Manual write-off limit", currency_field="currency_id", default=0.0,
        help="The largest difference a person may write off when picking open items for a bank line "
             "by hand (Pick open items); a larger difference is refused")
    bank_writeoff_account_id = fields.Many2one(
        "account.account", string="Write-off account", check_company=True,
        help="Account of the differences written off (e.g. bank fees)")

    bank_reconcile_rule_ids = fields.Many2many(
        "bank.reconcile.rule", string="Reconciliation rules", compute="_compute_bank_reconcile_rules",
        groups="account.group_account_user,finance_sync_core.group_finance_sync_user",
        help="Rules that apply to this journal (its own and those of every journal)")

    def _compute_bank_reconcile_rules(self):
        Rule = self.env["bank.reconcile.rule"]
        for journal in self:
            journal.bank_reconcile_rule_ids = Rule.search([
                ("company_id", "=", journal.company_id.id), "|", ("journal_ids", "=", False), ("journal_ids", "in", journal.ids)])

    def _bank_iban(self):
        self.ensure_one()
        return compact_account(self.bank_account_id.acc_number)

    def _bank_journal_for(self, account, company=None):
        """The bank journal of an account number (IBAN or as written), or an empty recordset."""
        key = compact_account(account)
        if not key:
            return self.browse()
        domain = [("type", "=", "bank")]
        if company:
            domain.append(("company_id", "=", company.id))
        for journal in self.search(domain):
            if journal._bank_iban() == key:
                return journal
        return self.browse()
