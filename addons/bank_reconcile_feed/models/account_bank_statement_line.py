from odoo import fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.finance_sync_core.guard import guarded

RECONCILERS = ("account.group_account_user", "finance_sync_core.group_finance_sync_user")
# the matching state and the import keys change only in this addon's transitions (run as
# superuser after their checks): an RPC write by anyone, managers included, is refused
PROTECTED_FIELDS = frozenset({"feed_import_id", "feed_transaction_id", "feed_source", "feed_match_state",
                              "feed_ambiguous", "feed_best_score", "feed_best_explanation", "feed_review_job_id",
                              "feed_auto_blocked", "feed_end_to_end_id", "feed_structured_reference"})


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    feed_import_id = fields.Char(
        string="Import id", readonly=True, copy=False,
        help="The bank's entry reference when it gave a real one, otherwise a SHA-256 fingerprint of "
             "account, booking date, amount, counterparty and remittance; unique per journal")
    feed_transaction_id = fields.Char(
        string="Feed transaction id", readonly=True, copy=False,
        help="The bank feed's id of the booked transaction: it identifies the transaction within "
             "one pull and across pulls; unique per journal")
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
    feed_review_job_id = fields.Many2one(
        "finance.sync.job", string="Exception", readonly=True, copy=False, index="btree_not_null",
        groups="finance_sync_core.group_finance_sync_user",
        help="The review job of this line: while the line waits for a person it is an exception in the queue")
    feed_review_state = fields.Selection(related="feed_review_job_id.state", string="Exception state")
    feed_auto_blocked = fields.Boolean(
        string="No automatic match", readonly=True, copy=False,
        help="A person undid an automatic reconciliation of this line: it is never reconciled automatically again")

    def init(self):
        super().init()
        # the dedupe guarantee: one import id per journal, whatever imports run concurrently
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS account_bank_statement_line_feed_import_uniq
                ON account_bank_statement_line (journal_id, feed_import_id)
             WHERE feed_import_id IS NOT NULL""")
        # a booked feed transaction's id identifies it: never two lines for one id
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS account_bank_statement_line_feed_txn_uniq
                ON account_bank_statement_line (journal_id, feed_transaction_id)
             WHERE feed_transaction_id IS NOT NULL""")

    def _prepare_move_line_default_vals(self, counterpart_account_id=None):
        """Under the statement import's ``bank_feed_no_distribution_model`` context (the company
        has no analytic distribution model at all): the entry's lines take no distribution, what
        Odoo's compute would give after one distribution look-up per line."""
        vals_list = super()._prepare_move_line_default_vals(counterpart_account_id)
        if self.env.context.get("bank_feed_no_distribution_model"):
            for vals in vals_list:
                vals.setdefault("analytic_distribution", False)
        return vals_list

    def write(self, vals):
        if not self.env.su and PROTECTED_FIELDS.intersection(vals):
            raise AccessError(self.env._("The bank feed fields %s change only through the bank feed's actions.",
                                ", ".join(sorted(PROTECTED_FIELDS.intersection(vals)))))
        return super().write(vals)

    def _feed_sudo(self):
        """These lines for a bank feed action. Community lets only a hidden accounting group
        write statement lines, so the people who settle bank lines (accountants, and exception
        queue users) act through sudo once checked here; audit entries keep their name."""
        if not self.env.su and not any(self.env.user.has_group(group) for group in RECONCILERS):
            raise AccessError(self.env._("Only accountants and exception queue users settle bank lines."))
        self.check_access("read")
        return self.sudo()

    def _feed_resolve_review(self, note):
        """Close the exception of lines a person (or a later match) settled: their failed review
        job goes to done through the core's resolve transition, with the note and an audit entry.
        A pending review job needs nothing: its handler finds the line settled and ends."""
        # sudo: whoever may settle the line may close its exception, even without the queue group
        jobs = self.sudo().feed_review_job_id.filtered(lambda j: j.state == "failed")
        if jobs:
            jobs.action_resolve(note)
        return jobs

    @guarded(*RECONCILERS)
    def action_bank_undo(self):
        """Undo a reconciliation made here (automatic or by hand), audited; the line goes back to
        review (and to the exception queue) and is never reconciled automatically again."""
        for line in self._feed_sudo():
            if line.feed_match_state not in ("auto", "manual"):
                raise UserError(self.env._("Line %s was not reconciled by the bank feed.", line.display_name))
            how = line.feed_match_state
            items = line.move_id.line_ids.matched_debit_ids.debit_move_id | line.move_id.line_ids.matched_credit_ids.credit_move_id
            items -= line.move_id.line_ids
            line.action_undo_reconciliation()
            line.write({"feed_match_state": "review", "feed_auto_blocked": True})
            self.env["finance.audit.log"]._append(
                "bank.undo", line, "Undid the %s reconciliation of %s" % (
                    "automatic" if how == "auto" else "manual", line.payment_ref or line.id),
                data={"items": items.ids})
        self.env["bank.reconcile"].sudo()._enqueue_reviews(self.sudo())
        return True

    @guarded(*RECONCILERS)
    def action_bank_write_off(self):
        """Book the whole line on the journal's write-off account (bank fees, charges), audited."""
        from ..engine.matching import Proposal
        for line in self._feed_sudo():
            self.env["bank.reconcile"].sudo()._reconcile(line, Proposal((), 0.0, "write_off", "Written off by hand"), how="manual")
            self.env["finance.audit.log"]._append(
                "bank.write_off", line, "Wrote off %s to %s" % (line.amount, line.journal_id.bank_writeoff_account_id.display_name))
            line._feed_resolve_review("Written off to %s by %s" % (line.journal_id.bank_writeoff_account_id.display_name,
                                                                   self.env.user.name))
        return True

    @guarded(*RECONCILERS)
    def action_bank_leave_open(self):
        for line in self._feed_sudo():
            line.feed_match_state = "left_open"
            self.env["finance.audit.log"]._append("bank.leave_open", line, "Left open")
            line._feed_resolve_review("Left open by %s" % self.env.user.name)
        return True

    @guarded(*RECONCILERS)
    def action_bank_rematch(self):
        self.env["bank.reconcile"].sudo()._match_and_reconcile(self._feed_sudo())
        return True

    @guarded(*RECONCILERS)
    def action_bank_pick(self):
        """The free pick of open items (any partner; full, partial or with a write-off) for this line."""
        self.ensure_one()
        line = self._feed_sudo()
        if line.is_reconciled:
            raise UserError(self.env._("Bank line %s is already reconciled.", line.display_name))
        return {"type": "ir.actions.act_window", "res_model": "bank.reconcile.pick", "view_mode": "form",
                "views": [(self.env.ref("bank_reconcile_feed.bank_reconcile_pick_view_form").id, "form")],
                "target": "new", "name": self.env._("Pick open items"),
                "context": {"default_statement_line_id": self.id}}

    @guarded(*RECONCILERS)
    def action_open_feed_form(self):
        """This line in the bank feed's form (proposals, Accept, Write off, Leave open, Undo)."""
        self.ensure_one()
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id, "view_mode": "form",
                "views": [(self.env.ref("bank_reconcile_feed.account_bank_statement_line_view_form").id, "form")],
                "name": self.env._("Bank line")}
