"""Model side of matching: read open items and lines in bulk, run the pure engine, write results."""
import logging
import re
from decimal import Decimal

from psycopg2.extras import execute_values

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import str2bool

from odoo.addons.base.models.res_bank import sanitize_account_number
from odoo.addons.finance_sync_core.exceptions import BusinessError

from ..engine.matching import Item, Line, MatchIndex, compact
from ..engine.names import distinctive_words, name_keys

_logger = logging.getLogger(__name__)
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")
_DIGITS = re.compile(r"[0-9]+")
_INT4 = 2 ** 31
# accented letters and their plain form (what engine/names.py's NFKD fold gives), for SQL TRANSLATE
_ACCENTS = "ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖØòóôõöøÙÚÛÜùúûüÝýÿŠšŽžČčĆćŁłŚśŹźŻżŃńĘęĄąŘřĚěŮůŇňŤťĎďĐđı"
_PLAIN = "AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOOooooooUUUUuuuuYyySsZzCcCcLlSsZzZzNnEeAaRrEeUuNnTtDdDdi"
REVIEW_JOB = "bank.review_line"
# automatic matches strong enough to confirm who owns the counterparty account: a document the
# payer named, or the payer's own name with the only open item of the amount
CONFIRMING_RULES = frozenset({"end_to_end", "structured_reference", "reference_in_text", "several_references",
                              "amount_partner_name"})


def _name_key(name):
    """A document number as the text search compares it: letters and digits, upper-case."""
    return _NOT_ALNUM.sub("", name).upper()


def format_amount(amount):
    return "%+.2f" % amount


def _masked(account):
    """An account number as people see it in texts: its country and last four characters."""
    return "%s…%s" % (account[:2], account[-4:]) if len(account) > 8 else "…"


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
        self.env["account.move"].flush_model(["name", "sequence_number", "payment_reference", "ref"])
        self.env["account.payment"].flush_model(["finance_end_to_end_id"])
        narrow, direct, args = "", "", {"company": company.id, "outstanding": self._outstanding_accounts(company)}
        text = ""
        if for_line is not None:
            # what points at an item directly; a number in the text is checked below, on the few
            # items whose sequence number appears among the text's digits (no regex per open item)
            direct = """(aml.partner_id = ANY(%(partners)s)
                    OR ABS(aml.amount_residual) = %(amount)s OR ABS(aml.amount_residual_currency) = ANY(%(amounts)s)
                    OR (%(e2e)s != '' AND (m.ref = %(e2e)s OR pay.finance_end_to_end_id = %(e2e)s))
                    OR (%(ref)s != '' AND UPPER(REGEXP_REPLACE(m.payment_reference, '[^0-9A-Za-z]', '', 'g')) = %(ref)s))"""
            text = compact(" ".join(filter(None, [for_line.payment_ref, for_line.feed_structured_reference])))
            narrow = "\n               AND (%s OR m.sequence_number = ANY(%%(numbers)s))" % direct
            direct = ", " + direct
            partners = set(for_line.partner_id.ids)
            iban = compact(for_line.account_number)
            if iban:
                self.env.cr.execute("SELECT partner_id FROM res_partner_bank WHERE sanitized_acc_number = %s", (iban,))
                partners.update(r[0] for r in self.env.cr.fetchall())
            args.update(partners=list(partners), amount=abs(for_line.amount),
                        amounts=[abs(for_line.amount), abs(for_line.amount_currency or 0.0)],
                        e2e=for_line.feed_end_to_end_id or "", ref=compact(for_line.feed_structured_reference) or "",
                        numbers=self._text_numbers(text))
        self.env.cr.execute("""
            SELECT aml.id, aml.amount_residual, aml.partner_id, COALESCE(p.name, ''), COALESCE(m.name, ''),
                   COALESCE(m.payment_reference, ''), COALESCE(NULLIF(pay.finance_end_to_end_id, ''), m.ref, ''),
                   c.name, aml.amount_residual_currency""" + direct + """
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
        if for_line is not None:
            # an item found by its sequence number only: its whole number must be in the text
            rows = [r for r in rows if r[9] or (len(_name_key(r[4])) >= 3 and _name_key(r[4]) in text)]
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

    @staticmethod
    def _text_numbers(text):
        """Every number a run of digits of ``text`` holds (each substring of each run, as an
        integer): the sequence number of any document whose number appears in the text is one
        of them (its trailing digits are a substring of the text's digits)."""
        found = set()
        for run in _DIGITS.findall(text or ""):
            for start in range(len(run)):
                for end in range(start + 1, min(len(run), start + 10) + 1):
                    value = int(run[start:end])
                    if value < _INT4:
                        found.add(value)
        return sorted(found)

    @api.model
    def _known_partners(self, company, payer_names=None):
        """``(partner id, name, identifies)`` of the partners the company knows, read in one query,
        for the name evidence: a company's or person's own name identifies its commercial partner;
        a contact's name under a company only blocks (``identifies`` False). Archived partners
        count too: an archived namesake is still another company.

        ``payer_names`` (a review job's one line) narrows the read to the partners whose name,
        spelled as the engine spells it, contains the longest word of one of these names: every
        partner that could share a payer name's key (a key holds all of the payer's words)."""
        self.env["res.partner"].flush_model(["name", "commercial_partner_id", "company_id"])
        narrow, args = "", {"company": company.id}
        if payer_names is not None:
            words = set()
            for name in payer_names:
                keys, _forms = name_keys(name)
                words.update(max(key, key=len) for key in keys)
            if not words:
                return []
            # the same spellings as engine/names.py: accents dropped, or umlauts spelled out; then
            # only letters and digits (so "d'Équipement" contains DEQUIPEMENT)
            def spelled(expression, pairs):
                for old, new in pairs:
                    expression = "REPLACE(%s, '%s', '%s')" % (expression, old, new)
                return ("REGEXP_REPLACE(UPPER(TRANSLATE(%s, %%(accents)s, %%(plain)s)), '[^A-Z0-9]', '', 'g')"
                        % expression)
            special = [("Æ", "AE"), ("æ", "ae"), ("Œ", "OE"), ("œ", "oe"), ("Þ", "TH"), ("þ", "th")]
            umlauts = [("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("Ä", "AE"), ("Ö", "OE"), ("Ü", "UE"), ("ß", "ss")]
            narrow = """
               AND EXISTS (SELECT 1 FROM UNNEST(%%(words)s) AS w(word)
                            WHERE POSITION(w.word IN %s) > 0 OR POSITION(w.word IN %s) > 0)""" % (
                spelled("p.name", special), spelled("p.name", special + umlauts))
            args.update(words=sorted(words), accents=_ACCENTS, plain=_PLAIN)
        self.env.cr.execute("""
            SELECT p.commercial_partner_id, p.name, p.id = p.commercial_partner_id
              FROM res_partner p
             WHERE p.name IS NOT NULL AND p.commercial_partner_id IS NOT NULL
               AND (p.company_id IS NULL OR p.company_id = %(company)s) """ + narrow, args)
        return self.env.cr.fetchall()

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
    def _account_owners(self, lines):
        """``{sanitized account: commercial partner ids}`` of the lines' counterparty accounts, in
        one query, whether or not those partners have anything open."""
        accounts = list({compact(line.account_number) for line in lines if line.account_number})
        if not accounts:
            return {}
        self.env["res.partner.bank"].flush_model(["sanitized_acc_number", "partner_id"])
        self.env.cr.execute("""
            SELECT b.sanitized_acc_number, p.commercial_partner_id FROM res_partner_bank b
              JOIN res_partner p ON p.id = b.partner_id
             WHERE b.sanitized_acc_number = ANY(%s)""", (accounts,))
        owners = {}
        for account, partner_id in self.env.cr.fetchall():
            owners.setdefault(account, set()).add(partner_id)
        return owners

    @api.model
    def _match_index(self, journal, for_line=None, lines=None):
        tolerance = Decimal(str(journal.bank_writeoff_tolerance or 0)) if journal.bank_writeoff_account_id else Decimal(0)
        rules = self.env["bank.reconcile.rule"].search([
            ("company_id", "=", journal.company_id.id), "|", ("journal_ids", "=", False), ("journal_ids", "in", journal.ids)])
        items = self._open_items(journal.company_id, for_line=for_line)
        payers = None
        if for_line is not None:
            payers = [for_line.partner_name or for_line.partner_id.name or ""]
        partners = self._known_partners(journal.company_id, payer_names=payers)
        if payers is not None:
            # the items' own partners always take part (their names are what a payer is compared with)
            partners += [(item.partner_id, item.partner_name, True) for item in items if item.partner_id]
        return MatchIndex(items, tolerance=tolerance, rate=self._rate_function(journal.company_id),
                          fx_tolerance=Decimal(str(journal.bank_fx_tolerance or 0)) / 100,
                          rules=[rule._engine_rule() for rule in rules], partners=partners,
                          account_owners=self._account_owners(for_line if for_line is not None else lines or ()))

    @api.model
    def _match_lines(self, lines, narrow=False):
        """``{line id: MatchResult}`` against the open items of now; writes nothing. ``narrow``
        (one line) reads only that line's candidate items."""
        results = {}
        for journal in lines.journal_id:
            jlines = lines.filtered(lambda l: l.journal_id == journal)
            index = self._match_index(journal, for_line=jlines if narrow and len(jlines) == 1 else None, lines=jlines)
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
        self._write_lines_sql(lines, ("feed_ambiguous", "feed_best_score", "feed_best_explanation"), [
            (line.id, results[line.id].ambiguous, results[line.id].best.score if results[line.id].best else 0.0,
             results[line.id].best.explanation if results[line.id].best else None) for line in lines],
            "(%s, %s::bool, %s::float8, %s::text)")

    @api.model
    def _write_lines_sql(self, lines, fnames, rows, template):
        """One UPDATE for many statement lines' own technical fields (``rows``: id then the values
        of ``fnames``), instead of one ORM write per line: these feed fields are plain stored
        columns that nothing computes from, and the ORM cache of them is invalidated after."""
        if not rows:
            return
        lines.flush_recordset(list(fnames))
        assignments = ", ".join("%s = v.%s" % (name, name) for name in fnames)
        execute_values(self.env.cr, """
            UPDATE account_bank_statement_line l
               SET %s, write_uid = %d, write_date = (NOW() AT TIME ZONE 'UTC')
              FROM (VALUES %%s) AS v(id, %s)
             WHERE l.id = v.id""" % (assignments, self.env.uid, ", ".join(fnames)), rows, template=template, page_size=1000)
        lines.invalidate_recordset(list(fnames) + ["write_uid", "write_date"])

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
            self._write_lines_sql(todo.sudo(), ("feed_review_job_id",),
                                  [(line.id, job.id) for line, job in zip(todo, jobs)], "(%s, %s::int4)")

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
        # every item of the batch read together (one query per field set, not per line)
        prefetch = AML.browse([i for _line, p in todo for i in p.item_ids])._prefetch_ids
        for st_line, proposal in todo:
            if st_line.is_reconciled:
                raise UserError("Statement line %s is already reconciled" % st_line.display_name)
            items = AML.browse(list(proposal.item_ids)).with_prefetch(prefetch)
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
        if not self.env["account.analytic.distribution.model"].search_count(
                [("company_id", "in", (False, *st_lines.company_id.ids))], limit=1):
            # no distribution model can apply: what Odoo's compute would give, without its search per line
            for val in new_vals:
                val.setdefault("analytic_distribution", False)
        with moves._check_balanced({"records": moves}):  # raises if any move ends up unbalanced
            created = AML.create(new_vals)
            suspense_all.unlink()
            moves.fetch(["line_ids"])   # the check reads each move's lines: fetch them for all moves at once
        # one prefetch set for the whole plan: Odoo reads the fields of every pair in one go
        plan_prefetch = (created | AML.browse(list(prefetch)))._prefetch_ids
        AML._reconcile_plan([(created[index] | item).with_prefetch(plan_prefetch) for index, item in pairs])
        by_partner = {}
        for st_line, proposal, _w in audit:
            partners = AML.browse(list(proposal.item_ids)).with_prefetch(prefetch).partner_id
            if not partners and proposal.rule_id:
                partners = self.env["bank.reconcile.rule"].browse(proposal.rule_id).partner_id
            if len(partners) == 1 and not st_line.partner_id:
                by_partner.setdefault(partners, st_line.browse())
                by_partner[partners] |= st_line
        # the company check of each write reads the partner: read them all at once
        self.env["res.partner"].browse([p.id for p in by_partner]).fetch(["company_id"])
        for partner, lines in by_partner.items():   # one write per partner, not per line
            lines.with_context(skip_account_move_synchronization=True).partner_id = partner
        st_lines.feed_match_state = how
        if how == "auto":
            # one signed entry per line, appended in one insert for the whole batch
            Log = self.env["finance.audit.log"]
            Log._append_rows([Log._entry_values(
                "bank.auto_reconcile", st_line, "Reconciled automatically (%s, score %.2f)" % (proposal.rule, proposal.score),
                data={"rule": proposal.rule, "score": proposal.score, "items": list(proposal.item_ids),
                      "writeoff": str(writeoff)}) for st_line, proposal, writeoff in audit])
        self._learn_accounts([(st_line, proposal) for st_line, proposal, _w in audit
                              if how == "manual" or proposal.rule in CONFIRMING_RULES], how)
        return st_lines

    @api.model
    def _learn_accounts(self, confirmed, how):
        """Remember the counterparty account of lines whose partner was just confirmed (accepted
        by a person, or an automatic match in ``CONFIRMING_RULES``) as a bank account of that
        partner, as Odoo does when a bank line is reconciled, so the next payment from it matches
        by IBAN. Audited either way. Never learned: an account already on another partner (it is
        never moved or shared), one that lines of several partners confirm in the same batch, one
        whose payer name is not the partner's (a payment provider or a parent company paying for
        it), and anything once ``account.skip_create_bank_account_on_reconcile`` is set. A
        learned account is not trusted for outgoing payments (``allow_out_payment`` stays off)."""
        ICP = self.env["ir.config_parameter"].sudo()
        if not confirmed or str2bool(ICP.get_param("account.skip_create_bank_account_on_reconcile") or "0"):
            return
        AML = self.env["account.move.line"]
        prefetch = AML.browse([i for _line, p in confirmed for i in p.item_ids])._prefetch_ids
        wanted = {}   # account -> {commercial partner: [lines]}
        refused = []   # (line, partner, account, reason)
        for st_line, proposal in confirmed:
            account = sanitize_account_number(st_line.account_number or "")
            partner = AML.browse(list(proposal.item_ids)).with_prefetch(prefetch).partner_id.commercial_partner_id
            if not account or proposal.rule_id or len(partner) != 1:
                continue
            payer = st_line.partner_name or ""
            if name_keys(payer)[0] and not distinctive_words(payer) & distinctive_words(partner.name):
                refused.append((st_line, partner, account, "the payer name %r is not the name of %s" % (payer, partner.name)))
                continue
            wanted.setdefault(account, {}).setdefault(partner, []).append(st_line)
        # sudo: res.partner.bank is read across companies (its uniqueness is global) and written by
        # the bank feed for whoever confirmed the match; accountants may not manage bank accounts
        Bank = self.env["res.partner.bank"].sudo().with_context(active_test=False)
        owners = {}
        for bank in Bank.search([("sanitized_acc_number", "in", list(wanted))]) if wanted else ():
            owners.setdefault(bank.sanitized_acc_number, bank.partner_id.browse())
            owners[bank.sanitized_acc_number] |= bank.partner_id.commercial_partner_id
        learn = []
        for account, by_partner in wanted.items():
            partners = list(by_partner)
            lines = [line for found in by_partner.values() for line in found]
            if len(partners) > 1:
                refused.extend((line, partner, account, "lines of %s in one batch come from this account" % ", ".join(
                    sorted(p.name for p in partners))) for partner, found in by_partner.items() for line in found)
                continue
            partner, owner = partners[0], owners.get(account)
            if owner and partner in owner:
                continue   # known already
            if owner:
                refused.extend((line, partner, account, "the account belongs to %s" % ", ".join(owner.mapped("name")))
                               for line in lines)
                continue
            learn.append((lines[0], partner, account))
        Log = self.env["finance.audit.log"]
        entries = []   # appended in one insert
        if learn:
            banks = Bank.create([{"acc_number": line.account_number, "partner_id": partner.id, "allow_out_payment": False}
                                 for line, partner, _account in learn])
            for bank, (line, partner, account) in zip(banks, learn):
                entries.append(Log._entry_values(
                    "bank.account_learned", bank, "Learned account %s of %s from bank line %s (%s)" % (
                        _masked(account), partner.name, line.id,
                        "accepted by a person" if how == "manual" else "automatic match"),
                    data={"account": account, "partner_id": partner.id, "statement_line_id": line.id, "how": how}))
        for line, partner, account, reason in refused:
            entries.append(Log._entry_values(
                "bank.account_not_learned", line, "Did not learn account %s for %s: %s" % (
                    _masked(account), partner.name, reason),
                data={"account": account, "partner_id": partner.id, "statement_line_id": line.id, "how": how,
                      "reason": reason}))
        Log._append_rows(entries)

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
