"""Model side of matching: read open items and lines in bulk, run the pure engine, write results."""
import logging
import re
from decimal import Decimal

from odoo import Command, api, models
from odoo.exceptions import UserError

from ..engine.matching import Item, Line, MatchIndex

_logger = logging.getLogger(__name__)
_HEX32 = re.compile(r"^[0-9a-f]{32}$")


class BankReconcile(models.AbstractModel):
    _name = "bank.reconcile"
    _description = "Bank line matching and reconciliation"

    @api.model
    def _job_match(self, job):
        lines = self.env["account.bank.statement.line"].browse(job.payload["line_ids"]).exists()
        self._match_and_reconcile(lines)

    # ------------------------------------------------------------------ reading
    @api.model
    def _open_items(self, company):
        """Open receivable/payable items of the company in its currency, read in one query
        (foreign-currency items are not matched yet: no FX)."""
        self.env["account.move.line"].flush_model()
        self.env.cr.execute("""
            SELECT aml.id, aml.amount_residual, aml.partner_id, COALESCE(p.name, ''), COALESCE(m.name, ''),
                   COALESCE(m.payment_reference, ''), COALESCE(m.ref, '')
              FROM account_move_line aml
              JOIN account_move m ON m.id = aml.move_id
              JOIN account_account a ON a.id = aml.account_id
         LEFT JOIN res_partner p ON p.id = aml.partner_id
             WHERE aml.company_id = %s AND aml.currency_id = %s AND aml.parent_state = 'posted' AND NOT aml.reconciled
               AND a.account_type IN ('asset_receivable', 'liability_payable') AND aml.amount_residual != 0
          ORDER BY aml.date_maturity NULLS LAST, aml.id""", (company.id, company.currency_id.id))
        rows = self.env.cr.fetchall()
        self.env.cr.execute("""SELECT partner_id, sanitized_acc_number FROM res_partner_bank
                                WHERE partner_id = ANY(%s)""", (list({r[2] for r in rows if r[2]}),))
        ibans = {}
        for partner_id, acc in self.env.cr.fetchall():
            ibans.setdefault(partner_id, []).append(acc)
        return [Item(id=r[0], residual=Decimal(str(r[1])), partner_id=r[2] or 0, partner_name=r[3], number=r[4],
                     reference=r[5] if r[5] and r[5] != r[4] else "",
                     end_to_end_id=r[6] if _HEX32.match(r[6]) else "",
                     partner_ibans=tuple(ibans.get(r[2], ()))) for r in rows]

    @staticmethod
    def _engine_line(line):
        return Line(id=line.id, amount=Decimal(str(line.amount)), counterparty_iban=line.account_number or "",
                    counterparty_name=line.partner_name or line.partner_id.name or "", remittance=line.payment_ref or "",
                    structured_reference=line.feed_structured_reference or "", end_to_end_id=line.feed_end_to_end_id or "")

    # ------------------------------------------------------------------ matching
    @api.model
    def _match_and_reconcile(self, lines):
        lines = lines.filtered(lambda l: not l.is_reconciled)
        # no FX yet: lines in a foreign currency, or on a foreign-currency journal, go to review
        foreign = lines.filtered(lambda l: l.foreign_currency_id
                                 or (l.journal_id.currency_id and l.journal_id.currency_id != l.company_id.currency_id))
        foreign.feed_match_state = "review"
        lines -= foreign
        Proposal = self.env["bank.reconcile.proposal"]
        for journal in lines.journal_id:
            jlines = lines.filtered(lambda l: l.journal_id == journal)
            index = MatchIndex(self._open_items(journal.company_id),
                               tolerance=Decimal(str(journal.bank_writeoff_tolerance or 0)) if journal.bank_writeoff_account_id else Decimal(0))
            results = {line.id: index.match(self._engine_line(line)) for line in jlines}
            jlines.feed_proposal_ids.unlink()
            Proposal.create([{
                "statement_line_id": line_id, "rank": rank, "score": p.score, "rule": p.rule,
                "explanation": p.explanation, "move_line_ids": [Command.set(list(p.item_ids))],
                "partner_id": p.partner_id or False, "writeoff": float(p.writeoff), "partial": p.partial,
            } for line_id, result in results.items() for rank, p in enumerate(result.proposals, 1)])
            todo, review = [], jlines.browse()
            for line in jlines:
                result = results[line.id]
                best = result.best
                values = {"feed_ambiguous": result.ambiguous, "feed_best_score": best.score if best else 0.0,
                          "feed_best_explanation": best.explanation if best else False}
                auto = result.auto(journal.bank_auto_threshold)
                if auto:
                    todo.append((line, auto))
                else:
                    review |= line
                line.write(values)
            review.feed_match_state = "review"
            self._reconcile_batch(todo, how="auto")
        return lines

    # ------------------------------------------------------------------ writing
    @api.model
    def _reconcile(self, st_line, proposal, how):
        st_line.ensure_one()
        return self._reconcile_batch([(st_line, proposal)], how)

    @api.model
    def _reconcile_batch(self, todo, how):
        """Reconcile each ``(statement line, proposal)``: the line's suspense entry is replaced by
        counterparts of the proposal's items (plus a write-off line for a difference within the
        tolerance) and each counterpart is reconciled with its item, the way OCA's
        account_reconcile_oca does it in Community. Batched: one create, one unlink and one
        reconciliation plan for all lines (moves are checked balanced afterwards)."""
        if not todo:
            return self.env["account.bank.statement.line"]
        AML = self.env["account.move.line"].with_context(
            skip_account_move_synchronization=True, check_move_validity=False, skip_invoice_sync=True,
            force_delete=True, skip_readonly_check=True)
        suspense_all = AML.browse()
        new_vals, pairs, audit = [], [], []
        for st_line, proposal in todo:
            if st_line.is_reconciled:
                raise UserError("Statement line %s is already reconciled" % st_line.display_name)
            if st_line.foreign_currency_id or st_line.currency_id != st_line.company_id.currency_id:
                raise UserError("Statement line %s is in a foreign currency: reconcile it in Accounting" % st_line.display_name)
            items = AML.browse(list(proposal.item_ids))
            _liquidity, suspense, _other = st_line._seek_for_lines()
            suspense_all |= suspense
            currency = st_line.company_id.currency_id
            remaining = st_line.amount
            for item in items:
                allocated = st_line.amount if proposal.partial else item.amount_residual
                remaining -= allocated
                pairs.append((len(new_vals), item))
                new_vals.append({"move_id": st_line.move_id.id, "name": st_line.payment_ref or item.move_id.name,
                                 "account_id": item.account_id.id, "partner_id": item.partner_id.id,
                                 "currency_id": currency.id, "amount_currency": -allocated, "balance": -allocated})
            writeoff = currency.round(remaining)
            if not currency.is_zero(writeoff):
                account = st_line.journal_id.bank_writeoff_account_id
                if not account:
                    raise UserError("Journal %s has no write-off account" % st_line.journal_id.name)
                new_vals.append({"move_id": st_line.move_id.id, "name": "Write-off: %s" % (st_line.payment_ref or ""),
                                 "account_id": account.id, "partner_id": items[:1].partner_id.id,
                                 "currency_id": currency.id, "amount_currency": -writeoff, "balance": -writeoff})
            audit.append((st_line, proposal, writeoff))
        st_lines = self.env["account.bank.statement.line"].browse([line.id for line, _p, _w in audit])
        moves = st_lines.move_id
        with moves._check_balanced({"records": moves}):  # raises if any move ends up unbalanced
            created = AML.create(new_vals)
            suspense_all.unlink()
        AML._reconcile_plan([created[index] | item for index, item in pairs])
        for st_line, proposal, _w in audit:
            partners = AML.browse(list(proposal.item_ids)).partner_id
            if len(partners) == 1 and not st_line.partner_id:
                st_line.with_context(skip_account_move_synchronization=True).partner_id = partners
        st_lines.feed_match_state = how
        if how == "auto":
            Log = self.env["finance.audit.log"]
            for st_line, proposal, writeoff in audit:
                Log._append("bank.auto_reconcile", st_line,
                            "Reconciled automatically (%s, score %.2f)" % (proposal.rule, proposal.score),
                            data={"rule": proposal.rule, "score": proposal.score, "items": list(proposal.item_ids),
                                  "writeoff": str(writeoff)})
        return st_lines
