"""Model side of matching: read open items and lines in bulk, run the pure engine, write results."""
import logging
import re
from decimal import Decimal

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.finance_sync_core.exceptions import BusinessError

from ..engine.matching import Item, Line, MatchIndex, compact

_logger = logging.getLogger(__name__)
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
REVIEW_JOB = "bank.review_line"


def format_amount(amount):
    return "%+.2f" % amount


class BankReconcile(models.AbstractModel):
    _name = "bank.reconcile"
    _description = "Bank line matching and reconciliation"

    @api.model
    def _job_match(self, job):
        lines = self.env["account.bank.statement.line"].browse(job.payload["line_ids"]).exists()
        self._match_and_reconcile(lines)

    @api.model
    def _job_review_line(self, job):
        """Handler of ``bank.review_line``: one statement line the match job did not reconcile.

        Re-matches the line against the open items of now; reconciles it when the best proposal
        clears the journal's threshold, otherwise raises a BusinessError whose code says why
        (``bank.unmatched``, ``bank.ambiguous``, ``bank.low_score``, ``bank.undone``) and whose
        params hold the top-3 proposals: the job then waits in the exception queue. A line settled
        meanwhile (accepted, written off, left open) ends the job without touching it."""
        line = self.env["account.bank.statement.line"].browse(job.payload["line_id"]).exists()
        if not line or line.is_reconciled or line.feed_match_state in ("left_open", "auto", "manual"):
            return line or None
        result = self._match_lines(line, narrow=True)[line.id]
        auto = self._auto_proposal(line, result)
        if auto:
            self._store_results(line, {line.id: result})
            try:
                self._reconcile_batch([(line, auto)], how="auto")
            except UserError as error:
                raise BusinessError(str(error), code="bank.conflict", params=self._review_params(line, result)) from error
            return line
        code, message = self._review_cause(line, result)
        raise BusinessError(message, code=code, params=self._review_params(line, result))

    # ------------------------------------------------------------------ reading
    @api.model
    def _open_items(self, company, for_line=None):
        """Open receivable/payable items of the company, in every currency, read in one query.

        ``for_line`` narrows the read to the items that could match that one line (same partner
        or counterparty IBAN, same amount, its EndToEndId or structured reference, or a number
        that appears in its text): a superset of what the engine can find for it, so a review
        job does not read every open item of the company."""
        self.env["account.move.line"].flush_model()
        self.env["account.payment"].flush_model(["finance_end_to_end_id"])
        narrow, args = "", {"company": company.id, "outstanding": self._outstanding_accounts(company)}
        if for_line is not None:
            narrow = """
               AND (aml.partner_id = ANY(%(partners)s)
                    OR ABS(aml.amount_residual) = %(amount)s OR ABS(aml.amount_residual_currency) = ANY(%(amounts)s)
                    OR (%(e2e)s != '' AND (m.ref = %(e2e)s OR pay.finance_end_to_end_id = %(e2e)s))
                    OR (%(ref)s != '' AND UPPER(REGEXP_REPLACE(m.payment_reference, '[^0-9A-Za-z]', '', 'g')) = %(ref)s)
                    OR (LENGTH(REGEXP_REPLACE(m.name, '[^0-9A-Za-z]', '', 'g')) >= 3
                        AND POSITION(UPPER(REGEXP_REPLACE(m.name, '[^0-9A-Za-z]', '', 'g')) IN %(text)s) > 0))"""
            partners = set(for_line.partner_id.ids)
            iban = compact(for_line.account_number)
            if iban:
                self.env.cr.execute("SELECT partner_id FROM res_partner_bank WHERE sanitized_acc_number = %s", (iban,))
                partners.update(r[0] for r in self.env.cr.fetchall())
            args.update(partners=list(partners), amount=abs(for_line.amount),
                        amounts=[abs(for_line.amount), abs(for_line.amount_currency or 0.0)],
                        e2e=for_line.feed_end_to_end_id or "", ref=compact(for_line.feed_structured_reference) or "",
                        text=compact(" ".join(filter(None, [for_line.payment_ref, for_line.feed_structured_reference]))) or "")
        self.env.cr.execute("""
            SELECT aml.id, aml.amount_residual, aml.partner_id, COALESCE(p.name, ''), COALESCE(m.name, ''),
                   COALESCE(m.payment_reference, ''), COALESCE(NULLIF(pay.finance_end_to_end_id, ''), m.ref, ''),
                   c.name, aml.amount_residual_currency
              FROM account_move_line aml
              JOIN account_move m ON m.id = aml.move_id
         LEFT JOIN account_payment pay ON pay.id = m.origin_payment_id
              JOIN account_account a ON a.id = aml.account_id
              JOIN res_currency c ON c.id = aml.currency_id
         LEFT JOIN res_partner p ON p.id = aml.partner_id
             WHERE aml.company_id = %(company)s AND aml.parent_state = 'posted' AND NOT aml.reconciled
               AND (a.account_type IN ('asset_receivable', 'liability_payable') OR aml.account_id = ANY(%(outstanding)s))
               AND (aml.amount_residual != 0 OR aml.amount_residual_currency != 0)""" + narrow + """
          ORDER BY aml.date_maturity NULLS LAST, aml.id""", args)
        rows = self.env.cr.fetchall()
        self.env.cr.execute("""SELECT partner_id, sanitized_acc_number FROM res_partner_bank
                                WHERE partner_id = ANY(%s)""", (list({r[2] for r in rows if r[2]}),))
        ibans = {}
        for partner_id, acc in self.env.cr.fetchall():
            ibans.setdefault(partner_id, []).append(acc)
        return [Item(id=r[0], residual=Decimal(str(r[1])), partner_id=r[2] or 0, partner_name=r[3], number=r[4],
                     reference=r[5] if r[5] and r[5] != r[4] else "",
                     end_to_end_id=r[6] if _HEX32.match(r[6]) else "",
                     partner_ibans=tuple(ibans.get(r[2], ())), currency=r[7],
                     residual_currency=Decimal(str(r[8]))) for r in rows]

    @api.model
    def _outstanding_accounts(self, company):
        """The company's outstanding receipts/payments accounts: a payment registered in Odoo
        (or sent by the treasury connector) waits there for its bank line."""
        self.env["account.payment.method.line"].flush_model()
        self.env["account.payment"].flush_model(["outstanding_account_id"])
        # the payment methods' accounts, and the ones payments really used: with none set on the
        # method, Odoo books a payment on the chart's default outstanding account
        self.env.cr.execute("""
            SELECT DISTINCT l.payment_account_id FROM account_payment_method_line l
              JOIN account_journal j ON j.id = l.journal_id
              JOIN account_account a ON a.id = l.payment_account_id
             WHERE j.company_id = %(company)s AND a.reconcile AND j.default_account_id IS DISTINCT FROM a.id
             UNION
            SELECT DISTINCT p.outstanding_account_id FROM account_payment p
              JOIN account_journal j ON j.id = p.journal_id
              JOIN account_account a ON a.id = p.outstanding_account_id
             WHERE p.company_id = %(company)s AND a.reconcile AND j.default_account_id IS DISTINCT FROM a.id""",
                            {"company": company.id})
        return [r[0] for r in self.env.cr.fetchall()]

    @staticmethod
    def _engine_line(line):
        foreign = line.foreign_currency_id
        return Line(id=line.id, amount=Decimal(str(line.amount)), currency=line.currency_id.name,
                    counterparty_iban=line.account_number or "",
                    counterparty_name=line.partner_name or line.partner_id.name or "", remittance=line.payment_ref or "",
                    structured_reference=line.feed_structured_reference or "", end_to_end_id=line.feed_end_to_end_id or "",
                    date=str(line.date), foreign_currency=foreign.name or "",
                    amount_currency=Decimal(str(line.amount_currency)) if foreign and line.amount_currency else None)

    @api.model
    def _rate_function(self, company):
        """``rate(from, to, date)``: the company's rate (units of ``to`` per ``from``), memoized."""
        Currency = self.env["res.currency"].with_context(active_test=False)
        currencies, rates = {}, {}

        def rate(from_code, to_code, day):
            key = (from_code, to_code, day)
            if key not in rates:
                for code in (from_code, to_code):
                    if code not in currencies:
                        currencies[code] = Currency.search([("name", "=", code)], limit=1)
                if not (currencies[from_code] and currencies[to_code]):
                    rates[key] = None
                else:
                    rates[key] = Decimal(str(Currency._get_conversion_rate(
                        currencies[from_code], currencies[to_code], company, day or fields.Date.context_today(self))))
            return rates[key]
        return rate

    # ------------------------------------------------------------------ matching
    @api.model
    def _match_index(self, journal, for_line=None):
        tolerance = Decimal(str(journal.bank_writeoff_tolerance or 0)) if journal.bank_writeoff_account_id else Decimal(0)
        rules = self.env["bank.reconcile.rule"].search([
            ("company_id", "=", journal.company_id.id), "|", ("journal_ids", "=", False), ("journal_ids", "in", journal.ids)])
        return MatchIndex(self._open_items(journal.company_id, for_line=for_line), tolerance=tolerance,
                          rate=self._rate_function(journal.company_id),
                          fx_tolerance=Decimal(str(journal.bank_fx_tolerance or 0)) / 100,
                          rules=[rule._engine_rule() for rule in rules])

    @api.model
    def _match_lines(self, lines, narrow=False):
        """``{line id: MatchResult}`` against the open items of now; writes nothing. ``narrow``
        (one line) reads only that line's candidate items."""
        results = {}
        for journal in lines.journal_id:
            jlines = lines.filtered(lambda l: l.journal_id == journal)
            index = self._match_index(journal, for_line=jlines if narrow and len(jlines) == 1 else None)
            results.update((line.id, index.match(self._engine_line(line))) for line in jlines)
        return results

    @api.model
    def _store_results(self, lines, results):
        """Replace the lines' proposals by the engine's and note the best score and explanation."""
        lines.feed_proposal_ids.unlink()
        self.env["bank.reconcile.proposal"].create([{
            "statement_line_id": line_id, "rank": rank, "score": p.score, "rule": p.rule,
            "explanation": p.explanation, "move_line_ids": [Command.set(list(p.item_ids))],
            "partner_id": p.partner_id or False, "writeoff": float(p.writeoff), "partial": p.partial,
            "reconcile_rule_id": p.rule_id or False, "fx": p.fx,
        } for line_id, result in results.items() for rank, p in enumerate(result.proposals, 1)])
        for line in lines:
            result = results[line.id]
            best = result.best
            line.write({"feed_ambiguous": result.ambiguous, "feed_best_score": best.score if best else 0.0,
                        "feed_best_explanation": best.explanation if best else False})

    @api.model
    def _refresh_proposals(self, lines):
        """Proposals of unreconciled lines recomputed against the open items of now (nothing reconciled)."""
        lines = lines.filtered(lambda l: not l.is_reconciled)
        if lines:
            self._store_results(lines, self._match_lines(lines, narrow=len(lines) == 1))
        return lines

    @staticmethod
    def _auto_proposal(line, result):
        """The proposal to reconcile without a person: none once a person undid an automatic match."""
        if line.feed_auto_blocked:
            return None
        return result.auto(line.journal_id.bank_auto_threshold)

    @api.model
    def _match_and_reconcile(self, lines, review_jobs=True):
        """Match lines journal by journal (each journal sees the items the previous one settled),
        reconcile what clears the threshold, send the rest to review (and, with ``review_jobs``,
        queue one ``bank.review_line`` job per line: the core exception queue)."""
        lines = lines.filtered(lambda l: not l.is_reconciled)
        review_all = lines.browse()
        for journal in lines.journal_id:
            jlines = lines.filtered(lambda l: l.journal_id == journal)
            results = self._match_lines(jlines)
            self._store_results(jlines, results)
            todo, review, claimed = [], jlines.browse(), set()
            for line in jlines:
                auto = self._auto_proposal(line, results[line.id])
                # an item settles one line per batch: a second line naming it (a duplicate, a
                # second instalment) is re-matched by its review job once the first is booked
                if auto and not claimed.intersection(auto.item_ids):
                    claimed.update(auto.item_ids)
                    todo.append((line, auto))
                else:
                    review |= line
            review.feed_match_state = "review"
            review_all |= review
            done = self._reconcile_batch(todo, how="auto")
            done._feed_resolve_review("Reconciled automatically when matched again")
        if review_jobs:
            self._enqueue_reviews(review_all)
        return lines

    @api.model
    def _enqueue_reviews(self, lines):
        """One ``bank.review_line`` job per line without an open one (pending, running or failed).
        The key is the line (plus the previous job after an undo or a leave-open): a line has at
        most one review job at a time, and a retried match job queues nothing twice."""
        Import = self.env["bank.feed.import"]
        for journal in lines.journal_id:
            backend = Import._backend_for(journal)
            if not backend:
                continue
            todo = lines.filtered(lambda l: l.journal_id == journal and not l.is_reconciled
                                  and l.sudo().feed_review_job_id.state not in ("pending", "running", "failed"))
            if not todo:
                continue
            items = []
            for line in todo:
                previous = line.sudo().feed_review_job_id
                items.append({
                    "payload": {"line_id": line.id},
                    "key": "review:%d:%d" % (line.id, previous.id) if previous else "review:%d" % line.id,
                    "summary": self._review_summary(line)})
            jobs = backend._enqueue_many(REVIEW_JOB, items)
            for line, job in zip(todo, jobs):
                line.sudo().feed_review_job_id = job

    @staticmethod
    def _review_summary(line):
        return "Bank line %s %s %s - %s" % (
            line.date, format_amount(line.amount), line.currency_id.name,
            " - ".join(filter(None, [line.partner_name or line.partner_id.name, (line.payment_ref or "")[:60]])) or "?")

    @api.model
    def _review_cause(self, line, result):
        best, threshold = result.best, line.journal_id.bank_auto_threshold
        what = "%s %s on %s from %s" % (format_amount(line.amount), line.currency_id.name, line.date,
                                        line.partner_name or line.partner_id.name or "an unknown counterparty")
        if best is None:
            return "bank.unmatched", "No open item matches this line (%s)" % what
        docs = self._documents(best)
        if result.ambiguous:
            second = result.proposals[1]
            return "bank.ambiguous", "Ambiguous: %s (%.2f) and %s (%.2f) fit this line (%s) almost equally" % (
                docs, best.score, self._documents(second), second.score, what)
        if line.feed_auto_blocked and best.score >= threshold:
            return "bank.undone", ("A person undid the automatic reconciliation of this line (%s); "
                                   "choose a proposal (best: %s, %.2f)" % (what, docs, best.score))
        return "bank.low_score", "Best proposal %s scores %.2f, below the journal's %.2f (%s): %s" % (
            docs, best.score, threshold, what, best.explanation)

    @api.model
    def _documents(self, proposal):
        items = self.env["account.move.line"].browse(list(proposal.item_ids))
        if proposal.rule_id:
            return "Rule: %s" % self.env["bank.reconcile.rule"].browse(proposal.rule_id).name
        return ", ".join(items.move_id.mapped("name")) or proposal.rule

    @api.model
    def _review_params(self, line, result):
        AML = self.env["account.move.line"]
        proposals = []
        for rank, p in enumerate(result.proposals[:3], 1):
            items = AML.browse(list(p.item_ids))
            proposals.append({"rank": rank, "documents": self._documents(p), "item_ids": list(p.item_ids),
                              "amount": "%.2f" % sum(items.mapped("amount_residual")), "score": round(p.score, 2),
                              "rule": p.rule, "explanation": p.explanation, "partial": p.partial,
                              "writeoff": str(p.writeoff)})
        return {"statement_line_id": line.id, "journal": line.journal_id.name, "date": str(line.date),
                "amount": "%.2f" % line.amount, "currency": line.currency_id.name,
                "counterparty": line.partner_name or line.partner_id.name or "", "text": line.payment_ref or "",
                "threshold": line.journal_id.bank_auto_threshold, "ambiguous": result.ambiguous,
                "proposals": proposals}

    # ------------------------------------------------------------------ writing
    @api.model
    def _reconcile(self, st_line, proposal, how):
        st_line.ensure_one()
        return self._reconcile_batch([(st_line, proposal)], how)

    @api.model
    def _reconcile_batch(self, todo, how):
        """Reconcile each ``(statement line, proposal)``: the line's suspense entry is replaced by
        counterparts of the proposal's items (plus a write-off line for a difference within the
        tolerance), or by the counterpart of a configured rule, and each counterpart is reconciled
        with its item, the way OCA's account_reconcile_oca does it in Community. Batched: one
        create, one unlink and one reconciliation plan for all lines (moves are checked balanced
        afterwards). Foreign-currency items get counterparts in their currency at the line's
        company-currency value; the reconciliation then books the exchange difference as Odoo
        does (an exchange difference entry once the item's foreign residual is zero)."""
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
            items = AML.browse(list(proposal.item_ids))
            settled = items.filtered(lambda i: i.reconciled or i.currency_id.is_zero(i.amount_residual_currency))
            if settled or (items and items.move_id.filtered(lambda m: m.state != "posted")):
                raise UserError("%s is no longer open: match the line again" % ", ".join(settled.move_id.mapped("name") or ["An item"]))
            _liquidity, suspense, _other = st_line._seek_for_lines()
            if not suspense:
                raise UserError("Statement line %s has no suspense entry left to reconcile" % st_line.display_name)
            suspense_all |= suspense
            company_currency = st_line.company_id.currency_id
            fx = bool(items) and (st_line.currency_id != company_currency or items.currency_id != company_currency)
            if proposal.rule_id:
                vals = self._rule_counterparts(st_line, suspense, proposal)
                writeoff = 0.0
            elif fx:
                vals, writeoff = self._fx_counterparts(st_line, suspense, items, proposal), 0.0
            else:
                vals, writeoff = self._counterparts(st_line, items, proposal)
            for offset, item in enumerate(items):
                pairs.append((len(new_vals) + offset, item))
            for val in vals:
                val["move_id"] = st_line.move_id.id
            new_vals.extend(vals)
            audit.append((st_line, proposal, writeoff))
        st_lines = self.env["account.bank.statement.line"].browse([line.id for line, _p, _w in audit])
        moves = st_lines.move_id
        with moves._check_balanced({"records": moves}):  # raises if any move ends up unbalanced
            created = AML.create(new_vals)
            suspense_all.unlink()
        AML._reconcile_plan([created[index] | item for index, item in pairs])
        for st_line, proposal, _w in audit:
            partners = AML.browse(list(proposal.item_ids)).partner_id
            if not partners and proposal.rule_id:
                partners = self.env["bank.reconcile.rule"].browse(proposal.rule_id).partner_id
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

    @api.model
    def _counterparts(self, st_line, items, proposal):
        """Company-currency line and items: one counterpart per item (the line's amount for a
        partial payment) plus a write-off line for what is left, within the tolerance."""
        if proposal.partial and (len(items) != 1 or abs(st_line.amount) >= abs(items.amount_residual)
                                 or st_line.amount * items.amount_residual < 0):
            raise UserError("The open amount of %s changed since the proposal: match the line again" % items.move_id.name)
        currency = st_line.company_id.currency_id
        remaining, vals = st_line.amount, []
        for item in items:
            allocated = st_line.amount if proposal.partial else item.amount_residual
            remaining -= allocated
            vals.append({"name": st_line.payment_ref or item.move_id.name, "account_id": item.account_id.id,
                         "partner_id": item.partner_id.id, "currency_id": currency.id,
                         "amount_currency": -allocated, "balance": -allocated})
        writeoff = currency.round(remaining)
        tolerance = max(st_line.journal_id.bank_writeoff_tolerance, abs(float(proposal.writeoff)))
        if items and currency.compare_amounts(abs(writeoff), tolerance) > 0:
            raise UserError("Reconciling %s with %s would write off %s, more than the tolerance of %s: "
                            "match the line again" % (st_line.display_name, ", ".join(items.move_id.mapped("name")),
                                                      writeoff, tolerance))
        if not currency.is_zero(writeoff):
            account = st_line.journal_id.bank_writeoff_account_id
            if not account:
                raise UserError("Journal %s has no write-off account" % st_line.journal_id.name)
            vals.append({"name": "Write-off: %s" % (st_line.payment_ref or ""), "account_id": account.id,
                         "partner_id": items[:1].partner_id.id, "currency_id": currency.id,
                         "amount_currency": -writeoff, "balance": -writeoff})
        return vals, writeoff

    @api.model
    def _fx_counterparts(self, st_line, suspense, items, proposal):
        """Counterparts across currencies: each in its item's currency for the amount it settles
        (the item's open amount, or the line's amount in that currency for a partial payment),
        together worth the line's company-currency amount. Odoo's reconciliation then books the
        exchange difference. A company-currency item paid from a foreign-currency journal gets
        the difference on the company's exchange gain/loss account instead."""
        currency = items.currency_id
        if len(currency) != 1:
            raise UserError("The items of one line must share a currency")
        company = st_line.company_id
        total_balance = suspense.balance   # what the counterparts are worth together (company currency)
        opens = [item.amount_residual_currency for item in items]
        if proposal.partial:
            if len(items) != 1:
                raise UserError("A partial payment settles one item")
            if st_line.foreign_currency_id == currency:
                paid = st_line.amount_currency
            elif st_line.currency_id == currency:
                paid = st_line.amount
            else:
                paid = st_line.currency_id._convert(st_line.amount, currency, company, st_line.date, round=True)
            if abs(paid) >= abs(opens[0]) or paid * opens[0] < 0:
                raise UserError("The open amount of %s changed since the proposal: match the line again" % items.move_id.name)
            amounts = [paid]
        else:
            amounts = opens
        vals, left = [], total_balance
        whole = sum(amounts)
        for index, (item, amount) in enumerate(zip(items, amounts)):
            balance = left if index == len(items) - 1 else company.currency_id.round(total_balance * amount / whole)
            left -= balance
            vals.append({"name": st_line.payment_ref or item.move_id.name, "account_id": item.account_id.id,
                         "partner_id": item.partner_id.id, "currency_id": currency.id,
                         "amount_currency": -amount, "balance": balance})
        if currency == company.currency_id:
            # amount_currency must equal balance in company currency: book the rate difference apart
            difference = company.currency_id.round(total_balance + sum(amounts))
            for val, amount in zip(vals, amounts):
                val["balance"] = val["amount_currency"] = -amount
            if not company.currency_id.is_zero(difference):
                account = company.expense_currency_exchange_account_id if difference > 0 \
                    else company.income_currency_exchange_account_id
                vals.append({"name": "Exchange difference: %s" % (st_line.payment_ref or ""), "account_id": account.id,
                             "currency_id": company.currency_id.id, "amount_currency": difference, "balance": difference})
        return vals

    @api.model
    def _rule_counterparts(self, st_line, suspense, proposal):
        """The counterpart a configured rule gives (account, partner, label), split into base and
        tax lines when the rule has a tax (the line's amount includes the tax)."""
        rule = self.env["bank.reconcile.rule"].browse(proposal.rule_id).exists()
        if not rule:
            raise UserError("The rule of this proposal no longer exists: match the line again")
        company_currency = st_line.company_id.currency_id
        total = suspense.balance   # counterparts together (company currency)
        label = rule.label or st_line.payment_ref or rule.name
        base = {"name": label, "account_id": rule.account_id.id, "partner_id": rule.partner_id.id,
                "currency_id": company_currency.id}
        if not rule.tax_id:
            return [dict(base, amount_currency=total, balance=total)]
        sign = 1 if total > 0 else -1
        taxes = rule.tax_id.with_context(force_price_include=True).compute_all(
            abs(total), currency=company_currency, partner=rule.partner_id or None)
        vals, left = [], total
        for tax in taxes["taxes"]:
            amount = company_currency.round(sign * tax["amount"])
            left -= amount
            vals.append({"name": tax["name"], "account_id": tax["account_id"] or rule.account_id.id,
                         "partner_id": rule.partner_id.id, "currency_id": company_currency.id,
                         "amount_currency": amount, "balance": amount,
                         "tax_repartition_line_id": tax["tax_repartition_line_id"],
                         "tax_tag_ids": [Command.set(tax["tag_ids"])]})
        return [dict(base, amount_currency=left, balance=left, tax_ids=[Command.set(rule.tax_id.ids)],
                     tax_tag_ids=[Command.set(taxes["base_tags"])])] + vals
