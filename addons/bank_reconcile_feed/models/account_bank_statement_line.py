from odoo import _, fields, models
from odoo.exceptions import UserError


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    feed_import_id = fields.Char(
        string="Import id", readonly=True, copy=False,
        help="The bank's entry reference when it gave a real one, otherwise a SHA-256 fingerprint of "
             "account, booking date, amount, counterparty and remittance; unique per journal")
    feed_source = fields.Selection([("feed", "Bank feed"), ("camt053", "camt.053"), ("camt054", "camt.054"),
                                    ("mt940", "MT940")], readonly=True, copy=False)
    feed_end_to_end_id = fields.Char(string="EndToEndId", readonly=True, copy=False)
    feed_structured_reference = fields.Char(string="Structured reference", readonly=True, copy=False)
    feed_match_state = fields.Selection(
        [("new", "To match"), ("auto", "Reconciled automatically"), ("manual", "Reconciled by hand"),
         ("review", "To review"), ("left_open", "Left open")],
        string="Matching", readonly=True, copy=False, index=True)
    feed_ambiguous = fields.Boolean(string="Ambiguous", readonly=True, copy=False)
    feed_proposal_ids = fields.One2many("bank.reconcile.proposal", "statement_line_id", string="Proposals")
    feed_best_score = fields.Float(string="Best score", digits=(3, 2), readonly=True, copy=False)
    feed_best_explanation = fields.Text(string="Why", readonly=True, copy=False)

    def init(self):
        super().init()
        # the dedupe guarantee: one import id per journal, whatever imports run concurrently
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS account_bank_statement_line_feed_import_uniq
                ON account_bank_statement_line (journal_id, feed_import_id)
             WHERE feed_import_id IS NOT NULL""")

    def action_bank_undo(self):
        """Undo a reconciliation made here (automatic or by hand), audited; the line goes to review."""
        for line in self:
            if line.feed_match_state not in ("auto", "manual"):
                raise UserError(_("Line %s was not reconciled by the bank feed.", line.display_name))
            how = line.feed_match_state
            items = line.move_id.line_ids.matched_debit_ids.debit_move_id | line.move_id.line_ids.matched_credit_ids.credit_move_id
            items -= line.move_id.line_ids
            line.action_undo_reconciliation()
            line.feed_match_state = "review"
            self.env["finance.audit.log"]._append(
                "bank.undo", line, "Undid the %s reconciliation of %s" % (
                    "automatic" if how == "auto" else "manual", line.payment_ref or line.id),
                data={"items": items.ids})
        return True

    def action_bank_write_off(self):
        """Book the whole line on the journal's write-off account (bank fees, charges), audited."""
        from ..engine.matching import Proposal
        for line in self:
            self.env["bank.reconcile"]._reconcile(line, Proposal((), 0.0, "write_off", "Written off by hand"), how="manual")
            self.env["finance.audit.log"]._append(
                "bank.write_off", line, "Wrote off %s to %s" % (line.amount, line.journal_id.bank_writeoff_account_id.display_name))
        return True

    def action_bank_leave_open(self):
        for line in self:
            line.feed_match_state = "left_open"
            self.env["finance.audit.log"]._append("bank.leave_open", line, "Left open")
        return True

    def action_bank_rematch(self):
        self.env["bank.reconcile"]._match_and_reconcile(self)
        return True
